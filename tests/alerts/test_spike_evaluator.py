"""The spike evaluator against a real database: counting, baselines, rules, cool-down and the alert it raises."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, AlertDelivery, AuditLog, SpikeRule
from govsocial_app.services.alerting import spikes
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from tests.alerts.helpers import add_messages, make_profile, spread

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 15, 5, tzinfo=UTC)


def _hourly(profile_id, start, end, per_hour, text="ordinary day"):
    t = start
    while t < end:
        add_messages(profile_id, spread(t, t + timedelta(hours=1), per_hour), text)
        t += timedelta(hours=1)


def test_short_history_baseline_is_the_trailing_24_hour_average(db):
    pid = make_profile()
    _hourly(pid, NOW - timedelta(days=2), NOW - spikes.WINDOW, 5)
    with session_scope() as s:
        m = spikes.measure(s, pid, NOW, UTC)
    assert m.method == spikes.TRAILING_24H
    assert m.baseline == pytest.approx(5.0)
    assert m.count == 0


def test_full_history_baseline_reads_the_same_hour_of_the_last_seven_days(db):
    pid = make_profile()
    _hourly(pid, NOW - timedelta(days=8), NOW - spikes.WINDOW, 2)
    # A busy hour every day at this time: 14:05-15:05 gets 30 more each day, 8 days back (one too many).
    for d in range(1, 9):
        end = NOW - timedelta(days=d)
        add_messages(pid, spread(end - spikes.WINDOW, end, 30))
    with session_scope() as s:
        m = spikes.measure(s, pid, NOW, UTC)
    assert m.method == spikes.HOUR_OF_DAY
    assert m.baseline == pytest.approx(32.0)  # 2 + 30, the eighth day ignored


def test_window_edges_count_end_but_not_start(db):
    pid = make_profile()
    add_messages(pid, [NOW - spikes.WINDOW, NOW - spikes.WINDOW + timedelta(seconds=1), NOW, NOW + timedelta(seconds=1)])
    with session_scope() as s:
        assert spikes.measure(s, pid, NOW, UTC).count == 2


def test_outgoing_and_other_profiles_are_not_counted_but_the_total_counts_all(db):
    a, b = make_profile("@a"), make_profile("@b")
    add_messages(a, spread(NOW - timedelta(minutes=30), NOW, 10))
    add_messages(b, spread(NOW - timedelta(minutes=30), NOW, 7))
    add_messages(a, spread(NOW - timedelta(minutes=30), NOW, 5), direction="out")
    with session_scope() as s:
        assert spikes.measure(s, a, NOW, UTC).count == 10
        assert spikes.measure(s, None, NOW, UTC).count == 17


def test_profile_time_zone_moves_the_baseline_hour_across_dst(db):
    ny = ZoneInfo("America/New_York")
    pid = make_profile(tz="America/New_York")
    now = datetime(2026, 11, 3, 9, 30, tzinfo=ny).astimezone(UTC)
    # 3 messages in every 09:00-09:30 local (so inside 08:30-09:30 local) for 8 days, DST change included.
    for d in range(1, 9):
        local = datetime(2026, 11, 3, 9, 0, tzinfo=ny) - timedelta(days=d)
        local = datetime.combine(local.date(), local.time(), tzinfo=ny)
        add_messages(pid, spread(local.astimezone(UTC), local.astimezone(UTC) + timedelta(minutes=30), 3))
    with session_scope() as s:
        local_m = spikes.measure(s, pid, now, ny)
        utc_m = spikes.measure(s, pid, now, UTC)
    assert local_m.method == spikes.HOUR_OF_DAY
    assert local_m.baseline == pytest.approx(3.0)
    assert utc_m.baseline < 3.0  # 24 h steps miss the pre-change days' local hour


def test_rules_exist_for_the_total_and_each_profile_with_profiles_off_by_default(db):
    pid = make_profile()
    views = spikes.rules(NOW)
    assert [(v.profile_id, v.enabled) for v in views] == [(None, True), (pid, False)]
    assert views[0].label == spikes.TOTAL_STREAM


def test_evaluate_raises_one_alert_with_numbers_terms_and_link(db, actor_factory):
    admin = actor_factory("admin")
    pid = make_profile()
    _hourly(pid, NOW - timedelta(days=2), NOW - spikes.WINDOW, 3)
    add_messages(pid, spread(NOW - timedelta(minutes=40), NOW, 45), "Flooding on Mill Road near the school")
    ids = spikes.evaluate(NOW)
    assert len(ids) == 1
    with session_scope() as s:
        alert = s.get(Alert, ids[0])
        rule = s.exec(select(SpikeRule).where(SpikeRule.profile_id.is_(None))).one()
        deliveries = s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id)).all()
        raised = s.exec(select(AuditLog).where(AuditLog.action == "alert.raise")).all()
    assert alert.kind == "spike"
    assert alert.title == "Spike on all profiles: 45 messages in the last hour"
    assert alert.data["count"] == 45 and alert.data["baseline"] == pytest.approx(3.0) and alert.data["threshold"] == 20
    assert alert.data["terms"] == [["flooding", 45], ["mill", 45], ["near", 45], ["road", 45], ["school", 45]]
    assert alert.link == "/inbox?since=2026-11-24T14%3A05"
    assert alert.data["term_links"]["flooding"] == "/inbox?since=2026-11-24T14%3A05&q=flooding"
    assert rule.last_alert_count == 45 and rule.surge_active
    assert len(raised) == 1
    # The admin is in the default audience; no device and no SMTP: in-app sent, email visibly skipped.
    assert sorted((d.channel, d.status) for d in deliveries) == [("email", "skipped"), ("inapp", "sent")]
    assert admin.user_id  # created before the alert, so it was in the audience
    # One minute later, the same surge: cooling down.
    assert spikes.evaluate(NOW + timedelta(minutes=1)) == []


def test_evaluate_alerts_again_after_cool_down_only_when_the_surge_doubled(db):
    pid = make_profile()
    _hourly(pid, NOW - timedelta(days=2), NOW - spikes.WINDOW, 3)
    add_messages(pid, spread(NOW - timedelta(minutes=40), NOW, 45))
    assert len(spikes.evaluate(NOW)) == 1
    later = NOW + timedelta(minutes=61)
    add_messages(pid, spread(later - timedelta(minutes=50), later, 60))  # 60 in the window: above threshold, not doubled
    assert spikes.evaluate(later) == []
    add_messages(pid, spread(later, later + timedelta(minutes=1), 40))  # 100 >= 2 x 45
    ids = spikes.evaluate(later + timedelta(minutes=1))
    assert len(ids) == 1
    with session_scope() as s:
        alert = s.get(Alert, ids[0])
    assert alert.data["reason"] == "doubled" and alert.severity == "critical"


def test_a_disabled_rule_never_alerts_and_an_enabled_profile_rule_does(db, actor_factory):
    admin = actor_factory("admin")
    pid = make_profile()
    views = spikes.rules(NOW)
    total, profile = views[0], views[1]
    spikes.update_rule(total.rule_id, admin, enabled=False, sensitivity=2, min_count=20, cooldown_min=60, audience_roles=["admin"])
    spikes.update_rule(profile.rule_id, admin, enabled=True, sensitivity=3, min_count=10, cooldown_min=30, audience_roles=["manager"])
    add_messages(pid, spread(NOW - timedelta(minutes=40), NOW, 12))
    ids = spikes.evaluate(NOW)
    with session_scope() as s:
        alert = s.get(Alert, ids[0])
        audits = s.exec(select(AuditLog).where(AuditLog.action == "alerts.rule_update")).all()
    assert len(ids) == 1 and alert.profile_id == pid
    assert alert.link == f"/inbox?profile={pid}&since=2026-11-24T14%3A05"
    assert len(audits) == 2 and audits[1].detail["sensitivity"] == 3


def test_rule_settings_are_validated_and_need_permission(db, actor_factory):
    make_profile()
    rule_id = spikes.rules(NOW)[0].rule_id
    with pytest.raises(PermissionDenied):
        spikes.update_rule(rule_id, actor_factory("responder"), enabled=True, sensitivity=2, min_count=20, cooldown_min=60, audience_roles=["admin"])
    admin = actor_factory("admin")
    for bad in ({"sensitivity": 1.0}, {"min_count": 0}, {"cooldown_min": 1}, {"audience_roles": ["pilot"]}, {"audience_roles": []}):
        kwargs = {"enabled": True, "sensitivity": 2, "min_count": 20, "cooldown_min": 60, "audience_roles": ["admin"], **bad}
        with pytest.raises(UserError):
            spikes.update_rule(rule_id, admin, **kwargs)


@pytest.mark.services
def test_the_evaluator_and_the_keyword_cool_down_work_on_postgresql(pg_db):
    from govsocial_app.db.models import KeywordSearch
    from govsocial_app.services.alerting import keyword_alerts

    pid = make_profile(tz="Europe/London")
    _hourly(pid, NOW - timedelta(days=8), NOW - spikes.WINDOW, 2)
    add_messages(pid, spread(NOW - timedelta(minutes=30), NOW, 25), "Bridge closed on the ring road")
    with session_scope() as s:
        m = spikes.measure(s, pid, NOW, ZoneInfo("Europe/London"))
        kw = KeywordSearch(name="Bridge", query="bridge", priority="crisis", alert_cooldown_min=30)
        s.add(kw)
        s.flush()
        kw_id = kw.id
    assert m.method == spikes.HOUR_OF_DAY and m.baseline == pytest.approx(2.0) and m.count == 25
    assert len(spikes.evaluate(NOW)) == 1
    assert spikes.evaluate(NOW + timedelta(minutes=1)) == []
    ids = add_messages(None, [NOW], "bridge")
    assert keyword_alerts.record_matches(kw_id, ids, NOW) is not None
    assert keyword_alerts.record_matches(kw_id, ids, NOW + timedelta(minutes=5)) is None
