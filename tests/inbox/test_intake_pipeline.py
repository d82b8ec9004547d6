"""The one intake pipeline (services/intake/pipeline.py): every source runs store → brand-keyword tags → listening →
alerts in one transaction and one order, and announces once after the commit."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, Message, MessageTag, SocialProfile, Tag
from govsocial_app.services import bus
from govsocial_app.services.intake import pipeline as intake, searches
from govsocial_app.services.listening import keywords, topics
from govsocial_app.services.events import AlertsChanged, InboxChanged
from tests.inbox.conftest import msg


def _tags(message_id: int) -> set[str]:
    with session_scope() as s:
        return set(s.exec(select(Tag.name).join(MessageTag, MessageTag.tag_id == Tag.id).where(MessageTag.message_id == message_id)).all())


def _published(monkeypatch) -> list:
    seen: list = []
    monkeypatch.setattr(bus, "publish", seen.append)
    return seen


async def test_a_brand_keyword_search_tags_with_every_keyword_and_announces_once(profile, actor_factory, monkeypatch):
    """Before, a keyword search tagged only its own keyword and never ran the others' matching (issue 15)."""
    manager = actor_factory("manager")
    bins = keywords.create("Bins", "bin OR bins OR recycling OR collection", ["simulator"], "normal", 60, manager)
    keywords.create("Everything", "the OR a OR on OR in", ["simulator"], "normal", 60, manager)
    with session_scope() as s:
        p = s.get(SocialProfile, profile)
        p.config = {**p.config, "rate_limit": 0}
    seen = _published(monkeypatch)
    found = await searches.run_keyword(bins)
    assert found
    both = [mid for mid in found if {"Bins", "Everything"} <= _tags(mid)]
    assert both, "a search's matches also get the other keywords' tags"
    inbox_events = [e for e in seen if isinstance(e, InboxChanged)]
    assert inbox_events and set(found) <= set().union(*(e.new_ids for e in inbox_events)), "every arrival was announced"


async def test_a_listening_failure_never_loses_the_messages(profile, monkeypatch):
    def broken(s, ids):
        s.execute(select(Message.id))  # some work inside the savepoint, then a bug
        raise RuntimeError("a bug in claim matching")

    monkeypatch.setattr(topics, "match_in_session", broken)
    seen = _published(monkeypatch)
    with session_scope() as s:
        result = intake.take_in(s, [msg(1, "Flooding on Main St"), msg(2, "Thanks for the sandbags")], intake.Source(profile))
    assert len(result.new_ids) == 2
    with session_scope() as s:
        stored = s.exec(select(Message).where(col(Message.id).in_(result.new_ids))).all()
        assert len(stored) == 2 and all(m.sentiment is None for m in stored)
    assert seen == [InboxChanged(new_ids=tuple(sorted(result.new_ids)))], "announced after the commit all the same"
    monkeypatch.undo()
    topics.catch_up()  # the safety net scores them later
    with session_scope() as s:
        assert all(m.sentiment is not None for m in s.exec(select(Message).where(col(Message.id).in_(result.new_ids))).all())


async def test_a_failure_part_way_stores_nothing_and_announces_nothing(profile, actor_factory, monkeypatch):
    keywords.create("Dam", "dam (failed OR burst)", ["simulator"], "crisis", 60, actor_factory("admin"))
    seen = _published(monkeypatch)
    monkeypatch.setattr(intake, "raise_keyword_alerts", lambda s, matches, now: (_ for _ in ()).throw(RuntimeError("down")))
    try:
        with session_scope() as s:
            intake.take_in(s, [msg(1, "The dam has burst!")], intake.Source(profile))
    except RuntimeError:
        pass
    with session_scope() as s:
        assert s.exec(select(Message)).all() == [] and s.exec(select(Alert)).all() == []
    assert seen == [], "a rolled-back page is never announced"


async def test_a_crisis_match_commits_its_alert_with_the_page_and_announces_both(profile, actor_factory, monkeypatch):
    keywords.create("Dam", "dam (failed OR burst)", ["simulator"], "crisis", 60, actor_factory("admin"))
    seen = _published(monkeypatch)
    with session_scope() as s:
        result = intake.take_in(s, [msg(1, "The dam has burst!"), msg(2, "Nice dam walk")], intake.Source(profile),
                                now=datetime.now(timezone.utc))
        assert seen == [], "nothing is announced before the commit"
    assert len(result.alert_ids) == 1 and _tags(result.new_ids[0]) == {"Dam"} and _tags(result.new_ids[1]) == set()
    assert seen == [InboxChanged(new_ids=tuple(sorted(result.new_ids))), AlertsChanged(raised=tuple(result.alert_ids))]


async def test_history_is_tagged_but_raises_no_alert(profile, actor_factory):
    keywords.create("Dam", "dam (failed OR burst)", ["simulator"], "crisis", 60, actor_factory("admin"))
    with session_scope() as s:
        result = intake.take_in(s, [msg(1, "The dam has burst!")], intake.Source(profile, backfill=True, alerts=False))
    assert result.alert_ids == [] and _tags(result.new_ids[0]) == {"Dam"}
    with session_scope() as s:
        assert s.exec(select(Alert)).all() == []
