"""Inbox rules decided on the rows before their insert (services/intake/rules.Plan): the pipeline's result must be
exactly what running every rule after the insert gives, in the same order, while the quiet actions no longer UPDATE
the rows they just inserted. What needs the stored message (listening's sentiment and claims, alerts, round-robin)
still runs after the insert, from the rule that needed it on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import col, select

from connectors.base import Author
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, InboxRule, KeywordSearch, Message, MessageTag, Tag, Team
from govsocial_app.services.inbox import ingest, targets, vip
from govsocial_app.services.intake import pipeline as intake, rules
from tests.statements import sent_statements
from tests.automation.test_rules import NOW, _applications, _m, _message, _rule, _tags, _take


@pytest.fixture(params=["sqlite", "postgresql"])
def profile(request, tmp_path) -> int:
    """Every test here runs on SQLite and on PostgreSQL: their insert paths differ (Core executemany, one unnest)."""
    request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")
    from govsocial_app.db.models import SocialProfile
    from govsocial_app.services.crypto import encrypt_json

    with session_scope() as s:
        p = SocialProfile(network="simulator", handle="@cityofriverton", display_name="City of Riverton", external_id="riverton",
                          config={"handle": "@cityofriverton", "profile_key": "riverton-test", "state_path": str(tmp_path / "sim.db")},
                          secrets_enc=encrypt_json({"token": "x"}))
        s.add(p)
        s.flush()
        return p.id


@pytest.fixture
def manager(profile):
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    uid = auth.create_user("max@test.gov", "Max Manager", "correct horse battery", "manager", Actor.system("test"))
    return Actor(uid, "Max Manager <max@test.gov>", "manager", "127.0.0.1", "pytest")


@pytest.fixture(autouse=True)
def _fresh_cache():
    rules._cache.clear()
    yield
    rules._cache.clear()


def _outcome(mid: int) -> tuple:
    m = _message(mid)
    return (m.priority, m.assignee_id, m.team_id, m.status, m.completed_at is not None,
            m.sla_first_due_at - m.received_at, m.sla_done_due_at - m.received_at, frozenset(_tags(mid)),
            tuple((a.rule_name, tuple(tuple(sorted(d.items())) for d in a.actions)) for a in _applications(mid)))


def test_rules_decided_before_the_insert_give_what_rules_run_after_it_give(profile, manager):
    """One page through the pipeline (rules decided on the rows), the same texts stored plainly and then run through
    `apply_rules` after the insert: every message ends up the same, rule for rule."""
    with session_scope() as s:
        team = Team(name="Roads", name_ar="الطرق")
        s.add(team)
        s.flush()
        team_id = team.id
    press = vip.create_list("Press", manager)
    vip.add_member(press, "simulator", "@reporter", "A Reporter", manager)
    _rule(manager, "Potholes", {"query": "pothole OR حفرة"}, [{"type": "tag", "tag": "Roads"}, {"type": "assign", "team_id": team_id}])
    _rule(manager, "Angry", {"sentiment_max": -0.3}, [{"type": "tag", "tag": "Angry"}, {"type": "priority", "priority": "high"}])
    _rule(manager, "Press", {"vip_list_ids": [press]}, [{"type": "assign", "user_id": manager.user_id},
                                                        {"type": "priority", "priority": "urgent"}], stop_processing=True)
    _rule(manager, "Arabic", {"langs": ["ar"]}, [{"type": "tag", "tag": "Arabic"}])
    _rule(manager, "Spam", {"query": '"free followers"'}, [{"type": "complete"}])
    _rule(manager, "Big accounts", {"followers_min": 10000}, [{"type": "tag", "tag": "Big"}, {"type": "priority", "priority": "low"}])
    _rule(manager, "Roads again", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "urgent"}])

    def page(base: int):
        big = _m(base + 6, "pothole near the school")
        big = replace(big, author=Author(big.author.external_id, big.author.handle, big.author.display_name, followers=50000))
        return [
            _m(base + 1, "Huge pothole on Main St"),
            _m(base + 2, "This is terrible, awful, the worst service ever. I hate it. pothole"),
            _m(base + 3, "a question about the pothole", handle="@reporter"),
            _m(base + 4, "حفرة كبيرة في الشارع", lang="ar"),
            _m(base + 5, "Get free followers now"),
            big,
            _m(base + 7, "Thanks for collecting the bins"),
        ]

    decided = _take(profile, page(100))
    with session_scope() as s:
        after = ingest.store(s, page(200), profile_id=profile, now=NOW).new_ids
        intake._listen(s, after)
        rules.apply_rules(s, after, NOW)
    assert len(decided) == len(after) == 7
    got, expected = [_outcome(i) for i in decided], [_outcome(i) for i in after]
    assert got == expected
    # The page does what the rules say (so the comparison above compares something).
    assert got[0][2] == team_id and got[0][7] == {"Roads"} and got[0][0] == "urgent"
    assert [a[0] for a in got[1][8]] == ["Potholes", "Angry", "Roads again"] and got[1][7] == {"Roads", "Angry"}
    assert [a[0] for a in got[2][8]] == ["Potholes", "Press"] and got[2][1] == manager.user_id, "Press stops processing"
    assert got[4][3] == "completed" and got[5][0] == "urgent" and got[6][8] == ()


def test_quiet_rules_write_no_update_to_the_rows_they_just_inserted(profile, manager):
    _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"},
                                                      {"type": "assign", "user_id": manager.user_id}])
    _rule(manager, "Spam", {"query": "casino"}, [{"type": "complete"}])
    with sent_statements() as statements:
        ids = _take(profile, [_m(1, "pothole on Elm"), _m(2, "casino bonus"), _m(3, "bins")])
    updates = [s for s in statements if s.startswith("update message ")]
    assert [u for u in updates if any(f in u for f in ("priority", "assignee_id", "team_id", "status", "sla_"))] == [], \
        "what the rules decided went in with the insert"
    assert all("sentiment" in u for u in updates), "listening's sentiment is the only update"
    assert _message(ids[0]).priority == "high" and _message(ids[0]).assignee_id == manager.user_id
    assert _message(ids[1]).status == "completed" and _tags(ids[0]) == {"Roads"}
    with session_scope() as s:
        counts = dict(s.exec(select(InboxRule.name, InboxRule.match_count)).all())
    assert counts == {"Potholes": 1, "Spam": 1}


def test_a_tag_the_brand_keyword_already_gave_is_not_added_twice_or_claimed_by_the_rule(profile, manager):
    with session_scope() as s:
        s.add(KeywordSearch(name="Roads", query="pothole"))
    _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}])
    _rule(manager, "Potholes priority", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}])
    [mid] = _take(profile, [_m(1, "pothole on Elm")])
    with session_scope() as s:
        rows = s.exec(select(MessageTag).join(Tag, Tag.id == MessageTag.tag_id).where(MessageTag.message_id == mid, Tag.name == "Roads")).all()
    assert len(rows) == 1, "one Roads tag, from the brand keyword"
    # The first rule did nothing (no application); the second only set the priority.
    assert [(a.rule_name, a.actions) for a in _applications(mid)] == [("Potholes priority", [{"type": "priority", "priority": "high"}])]
    assert _message(mid).priority == "high"


def test_a_rule_needing_the_stored_message_takes_over_from_that_rule_in_order(profile, manager):
    """An alert rule in the middle: the first rule is decided before the insert; the alert rule and the ones after
    it run after the insert, still in order, and the stop option still stops. History gets no alert but the rules
    after the alert rule still apply (decided before the insert)."""
    _rule(manager, "First", {"query": "bridge"}, [{"type": "tag", "tag": "First"}])
    _rule(manager, "Alarm", {"query": "collapsed"}, [{"type": "alert", "severity": "critical"}, {"type": "tag", "tag": "Alarm"}])
    _rule(manager, "Then", {"query": "bridge"}, [{"type": "priority", "priority": "urgent"}], stop_processing=True)
    _rule(manager, "Never", {"query": "bridge"}, [{"type": "tag", "tag": "Never"}])
    [loud, quiet] = _take(profile, [_m(1, "the bridge collapsed"), _m(2, "bridge is fine")])
    assert [a.rule_name for a in _applications(loud)] == ["First", "Alarm", "Then"]
    assert [a.rule_name for a in _applications(quiet)] == ["First", "Then"]
    assert _tags(loud) == {"First", "Alarm"} and _message(loud).priority == "urgent" and _message(quiet).priority == "urgent"
    with session_scope() as s:
        assert len(s.exec(select(Alert)).all()) == 1
    [history] = _take(profile, [_m(3, "the bridge collapsed", when=NOW - timedelta(days=3))], backfill=True)
    assert [a.rule_name for a in _applications(history)] == ["First", "Alarm", "Then"]
    assert _tags(history) == {"First", "Alarm"} and _message(history).priority == "urgent"
    with session_scope() as s:
        assert len(s.exec(select(Alert)).all()) == 1, "history raises no alert"
        assert "Never" not in [e["rule"] for e in s.get(Message, history).rule_log]


def test_a_rule_that_throws_before_the_insert_leaves_the_row_as_it_was(profile, manager, monkeypatch):
    _rule(manager, "Broken", {"query": "pothole"}, [{"type": "priority", "priority": "urgent"}, {"type": "tag", "tag": "Roads"}])
    _rule(manager, "Fine", {"query": "pothole"}, [{"type": "tag", "tag": "Seen"}])

    def boom(self, r, m, a):
        raise RuntimeError("tags are down")

    real = rules._Run._tag

    def tag(self, r, m, a):
        return boom(self, r, m, a) if a["tag"] == "Roads" else real(self, r, m, a)

    monkeypatch.setattr(rules._Run, "_tag", tag)
    [mid] = _take(profile, [_m(1, "pothole")])
    m = _message(mid)
    with session_scope() as s:
        first, done = targets.targets(s)["normal"]
    assert m.priority == "normal", "the broken rule's priority was put back"
    assert (m.sla_first_due_at - m.received_at, m.sla_done_due_at - m.received_at) == (timedelta(minutes=first), timedelta(minutes=done))
    assert _tags(mid) == {"Seen"} and [a.rule_name for a in _applications(mid)] == ["Fine"]
    with session_scope() as s:
        assert s.exec(select(InboxRule.error_count).where(InboxRule.name == "Broken")).one() == 1
        assert s.exec(select(Message.priority).where(Message.id == mid)).one() == "normal"


def test_the_audit_row_of_a_rule_groups_its_messages_by_what_it_did_to_each(profile, manager):
    from govsocial_app.db.models import AuditLog

    _rule(manager, "Bridge first", {"query": "bridge"}, [{"type": "priority", "priority": "high"}])
    second = _rule(manager, "Roads", {"query": "pothole OR bridge"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}])
    [bridge, pothole, other] = _take(profile, [_m(1, "bridge pothole"), _m(2, "pothole"), _m(3, "another pothole")])
    with session_scope() as s:
        [row] = s.exec(select(AuditLog).where(AuditLog.action == "rule.apply", AuditLog.object_id == str(second))).all()
    assert row.detail["message_ids"] == sorted([bridge, pothole, other]) and row.detail["count"] == 3
    groups = {tuple(a["type"] for a in g["actions"]): g["message_ids"] for g in row.detail["done"]}
    assert groups == {("tag",): [bridge], ("tag", "priority"): [pothole, other]}


def test_a_message_the_same_page_edits_is_decided_on_the_text_it_is_stored_with(profile, manager):
    """A page can hold a message and then its edit (or deletion). The row goes in with its first text (the archive
    keeps it as version 1) and is edited right after; the rules decide on the edited text, as they did when they ran
    after the insert, and without writing to the row again."""
    from govsocial_app.db.models import MessageVersion

    _rule(manager, "Potholes", {"query": "pothole"}, [{"type": "tag", "tag": "Roads"}, {"type": "priority", "priority": "high"}])
    _rule(manager, "Bins", {"query": "bins"}, [{"type": "tag", "tag": "Bins"}])

    def page(base: int):
        return [
            _m(base + 1, "the bins were missed"), _m(base + 2, "a pothole on Elm"), _m(base + 3, "a pothole on Oak"),
            _m(base + 1, "sorry, a pothole on Main"),  # edited to match Potholes, no longer Bins
            _m(base + 2, "nothing to see here"),  # edited to match nothing
            replace(_m(base + 3, "a pothole on Oak"), deleted=True),  # deleted: same text, still Potholes
        ]

    with sent_statements() as statements:
        decided = _take(profile, page(100))
    with session_scope() as s:
        after = ingest.store(s, page(200), profile_id=profile, now=NOW).new_ids
        intake._listen(s, after)
        rules.apply_rules(s, after, NOW)
    got, expected = [_outcome(i) for i in decided], [_outcome(i) for i in after]
    assert got == expected
    assert got[0][7] == {"Roads"} and got[0][0] == "high", "decided on the edited text"
    assert got[1][7] == frozenset() and got[1][0] == "normal" and got[1][8] == ()
    assert got[2][7] == {"Roads"} and _message(decided[2]).network_deleted_at is not None
    with session_scope() as s:
        first = s.exec(select(MessageVersion.text).where(MessageVersion.message_id == decided[0], MessageVersion.version == 1)).one()
        assert first == "the bins were missed" and _message(decided[0]).text == "sorry, a pothole on Main"
    rule_updates = [u for u in statements if u.startswith("update message ")
                    and any(f in u for f in ("priority", "assignee_id", "rule_log", "status"))]
    assert rule_updates == [], "what the rules decided went in with the insert"
