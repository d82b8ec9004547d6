"""The HTTP routes: the iCal feed and the external approvers' page (no account, plain HTML form)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar
from starlette.applications import Starlette
from starlette.testclient import TestClient

from govsocial_app import api_publishing
from govsocial_app.services import approvals, audit, ical, publishing
from govsocial_app.services.approvals import StepSpec
from govsocial_app.services.publishing import ComposerInput
from tests.publishing.conftest import make_profile


def _client() -> TestClient:
    return TestClient(Starlette(routes=api_publishing.routes()))


def test_ical_route_serves_the_feed_and_404s_a_bad_token(db, tmp_path, actor_factory):
    author = actor_factory("publisher")
    publishing.save(author, ComposerInput(text="Gritters out", profile_ids=[make_profile(tmp_path)]), action="schedule",
                    when=datetime.now(timezone.utc) + timedelta(days=1))
    path = ical.rotate(author).split("127.0.0.1:3000", 1)[1]
    res = _client().get(path)
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/calendar")
    assert [str(e["summary"]) for e in Calendar.from_ical(res.content).walk("VEVENT")] == ["[Scheduled] Gritters out"]
    assert _client().get("/api/ical/" + "x" * 32 + ".ics").status_code == 404


def test_external_approver_page_and_decision(db, tmp_path, actor_factory):
    admin, author = actor_factory("admin"), actor_factory("publisher")
    pid = make_profile(tmp_path)
    approvals.require_for_profile(admin, pid, approvals.save_workflow(
        admin, "Mayor", [StepSpec("Mayor's office", "any", externals=(("Mayor's office", "mayor@city.gov"),))]))
    r = publishing.save(author, ComposerInput(text="Curfew lifted <b>tonight</b>", profile_ids=[pid]), action="now")
    [link] = approvals.external_links(author, r.post_id)
    path = "/approve/" + link.url.rsplit("/approve/", 1)[1]
    client = _client()
    page = client.get(path)
    assert page.status_code == 200 and "Curfew lifted &lt;b&gt;tonight&lt;/b&gt;" in page.text  # escaped, never rendered
    assert page.headers["referrer-policy"] == "no-referrer" and 'name="email"' in page.text
    assert 'dir="rtl"' in client.get(path + "?lang=ar").text
    wrong = client.post(path, data={"name": "Pat", "email": "pat@else.gov", "decision": "approved"})
    assert wrong.status_code == 422 and "Use the email address this link was sent to." in wrong.text
    ok = client.post(path, data={"name": "Pat Mayor", "email": "mayor@city.gov", "decision": "approved", "comment": "Go"})
    assert ok.status_code == 200 and "Your approval has been recorded" in ok.text
    assert publishing.post_view(r.post_id).status == "scheduled"
    assert audit.count(["approval.external_approved"]) == 1
    again = client.get(path)
    assert again.status_code == 410 and "no longer needs a decision" in again.text
    tampered = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 410 and "not valid" in tampered.text
