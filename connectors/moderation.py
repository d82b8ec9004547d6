"""What the network connectors share for moderation: 404 read as NotFound (the comment is gone), and a short copy of
the network's answer to keep as evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from connectors import http
from connectors.base import ConnectorError, NotFound

Mapper = Callable[[httpx.Response], ConnectorError | None]


def gone_first(mapper: Mapper | None) -> Mapper:
    """An error mapper that reads 404 and 410 as NotFound, then defers to the network's own mapper."""

    def mapped(response: httpx.Response) -> ConnectorError | None:
        if response.status_code in (404, 410):
            return NotFound(http.error_message(response))
        return mapper(response) if mapper else None

    return mapped


def answer(status: int, body: Any) -> dict[str, Any]:
    return {"http_status": status, "body": body if isinstance(body, (dict, list)) else str(body)[:500]}
