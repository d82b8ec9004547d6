"""The pause-all flag, read under a lock: the one row every outgoing path (posts, replies, automatic replies)
re-reads in the transaction that claims its work. Kernel, so that the inbox's reply sender and the publishing
sender both read it without the inbox importing publishing; who may flip it, and resuming, stay in
publishing/pause.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from govsocial_app.db.engine import get_engine
from govsocial_app.db.models import Setting

PAUSE_KEY = "publishing.pause"

_rows_known: set[str] = set()  # databases (by URL) where the pause row is known to exist


def _ensure_row() -> None:
    """The pause row must exist before anyone locks it: PostgreSQL cannot lock a row that is not there yet,
    and a first-ever pause inserted beside a claim that found no row would not stop that claim."""
    url = str(get_engine().url)
    if url in _rows_known:
        return
    with Session(get_engine()) as s:
        if s.exec(select(Setting.key).where(Setting.key == PAUSE_KEY)).first() is None:
            s.add(Setting(key=PAUSE_KEY, value={"paused": False}))
            try:
                s.commit()
            except IntegrityError:  # another process created it first
                s.rollback()
    _rows_known.add(url)


def lock(session: Session, *, exclusive: bool) -> None:
    """Serialise with every other pause, resume and claim. Must be the first statement of the transaction.

    SQLite: a write as the first statement takes the database write lock before anything is read, so
    the reads that follow see the latest commit and no other writer can interleave. PostgreSQL: a row
    lock on the pause row (shared for claims, so workers claim in parallel; exclusive for pause/resume)."""
    _ensure_row()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Setting).where(col(Setting.key) == PAUSE_KEY).values(updated_by=Setting.updated_by))
    else:
        q = select(Setting.key).where(Setting.key == PAUSE_KEY)
        session.exec(q.with_for_update() if exclusive else q.with_for_update(read=True)).first()


def _value(session: Session) -> dict[str, Any]:
    # A column select always reads the database, never a cached object in the session.
    value = session.exec(select(Setting.value).where(Setting.key == PAUSE_KEY)).first()
    return value if isinstance(value, dict) else {}


# The decision (issue 13): a pause stops replies to the public too, as the words on screen say. A reply written
# during a pause is kept as "queued" and sent, once, when publishing resumes (the `replies-pending` job); the reply
# sender (services/inbox/replies.py) checks `replies_held` in the transaction that claims a reply, like posts do.
PAUSE_HOLDS_REPLIES = True


def replies_held(session: Session) -> bool:
    """Whether a reply must wait now: true while publishing is paused. Call after `lock(session, exclusive=False)`
    in the transaction that claims the reply, so a pause that commits first is never overtaken."""
    return PAUSE_HOLDS_REPLIES and is_paused(session)


def is_paused(session: Session) -> bool:
    """For every service that sends anything (scheduled posts, automatic replies): check this in the same
    transaction that claims the work, after `lock(session, exclusive=False)` when it must be race-free."""
    return bool(_value(session).get("paused"))
