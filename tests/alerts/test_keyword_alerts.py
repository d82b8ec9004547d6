"""Crisis-keyword alerts: at once on a match, then a cool-down per keyword."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, AuditLog, KeywordSearch
from govsocial_app.services.alerting import keyword_alerts
from govsocial_app.services.authz import PermissionDenied
from tests.alerts.helpers import add_messages

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def _keyword(priority: str = "crisis", cooldown: int = 30, name: str = "Flooding") -> int:
    with session_scope() as s:
        kw = KeywordSearch(name=name, query="flood OR فيضان", priority=priority, alert_cooldown_min=cooldown)
        s.add(kw)
        s.flush()
        return kw.id


def _matches(n: int = 3, at: datetime = NOW) -> list[int]:
    return add_messages(None, [at - timedelta(seconds=i * 20) for i in range(n)], "Flash flood on the ring road, cars stuck")


async def test_a_crisis_match_alerts_at_once_with_numbers_terms_and_link(db, actor_factory):
    actor_factory("responder")
    kw = _keyword()
    alert_id = await keyword_alerts.on_keyword_matches(kw, _matches(3), NOW)
    with session_scope() as s:
        alert = s.get(Alert, alert_id)
        stamped = s.get(KeywordSearch, kw).last_alert_at
    assert alert.kind == "keyword" and alert.severity == "critical" and alert.keyword_id == kw
    assert alert.title == "Crisis keyword “Flooding”: 3 new matches"
    assert alert.data["count"] == 3 and [t for t, _ in alert.data["terms"]][:2] == ["cars", "flash"]
    assert alert.link == "/inbox?kind=keyword&since=2026-11-24T09%3A59"
    assert stamped.replace(tzinfo=timezone.utc) == NOW


async def test_the_link_opens_the_inbox_on_the_keywords_tag_when_matches_are_tagged(db):
    from govsocial_app.services.inbox import stream
    from govsocial_app.services.authz import Actor

    kw = _keyword(name="Flooding")
    ids = _matches(2)
    tag_id = stream.add_tag(ids, "flooding", Actor.system("keywords"))
    alert_id = await keyword_alerts.on_keyword_matches(kw, ids, NOW)
    with session_scope() as s:
        alert = s.get(Alert, alert_id)
    assert alert.link == f"/inbox?tag={tag_id}&since=2026-11-24T09%3A59"
    assert alert.data["term_links"]["flash"] == f"/inbox?tag={tag_id}&since=2026-11-24T09%3A59&q=flash"


async def test_the_keyword_cools_down_then_alerts_again(db):
    kw = _keyword(cooldown=30)
    assert await keyword_alerts.on_keyword_matches(kw, _matches(1), NOW) is not None
    assert await keyword_alerts.on_keyword_matches(kw, _matches(1, NOW + timedelta(minutes=29)), NOW + timedelta(minutes=29)) is None
    assert await keyword_alerts.on_keyword_matches(kw, _matches(1, NOW + timedelta(minutes=30)), NOW + timedelta(minutes=30)) is not None


async def test_cool_downs_are_per_keyword(db):
    a, b = _keyword(name="Flooding"), _keyword(priority="priority", name="Dam rumours")
    assert await keyword_alerts.on_keyword_matches(a, _matches(1), NOW) is not None
    alert_id = await keyword_alerts.on_keyword_matches(b, _matches(1), NOW)
    with session_scope() as s:
        assert s.get(Alert, alert_id).severity == "warning"


async def test_normal_inactive_or_deleted_keywords_and_empty_matches_do_not_alert(db):
    assert await keyword_alerts.on_keyword_matches(_keyword(priority="normal"), _matches(1), NOW) is None
    inactive, deleted = _keyword(), _keyword()
    with session_scope() as s:
        s.get(KeywordSearch, inactive).is_active = False
        s.get(KeywordSearch, deleted).deleted_at = NOW
    assert await keyword_alerts.on_keyword_matches(inactive, _matches(1), NOW) is None
    assert await keyword_alerts.on_keyword_matches(deleted, _matches(1), NOW) is None
    assert await keyword_alerts.on_keyword_matches(_keyword(), [], NOW) is None
    assert await keyword_alerts.on_keyword_matches(9999, _matches(1), NOW) is None


async def test_two_searches_finishing_together_raise_one_alert(db):
    kw = _keyword()
    results = await asyncio.gather(*(keyword_alerts.on_keyword_matches(kw, _matches(1), NOW) for _ in range(4)))
    assert len([r for r in results if r is not None]) == 1


def test_cool_down_settings_are_listed_validated_and_audited(db, actor_factory):
    kw = _keyword(cooldown=30)
    _keyword(priority="normal", name="Brand")
    assert [(k.name, k.cooldown_min) for k in keyword_alerts.alerting_keywords()] == [("Flooding", 30)]
    with pytest.raises(PermissionDenied):
        keyword_alerts.set_cooldown(kw, 10, actor_factory("responder"))
    keyword_alerts.set_cooldown(kw, 10, actor_factory("manager"))
    assert keyword_alerts.alerting_keywords()[0].cooldown_min == 10
    with session_scope() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "alerts.keyword_cooldown")).one().detail == {"old": 30, "new": 10}
