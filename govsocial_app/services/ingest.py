"""Stores inbound messages: normalise, dedupe on (network, external id), and archive network-side edits and deletions as versions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import insert
from sqlmodel import Session, col, select

from connectors.base import InboundMessage
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, MessageVersion
from govsocial_app.services import bus
from govsocial_app.services.textnorm import search_text

log = logging.getLogger(__name__)
_CHUNK = 500  # keeps the IN (...) lookup and the insert batch well inside SQLite's parameter limit


@dataclass
class IngestResult:
    new_ids: list[int] = field(default_factory=list)
    versioned_ids: list[int] = field(default_factory=list)
    skipped: int = 0


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _row(m: InboundMessage, profile_id: int | None, keyword_id: int | None, now: datetime) -> dict:
    a = m.author
    return {
        "network": m.network,
        "external_id": m.external_id[:300],
        "profile_id": profile_id,
        "direction": "in",
        "kind": m.kind,
        "conversation_key": (m.conversation_id or m.external_id)[:300],
        "in_reply_to_external_id": (m.in_reply_to_id or "")[:300],
        "author_external_id": a.external_id[:200],
        "author_handle": a.handle[:200],
        "author_key": a.handle.lstrip("@").lower()[:200],
        "author_name": (a.display_name or a.handle)[:200],
        "author_avatar_url": (a.avatar_url or "")[:500],
        "author_followers": int(a.followers or 0),
        "text": m.text,
        "search_text": search_text(m.text, a.handle, a.display_name),
        "lang": (m.lang or "")[:8],
        "url": (m.url or "")[:500],
        "created_at": _utc(m.created_at),
        "received_at": now,
        "status": "open",
        "keyword_id": keyword_id,
        "likes": m.likes,
        "reposts": m.reposts,
        "replies": m.replies,
        "version": 1,
        "network_deleted_at": now if m.deleted else None,
    }


def store(
    session: Session,
    messages: list[InboundMessage],
    *,
    profile_id: int | None,
    keyword_id: int | None = None,
    now: datetime | None = None,
    backfill: bool = False,
) -> IngestResult:
    """Insert new messages and version changed ones inside the caller's transaction.

    `backfill` stores history as if it had arrived when it was written (received_at = created_at)."""
    now = now or datetime.now(timezone.utc)
    result = IngestResult()
    # Every report of an id is kept in order: a page can hold a message and then its edit or deletion,
    # and the first text must reach the archive before the edit replaces it.
    reports: dict[tuple[str, str], list[InboundMessage]] = {}
    for m in messages:
        if not m.external_id or not m.network:
            result.skipped += 1
            continue
        reports.setdefault((m.network, m.external_id[:300]), []).append(m)
    keys = list(reports)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        # One lookup per network with a plain IN list: it uses the unique (network, external_id) index on
        # both databases, where a row-value IN can fall back to a scan on PostgreSQL.
        existing = {}
        for network in {n for n, _ in chunk}:
            ids = [e for n, e in chunk if n == network]
            for row in session.exec(select(Message).where(Message.network == network, col(Message.external_id).in_(ids))).all():
                existing[(row.network, row.external_id)] = row
        fresh = [k for k in chunk if k not in existing]
        new_rows = [_row(reports[k][0], profile_id, keyword_id, _utc(reports[k][0].created_at) if backfill else now) for k in fresh]
        if new_rows:
            inserted = session.execute(insert(Message).returning(Message.id, Message.text), new_rows).all()
            session.execute(
                insert(MessageVersion),
                [{"message_id": mid, "version": 1, "change": "created", "text": text, "captured_at": now, "raw": {}} for mid, text in inserted],
            )
            result.new_ids.extend(mid for mid, _ in inserted)
            later = [k for k in fresh if len(reports[k]) > 1]
            if later:
                for row in session.exec(select(Message).where(col(Message.id).in_([mid for mid, _ in inserted]))).all():
                    if (row.network, row.external_id) in later:
                        existing[(row.network, row.external_id)] = row
        for k in chunk:
            row = existing.get(k)
            if row is None:
                continue
            changed = False
            for m in reports[k][1:] if k in fresh else reports[k]:
                changed |= _apply_change(session, row, m, now)
            if changed and k not in fresh:
                result.versioned_ids.append(row.id)
    return result


def _apply_change(session: Session, row: Message, m: InboundMessage, now: datetime) -> bool:
    """Record a network-side edit or deletion as a new version; the old text stays in the archive."""
    if m.deleted and row.network_deleted_at is None:
        change, text = "deleted", row.text
        row.network_deleted_at = now
    elif not m.deleted and m.text != row.text:
        change, text = "edited", m.text
        row.text = m.text
        row.search_text = search_text(m.text, row.author_handle, row.author_name)
    else:
        if (m.likes, m.reposts, m.replies) != (row.likes, row.reposts, row.replies):
            row.likes, row.reposts, row.replies = m.likes, m.reposts, m.replies
        return False
    row.version += 1
    session.add(MessageVersion(message_id=row.id, version=row.version, change=change, text=text, captured_at=now))
    return True


def ingest(
    messages: list[InboundMessage], *, profile_id: int | None, keyword_id: int | None = None, notify: bool = True
) -> IngestResult:
    """Store a batch in its own transaction, then tell every client (through the bus) what arrived."""
    with session_scope() as s:
        result = store(s, messages, profile_id=profile_id, keyword_id=keyword_id)
    if notify and (result.new_ids or result.versioned_ids):
        bus.publish("inbox", {"new": len(result.new_ids), "head_id": max(result.new_ids, default=0), "changed": result.versioned_ids[:50]})
    return result
