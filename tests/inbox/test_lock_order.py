"""Lock order on PostgreSQL: a message action locks its messages before the audit chain, as a reply does, so a tag
and a reply on the same message never deadlock (bench-load found one: 300 people on one inbox page)."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, MessageTag
from govsocial_app.services import audit
from govsocial_app.services.inbox import stream

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


@pytest.mark.services
@pytest.mark.parametrize("new_tag", [False, True], ids=["existing tag", "new tag"])
def test_a_tag_waits_for_a_reply_holding_its_message_instead_of_deadlocking(pg_db, actor_factory, new_tag):
    responder, other = actor_factory("responder"), actor_factory("responder")
    with session_scope() as s:
        m = Message(network="simulator", external_id="lock-1", text="pothole on Main St", created_at=NOW)
        s.add(m)
        s.flush()
        mid = m.id
    if not new_tag:
        stream.add_tag([mid], "Roads", responder)
        stream.remove_tag([mid], stream.add_tag([mid], "Roads", responder), responder)
    locked, errors = threading.Event(), []

    def reply_like() -> None:
        """What a reply's claim does (services/inbox/replies.py): the message's row lock, then an audited change."""
        try:
            with session_scope() as s:
                s.exec(select(Message.id).where(Message.id == mid).with_for_update()).first()
                locked.set()
                threading.Event().wait(1.5)  # the tag below is now under way
                s.get(Message, mid).replied_at = NOW
                audit.record(s, other, "message.reply", "message", mid)
        except BaseException as exc:  # reported below
            errors.append(exc)
            locked.set()

    def tag() -> None:
        try:
            stream.add_tag([mid], "Flooding" if new_tag else "Roads", responder)
        except BaseException as exc:
            errors.append(exc)

    holder = threading.Thread(target=reply_like)
    holder.start()
    assert locked.wait(10)
    tagger = threading.Thread(target=tag)
    tagger.start()
    holder.join(30)
    tagger.join(30)
    assert not holder.is_alive() and not tagger.is_alive()
    assert errors == []  # before: psycopg DeadlockDetected in one of the two
    with session_scope() as s:
        assert s.get(Message, mid).replied_at is not None
        tags = s.exec(select(MessageTag).where(MessageTag.message_id == mid, MessageTag.removed_at.is_(None))).all()
        assert len(tags) == 1
