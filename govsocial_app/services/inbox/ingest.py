"""Stores inbound messages: normalise, dedupe on (network, external id), and archive network-side edits and deletions as versions.

The first step of the intake pipeline (services/intake/pipeline.py), which every inbound page goes through."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Protocol

from sqlalchemy import insert, text
from sqlmodel import Session, col, select

from connectors.base import InboundMessage
from govsocial_app.db import partitions
from govsocial_app.db.models import Message, MessageVersion
from govsocial_app.db.sql import unnest_params, unnest_select
from govsocial_app.services.inbox import targets
from govsocial_app.services.links import web_link
from govsocial_app.services.records import chain
from govsocial_app.services.textnorm import search_text

log = logging.getLogger(__name__)
_CHUNK = 500  # keeps the IN (...) lookup and the insert batch well inside SQLite's parameter limit


class RowHook(Protocol):
    """Sees a page's new rows before they are inserted (and may change them), then learns their ids.

    The intake pipeline's inbox rules (services/intake/rules.Plan) decide tags, assignment, priority and completion
    here, so the rows go in already triaged instead of being updated moments after their insert."""

    def decide(self, rows: list[dict], edited: dict[tuple[str, str], str]) -> None:
        """`edited`: the text each row will have once the later reports of the same page are applied right after its
        insert (network, external id → text), for the rows whose text they change: the row itself carries the first
        text, which goes to the archive first."""

    def inserted(self, ids: dict[tuple[str, str], int]) -> None: ...


@dataclass
class IngestResult:
    new_ids: list[int] = field(default_factory=list)
    versioned_ids: list[int] = field(default_factory=list)
    skipped: int = 0


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _row(m: InboundMessage, profile_id: int | None, keyword_id: int | None, now: datetime,
         due: tuple[int, int]) -> dict:
    """`now` is its arrival; `due` the normal priority's response-time targets in minutes (services/inbox/targets)."""
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
        "author_avatar_url": web_link(a.avatar_url),
        "author_followers": int(a.followers or 0),
        "text": m.text,
        "search_text": search_text(m.text, a.handle, a.display_name),
        "lang": (m.lang or "")[:8],
        "url": web_link(m.url),
        "created_at": _utc(m.created_at),
        "received_at": now,
        "status": "open",
        "priority": "normal",
        "sla_first_due_at": now + timedelta(minutes=due[0]),
        "sla_done_due_at": now + timedelta(minutes=due[1]),
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
    hook: RowHook | None = None,
) -> IngestResult:
    """Insert new messages and version changed ones inside the caller's transaction.

    `backfill` stores history as if it had arrived when it was written (received_at = created_at); `hook` sees
    each batch of new rows before their insert and their ids after it."""
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
    postgres = session.get_bind().dialect.name == "postgresql"
    due = targets.targets(session)["normal"] if keys else (0, 0)
    months: set = set()  # the months the new rows arrived in (a partitioned PostgreSQL database: their partitions)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        existing = {}
        for network in {n for n, _ in chunk}:
            ids = [e for n, e in chunk if n == network]
            for row in _lookup(session, network, ids, postgres):
                existing[(row.network, row.external_id)] = row
        fresh = [k for k in chunk if k not in existing]
        new_rows = [_row(reports[k][0], profile_id, keyword_id, _utc(reports[k][0].created_at) if backfill else now, due)
                    for k in fresh]
        if new_rows:
            months.update(partitions.month_start(r["received_at"]) for r in new_rows)
            if hook is not None:
                hook.decide(new_rows, {k: final for k in fresh if len(reports[k]) > 1
                                       and (final := _final_text(reports[k])) != reports[k][0].text})
            # Each new message's "created" version goes into the archive already chained, at the outermost commit
            # (chain.queue_archive): written here and sealed by an UPDATE at commit, every version was written
            # twice, which cost PostgreSQL ingest a third of its rate (bench-ingest, issue 20 stop 42). Inside a
            # savepoint, which could roll back without the queue knowing, they go in now and are sealed as before.
            queue = not session.in_nested_transaction()
            if postgres:
                new_ids = _insert_pg(session, new_rows, now, with_versions=not queue)
            else:
                # Core, not the ORM's bulk insert: that leaves out each row's None values and groups the rows by
                # which columns remain, so rows that rules left with or without an assignee, a team or a completion
                # went in as hundreds of small statements instead of a few.
                table = Message.__table__
                inserted = session.execute(insert(table).returning(table.c.id, table.c.network, table.c.external_id), new_rows).all()
                new_ids = {(n, e): mid for mid, n, e in inserted}
                if not queue:
                    session.execute(insert(MessageVersion.__table__), _created_versions(new_rows, new_ids, now))
            if queue:
                chain.queue_archive(session, _created_versions(new_rows, new_ids, now))
            if hook is not None:
                hook.inserted(new_ids)
            result.new_ids.extend(new_ids[k] for k in fresh)
            # Only the rows that this page also edits or deletes are loaded back as objects.
            later = [new_ids[k] for k in fresh if len(reports[k]) > 1]
            if later:
                for row in session.exec(select(Message).where(col(Message.id).in_(later))).all():
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
    if result.new_ids or result.versioned_ids:
        chain.mark_archive_pending(session)  # versions went in as plain SQL or wait in the queue: seal them before commit
    if postgres and result.new_ids:
        _analyse_once(session, months)
    return result


def _lookup(session: Session, network: str, ids: list[str], postgres: bool) -> list[Message]:
    """The stored messages of one network with these external ids, through the unique (network, external_id) index.

    SQLite gets a plain IN list. PostgreSQL gets the ids as one array: a long IN list is a new statement for
    psycopg to parse in Python and for the server to plan on every batch, where `= ANY(array)` is one
    statement, parsed and prepared once. On a database partitioned by month (`cli partitions enable`) the unique
    index is message_key's: a new external id costs one probe there, and only the ids found are read from message
    (by id, one primary-key probe per month)."""
    if not postgres:
        return list(session.exec(select(Message).where(Message.network == network, col(Message.external_id).in_(ids))).all())
    if partitions.message_partitioned(session.connection()):
        by_key = text("SELECT m.* FROM message_key k JOIN message m ON m.id = k.id "
                      "WHERE k.network = :network AND k.external_id = ANY(CAST(:ids AS text[]))")
    else:
        by_key = text("SELECT * FROM message WHERE network = :network AND external_id = ANY(CAST(:ids AS text[]))")
    return list(session.scalars(select(Message).from_statement(by_key.bindparams(network=network, ids=ids))).all())


def _analyse_once(session: Session, months: set) -> None:
    """Give PostgreSQL's planner statistics for a message table that has never had any.

    Until autovacuum first analyses the table (up to a minute after rows arrive) the planner guesses that
    `network = ...` matches a handful of rows and answers the dedupe lookup by walking another network index
    over every row of the network, so a first backfill slows down with every batch (at 47,000 rows each
    lookup took 30 ms instead of 2). Analysing once, when the table has never been analysed, gives it real
    row counts; autovacuum keeps them up to date after that. ANALYZE counts this transaction's own new rows;
    without table ownership PostgreSQL skips it with a warning. Its lock lasts to the end of the transaction and
    can make a concurrent first ingest wait; it comes after this call's last insert so that the wait cannot
    turn into a deadlock over message rows both are inserting.
    On a database partitioned by month the dedupe lookup reads message_key and the inbox reads each month's
    partition: message_key and the partitions these rows went into are analysed once the same way (a new month
    starts never analysed)."""
    if not partitions.message_partitioned(session.connection()):
        if session.execute(text("SELECT reltuples < 0 FROM pg_class WHERE oid = CAST('message' AS regclass)")).scalar():
            session.execute(text("ANALYZE message"))
        return
    names = ["message_key", *(partitions.partition_name("message", m) for m in months)]
    never = session.execute(text("SELECT relname FROM pg_class WHERE relname = ANY(CAST(:n AS text[])) AND reltuples < 0"),
                            {"n": names}).scalars().all()
    for name in sorted(never):
        session.execute(text(f"ANALYZE {name}"))


def _created_versions(rows: list[dict], new_ids: dict[tuple[str, str], int], now: datetime) -> list[dict]:
    """The archive's first version of each new message, as columns for a plain insert."""
    return [{"message_id": new_ids[(r["network"], r["external_id"])], "version": 1, "change": "created", "text": r["text"],
             "captured_at": now, "raw": {}} for r in rows]


@lru_cache(maxsize=16)
def _pg_insert_statement(cols: tuple[str, ...], with_versions: bool) -> str:
    insert_new = f"INSERT INTO message ({', '.join(cols)}) {unnest_select(Message.__table__, cols)}"
    if not with_versions:
        return f"{insert_new} RETURNING id, network, external_id"
    return (
        f"WITH new AS ({insert_new} RETURNING id, network, external_id, text), "
        "archived AS (INSERT INTO messageversion (message_id, version, change, text, captured_at, raw) "
        "SELECT id, 1, 'created', text, %(captured_at)s, CAST('{}' AS json) FROM new) "
        "SELECT id, network, external_id FROM new"
    )


def _insert_pg(session: Session, rows: list[dict], now: datetime, *, with_versions: bool) -> dict[tuple[str, str], int]:
    """Insert new messages (and, `with_versions`, their "created" versions) in one statement; returns each
    (network, external id)'s new id.

    The columns go as arrays that `unnest` zips back into rows, so the statement is the same for every batch and
    psycopg and the server parse it once. SQLAlchemy's bulk insert sends a multi-row VALUES list instead: ~11,500
    placeholders per 500 rows and a new text for each row count, which psycopg does not cache; it re-split
    350 kB of SQL in Python for every batch, and the many small objects that made lived long enough to set off a
    full garbage collection of the whole heap every other batch."""
    cols = tuple(rows[0])
    params = unnest_params(Message.__table__, rows, cols)
    if with_versions:
        params["captured_at"] = now
    inserted = session.connection().exec_driver_sql(_pg_insert_statement(cols, with_versions), params)
    return {(n, e): mid for mid, n, e in inserted}


def _final_text(reports: list[InboundMessage]) -> str:
    """The text a new message has once `_apply_change` has applied its page's later reports in order."""
    text, deleted = reports[0].text, reports[0].deleted
    for m in reports[1:]:
        if m.deleted and not deleted:
            deleted = True
        elif not m.deleted and m.text != text:
            text = m.text
    return text


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
