"""Meta Graph API calls for Facebook Pages and Instagram, over the shared httpx client; JSON in, JSON out."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import httpx

from connectors import http
from connectors.base import AuthError, ConnectorError, PermanentError, RateLimited, TransientError
from connectors.meta.mapping import graph_page

# Pinned so a Graph release cannot change field semantics under us; bump deliberately.
GRAPH_VERSION = "v21.0"
GRAPH_URL = f"https://graph.facebook.com/{GRAPH_VERSION}"

# Graph error codes (developers.facebook.com/docs/graph-api/guides/error-handling).
_AUTH_CODES = {102, 190, 10, 200, 210, 220, 230, 240, 250, 270, 299}
_RATE_CODES = {4, 17, 32, 341, 613, 80001, 80002, 80004, 80005, 80006, 80008, 80014}
_TRANSIENT_CODES = {1, 2}
DUPLICATE_POST_CODE = 506


def _usage_wait(response: httpx.Response) -> float | None:
    """Seconds until access returns, from X-Business-Use-Case-Usage, when Meta says so."""
    raw = response.headers.get("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
    except ValueError:
        return None
    waits = [
        float(entry.get("estimated_time_to_regain_access") or 0) * 60
        for entries in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("estimated_time_to_regain_access"), (int, float))
    ]
    return max(waits) if waits and max(waits) > 0 else None


class DuplicatePost(PermanentError):
    """Meta refused a post identical to a recent one (error 506)."""


def graph_error(response: httpx.Response) -> ConnectorError | None:
    """Meta answers most failures with 400 and a code in the body; the code decides what kind of error it is."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    message = http.error_message(response)
    if code in _AUTH_CODES:
        return AuthError(message)
    if code in _RATE_CODES:
        return RateLimited(message, retry_after=_usage_wait(response) or 300.0)
    if code in _TRANSIENT_CODES or error.get("is_transient") is True:
        return TransientError(message)
    if code == DUPLICATE_POST_CODE:
        return DuplicatePost(message)
    if response.status_code < 500 and response.status_code not in (401, 403, 429):
        # Meta sends most failures as 400; an unknown code there is a request problem, not an outage.
        return PermanentError(message)
    return None


class GraphClient:
    """A Page access token authorises both the Facebook Page and its linked Instagram account."""

    def __init__(self, http_client: httpx.AsyncClient, access_token: str, budget: http.RateBudget, base_url: str = GRAPH_URL):
        self._http = http_client
        self._token = access_token
        self._budget = budget
        self._base = base_url.rstrip("/")

    @property
    def budget(self) -> http.RateBudget:
        return self._budget

    def _headers(self) -> dict[str, str]:
        # A header, not ?access_token=, so the token never lands in proxy or server access logs.
        return {"Authorization": f"Bearer {self._token}"}

    def _absolute(self, path_or_url: str) -> str:
        if path_or_url.startswith("https://"):
            if not path_or_url.startswith(self._base.split(f"/{GRAPH_VERSION}")[0]):
                raise PermanentError("refusing to follow a paging link off graph.facebook.com")
            return path_or_url
        return f"{self._base}/{path_or_url.lstrip('/')}"

    async def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await http.send(
            self._http, method, self._absolute(path), headers=self._headers(), budget=self._budget, error_mapper=graph_error, **kwargs
        )
        wait = _usage_wait(response)
        if wait:
            self._budget.mark_exhausted(wait)
        return http.json_body(response)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._send("GET", path, params=params)

    async def post(self, path: str, data: dict[str, Any] | None = None, *, files: Any = None, idempotent: bool = False) -> Any:
        return await self._send("POST", path, data=data, files=files, idempotent=idempotent)

    async def edge(self, path: str, params: dict[str, Any], *, max_pages: int = 5) -> list[Any]:
        """Every item of a paginated edge, following `paging.next` up to `max_pages`."""
        items: list[Any] = []
        body = await self.get(path, params)
        for _ in range(max_pages):
            data, next_url = graph_page(body)
            items.extend(data)
            if not next_url:
                break
            body = await self.get(next_url)
        return items


def moderation_error(response: httpx.Response) -> ConnectorError | None:
    """As graph_error, and "object does not exist" (code 100, subcode 33) or a 404 is NotFound: the comment is gone."""
    from connectors.base import NotFound

    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code == 404 or (isinstance(error, dict) and error.get("code") == 100 and error.get("error_subcode") == 33):
        return NotFound(http.error_message(response))
    return graph_error(response)


async def moderate(graph: GraphClient, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
    """A moderation call: each sets a state (hidden, deleted, blocked), so a resend after a lost answer is safe."""
    response = await http.send(graph._http, method, graph._absolute(path), headers=graph._headers(), budget=graph.budget,
                               error_mapper=moderation_error, data=data, idempotent=True)
    return http.json_body(response, wrote=False)


def quote_id(value: str) -> str:
    return urllib.parse.quote(value, safe="_")
