"""The HTTP routes: the iCal feed (the external approvers' pages: test_external_approval.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar
from starlette.applications import Starlette
from starlette.testclient import TestClient

from govsocial_app import api_publishing
from govsocial_app.services.publishing import composer, ical
from govsocial_app.services.publishing.composer import ComposerInput
from tests.publishing.conftest import make_profile


def _client() -> TestClient:
    return TestClient(Starlette(routes=api_publishing.routes()))


def test_ical_route_serves_the_feed_and_404s_a_bad_token(db, tmp_path, actor_factory):
    author = actor_factory("publisher")
    composer.save(author, ComposerInput(text="Gritters out", profile_ids=[make_profile(tmp_path)]), action="schedule",
                    when=datetime.now(timezone.utc) + timedelta(days=1))
    path = ical.rotate(author).split("127.0.0.1:3000", 1)[1]
    res = _client().get(path)
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/calendar")
    assert [str(e["summary"]) for e in Calendar.from_ical(res.content).walk("VEVENT")] == ["[Scheduled] Gritters out"]
    assert _client().get("/api/ical/" + "x" * 32 + ".ics").status_code == 404
