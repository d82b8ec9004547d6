"""Inbox rules (issue 17 item 3, services/intake/rules.py): run in the one intake pipeline, in order, with
stop-processing; every condition and action; the automatic-reply guards; faults never block ingest; the dry run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import col, select

from connectors.base import Author, InboundMessage
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import (
    Alert, AuditLog, AutoReply, Claim, ClaimMatch, InboxRule, Message, MessageTag, ModerationAction,
    SavedReply, Setting, Tag, Team, TeamMember,
)
from govsocial_app.services import settings_store
from govsocial_app.services.authz import Actor, PermissionDenied
from govsocial_app.services.inbox import ingest, stream, teams, vip
from govsocial_app.services.intake import pipeline as intake, rules
from govsocial_app.services.pause_flag import PAUSE_KEY
from govsocial_app.services.records import policy
from tests.inbox.conftest import T0, msg, profile, store  # noqa: F401 - fixtures

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _fresh_cache():
    rules._cache.clear()
    yield
    rules._cache.clear()


@pytest.fixture
def manager(actor_factory):
    return actor_factory("manager", "Max Manager")


def _rule(manager, name, conditions, actions, **kw) -> int:
    return rules.save(manager, rule_id=None, name=name, conditions=conditions, actions=actions, **kw)


def _take(profile, items, now=NOW, **source) -> list[int]:
    with session_scope() as s:
        return intake.take_in(s, items, intake.Source(profile, **source), now=now).new_ids


def _m(n, text, **kw) -> InboundMessage:
    kw.setdefault("when", NOW - timedelta(minutes=1))
    return msg(n, text, **kw)


def _tags(mid) -> set[str]:
    with session_scope() as s:
        return set(s.exec(select(Tag.name).join(MessageTag, MessageTag.tag_id == Tag.id).where(MessageTag.message_id == mid)).all())


def _message(mid) -> Message:
    with session_scope() as s:
        m = s.get(Message, mid)
        s.expunge(m)
        return m


@dataclass(frozen=True)
class _Applied:
    rule_id: int
    rule_name: str
    actions: list


def _applications(mid) -> list[_Applied]:
    """What rules did to the message, in order: its rule_log."""
    with session_scope() as s:
        log = s.get(Message, mid).rule_log or []
    return [_Applied(e["rule_id"], e["rule"], e["actions"]) for e in log]


# ---------------------------------------------------------------- order, stop-processing, record


def test_rules_run_in_position_order_and_stop_processing_stops_the_rest(profile, manager):
    first = _rule(manager, "Potholes", {"query": "pothole OR حفرة"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}])
    second = _rule(manager, "Urgent roads", {"query": "pothole"}, [{"type": "priority", "priority": "urgent"}])
    [mid, other, arabic] = _take(profile, [_m(1, "Huge pothole on Main St"), _m(2, "Thanks for the bins"),
                                           _m(3, "حفرة كبيرة في الشارع", lang="ar")])
    # Both ran, in order: the later one's priority wins.
    assert _message(mid).priority == "urgent" and _tags(mid) == {"Roads"}
    assert [a.rule_name for a in _applications(mid)] == ["Potholes", "Urgent roads"]
    assert _tags(arabic) == {"Roads"} and _message(arabic).priority == "high"
    assert _tags(other) == set() and _message(other).priority == "normal"
    # Move the urgent rule first and make it stop processing: the Potholes rule no longer runs after it.
    rules.move(second, -1, manager)
    with session_scope() as s:
        r = s.get(InboxRule, second)
        r_conditions, r_actions = r.conditions, r.actions
    rules.save(manager, rule_id=second, name="Urgent roads", conditions=r_conditions, actions=r_actions, stop_processing=True)
    [mid2] = _take(profile, [_m(4, "Another pothole")])
    assert _message(mid2).priority == "urgent" and _tags(mid2) == set()
    assert [a.rule_name for a in _applications(mid2)] == ["Urgent roads"]
    with session_scope() as s:
        assert s.get(InboxRule, first).match_count == 2 and s.get(InboxRule, second).match_count == 2


def test_each_application_is_recorded_audited_and_shown_on_the_card(profile, manager):
    _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}])
    [mid] = _take(profile, [_m(1, "pothole again")])
    with session_scope() as s:
        audit_rows = s.exec(select(AuditLog).where(AuditLog.action == "rule.apply")).all()  # one per rule per page
        assert len(audit_rows) == 1 and audit_rows[0].detail["rule"] == "Potholes"
        assert mid in audit_rows[0].detail["message_ids"]
        assert audit_rows[0].detail["done"] == [{"actions": [{"type": "tag", "tag": "Roads"}], "message_ids": [mid]}]
        created = s.exec(select(AuditLog).where(AuditLog.action == "rule.create")).all()
        assert created and created[0].actor_id == manager.user_id
        card = stream._cards(s, [s.get(Message, mid)])[0]
        from govsocial_app.services.records import chain

        assert chain.verify(s.connection(), "audit").ok, "rule audit rows, sealed together, keep the chain whole"
    assert card.rules_applied and card.rules_applied[0][0] == "Potholes"
    assert rules.describe(*card.rules_applied[0], lang="en") == "Rule “Potholes” tagged Roads"
    assert "Potholes" in rules.describe(*card.rules_applied[0], lang="ar") and "tagged" not in rules.describe(*card.rules_applied[0], lang="ar")


def test_a_pages_audit_row_groups_the_messages_by_what_the_rule_did(profile, manager):
    """One audit row per rule per page; its `done` groups hold each distinct result once, with every message it was
    done to (in id order), so 500 messages tagged alike are one group, and a message the rule did less to is apart."""
    _rule(manager, "Urgent first", {"query": "urgent"}, [{"type": "priority", "priority": "high"}])
    _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}])
    ids = _take(profile, [_m(1, "pothole on Main St"), _m(2, "urgent pothole by the school"), _m(3, "pothole on Elm St"),
                          _m(4, "the bins again")])
    with session_scope() as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "rule.apply", AuditLog.object_id == str(
            s.exec(select(InboxRule.id).where(InboxRule.name == "Potholes")).one()))).one()
    tag, high = {"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}
    assert row.detail["count"] == 3 and row.detail["message_ids"] == sorted(ids[:3])
    assert sorted(row.detail["done"], key=lambda g: len(g["actions"])) == [
        {"actions": [tag], "message_ids": [ids[1]]},  # already high from the first rule: tagged only
        {"actions": [tag, high], "message_ids": sorted([ids[0], ids[2]])}]
    assert [a.actions for a in _applications(ids[0])] == [[tag, high]]
    assert [a.actions for a in _applications(ids[1])] == [[high], [tag]]


def test_rules_announce_with_the_page(profile, manager, monkeypatch):
    from govsocial_app.services import bus
    from govsocial_app.services.events import InboxChanged

    seen: list = []
    monkeypatch.setattr(bus, "publish", seen.append)
    _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}])
    [mid] = _take(profile, [_m(1, "pothole")])
    assert [e for e in seen if isinstance(e, InboxChanged)] == [InboxChanged(new_ids=(mid,))]


# ---------------------------------------------------------------- conditions


def _matches(profile, manager, conditions, good: list[InboundMessage], bad: list[InboundMessage], now=NOW) -> None:
    _rule(manager, "Probe", conditions, [{"type": "tag", "tag": "Probe"}])
    ids = _take(profile, good + bad, now=now)
    got = [("Probe" in _tags(i)) for i in ids]
    assert got == [True] * len(good) + [False] * len(bad)


def test_condition_network_kind_and_language(profile, manager):
    _matches(profile, manager, {"networks": ["simulator"], "kinds": ["comment"], "langs": ["ar"]},
             [_m(1, "x", kind="comment", lang="ar"), _m(2, "y", kind="comment", lang="ar-EG")],
             [_m(3, "z", kind="mention", lang="ar"), _m(4, "w", kind="comment", lang="en"), _m(5, "v", network="x", kind="comment", lang="ar")])


def test_condition_profile(profile, manager):
    with session_scope() as s:
        from govsocial_app.db.models import SocialProfile

        other = SocialProfile(network="simulator", handle="@other", display_name="Other", config={})
        s.add(other)
        s.flush()
        other_id = other.id
    _rule(manager, "Probe", {"profile_ids": [profile]}, [{"type": "tag", "tag": "Probe"}])
    [a] = _take(profile, [_m(1, "hello")])
    [b] = _take(other_id, [_m(2, "hello")])
    assert "Probe" in _tags(a) and "Probe" not in _tags(b)


def test_condition_keyword_query_reads_text_language_and_author(profile, manager):
    _matches(profile, manager, {"query": '("burst pipe" OR flooding) -test lang:en OR @mayor'},
             [_m(1, "A burst pipe on Elm St"), _m(2, "flooding everywhere"), _m(3, "hello", handle="@Mayor")],
             [_m(4, "flooding test"), _m(5, "burst the pipe"), _m(6, "فيضان", lang="ar")])


def test_condition_vip_list(profile, manager):
    press = vip.create_list("Press", manager)
    vip.add_member(press, "simulator", "@reporter", "A Reporter", manager)
    _matches(profile, manager, {"vip_list_ids": [press]}, [_m(1, "a question", handle="@Reporter")], [_m(2, "a question")])


def test_condition_sentiment_set_by_listening_before_rules(profile, manager):
    _matches(profile, manager, {"sentiment_max": -0.3},
             [_m(1, "This is terrible, awful, the worst service ever. I hate it.")],
             [_m(2, "Thank you so much, wonderful and helpful team!"), _m(3, "The bins are collected on Tuesday")])


def test_condition_followers(profile, manager):
    def with_followers(n, followers):
        m = _m(n, "hi")
        return replace(m, author=Author(m.author.external_id, m.author.handle, m.author.display_name, followers=followers))

    _matches(profile, manager, {"followers_min": 1000, "followers_max": 50000},
             [with_followers(1, 1000), with_followers(2, 50000)], [with_followers(3, 999), with_followers(4, 50001)])


def test_condition_office_hours_in_the_agency_time_zone(profile, manager):
    settings_store.set_value(rules.TIMEZONE_SETTING, "Asia/Dubai", manager)
    _rule(manager, "After hours", {"days": [0, 1, 2, 3, 4], "time_from": "08:00", "time_to": "16:00", "outside": True},
          [{"type": "tag", "tag": "After hours"}])
    monday_9_dubai = datetime(2026, 11, 23, 5, 0, tzinfo=timezone.utc)  # Monday 09:00 in Dubai (UTC+4)
    monday_17_dubai = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)  # Monday 17:00 in Dubai, 13:00 UTC
    saturday = datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)
    [inside] = _take(profile, [msg(1, "a", when=monday_9_dubai)], now=monday_9_dubai)
    [after] = _take(profile, [msg(2, "b", when=monday_17_dubai)], now=monday_17_dubai)
    [weekend] = _take(profile, [msg(3, "c", when=saturday)], now=saturday)
    assert [("After hours" in _tags(i)) for i in (inside, after, weekend)] == [False, True, True]


def test_condition_matched_claim(profile, manager):
    with session_scope() as s:
        claim = Claim(text="The water is poisoned", correction="It is safe.")
        s.add(claim)
        s.flush()
        claim_id = claim.id
        ids = ingest.store(s, [_m(1, "is the water poisoned?"), _m(2, "water outage")], profile_id=profile, now=NOW).new_ids
        s.add(ClaimMatch(claim_id=claim_id, message_id=ids[0], score=0.9))
    _rule(manager, "Claims", {"claims": [claim_id]}, [{"type": "tag", "tag": "Misinformation"}])
    with session_scope() as s:
        rules.apply_rules(s, ids, NOW)
    assert "Misinformation" in _tags(ids[0]) and "Misinformation" not in _tags(ids[1])


# ---------------------------------------------------------------- actions


def test_assign_person_and_team_round_robin(profile, manager, actor_factory):
    ana, bo = actor_factory("responder", "Ana"), actor_factory("responder", "Bo")
    with session_scope() as s:
        team = Team(name="Roads", name_ar="الطرق")
        s.add(team)
        s.flush()
        team_id = team.id
        s.add_all([TeamMember(team_id=team_id, user_id=ana.user_id), TeamMember(team_id=team_id, user_id=bo.user_id)])
    online = {ana.user_id, bo.user_id}
    import govsocial_app.services.inbox.teams as teams_mod

    real = teams_mod.pick_round_robin
    teams_mod.pick_round_robin = lambda s, tid, now=None, online=None: real(s, tid, now=now, online={ana.user_id, bo.user_id})
    try:
        _rule(manager, "Roads", {"query": "pothole"}, [{"type": "assign", "team_id": team_id, "round_robin": True}])
        _rule(manager, "Mayor", {"query": "@mayor"}, [{"type": "assign", "user_id": manager.user_id}])
        ids = _take(profile, [_m(1, "pothole one"), _m(2, "pothole two"), _m(3, "pothole three"), _m(4, "hi", handle="@mayor")])
    finally:
        teams_mod.pick_round_robin = real
    ms = [_message(i) for i in ids]
    assert [m.team_id for m in ms[:3]] == [team_id] * 3
    assert [m.assignee_id for m in ms[:3]] == sorted(online) + [min(online)], "round-robin takes turns"
    assert ms[3].assignee_id == manager.user_id and ms[3].team_id is None
    text = rules.describe(_applications(ids[0])[0].rule_name, _applications(ids[0])[0].actions, "en")
    assert text == "Rule “Roads” assigned Ana (Roads team)"


def test_priority_sets_due_times_and_complete_closes_spam(profile, manager):
    _rule(manager, "Urgent", {"query": "emergency"}, [{"type": "priority", "priority": "urgent"}])
    _rule(manager, "Spam", {"query": '"free followers"'}, [{"type": "complete"}])
    [urgent, spam] = _take(profile, [_m(1, "emergency at the bridge"), _m(2, "Get free followers now")])
    u = _message(urgent)
    assert u.priority == "urgent" and u.sla_first_due_at == u.received_at + timedelta(minutes=15)
    s_ = _message(spam)
    assert s_.status == "completed" and s_.completed_at is not None


def test_moderate_queues_a_hide_citing_the_clause(profile, manager, actor_factory):
    policy.publish([policy.Clause("2.1", "Spam", "رسائل مزعجة")], actor_factory("records"), change_note="v1")
    _rule(manager, "Hide spam", {"query": "casino"}, [{"type": "moderate", "clause": "2.1"}])
    [comment, mention] = _take(profile, [_m(1, "best casino bonus", kind="comment"), _m(2, "casino", kind="mention")])
    with session_scope() as s:
        actions = s.exec(select(ModerationAction)).all()
        assert [(a.message_id, a.action, a.clause, a.status) for a in actions] == [(comment, "hide", "2.1", "pending")]
    assert _applications(mention) == [], "a mention cannot be hidden: nothing done, nothing recorded"


def test_alert_is_raised_once_per_page_and_cools_down(profile, manager):
    _rule(manager, "Bridge", {"query": "bridge"}, [{"type": "alert", "severity": "critical", "cooldown_min": 30}])
    with session_scope() as s:
        first = intake.take_in(s, [_m(1, "bridge closed"), _m(2, "bridge cracked")], intake.Source(profile), now=NOW)
    with session_scope() as s:
        second = intake.take_in(s, [_m(3, "bridge again")], intake.Source(profile), now=NOW + timedelta(minutes=5))
    with session_scope() as s:
        third = intake.take_in(s, [_m(4, "bridge later")], intake.Source(profile), now=NOW + timedelta(minutes=40))
    assert len(first.alert_ids) == 1 and second.alert_ids == [] and len(third.alert_ids) == 1
    with session_scope() as s:
        a = s.get(Alert, first.alert_ids[0])
        assert a.severity == "critical" and a.data["count"] == 2 and "Bridge" in a.title
    # History never alerts.
    with session_scope() as s:
        quiet = intake.take_in(s, [_m(5, "bridge history")], intake.Source(profile, backfill=True), now=NOW + timedelta(hours=3))
    assert quiet.alert_ids == []


# ---------------------------------------------------------------- automatic replies


@pytest.fixture
def saved(db) -> int:
    with session_scope() as s:
        r = SavedReply(name="Thanks", text_en="Thanks {author_name}, we are on it.", text_ar="شكراً {author_name}، نعمل على ذلك.")
        s.add(r)
        s.flush()
        return r.id


def _outbound(conversation_of: int) -> list[Message]:
    m = _message(conversation_of)
    with session_scope() as s:
        rows = s.exec(select(Message).where(Message.direction == "out", Message.in_reply_to_external_id == m.external_id)).all()
        for r in rows:
            s.expunge(r)
        return list(rows)


def test_auto_reply_is_off_by_default_and_admin_only_to_turn_on(profile, manager, saved, actor_factory):
    _rule(manager, "Ack", {"query": "pothole"}, [{"type": "auto_reply", "saved_reply_id": saved}])
    [mid] = _take(profile, [_m(1, "pothole", conversation="c1")])
    assert _outbound(mid) == []
    with pytest.raises(PermissionDenied):
        rules.set_auto_reply_enabled(True, manager)
    rules.set_auto_reply_enabled(True, actor_factory("admin"))
    [mid2] = _take(profile, [_m(2, "pothole", conversation="c2", name="Layla")])
    [out] = _outbound(mid2)
    assert out.status == "queued" and out.text == "Thanks Layla, we are on it." and out.sent_by_id is None
    assert _message(mid2).replied_by_id is None, "an automatic reply is not a person's answer"


def test_auto_reply_once_per_author_per_conversation_per_day_and_never_to_a_vip(profile, manager, saved, actor_factory):
    rules.set_auto_reply_enabled(True, actor_factory("admin"))
    press = vip.create_list("Press", manager)
    vip.add_member(press, "simulator", "@reporter", "Reporter", manager)
    _rule(manager, "Ack", {"query": "pothole"}, [{"type": "auto_reply", "saved_reply_id": saved}])
    a1, a2, other_conv, other_author, vip_msg = _take(profile, [
        _m(1, "pothole", handle="@sam", conversation="c1"), _m(2, "pothole still", handle="@sam", conversation="c1"),
        _m(3, "pothole", handle="@sam", conversation="c9"), _m(4, "pothole", handle="@lee", conversation="c1"),
        _m(5, "pothole", handle="@reporter", conversation="c5")])
    [next_day] = _take(profile, [_m(6, "pothole", handle="@sam", conversation="c1")], now=NOW + timedelta(days=1))
    assert [len(_outbound(i)) for i in (a1, a2, other_conv, other_author, vip_msg, next_day)] == [1, 0, 1, 1, 0, 1]
    with session_scope() as s:
        assert len(s.exec(select(AutoReply)).all()) == 4


def test_auto_reply_never_while_paused(profile, manager, saved, actor_factory):
    rules.set_auto_reply_enabled(True, actor_factory("admin"))
    _rule(manager, "Ack", {"query": "pothole"}, [{"type": "auto_reply", "saved_reply_id": saved}])
    with session_scope() as s:
        row = s.get(Setting, PAUSE_KEY)
        if row is None:
            s.add(Setting(key=PAUSE_KEY, value={"paused": True}))
        else:
            row.value = {"paused": True}
    [mid] = _take(profile, [_m(1, "pothole", conversation="c1")])
    assert _outbound(mid) == []
    with session_scope() as s:
        assert s.exec(select(AutoReply)).all() == []


async def test_auto_reply_is_sent_by_the_reply_job_once_even_when_the_job_runs_again(profile, manager, saved, actor_factory, monkeypatch):
    from govsocial_app.services.inbox import replies

    rules.set_auto_reply_enabled(True, actor_factory("admin"))
    _rule(manager, "Ack", {"query": "pothole"}, [{"type": "auto_reply", "saved_reply_id": saved}])
    [mid] = _take(profile, [_m(1, "pothole", conversation="c1")])
    sent: list = []

    async def fake_attempt(profile_row, network, post, *, since=None):
        sent.append(post.idempotency_key)
        return replies._Attempt(result=type("R", (), {"external_id": "net-1", "url": "https://x/1"})())

    monkeypatch.setattr(replies, "_attempt", fake_attempt)
    assert (await replies.process_pending())["sent"] == 1
    assert await replies.process_pending() == {}, "a second run of the job sends nothing again"
    [out] = _outbound(mid)
    assert out.status == "sent" and out.external_id == "net-1" and len(sent) == 1
    # Not a person's answer: the first-response clock keeps running, and the card does not say who replied.
    m = _message(mid)
    assert m.first_response_at is None and m.replied_by_id is None


# ---------------------------------------------------------------- faults and bad input


def test_a_rule_that_throws_is_skipped_counted_and_never_blocks_ingest(profile, manager, monkeypatch):
    broken = _rule(manager, "Broken", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}])
    _rule(manager, "Fine", {"query": "pothole"}, [{"type": "tag", "tag": "Seen"}])

    def boom(self, r, m, a):
        raise RuntimeError("the priority service is down")

    monkeypatch.setattr(rules._Run, "_priority", boom)
    ids = _take(profile, [_m(1, "pothole"), _m(2, "pothole two")])
    assert len(ids) == 2
    for mid in ids:
        assert _tags(mid) == {"Seen"}, "the broken rule's tag was rolled back; the next rule still ran"
        assert _message(mid).priority == "normal"
    with session_scope() as s:
        r = s.get(InboxRule, broken)
        assert r.error_count == 2 and "priority service is down" in r.last_error and r.last_error_at is not None
    assert [v.error_count for v in rules.list_rules(manager)] == [2, 0]


def test_a_rule_whose_query_does_not_parse_is_refused_with_the_position(manager):
    with pytest.raises(rules.RuleError) as err:
        _rule(manager, "Bad", {"query": 'pothole OR "unclosed'}, [{"type": "tag", "tag": "Roads"}])
    assert err.value.position == 11 and "position 12" in str(err.value)
    with pytest.raises(rules.RuleError) as err:
        _rule(manager, "Bad", {"query": "pothole )"}, [{"type": "tag", "tag": "Roads"}])
    assert err.value.position == 8
    with session_scope() as s:
        assert s.exec(select(InboxRule)).all() == []


@pytest.mark.parametrize("conditions,actions,expected", [
    ({}, [], "at least one action"),
    ({}, [{"type": "explode"}], "Unknown action"),
    ({"networks": ["myspace"]}, [{"type": "complete"}], "Unknown networks"),
    ({"sentiment_min": 0.5, "sentiment_max": -0.5}, [{"type": "complete"}], "lowest sentiment"),
    ({"time_from": "25:00"}, [{"type": "complete"}], "time like 09:00"),
    ({}, [{"type": "priority", "priority": "sometime"}], "Choose a priority"),
    ({}, [{"type": "assign"}], "person or a team"),
    ({}, [{"type": "auto_reply", "saved_reply_id": 999}], "saved reply"),
    ({}, [{"type": "auto_reply", "saved_reply_id": "abc"}], "saved reply"),
    ({}, [{"type": "assign", "user_id": "nobody"}], "cannot be assigned"),
    ({"followers_min": "lots"}, [{"type": "complete"}], "must be a number"),
])
def test_bad_rules_get_clear_messages(manager, conditions, actions, expected):
    with pytest.raises(rules.RuleError, match=expected):
        _rule(manager, "Bad", conditions, actions)


def test_roles_are_refused_on_the_server(actor_factory, manager):
    rid = _rule(manager, "Ok", {"query": "x"}, [{"type": "complete"}])
    for role in ("responder", "viewer", "publisher"):
        who = actor_factory(role)
        for call in (lambda: _rule(who, "No", {}, [{"type": "complete"}]), lambda: rules.move(rid, 1, who),
                     lambda: rules.set_enabled(rid, False, who), lambda: rules.delete(rid, who)):
            with pytest.raises(PermissionDenied):
                call()
        assert [v.name for v in rules.list_rules(who)] == ["Ok"], "anyone may read the rules"


def test_enable_disable_and_delete_are_audited_and_take_effect(profile, manager):
    rid = _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}])
    rules.set_enabled(rid, False, manager)
    [off] = _take(profile, [_m(1, "pothole")])
    rules.set_enabled(rid, True, manager)
    [on] = _take(profile, [_m(2, "pothole")])
    rules.delete(rid, manager)
    [gone] = _take(profile, [_m(3, "pothole")])
    assert [("Roads" in _tags(i)) for i in (off, on, gone)] == [False, True, False]
    with session_scope() as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.object_type == "inbox_rule").order_by(col(AuditLog.id))).all()]
    assert actions == ["rule.create", "rule.disable", "rule.enable", "rule.apply", "rule.delete"]  # applied while on


# ---------------------------------------------------------------- dry run


def test_dry_run_counts_the_last_seven_days_with_examples_and_changes_nothing(profile, manager, store):
    old = NOW - timedelta(days=8)
    with session_scope() as s:
        ingest.store(s, [msg(100 + i, f"pothole {i}", when=NOW - timedelta(hours=i + 1)) for i in range(7)]
                     + [msg(200, "no match", when=NOW - timedelta(hours=2))], profile_id=profile, now=NOW - timedelta(hours=1))
        ingest.store(s, [msg(300, "old pothole", when=old)], profile_id=profile, now=old)
        before = s.exec(select(AuditLog.id)).all()
    result = rules.dry_run({"query": "pothole"}, NOW, actor=manager)
    assert result.count == 7 and not result.capped and result.scanned == 8
    assert len(result.examples) == 5 and all("pothole" in e.text for e in result.examples)
    capped = rules.dry_run({"query": "pothole"}, NOW, actor=manager, scan_cap=3)
    assert capped.capped and capped.scanned == 3 and capped.count == 3
    with session_scope() as s:
        assert s.exec(select(AuditLog.id)).all() == before and s.exec(select(MessageTag)).all() == []
    with pytest.raises(rules.RuleError) as err:
        rules.dry_run({"query": "pothole OR"}, NOW, actor=manager)
    assert err.value.position is not None


def test_demo_rules_send_potholes_to_the_roads_team_when_there_is_one(db):
    with session_scope() as s:
        s.add(Team(name="Roads", name_ar="الطرق"))
        s.flush()
        rules.seed_rules(s)
        rules.seed_rules(s)  # a second seed adds nothing
        saved = s.exec(select(InboxRule).order_by(col(InboxRule.position))).all()
        assert [r.name for r in saved] == ["Potholes", "Spam"]
        assert {a["type"] for a in saved[0].actions} == {"tag", "assign"} and saved[1].stop_processing
        assert rules.parse_query(saved[0].conditions["query"]).matches("حفرة كبيرة", "ar")


def test_a_pages_rules_run_is_freed_at_once_without_waiting_for_the_collector(profile, manager, monkeypatch):
    """A run holds the page's rows, audit entries and tag pairs: a reference cycle through it kept all of that until
    the garbage collector's next pass, and those passes cost more than the rules (bench-ingest's rules_ratio)."""
    import gc
    import weakref

    _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}])
    runs = []
    finish = rules.Plan.finish

    def watched(self, new_ids):
        runs.append(weakref.ref(self.run))
        return finish(self, new_ids)

    monkeypatch.setattr(rules.Plan, "finish", watched)
    gc.disable()
    try:
        [mid] = _take(profile, [_m(1, "pothole on Main St")])
        assert runs and runs[0]() is None, "the run outlived its page"
    finally:
        gc.enable()
    assert _tags(mid) == {"Roads"}
