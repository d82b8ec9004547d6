"""A breached response target on a phone, from the root address: a responder who leads the Roads team sees the
urgent message's "Overdue" label on its card; the escalation job, run twice (and the app's own scheduler beside
it), records exactly one escalation, and it reaches the lead's alert centre."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from connectors.base import Author, InboundMessage
from tests.browser.conftest import phone_context, sign_in
from tests.conftest import _SESSION_TMP, point_app_at

pytestmark = pytest.mark.browser


@pytest.fixture
def app_db(live_app, monkeypatch):
    """This process's engine on the live app's database, to do what the job does beside the running app."""
    monkeypatch.setenv("GOVSOCIAL_DATA_DIR", str(live_app.data_dir))
    point_app_at(f"sqlite:///{live_app.data_dir / 'govsocial.db'}")
    yield
    monkeypatch.delenv("GOVSOCIAL_DATA_DIR")
    point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")
    os.environ.pop("DATABASE_URL", None)


def _breached_message() -> int:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Message, SocialProfile, Team, User
    from govsocial_app.services.inbox import ingest, targets

    received = datetime.now(timezone.utc) - timedelta(minutes=40)
    m = InboundMessage(network="simulator", external_id=f"target-breach-{received.timestamp()}", kind="mention",
                       text="Burst water main flooding Harbour Road, cars stuck", created_at=received,
                       author=Author(external_id="flood1", handle="@harbourwatch", display_name="Harbour Watch"))
    with session_scope() as s:
        profile_id = s.exec(select(SocialProfile.id).order_by(SocialProfile.id)).first()
        riley = s.exec(select(User).where(User.email == "responder@demo.gov")).one()
        team = Team(name="Roads (browser test)", lead_user_id=riley.id)
        s.add(team)
        s.flush()
        mid = ingest.store(s, [m], profile_id=profile_id, now=received).new_ids[0]
        row = s.get(Message, mid)
        row.team_id = team.id
        targets.set_priority(s, row, "urgent")  # first response due 15 min after arrival: 25 min ago
        s.add(row)
    return mid


def test_a_breached_target_shows_overdue_and_escalates_once(browser, live_app, app_db):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Alert, AlertRecipient, AuditLog
    from govsocial_app.services.inbox import targets

    mid = _breached_message()
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live_app.url, "responder@demo.gov")  # from "/", lands in the inbox
    card = page.get_by_role("listitem").filter(has_text="Burst water main flooding Harbour Road")
    expect(card).to_contain_text("Overdue")
    expect(card).to_contain_text("Urgent")
    expect(card.locator(".gs-target-clock")).to_contain_text("min")
    # The "Overdue" filter (a shareable address, like a saved view) keeps it and drops what is on time.
    page.goto(live_app.url + "/inbox?target=overdue")
    expect(page.get_by_role("listitem").filter(has_text="Burst water main flooding Harbour Road")).to_contain_text("Overdue")

    # The job, twice, beside the app's own scheduler (which may already have escalated it): one escalation.
    targets.escalate_breaches()
    targets.escalate_breaches()
    with session_scope() as s:
        alerts = [a for a in s.exec(select(Alert).where(Alert.kind == "target_breach")).all() if a.data.get("message_id") == mid]
        assert len(alerts) == 1 and alerts[0].data["phase"] == "first"
        escalations = [r for r in s.exec(select(AuditLog).where(AuditLog.action == "message.escalate", AuditLog.object_id == str(mid))).all()]
        assert len(escalations) == 1 and escalations[0].detail["to"] == "lead"
        recipients = s.exec(select(AlertRecipient.user_id).where(AlertRecipient.alert_id == alerts[0].id)).all()
        assert len(recipients) == 1

    # The lead sees it in the alert centre.
    page.goto(live_app.url + "/alerts")
    page.wait_for_url("**/alerts**")
    expect(page.get_by_role("main").get_by_text("No first response within target: Harbour Watch").first).to_be_visible()
    ctx.close()
