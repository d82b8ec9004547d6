"""Brand keywords: validation, continuous searches through the simulator, tagging, and alerts for crisis keywords."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, KeywordSearch, Message, SocialProfile
from govsocial_app.services.inbox import stream
from govsocial_app.services.intake import pipeline as intake
from govsocial_app.services.listening import keywords
from govsocial_app.services.intake import searches
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from tests.inbox.conftest import msg


@pytest.mark.parametrize(
    "query, networks, priority, message",
    [
        ('"flood', ["simulator"], "normal", "quote"),
        ("flood", [], "normal", "at least one network"),
        ("flood", ["facebook"], "normal", "no public search API"),
        ("flood", ["myspace"], "normal", "Unknown network"),
        ("flood", ["simulator"], "urgent", "Priority"),
    ],
)
def test_bad_keywords_get_clear_messages(db, actor_factory, query, networks, priority, message):
    with pytest.raises(UserError, match=message):
        keywords.create("Flood", query, networks, priority, 60, actor_factory("manager"))


def test_only_managers_and_admins_edit_keywords(db, actor_factory):
    for role in ("publisher", "responder", "viewer"):
        with pytest.raises(PermissionDenied):
            keywords.create("Flood", "flood", ["simulator"], "normal", 60, actor_factory(role))


async def test_search_runs_on_the_simulator_and_tags_matches(profile, actor_factory):
    kid = keywords.create("Bins", "bin OR bins OR recycling OR collection", ["simulator"], "normal", 60, actor_factory("manager"))
    with session_scope() as s:
        p = s.get(SocialProfile, profile)
        p.config = {**p.config, "rate_limit": 0}
    found = await searches.run_keyword(kid)
    assert found, "the simulated public stream talks about bins every day"
    with session_scope() as s:
        rows = s.exec(select(Message).where(Message.keyword_id == kid)).all()
        assert rows and all(r.direction == "in" for r in rows)
        assert all(any(w in r.search_text for w in ("bin", "recycl", "collection")) for r in rows)
    tag_id = next(int(c.value) for c in stream.choices()["tag"] if c.label == "Bins")
    tagged = stream.list_page(stream.InboxFilter(tag_id=tag_id), 0).cards
    assert {c.id for c in tagged} >= set(found[:50]) & {c.id for c in tagged}
    assert len(tagged) > 0
    # The cursor moves on: running again at once finds nothing new.
    assert await searches.run_keyword(kid) == []
    with session_scope() as s:
        kw = s.get(KeywordSearch, kid)
        assert kw.cursors and kw.last_error == ""


async def test_crisis_keyword_in_a_mention_raises_an_alert(profile, actor_factory):
    """A page that arrives with no cursor of its own (a webhook delivery) runs the same pipeline as a poll."""
    keywords.create("Dam", "dam (failed OR burst OR collapse)", ["simulator"], "crisis", 60, actor_factory("admin"))
    page = [msg(1, "I heard the dam has failed, is it true??"), msg(2, "Lovely day at the dam")]
    ids = (await intake.receive(page, intake.Source(profile), now=datetime.now(timezone.utc))).new_ids
    cards = {c.id: c for c in stream.list_page(stream.InboxFilter(), 0).cards}
    assert cards[ids[0]].tags == ("Dam",) and cards[ids[1]].tags == ()
    with session_scope() as s:
        alerts = s.exec(select(Alert).where(Alert.kind == "keyword")).all()
        assert len(alerts) == 1


async def test_missing_search_profile_is_reported_not_crashed(db, actor_factory):
    kid = keywords.create("Roads", "pothole", ["simulator"], "normal", 60, actor_factory("manager"))
    assert await searches.run_keyword(kid) == []
    assert "no connected simulator profile" in keywords.listing()[0].last_error


def test_due_keywords_respect_their_interval(db, actor_factory):
    kid = keywords.create("Roads", "pothole", ["simulator"], "normal", 120, actor_factory("manager"))
    now = datetime.now(timezone.utc)
    assert kid in searches.due_keyword_ids(now)
    with session_scope() as s:
        s.get(KeywordSearch, kid).last_run_at = now
    assert kid not in searches.due_keyword_ids(now + timedelta(seconds=60))
    assert kid in searches.due_keyword_ids(now + timedelta(seconds=121))


async def test_a_new_searchs_backlog_keeps_its_own_times(profile, actor_factory):
    kid = keywords.create("Bins", "bin OR bins OR recycling OR collection", ["simulator"], "normal", 60, actor_factory("manager"))
    with session_scope() as s:
        p = s.get(SocialProfile, profile)
        p.config = {**p.config, "rate_limit": 0}
    now = datetime.now(timezone.utc)
    found = await searches.run_keyword(kid, now=now)
    with session_scope() as s:
        rows = s.exec(select(Message).where(Message.keyword_id == kid)).all()
    received = [r.received_at if r.received_at.tzinfo else r.received_at.replace(tzinfo=timezone.utc) for r in rows]
    assert found and min(received) < now - timedelta(hours=1), "backlog must not all look like it arrived now"
