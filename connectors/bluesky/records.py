"""Builds the app.bsky.feed.post record we publish, and the record key that makes publishing idempotent."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import PermanentError

__all__ = ["POST_COLLECTION", "is_tid", "post_record", "record_key"]

POST_COLLECTION = "app.bsky.feed.post"

_BASE32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
# 2023-01-01T00:00:00Z in microseconds: the earliest time a derived key's timestamp bits can decode to.
_TID_EPOCH_US = 1_672_531_200_000_000
_TIMESTAMP_SPAN_BITS = 48  # ~8.9 years after that epoch


def record_key(idempotency_key: str) -> str:
    """A TID derived from our idempotency key, so a second createRecord with it collides instead of posting twice.

    The PDS validates a post's rkey as a TID (13 base32-sortable chars, top bit zero). The
    timestamp bits here hold a hash, kept inside a plausible range for tools that decode them."""
    if not idempotency_key:
        raise PermanentError("a Bluesky post needs an idempotency key to derive its record key")
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big")
    timestamp = _TID_EPOCH_US + (digest >> 16) % (1 << _TIMESTAMP_SPAN_BITS)
    clock_id = digest & 0x3FF
    value = (timestamp << 10) | clock_id  # 53-bit microseconds + 10-bit clock id, top bit clear
    chars = []
    for _ in range(13):
        chars.append(_BASE32_SORTABLE[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_tid(value: str) -> bool:
    return len(value) == 13 and value[0] in _BASE32_SORTABLE[:16] and all(ch in _BASE32_SORTABLE for ch in value)


def post_record(
    text: str,
    *,
    created_at: datetime | None = None,
    langs: Sequence[str] = (),
    facets: Sequence[dict[str, Any]] = (),
    reply: dict[str, Any] | None = None,
    images: Sequence[tuple[dict[str, Any], str]] = (),
) -> dict[str, Any]:
    """An app.bsky.feed.post record; `images` are (uploaded blob, alt text) pairs."""
    created_at = created_at or datetime.now(UTC)
    record: dict[str, Any] = {
        "$type": POST_COLLECTION,
        "text": text,
        # Millisecond precision with a Z, the way the Bluesky app writes it.
        "createdAt": created_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if langs:
        record["langs"] = list(langs)[:3]  # the lexicon allows three
    if facets:
        record["facets"] = list(facets)
    if reply:
        record["reply"] = reply
    if images:
        record["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [{"image": blob, "alt": alt} for blob, alt in images],
        }
    return record
