"""httpx calls to a PDS (and optionally a public AppView): one method per XRPC endpoint, errors typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from connectors.base import AuthError, ConnectorError, PermanentError
from connectors.http import OwnsHttpClient, RateBudget, budget_for, error_message, json_body, send

__all__ = ["RecordNotFound", "SessionExpired", "XrpcClient", "xrpc_error"]

DEFAULT_SERVICE = "https://bsky.social"


class SessionExpired(AuthError):
    """The access or refresh token is expired or no longer verifies: refreshing or logging in again may help."""


class RecordNotFound(PermanentError):
    """getRecord found nothing under that key."""


def xrpc_error(response: httpx.Response) -> ConnectorError | None:
    """Map atproto error names the status code alone cannot tell apart; None leaves it to the shared mapping."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    name = body.get("error") if isinstance(body, dict) else None
    # The PDS answers 400 for these, which would otherwise read as a permanent failure.
    if name in ("ExpiredToken", "InvalidToken"):
        return SessionExpired(error_message(response))
    if name == "RecordNotFound":
        return RecordNotFound(error_message(response))
    # Refused credentials the PDS reports as 400 (atproto lexicons: createSession's AccountTakedown and
    # AuthFactorTokenRequired; AuthenticationRequired/InvalidToken on some PDS versions): a reconnect, not a bug.
    if name in ("AuthenticationRequired", "AccountTakedown", "AuthFactorTokenRequired", "AuthMissing", "AccountDeactivated"):
        return AuthError(error_message(response))
    return None


_GROUPS = ("session", "write", "read")


def _group(method: str, nsid: str) -> str:
    if nsid.startswith("com.atproto.server."):
        return "session"
    return "write" if method == "POST" else "read"


class XrpcClient(OwnsHttpClient):
    """The XRPC endpoints the Bluesky connector uses. Tokens are passed in; sessions live in the connector."""

    def __init__(
        self,
        service_url: str = DEFAULT_SERVICE,
        *,
        appview_url: str = "",
        http_client: httpx.AsyncClient | None = None,
        budget_key: str = "",
    ):
        self.service_url = service_url.rstrip("/")
        # Without a separate AppView, the PDS proxies app.bsky.* reads to its own.
        self.appview_url = appview_url.rstrip("/")
        # Bluesky limits logins, writes and reads separately (a spent hourly write budget must not
        # stop the inbox poll), so each group gets its own budget.
        key = budget_key or f"bluesky:{self.service_url}"
        self.budgets: dict[str, RateBudget] = {group: budget_for(f"{key}:{group}") for group in _GROUPS}
        self._take_http_client(http_client)

    # ------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        nsid: str,
        *,
        token: str = "",
        base: str = "",
        idempotent: bool | None = None,
        retries: int = 3,
        **kwargs: Any,
    ) -> Any:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await send(
            self._http,
            method,
            f"{base or self.service_url}/xrpc/{nsid}",
            budget=self.budgets[_group(method, nsid)],
            retries=retries,
            idempotent=idempotent,
            error_mapper=xrpc_error,
            headers=headers,
            **kwargs,
        )
        return json_body(response)

    def _read(self, token: str) -> dict[str, str]:
        """Where an app.bsky read goes: a configured public AppView needs no token; the PDS needs ours."""
        if self.appview_url:
            return {"base": self.appview_url}
        return {"token": token}

    # ------------------------------------------------------------ com.atproto.server

    async def create_session(self, identifier: str, password: str) -> Any:
        return await self._call(
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": identifier, "password": password},
            idempotent=True,  # logging in twice is harmless
        )

    async def refresh_session(self, refresh_jwt: str) -> Any:
        # Not resent blindly: the PDS rotates the refresh token on use, so a blind resend may present a spent one.
        return await self._call("POST", "com.atproto.server.refreshSession", token=refresh_jwt)

    # ------------------------------------------------------------ com.atproto.identity / repo

    async def resolve_handle(self, token: str, handle: str) -> Any:
        return await self._call("GET", "com.atproto.identity.resolveHandle", token=token, params={"handle": handle})

    async def create_record(self, token: str, repo: str, collection: str, rkey: str, record: dict) -> Any:
        # The connector reconciles failures itself (a duplicate rkey answers 500), so no blind retries here.
        return await self._call(
            "POST",
            "com.atproto.repo.createRecord",
            token=token,
            json={"repo": repo, "collection": collection, "rkey": rkey, "record": record},
            idempotent=True,
            retries=0,
        )

    async def get_record(self, repo: str, collection: str, rkey: str) -> Any:
        return await self._call(
            "GET", "com.atproto.repo.getRecord", params={"repo": repo, "collection": collection, "rkey": rkey}
        )

    async def put_record(self, token: str, repo: str, collection: str, rkey: str, record: dict, swap_record: str = "") -> Any:
        """Create or replace a record under a fixed key: writing the same record twice leaves one record."""
        body: dict[str, Any] = {"repo": repo, "collection": collection, "rkey": rkey, "record": record}
        if swap_record:
            body["swapRecord"] = swap_record
        return await self._call("POST", "com.atproto.repo.putRecord", token=token, json=body, idempotent=True)

    async def get_record_authed(self, token: str, repo: str, collection: str, rkey: str) -> Any:
        return await self._call("GET", "com.atproto.repo.getRecord", token=token,
                                params={"repo": repo, "collection": collection, "rkey": rkey})

    async def mute_actor(self, token: str, actor: str) -> dict[str, Any]:
        """app.bsky.graph.muteActor has no output: a 200 with an empty body is the answer."""
        response = await send(self._http, "POST", f"{self.service_url}/xrpc/app.bsky.graph.muteActor", budget=self.budgets["write"],
                              idempotent=True, error_mapper=xrpc_error, headers={"Authorization": f"Bearer {token}"},
                              json={"actor": actor})
        return {"http_status": response.status_code}

    async def upload_blob(self, token: str, data: bytes, mime_type: str) -> Any:
        return await self._call(
            "POST",
            "com.atproto.repo.uploadBlob",
            token=token,
            content=data,
            headers={"Content-Type": mime_type},
            idempotent=True,  # blobs are content-addressed: the same bytes twice are one blob
        )

    # ------------------------------------------------------------ app.bsky

    async def get_profile(self, token: str, actor: str) -> Any:
        return await self._call("GET", "app.bsky.actor.getProfile", params={"actor": actor}, **self._read(token))

    async def get_posts(self, token: str, uris: Sequence[str]) -> Any:
        return await self._call("GET", "app.bsky.feed.getPosts", params={"uris": list(uris)}, **self._read(token))

    async def search_posts(self, token: str, q: str, *, lang: str = "", limit: int = 25, cursor: str = "") -> Any:
        params: dict[str, Any] = {"q": q, "sort": "latest", "limit": limit}
        if lang:
            params["lang"] = lang
        if cursor:
            params["cursor"] = cursor
        return await self._call("GET", "app.bsky.feed.searchPosts", params=params, **self._read(token))

    async def list_notifications(self, token: str, *, limit: int = 100, cursor: str = "") -> Any:
        # Notifications are private: always through the PDS with our token, never a public AppView.
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return await self._call("GET", "app.bsky.notification.listNotifications", token=token, params=params)
