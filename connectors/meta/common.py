"""What the Facebook and Instagram connectors share: the time cursor, page collection and duplicate look-up."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import InboundMessage, Page, PermanentError, RateLimit
from connectors.meta.mapping import parse_datetime

log = logging.getLogger(__name__)

# How far back publish() looks for a post it may already have made; Meta has no idempotency key.
DUPLICATE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class TimeCursor:
    """Graph edges filter by time, not id: the newest timestamp delivered plus the ids delivered at that second.

    Re-reading from `since` (inclusive) and dropping those ids makes a retry after any
    failure deliver exactly what is missing."""

    since: int = 0
    ids: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, value: str) -> TimeCursor:
        stamp, _, ids = (value or "").partition(":")
        if not stamp.isdigit():
            if value:
                log.warning("meta: ignoring unreadable cursor %r", value[:60])
            return cls()
        return cls(int(stamp), frozenset(i for i in ids.split(",") if i))

    def __str__(self) -> str:
        return f"{self.since}:{','.join(sorted(self.ids))}" if self.since else ""

    def is_new(self, message: InboundMessage) -> bool:
        stamp = int(message.created_at.timestamp())
        return stamp > self.since or (stamp == self.since and message.external_id not in self.ids)

    def advanced(self, messages: list[InboundMessage]) -> TimeCursor:
        if not messages:
            return self
        newest = max(int(m.created_at.timestamp()) for m in messages)
        at_newest = {m.external_id for m in messages if int(m.created_at.timestamp()) == newest}
        if newest == self.since:
            at_newest |= self.ids
        return TimeCursor(newest, frozenset(at_newest))


def build_page(
    cursor: TimeCursor,
    raw_items: Iterable[tuple[Any, Callable[[Any], InboundMessage]]],
    skipped: list[str],
    rate_limit: RateLimit | None,
    network: str,
) -> Page:
    """Map, drop what the cursor already delivered, order oldest first and advance the cursor."""
    fresh: dict[str, InboundMessage] = {}
    for raw, mapper in raw_items:
        try:
            message = mapper(raw)
        except PermanentError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            log.info("%s: skipped %s: %s", network, raw_id, exc)
            skipped.append(f"{raw_id}: {exc}")
            continue
        if cursor.is_new(message):
            fresh[message.external_id] = message
    items = sorted(fresh.values(), key=lambda m: (m.created_at, m.external_id))
    return Page(items=items, cursor=str(cursor.advanced(items)), skipped=skipped, rate_limit=rate_limit)


def same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def recent(timestamp: Any) -> bool:
    try:
        return parse_datetime(timestamp) >= datetime.now(UTC) - DUPLICATE_WINDOW
    except PermanentError:
        return False
