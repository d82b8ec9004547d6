"""The Mastodon REST calls GovSocial makes, over the shared httpx client; JSON in, JSON out."""

from __future__ import annotations

import mimetypes
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from connectors import http
from connectors.media import read_media
from connectors.base import AuthError, ConnectorError, PermanentError, RateLimit, TransientError

# Mastodon accepts up to 80 notifications and 40 statuses per page.
NOTIFICATIONS_PAGE = 80
STATUSES_PAGE = 40

# Granular scopes (Mastodon 3.x+) so a leaked token cannot follow, block or change the profile.
SCOPES = "read:accounts read:notifications read:search read:statuses write:media write:statuses"


def normalise_instance_url(instance_url: str) -> str:
    """`mastodon.social` or `https://mastodon.social/` -> `https://mastodon.social`."""
    url = (instance_url or "").strip().rstrip("/")
    if not url:
        raise PermanentError("instance_url is required")
    if "://" not in url:
        url = "https://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PermanentError(f"instance_url {instance_url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


# What Mastodon and API-compatible servers say about a token they refuse. Mastodon itself answers 401
# "The access token is invalid" (or "...was revoked"/"...expired"); some compatible servers answer
# 400 "Invalid Bearer token" (observed on a real server, issue 14), others 403 "This action is outside
# the authorized scopes" (a scope problem: also a reconnect). Anything else 4xx stays a PermanentError.
_REFUSED_TOKEN = ("invalid bearer token", "access token is invalid", "access token was revoked",
                  "access token expired", "token is invalid", "invalid_token", "invalid token", "unauthorized")


def mastodon_error(response: httpx.Response) -> ConnectorError | None:
    """Refused credentials as AuthError, whatever 4xx status the server chose for them."""
    if response.status_code in (401, 403):
        return AuthError(http.error_message(response))
    if response.status_code in (400, 422):
        message = http.error_message(response)
        if any(marker in message.lower() for marker in _REFUSED_TOKEN) or "invalid_token" in response.headers.get("www-authenticate", ""):
            return AuthError(message)
    return None


def link_cursor(link_header: str | None, rel: str, param: str) -> str:
    """One query parameter (e.g. `min_id`) of one relation in an RFC 8288 Link header; "" when absent."""
    if not link_header:
        return ""
    for link in httpx.Response(200, headers={"link": link_header}).links.values():
        if link.get("rel") == rel and link.get("url"):
            values = urllib.parse.parse_qs(urllib.parse.urlsplit(link["url"]).query).get(param)
            if values:
                return values[0]
    return ""


class MastodonClient:
    """Thin async wrapper: every call goes through `connectors.http.send` with the profile's rate budget."""

    def __init__(self, instance_url: str, access_token: str, http_client: httpx.AsyncClient, budget: http.RateBudget):
        self.instance_url = normalise_instance_url(instance_url)
        self._token = access_token
        self._http = http_client
        self._budget = budget

    @property
    def rate_limit(self) -> RateLimit:
        return self._budget.current

    def _url(self, path: str) -> str:
        return self.instance_url + path

    def _auth(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._token}"}
        headers.update(extra or {})
        return headers

    async def _get(self, path: str, params: Any = None, *, auth: bool = True) -> httpx.Response:
        return await http.send(
            self._http, "GET", self._url(path), params=params, headers=self._auth() if auth else None, budget=self._budget,
            error_mapper=mastodon_error,
        )

    async def verify_credentials(self) -> dict[str, Any]:
        return http.json_body(await self._get("/api/v1/accounts/verify_credentials"))

    async def instance(self) -> dict[str, Any]:
        """`/api/v2/instance`, falling back to v1 on servers older than Mastodon 4.0, and on a server whose v2
        fails with a server error (observed: 5xx after 4-5 s on a real API-compatible server)."""
        try:
            return http.json_body(await self._get("/api/v2/instance", auth=False))
        except (PermanentError, TransientError):
            return http.json_body(await self._get("/api/v1/instance", auth=False))

    async def mention_notifications(self, *, min_id: str = "", limit: int = NOTIFICATIONS_PAGE) -> tuple[list[Any], str]:
        """One page of mention notifications, newest first, and the `min_id` the Link header offers for the next newer page."""
        params: list[tuple[str, str | int]] = [("types[]", "mention"), ("limit", limit)]
        if min_id:
            params.append(("min_id", min_id))
        response = await self._get("/api/v1/notifications", params)
        return _list_body(response), link_cursor(response.headers.get("link"), "prev", "min_id")

    async def tag_timeline(self, tag: str, *, min_id: str = "", limit: int = STATUSES_PAGE, all_tags: tuple[str, ...] = ()) -> tuple[list[Any], str]:
        params: list[tuple[str, str | int]] = [("limit", limit)]
        if min_id:
            params.append(("min_id", min_id))
        # Statuses carrying every one of these tags too (Mastodon 3.0+); works where text search does not.
        params += [("all[]", t) for t in all_tags]
        response = await self._get(f"/api/v1/timelines/tag/{urllib.parse.quote(tag, safe='')}", params)
        return _list_body(response), link_cursor(response.headers.get("link"), "prev", "min_id")

    async def own_statuses(self, account_id: str, *, limit: int = STATUSES_PAGE, max_id: str = "") -> list[Any]:
        """The account's own statuses, newest first (reblogs excluded)."""
        params: dict[str, str | int] = {"limit": limit, "exclude_reblogs": "true"}
        if max_id:
            params["max_id"] = max_id
        return _list_body(await self._get(f"/api/v1/accounts/{urllib.parse.quote(account_id, safe='')}/statuses", params))

    async def search_statuses(self, q: str, *, limit: int = STATUSES_PAGE) -> tuple[list[Any], str]:
        # Never min_id here: /api/v2/search is not a timeline, and a server answered every search that
        # carried one with nothing (issue 14). The connector drops what it has already seen instead.
        params: dict[str, str | int] = {"q": q, "type": "statuses", "limit": limit, "resolve": "false"}
        body = http.json_body(await self._get("/api/v2/search", params))
        statuses = body.get("statuses") if isinstance(body, dict) else None
        if not isinstance(statuses, list):
            raise PermanentError("search: response has no statuses list")
        return statuses, ""

    async def status(self, status_id: str) -> dict[str, Any]:
        return http.json_body(await self._get(f"/api/v1/statuses/{urllib.parse.quote(status_id, safe='')}"))

    async def upload_media(self, path: str, mime_type: str, description: str) -> dict[str, Any]:
        """POST /api/v2/media with alt text; waits for asynchronous processing to finish (202 -> 200)."""
        file = Path(path)
        content = read_media(path)
        mime_type = mime_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        response = await http.send(
            self._http,
            "POST",
            self._url("/api/v2/media"),
            headers=self._auth(),
            files={"file": (file.name, content, mime_type)},
            data={"description": description},
            budget=self._budget,
            error_mapper=mastodon_error,
            # A duplicate upload only leaves an unattached file that the server prunes; losing one loses the post.
            idempotent=True,
        )
        media = http.json_body(response)
        if response.status_code == 202 or (isinstance(media, dict) and media.get("url") is None):
            media = await self._wait_for_media(media)
        return media

    async def _wait_for_media(self, media: Any, attempts: int = 10) -> dict[str, Any]:
        media_id = media.get("id") if isinstance(media, dict) else None
        if not media_id:
            raise PermanentError("media upload answered without an id")
        for attempt in range(attempts):
            await http.sleep(min(1.0 + attempt, 5.0))
            response = await self._get(f"/api/v1/media/{urllib.parse.quote(str(media_id), safe='')}")
            body = http.json_body(response)
            if response.status_code == 200 and isinstance(body, dict) and body.get("url"):
                return body
        raise TransientError(f"media {media_id} is still processing")

    async def post_status(
        self, text: str, *, idempotency_key: str, in_reply_to_id: str = "", media_ids: list[str] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"status": text}
        if in_reply_to_id:
            body["in_reply_to_id"] = in_reply_to_id
        if media_ids:
            body["media_ids"] = media_ids
        response = await http.send(
            self._http,
            "POST",
            self._url("/api/v1/statuses"),
            json=body,
            # Mastodon itself remembers the key for an hour, but mastodon_mock and other API-compatible servers
            # ignore it, so http.send never resends this POST: an ambiguous failure raises OutcomeUnknown and the
            # publisher reconciles with MastodonConnector.find_published.
            headers=self._auth({"Idempotency-Key": idempotency_key}),
            budget=self._budget,
            error_mapper=mastodon_error,
        )
        return http.json_body(response)


    # ------------------------------------------------------------ moderation (the author: Mastodon cannot hide replies)

    async def account_action(self, account_id: str, action: str) -> dict[str, Any]:
        """POST /api/v1/accounts/:id/block or /mute: a Relationship. Doing it twice changes nothing, so it may be resent."""
        from connectors.moderation import gone_first

        response = await http.send(self._http, "POST", self._url(f"/api/v1/accounts/{urllib.parse.quote(account_id, safe='')}/{action}"),
                                   headers=self._auth(), budget=self._budget, error_mapper=gone_first(mastodon_error), idempotent=True)
        return http.json_body(response)

    async def relationship(self, account_id: str) -> dict[str, Any]:
        from connectors.moderation import gone_first

        response = await http.send(self._http, "GET", self._url("/api/v1/accounts/relationships"), params={"id[]": account_id},
                                   headers=self._auth(), budget=self._budget, error_mapper=gone_first(mastodon_error))
        body = _list_body(response)
        return body[0] if body and isinstance(body[0], dict) else {}

    async def report(self, account_id: str, status_id: str, comment: str) -> dict[str, Any]:
        """POST /api/v1/reports to the server's moderators. Not idempotent: a second POST is a second report."""
        from connectors.moderation import gone_first

        body = {"account_id": account_id, "status_ids": [status_id], "comment": comment[:1000], "category": "other", "forward": False}
        response = await http.send(self._http, "POST", self._url("/api/v1/reports"), json=body, headers=self._auth(),
                                   budget=self._budget, error_mapper=gone_first(mastodon_error))
        return http.json_body(response)


def _list_body(response: httpx.Response) -> list[Any]:
    body = http.json_body(response)
    if not isinstance(body, list):
        raise PermanentError(f"{response.request.url.path}: expected a list, got {type(body).__name__}")
    return body
