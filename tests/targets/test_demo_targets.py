"""The demo shows the feature: urgent and high messages in English and Arabic, one overdue that escalates once,
and no wall of escalations from the seeded history."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, Message
from govsocial_app.services import demo
from govsocial_app.services.inbox import targets


def test_demo_seed_has_priorities_and_one_overdue_escalation(db):
    demo.seed(history_days=2)
    now = datetime.now(timezone.utc)
    with session_scope() as s:
        marked = {m.priority: m for m in s.exec(select(Message).where(Message.priority != "normal")).all()}
        urgent = s.exec(select(Message).where(Message.priority == "urgent")).all()
        langs = {m.lang for m in urgent} | {m.lang for m in s.exec(select(Message).where(Message.priority == "high")).all()}
    assert set(marked) == {"urgent", "high"} and "ar" in langs
    overdue = [m for m in urgent if targets.first_response_breached(m, now) and m.sla_first_escalated_at is None]
    assert len(overdue) == 1  # the one breach the demo leaves to escalate (another urgent one may be late already)
    raised = targets.escalate_breaches(now)
    assert 1 <= len(raised) <= 2  # its first response, and its completion if that passed too
    with session_scope() as s:
        ids = {a.data["message_id"] for a in s.exec(select(Alert).where(Alert.kind == "target_breach")).all()}
    assert ids == {overdue[0].id}
    assert targets.escalate_breaches(now) == []


def test_a_demo_started_after_a_quiet_spell_still_has_its_overdue_message(db):
    """At night the simulated network is quiet: with nothing received in the last three hours, the demo's overdue
    example is the newest message older than 20 minutes (the suite failed at 05:30 UTC without this)."""
    from datetime import timedelta

    demo.seed(history_days=2)
    later = datetime.now(timezone.utc) + timedelta(hours=12)  # twelve hours with nothing new
    with session_scope() as s:
        picked = targets.seed_targets(s, now=later)
    assert "overdue" in picked
    with session_scope() as s:
        m = s.get(Message, picked["overdue"])
        assert m.priority == "urgent" and m.lang != "ar" and targets.first_response_breached(m, later)
        assert m.sla_first_escalated_at is None  # left for the job to escalate once
