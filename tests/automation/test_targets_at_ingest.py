"""A newly stored message gets the normal priority's response-time targets from its arrival; history (backfill)
gets them from when it was written; an outbound message has none."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from connectors.base import Author, InboundMessage
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message
from govsocial_app.services import settings_store
from govsocial_app.services.authz import Actor
from govsocial_app.services.inbox import ingest, targets


def _msg(i: str, when: datetime) -> InboundMessage:
    return InboundMessage(network="simulator", external_id=i, kind="mention", text="pothole on 5th",
                          author=Author(external_id="a", handle="a", display_name="A"), created_at=when)


def test_due_times_follow_the_stored_targets(db):
    now = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
    settings_store.set_value(targets.SETTING, {"normal": [30, 600]}, Actor.system())
    with session_scope() as s:
        ingest.store(s, [_msg("n1", now - timedelta(hours=3))], profile_id=None, now=now)
        ingest.store(s, [_msg("h1", now - timedelta(hours=3))], profile_id=None, now=now, backfill=True)
    with session_scope() as s:
        fresh = s.exec(select(Message).where(Message.external_id == "n1")).one()
        old = s.exec(select(Message).where(Message.external_id == "h1")).one()
        assert fresh.priority == "normal"
        assert fresh.sla_first_due_at == now + timedelta(minutes=30)
        assert fresh.sla_done_due_at == now + timedelta(minutes=600)
        assert old.sla_first_due_at == now - timedelta(hours=3) + timedelta(minutes=30)
        # urgent re-derives both from arrival
        assert targets.set_priority(s, fresh, "urgent") is True
        assert fresh.sla_first_due_at == now + timedelta(minutes=15)
        assert fresh.sla_done_due_at == now + timedelta(minutes=120)
        assert targets.set_priority(s, fresh, "urgent") is False


def test_targets_refuse_nonsense_with_a_clear_message():
    good = {p: v for p, v in targets.DEFAULT_TARGETS.items()}
    assert targets.validate(good)["urgent"] == [15, 120]
    for bad, words in [({**good, "urgent": (0, 10)}, "more than 0"), ({**good, "high": (90, 60)}, "not be longer"),
                       ({**good, "low": ("x", 5)}, "whole minutes")]:
        try:
            targets.validate(bad)
        except targets.TargetError as e:
            assert words in str(e)
        else:
            raise AssertionError(f"accepted {bad}")
