"""Polling (issues 13 and 14): edits and deletions reach open screens even when nothing is new, and a crisis
keyword alert commits with the messages that raised it, so a failure after storing cannot lose it."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import func, select

from connectors.base import Page
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, AlertDelivery, Message, MessageVersion, SocialProfile
from govsocial_app.services import bus, profiles
from govsocial_app.services.alerting import keyword_alerts
from govsocial_app.services.intake import polling
from govsocial_app.services.listening import keywords
from govsocial_app.services.events import InboxChanged
from tests.inbox.conftest import msg


class Scripted:
    """A connector whose mentions are a script of pages; a page is served again until its cursor is saved."""

    network = "simulator"

    def __init__(self, pages: dict[str, Page]):
        self.pages = pages
        self.asked: list[str] = []

    async def fetch_mentions(self, cursor: str = "") -> Page:
        self.asked.append(cursor)
        return self.pages.get(cursor, Page(items=[], cursor=cursor))

    async def aclose(self) -> None:
        pass


def _script(monkeypatch, pages: dict[str, Page]) -> Scripted:
    fake = Scripted(pages)
    monkeypatch.setattr(profiles, "connector_for", lambda profile, **kw: fake)
    return fake


def _published(monkeypatch) -> list:
    seen: list = []
    real = bus.publish
    monkeypatch.setattr(bus, "publish", lambda event: (seen.append(event), real(event))[1])
    return seen


async def test_a_poll_with_only_edits_and_deletions_announces_the_changed_ids(profile, monkeypatch):
    original, other = msg(1, "Bins not collected on Elm St"), msg(2, "Streetlight out on 5th")
    fake = _script(monkeypatch, {"": Page(items=[original, other], cursor="c1")})
    assert (await polling.poll_profile(profile)).new == 2
    from dataclasses import replace

    edited, deleted = replace(original, text="Bins not collected on Elm St since Monday"), replace(other, deleted=True)
    fake.pages["c1"] = Page(items=[edited, deleted], cursor="c2")
    seen = _published(monkeypatch)
    outcome = await polling.poll_profile(profile)
    assert outcome.new == 0 and outcome.versioned == 2
    with session_scope() as s:
        ids = {m.external_id: m.id for m in s.exec(select(Message)).all()}
        changes = sorted(v.change for v in s.exec(select(MessageVersion)).all() if v.change != "created")
    assert changes == ["deleted", "edited"]
    inbox = [e for e in seen if isinstance(e, InboxChanged)]
    assert inbox == [InboxChanged(changed_ids=tuple(sorted([ids[original.external_id], ids[other.external_id]])))]


async def test_a_crisis_alert_is_not_lost_when_matching_fails_after_storing(profile, actor_factory, monkeypatch):
    keywords.create("Dam", "dam (failed OR burst)", ["simulator"], "crisis", 60, actor_factory("admin"))
    fake = _script(monkeypatch, {"": Page(items=[msg(1, "The dam has burst near the mill!")], cursor="c1")})
    real = keyword_alerts.record_matches_in
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database hiccup while matching")
        return real(*args, **kwargs)

    monkeypatch.setattr(keyword_alerts, "record_matches_in", flaky)
    first = await polling.poll_profile(profile)
    assert first.error
    with session_scope() as s:
        # Nothing half-done: the page, its tags and the cursor rolled back together, so the page comes again.
        assert s.exec(select(func.count()).select_from(Message)).one() == 0
        assert s.get(SocialProfile, profile).cursor in ("", None)
    second = await polling.poll_profile(profile, now=datetime.now(timezone.utc))
    assert second.error == "" and second.new == 1
    assert fake.asked[:2] == ["", ""]
    with session_scope() as s:
        alerts = s.exec(select(Alert).where(Alert.kind == "keyword")).all()
        assert len(alerts) == 1


async def test_a_crisis_alert_survives_a_delivery_failure_after_the_commit(profile, actor_factory, monkeypatch):
    from govsocial_app.services.alerting import alerts as alerting

    actor_factory("admin")
    keywords.create("Dam", "dam (failed OR burst)", ["simulator"], "crisis", 60, actor_factory("admin"))
    _script(monkeypatch, {"": Page(items=[msg(1, "The dam has failed!")], cursor="c1")})

    async def down(*args, **kwargs):
        raise RuntimeError("push service down")

    monkeypatch.setattr(alerting, "deliver", down)
    outcome = await polling.poll_profile(profile)
    assert outcome.new == 1
    with session_scope() as s:
        [alert] = s.exec(select(Alert).where(Alert.kind == "keyword")).all()
        # Its deliveries wait for the alert job's retry instead of vanishing.
        assert s.exec(select(func.count()).select_from(AlertDelivery).where(AlertDelivery.alert_id == alert.id)).one() >= 1


class Rechecking(Scripted):
    """Like Mastodon: mentions never report edits or deletions, but the current state can be asked for."""

    def __init__(self, pages, current):
        super().__init__(pages)
        self.current = current
        self.rechecked: list[list[str]] = []

    async def recheck(self, external_ids):
        self.rechecked.append(list(external_ids))
        return [self.current[e] for e in external_ids if e in self.current]


async def test_networks_that_do_not_notify_edits_get_recent_messages_rechecked(profile, monkeypatch):
    from dataclasses import replace

    first, second = msg(1, "Pothole on Main St"), msg(2, "Thanks for fixing the light")
    current = {first.external_id: replace(first, text="Pothole on Main St, big one"), second.external_id: replace(second, deleted=True)}
    fake = Rechecking({"": Page(items=[first, second], cursor="c1")}, current)
    monkeypatch.setattr(profiles, "connector_for", lambda profile, **kw: fake)
    await polling.poll_profile(profile)
    assert fake.rechecked == []  # just arrived: nothing to re-check yet
    seen = _published(monkeypatch)
    outcome = await polling.poll_profile(profile)
    assert outcome.new == 0 and sorted(fake.rechecked[0]) == sorted(current)
    with session_scope() as s:
        rows = {m.external_id: m for m in s.exec(select(Message)).all()}
        assert rows[first.external_id].text == "Pothole on Main St, big one"
        assert rows[second.external_id].network_deleted_at is not None
    assert [e for e in seen if isinstance(e, InboxChanged)] == [InboxChanged(changed_ids=tuple(sorted(m.id for m in rows.values())))]


async def test_rechecking_is_skipped_when_the_rate_budget_is_low(profile, monkeypatch):
    from connectors.base import RateLimit

    fake = Rechecking({"": Page(items=[msg(1)], cursor="c1")}, {})
    monkeypatch.setattr(profiles, "connector_for", lambda profile, **kw: fake)
    await polling.poll_profile(profile)
    fake.pages["c1"] = Page(items=[], cursor="c1", rate_limit=RateLimit(limit=300, remaining=20))
    await polling.poll_profile(profile)
    assert fake.rechecked == []
