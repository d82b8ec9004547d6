"""Response-time targets: due times and priority, the card's time-left text, and the escalation that goes to the
team lead (or the admins and managers) exactly once, even with two workers at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from connectors.base import Author, InboundMessage
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, AlertDelivery, AlertRecipient, AuditLog, Message, Setting, Team
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from govsocial_app.services.inbox import ingest, replies, targets

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def _store(n: int, received: datetime, *, team_id: int | None = None, priority: str = "normal") -> int:
    m = InboundMessage(network="simulator", external_id=f"t{n}", kind="mention", text=f"Flooding on street {n}",
                       author=Author(external_id=f"a{n}", handle=f"@resident{n}", display_name=f"Resident {n}"), created_at=received)
    with session_scope() as s:
        mid = ingest.store(s, [m], profile_id=None, now=received).new_ids[0]
        row = s.get(Message, mid)
        row.team_id = team_id
        targets.set_priority(s, row, priority)
        s.add(row)
    return mid


def _team(lead_id: int | None) -> int:
    with session_scope() as s:
        t = Team(name="Roads", lead_user_id=lead_id)
        s.add(t)
        s.flush()
        return t.id


def _alerts() -> list[Alert]:
    with session_scope() as s:
        return list(s.exec(select(Alert).where(Alert.kind == "target_breach").order_by(Alert.id)).all())


def test_breach_escalates_once_to_the_team_lead(actor_factory):
    lead = actor_factory("responder", "Rana Lead")
    actor_factory("admin")
    team = _team(lead.user_id)
    mid = _store(1, NOW - timedelta(minutes=20), team_id=team, priority="urgent")  # due 15 min after: 5 min late
    fine = _store(2, NOW - timedelta(minutes=5), team_id=team, priority="urgent")  # 10 min left
    first = targets.escalate_breaches(NOW)
    second = targets.escalate_breaches(NOW + timedelta(minutes=1))
    assert len(first) == 1 and second == []
    [alert] = _alerts()
    assert alert.data["message_id"] == mid and alert.data["phase"] == "first"
    assert alert.severity == "critical"
    assert "Resident 1" in alert.title
    with session_scope() as s:
        assert [r.user_id for r in s.exec(select(AlertRecipient).where(AlertRecipient.alert_id == alert.id)).all()] == [lead.user_id]
        assert s.get(Message, mid).sla_first_escalated_at is not None
        assert s.get(Message, fine).sla_first_escalated_at is None
        # the in-app row plus email marked skipped (no SMTP here): delivery went through the alerting pipeline
        channels = sorted(d.channel for d in s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)).all())
        assert channels == ["email", "inapp"]
        audit = s.exec(select(AuditLog).where(AuditLog.action == "message.escalate")).all()
        assert len(audit) == 1 and audit[0].detail["to"] == "lead"


def test_completion_breach_escalates_separately_and_a_reply_stops_the_first_clock(actor_factory):
    actor_factory("manager")
    mid = _store(1, NOW - timedelta(hours=3), priority="urgent")  # first due 09:15, completion due 11:00
    with session_scope() as s:
        s.get(Message, mid).first_response_at = NOW - timedelta(hours=2, minutes=50)  # answered in time
    raised = targets.escalate_breaches(NOW)
    assert len(raised) == 1
    [alert] = _alerts()
    assert alert.data["phase"] == "done"
    assert "user_ids" not in alert.data  # no team: the admins and managers, not a personal alert
    assert targets.escalate_breaches(NOW) == []


def test_no_team_lead_falls_back_to_admins_and_managers(actor_factory):
    manager = actor_factory("manager")
    admin = actor_factory("admin")
    actor_factory("responder")
    team = _team(None)
    _store(1, NOW - timedelta(minutes=30), team_id=team, priority="urgent")
    targets.escalate_breaches(NOW)
    [alert] = _alerts()
    assert alert.data["audience"]["users"] == 2  # the manager and the admin, not the responder
    with session_scope() as s:
        detail = s.exec(select(AuditLog).where(AuditLog.action == "message.escalate")).one().detail
        assert detail["to"] == "admins and managers"
        sent_to = {d.user_id for d in s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)).all()}
    assert sent_to <= {None, manager.user_id, admin.user_id}


def test_null_due_times_old_history_answered_and_completed_never_escalate(actor_factory):
    actor_factory("admin")
    normal = _store(5, NOW - timedelta(hours=5))  # normal priority, 1 h past its 4 h target: overdue on the card only
    low = _store(6, NOW - timedelta(days=1, hours=1), priority="low")
    old = _store(1, NOW - timedelta(days=3), priority="urgent")  # breached 3 days ago: history, not news
    null = _store(2, NOW - timedelta(hours=1), priority="urgent")
    answered = _store(3, NOW - timedelta(minutes=30), priority="urgent")
    completed = _store(4, NOW - timedelta(minutes=30), priority="urgent")
    with session_scope() as s:
        m = s.get(Message, null)
        m.sla_first_due_at = m.sla_done_due_at = None
        s.get(Message, answered).first_response_at = NOW - timedelta(minutes=1)
        s.get(Message, completed).status = "completed"
    assert targets.escalate_breaches(NOW) == []
    with session_scope() as s:
        assert targets.escalation_candidates(s, "first", NOW) == []
        assert s.get(Message, old).sla_first_escalated_at is None
        for quiet in (normal, low):  # breached, shown overdue, yet not escalated: only urgent and high escalate
            assert targets.first_response_breached(s.get(Message, quiet), NOW)
            assert s.get(Message, quiet).sla_first_escalated_at is None


def test_a_reply_sets_the_first_response_and_stops_the_clock():
    import inspect

    # replies.py is the one place first_response_at is set for a person's reply; the escalation reads it
    assert "m.first_response_at = m.first_response_at or now" in inspect.getsource(replies)
    c = targets.clock_for(NOW, "open", NOW, NOW + timedelta(minutes=15), NOW + timedelta(hours=2))
    assert c.phase == "done" and c.due == NOW + timedelta(hours=2)


def test_set_priority_rederives_due_times_is_audited_and_refused_for_viewers(actor_factory):
    responder = actor_factory("responder")
    viewer = actor_factory("viewer")
    mid = _store(1, NOW)
    with pytest.raises(PermissionDenied):
        targets.set_message_priority([mid], "urgent", viewer)
    with pytest.raises(UserError, match="Priority must be"):
        targets.set_message_priority([mid], "panic", responder)
    assert targets.set_message_priority([mid], "high", responder) == 1
    assert targets.set_message_priority([mid], "high", responder) == 0
    with session_scope() as s:
        m = s.get(Message, mid)
        assert m.priority == "high"
        assert m.sla_first_due_at == NOW + timedelta(minutes=60) and m.sla_done_due_at == NOW + timedelta(minutes=480)
        rows = s.exec(select(AuditLog).where(AuditLog.action == "message.priority")).all()
        assert len(rows) == 1 and rows[0].detail["priority"] == "high" and rows[0].detail["count"] == 1


def test_saving_targets_is_validated_audited_and_keeps_existing_due_times(actor_factory):
    manager = actor_factory("manager")
    responder = actor_factory("responder")
    mid = _store(1, NOW)
    new = {**targets.DEFAULT_TARGETS, "normal": (30, 300)}
    with pytest.raises(PermissionDenied):
        targets.save_targets(new, responder)
    with pytest.raises(UserError, match="not be longer"):
        targets.save_targets({**new, "high": (90, 60)}, manager)
    targets.save_targets(new, manager)
    assert targets.targets()["normal"] == (30, 300)
    with session_scope() as s:
        assert s.get(Setting, targets.SETTING).value["normal"] == [30, 300]
        assert s.get(Message, mid).sla_first_due_at == NOW + timedelta(minutes=240)  # unchanged
        row = s.exec(select(AuditLog).where(AuditLog.action == "targets.update")).one()
        assert row.detail["after"]["normal"] == [30, 300] and row.detail["before"]["normal"] == [240, 1440]
    later = _store(2, NOW)
    with session_scope() as s:
        assert s.get(Message, later).sla_first_due_at == NOW + timedelta(minutes=30)


@pytest.mark.parametrize("lang,left,overdue", [
    ("en", "12 min left", "Overdue 5 min"),
    ("ar", "متبقٍ 12 دقيقة", "متأخر 5 دقائق"),
])
def test_time_left_texts_and_tones(lang, left, overdue):
    clock = targets.clock_for(NOW, "open", None, NOW + timedelta(minutes=15), NOW + timedelta(hours=2))
    assert targets.time_left(clock, NOW + timedelta(minutes=3, seconds=10), lang) == (left, "")
    assert targets.time_left(clock, NOW + timedelta(minutes=20, seconds=30), lang) == (overdue, "danger")
    # under 25 % of the 15 min left is a warning
    text, tone = targets.time_left(clock, NOW + timedelta(minutes=12), lang)
    assert tone == "warning"
    assert targets.time_left(targets.clock_for(NOW, "completed", None, NOW, NOW), NOW, lang) == ("", "")


@pytest.mark.services
def test_two_concurrent_runs_on_postgresql_escalate_once(actor_factory, pg_db):
    actor_factory("admin")
    ids = [_store(i, NOW - timedelta(minutes=20 + i), priority="urgent") for i in range(6)]
    out: list[list[int]] = []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        out.append(targets.escalate_breaches(NOW))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(r) for r in out) == 6
    alerts = _alerts()
    assert sorted(a.data["message_id"] for a in alerts) == sorted(ids)
    assert targets.escalate_breaches(NOW) == []


def test_the_inbox_overdue_filter_lists_open_messages_past_a_target(actor_factory):
    from govsocial_app.services.inbox import stream

    responder = actor_factory("responder")
    now = datetime.now(timezone.utc)
    late = _store(1, now - timedelta(minutes=30), priority="urgent")  # first response overdue
    answered_late_done = _store(2, now - timedelta(hours=3), priority="urgent")  # answered, completion overdue
    fine = _store(3, now - timedelta(minutes=5), priority="urgent")
    done = _store(4, now - timedelta(hours=3), priority="urgent")
    with session_scope() as s:
        s.get(Message, answered_late_done).first_response_at = now - timedelta(hours=2, minutes=55)
        s.get(Message, done).status = "completed"
    f = stream.filter_from_params({"target": "overdue"})
    assert f.to_params() == {"target": "overdue"}
    ids = [c.id for c in stream.list_page(f, responder.user_id).cards]
    assert sorted(ids) == sorted([late, answered_late_done])
    assert fine not in ids and done not in ids
    with pytest.raises(UserError, match="must be overdue"):
        stream.filter_from_params({"target": "soon"})
