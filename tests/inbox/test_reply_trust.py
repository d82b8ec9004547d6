"""Replies never go out twice and never slip past a pause: queued while paused and sent on resume (audited),
an ambiguous failure reconciled with the network, a reply stuck in "sending" recovered without a blind resend."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from connectors.base import Credentials, OutboundPost
from connectors.simulator import SimulatorConnector
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, Message, SocialProfile
from govsocial_app.services.inbox import replies
from govsocial_app.services.publishing import pause


def _sim(profile_id: int) -> SimulatorConnector:
    with session_scope() as s:
        return SimulatorConnector(Credentials(network="simulator", config=dict(s.get(SocialProfile, profile_id).config)))


def _created(profile_id: int) -> list[dict]:
    return [r for r in _sim(profile_id).received_log() if r["outcome"].startswith("created")]


def _actions() -> list[str]:
    with session_scope() as s:
        return list(s.exec(select(AuditLog.action).order_by(AuditLog.id)).all())


def _out(outbound_id: int) -> Message:
    with session_scope() as s:
        out = s.get(Message, outbound_id)
        s.expunge(out)
        return out


def test_pause_all_holds_replies_and_resume_sends_them_once(sim_store, profile, actor_factory):
    ana, admin = actor_factory("responder", "Ana"), actor_factory("admin")
    (a,) = sim_store(1)
    pause.pause(admin, "storm", drain_timeout_s=0)
    queued = asyncio.run(replies.send_reply(a, "We are on it.", ana, seen_reply_id=0))
    assert isinstance(queued, replies.QueuedReply)
    assert _out(queued.outbound_id).status == "queued"
    assert _sim(profile).received_log() == []
    assert asyncio.run(replies.process_pending()) == {}  # still paused: nothing goes out
    assert _sim(profile).received_log() == []
    pause.resume(admin)
    assert asyncio.run(replies.process_pending()) == {"sent": 1}
    assert asyncio.run(replies.process_pending()) == {}
    [call] = _created(profile)
    out = _out(queued.outbound_id)
    assert out.status == "sent" and out.external_id == call["external_id"]
    acts = _actions()
    assert "message.reply_queued" in acts and "message.reply_sent_after_pause" in acts


def test_an_ambiguous_failure_is_reconciled_not_resent(sim_store, profile, actor_factory):
    ana = actor_factory("responder", "Ana")
    (a,) = sim_store(1)
    _sim(profile).inject_faults(["timeout-after"])  # the network posts it, then the answer is lost
    result = asyncio.run(replies.send_reply(a, "Crews are on the way.", ana, seen_reply_id=0))
    assert isinstance(result, replies.UncertainReply)
    assert _out(result.outbound_id).status == "unknown"
    assert asyncio.run(replies.process_pending()) == {"sent": 1}
    [call] = _created(profile)
    assert len(_sim(profile).received_log()) == 1  # reconciled by reading, never sent again
    assert _out(result.outbound_id).external_id == call["external_id"]
    assert "message.reply_reconciled" in _actions()


def _stuck_reply(a: int, text: str, actor, *, sent: bool) -> int:
    """A reply claimed by a sender that then died: "sending" for ever. With `sent`, the network got it first."""
    outbound_id, key, profile, m, paused = replies._claim(a, text, actor, 0)
    assert not paused
    if sent:
        asyncio.run(_sim(profile.id).publish(OutboundPost(text=text, idempotency_key=key, in_reply_to_id=m.external_id)))
    with session_scope() as s:
        s.get(Message, outbound_id).completed_at = datetime.now(timezone.utc) - timedelta(hours=1)
    return outbound_id


def test_a_reply_stuck_in_sending_that_reached_the_network_is_recorded_not_resent(sim_store, profile, actor_factory):
    ana = actor_factory("responder", "Ana")
    (a,) = sim_store(1)
    outbound_id = _stuck_reply(a, "The road is closed until noon.", ana, sent=True)
    assert asyncio.run(replies.process_pending()) == {"sent": 1}
    assert len(_sim(profile).received_log()) == 1
    assert _out(outbound_id).status == "sent"
    assert "message.reply_stuck_recovered" in _actions()


def test_a_reply_stuck_in_sending_that_never_left_is_sent_once(sim_store, profile, actor_factory):
    ana = actor_factory("responder", "Ana")
    (a,) = sim_store(1)
    outbound_id = _stuck_reply(a, "Thank you, passed to the team.", ana, sent=False)
    assert asyncio.run(replies.process_pending()) == {"sent": 1}
    assert len(_created(profile)) == 1
    assert _out(outbound_id).status == "sent"


def test_a_fresh_reply_still_sending_is_left_alone(sim_store, profile, actor_factory):
    ana = actor_factory("responder", "Ana")
    (a,) = sim_store(1)
    outbound_id, *_ = replies._claim(a, "In progress", ana, 0)
    assert asyncio.run(replies.process_pending()) == {}
    assert _out(outbound_id).status == "sending"
