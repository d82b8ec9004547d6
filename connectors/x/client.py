"""The X API v2 calls GovSocial makes, over the shared httpx client; JSON in, JSON out."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

import httpx

from connectors import http
from connectors.media import read_media
from connectors.base import AuthError, ConnectorError, PermanentError, RateLimited

API = "https://api.x.com"

POST_FIELDS = "author_id,conversation_id,created_at,edit_history_tweet_ids,in_reply_to_user_id,lang,note_tweet,public_metrics,referenced_tweets"
USER_FIELDS = "name,username,profile_image_url,public_metrics,verified,verified_type"
PAGE_SIZE = 100  # the most either timeline or recent search returns per request


class DuplicatePost(PermanentError):
    """X refused a post identical to a recent one of ours."""


def x_error(response: httpx.Response) -> ConnectorError | None:
    """X-specific meanings of error bodies, before the generic status mapping."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    kind = str(body.get("type") or "")
    detail = str(body.get("detail") or body.get("title") or "")
    if kind.endswith("/usage-capped"):
        # The monthly post cap resets with the billing period; an hour is a polite probe interval.
        return RateLimited(http.error_message(response), retry_after=3600)
    if response.status_code == 403 and "duplicate content" in detail.lower():
        return DuplicatePost(http.error_message(response))
    if kind.endswith("/client-forbidden") or kind.endswith("/not-authorized-for-resource"):
        return AuthError(http.error_message(response))
    # Refused tokens X answers with 400: v1.1 codes 32 (could not authenticate), 89 (invalid or expired token),
    # 215 (bad authentication data); OAuth 2.0 "invalid_grant"/"invalid_token" (a revoked refresh token).
    errors = body.get("errors")
    codes = {e.get("code") for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()
    if codes & {32, 89, 215} or body.get("error") in ("invalid_grant", "invalid_token"):
        return AuthError(http.error_message(response))
    return None


class XClient:
    """Two tokens: the app-only bearer token reads public data, the user token reads mentions and writes."""

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        bearer_token: str,
        user_token: str,
        budget_key: str,
        base_url: str = API,
    ):
        self._http = http_client
        self._bearer = bearer_token
        self._user = user_token
        self._budget_key = budget_key
        self._base = base_url.rstrip("/")

    @property
    def has_user_token(self) -> bool:
        return bool(self._user)

    def budget(self, endpoint: str) -> http.RateBudget:
        # X limits each endpoint separately, so one exhausted endpoint must not block the others.
        return http.budget_for(f"{self._budget_key}:{endpoint}")

    def _token(self, prefer_user: bool) -> str:
        token = (self._user or self._bearer) if prefer_user else (self._bearer or self._user)
        if not token:
            raise AuthError("X profile has no usable token; connect it again")
        return token

    async def _get(self, path: str, params: dict[str, Any], *, endpoint: str, prefer_user: bool) -> Any:
        response = await http.send(
            self._http,
            "GET",
            self._base + path,
            params=params,
            headers={"Authorization": f"Bearer {self._token(prefer_user)}"},
            budget=self.budget(endpoint),
            error_mapper=x_error,
        )
        return http.json_body(response)

    async def _post_json(self, path: str, body: dict[str, Any], *, endpoint: str, idempotent: bool = False) -> Any:
        if not self._user:
            raise AuthError("publishing to X needs the profile's user access token")
        response = await http.send(
            self._http,
            "POST",
            self._base + path,
            content=json.dumps(body),
            headers={"Authorization": f"Bearer {self._user}", "Content-Type": "application/json"},
            budget=self.budget(endpoint),
            error_mapper=x_error,
            idempotent=idempotent,
        )
        return http.json_body(response)

    async def _write(self, method: str, path: str, body: dict[str, Any] | None, *, endpoint: str) -> tuple[int, Any]:
        """A moderation write: setting a state, so safe to resend; 404 is NotFound (the reply is gone)."""
        from connectors.moderation import gone_first

        if not self._user:
            raise AuthError("moderating on X needs the profile's user access token")
        response = await http.send(
            self._http, method, self._base + path, content=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {self._user}", "Content-Type": "application/json"},
            budget=self.budget(endpoint), error_mapper=gone_first(x_error), idempotent=True,
        )
        return response.status_code, http.json_body(response, wrote=False)

    async def hide_reply(self, tweet_id: str, hidden: bool) -> tuple[int, Any]:
        """PUT /2/tweets/:id/hidden {"hidden": true|false}: hide (or unhide) a reply to one of our posts."""
        return await self._write("PUT", f"/2/tweets/{tweet_id}/hidden", {"hidden": hidden}, endpoint="hide_replies")

    async def mute(self, user_id: str, target_user_id: str) -> tuple[int, Any]:
        """POST /2/users/:id/muting {"target_user_id"}."""
        return await self._write("POST", f"/2/users/{user_id}/muting", {"target_user_id": target_user_id}, endpoint="muting")

    async def block(self, user_id: str, target_user_id: str) -> tuple[int, Any]:
        """POST /2/users/:id/blocking {"target_user_id"}."""
        return await self._write("POST", f"/2/users/{user_id}/blocking", {"target_user_id": target_user_id}, endpoint="blocking")

    async def me(self) -> Any:
        return await self._get("/2/users/me", {"user.fields": USER_FIELDS}, endpoint="users/me", prefer_user=True)

    async def user(self, user_id: str) -> Any:
        return await self._get(f"/2/users/{user_id}", {"user.fields": USER_FIELDS}, endpoint="users/id", prefer_user=False)

    def _timeline_params(self, since_id: str, until_id: str, token: str, max_results: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "max_results": max_results,
            "tweet.fields": POST_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if until_id:
            params["until_id"] = until_id
        if token:
            params["pagination_token"] = token
        return params

    async def mentions(self, user_id: str, *, since_id: str = "", until_id: str = "", token: str = "", max_results: int = PAGE_SIZE) -> Any:
        params = self._timeline_params(since_id, until_id, token, max(5, min(max_results, PAGE_SIZE)))
        return await self._get(f"/2/users/{user_id}/mentions", params, endpoint="mentions", prefer_user=True)

    async def search_recent(self, query: str, *, since_id: str = "", until_id: str = "", token: str = "", max_results: int = PAGE_SIZE) -> Any:
        params = self._timeline_params(since_id, until_id, "", max(10, min(max_results, PAGE_SIZE)))
        params["query"] = query
        if token:
            # Recent search names its cursor next_token; the timelines call it pagination_token.
            params["next_token"] = token
        return await self._get("/2/tweets/search/recent", params, endpoint="search", prefer_user=False)

    async def own_recent_posts(self, user_id: str, max_results: int = 10) -> Any:
        params = {"max_results": max(5, min(max_results, 100)), "tweet.fields": "created_at,text,edit_history_tweet_ids", "exclude": "retweets"}
        return await self._get(f"/2/users/{user_id}/tweets", params, endpoint="user-tweets", prefer_user=True)

    async def posts(self, ids: list[str]) -> Any:
        params = {"ids": ",".join(ids), "tweet.fields": "public_metrics,non_public_metrics"}
        return await self._get("/2/tweets", params, endpoint="tweets", prefer_user=True)

    async def upload_image(self, path: str, mime_type: str) -> str:
        """POST /2/media/upload (one-shot, images only); returns the media id."""
        if not self._user:
            raise AuthError("uploading media to X needs the profile's user access token")
        file = Path(path)
        content = read_media(path)
        mime_type = mime_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        response = await http.send(
            self._http,
            "POST",
            self._base + "/2/media/upload",
            files={"media": (file.name, content, mime_type)},
            data={"media_category": "tweet_image"},
            headers={"Authorization": f"Bearer {self._user}"},
            budget=self.budget("media"),
            error_mapper=x_error,
            # An orphaned upload expires by itself; resending is harmless.
            idempotent=True,
        )
        body = http.json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        media_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise PermanentError("media upload answered without an id")
        return media_id

    async def set_alt_text(self, media_id: str, alt_text: str) -> None:
        body = {"id": media_id, "metadata": {"alt_text": {"text": alt_text}}}
        await self._post_json("/2/media/metadata", body, endpoint="media-metadata", idempotent=True)

    async def create_post(self, text: str, *, in_reply_to_id: str = "", media_ids: list[str] | None = None) -> Any:
        body: dict[str, Any] = {"text": text}
        if in_reply_to_id:
            body["reply"] = {"in_reply_to_tweet_id": in_reply_to_id}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        return await self._post_json("/2/tweets", body, endpoint="create-post")
