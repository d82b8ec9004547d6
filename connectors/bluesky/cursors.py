"""Opaque poll cursors: the newest item already handed out, so the next poll returns only what came after."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from connectors.base import PermanentError
from connectors.bluesky.mapping import parse_datetime

__all__ = ["Watermark", "decode", "encode"]

_PREFIX = "bsky1."


@dataclass(frozen=True)
class Watermark:
    """The newest (indexedAt, uri) handed out. `uris` holds every item at exactly that instant,
    because the AppView pages by time alone and several items can share one millisecond."""

    at: datetime
    uris: frozenset[str]

    def covers(self, at: datetime, uri: str) -> bool:
        """True when the item was handed out already (or is older than what was)."""
        return at < self.at or (at == self.at and uri in self.uris)

    def advance(self, keys: Iterable[tuple[datetime, str]]) -> Watermark:
        at, uris = self.at, set(self.uris)
        for key_at, uri in keys:
            if key_at > at:
                at, uris = key_at, {uri}
            elif key_at == at:
                uris.add(uri)
        return Watermark(at, frozenset(uris))

    @classmethod
    def first(cls, keys: Iterable[tuple[datetime, str]]) -> Watermark | None:
        keys = list(keys)
        if not keys:
            return None
        newest = max(at for at, _ in keys)
        return cls(newest, frozenset(uri for at, uri in keys if at == newest))


def encode(mark: Watermark | None) -> str:
    if mark is None:
        return ""
    payload = json.dumps({"t": mark.at.isoformat(), "u": sorted(mark.uris)}, separators=(",", ":"))
    return _PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(cursor: str) -> Watermark | None:
    """The watermark in a cursor from `encode`; "" means never polled. Anything else is a PermanentError."""
    if not cursor:
        return None
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX):
        raise PermanentError(f"not a Bluesky poll cursor: {cursor!r:.80}")
    body = cursor[len(_PREFIX) :]
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PermanentError(f"corrupt Bluesky poll cursor: {cursor!r:.80}") from exc
    if not isinstance(data, dict):
        raise PermanentError("corrupt Bluesky poll cursor: not an object")
    uris = data.get("u")
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise PermanentError("corrupt Bluesky poll cursor: bad uri list")
    return Watermark(parse_datetime(data.get("t"), "cursor time"), frozenset(uris))
