"""The Records page on a phone: a records officer places and releases a legal hold, records a public-records request
and downloads its ZIP, which verify-export accepts; the page reads right to left in Arabic."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, phone_context, sign_in

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def _records_officer(live_app) -> str:
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor
    from tests.conftest import point_app_at

    point_app_at(f"sqlite:///{live_app.data_dir / 'govsocial.db'}")
    email = f"records-{uuid.uuid4().hex[:6]}@demo.gov"
    auth.create_user(email, "Rita Records", PASSWORD, "records", Actor.system("browser test"))
    return email


def test_records_officer_works_the_records_page_on_a_phone(browser, live_app, tmp_path):
    from govsocial_app.services.records import export

    email = _records_officer(live_app)
    ctx = phone_context(browser, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live_app.url, email, PASSWORD)
    page.get_by_role("link", name="More", exact=True).click()
    page.get_by_role("link", name="Records").click()
    page.wait_for_url("**/more/records")
    expect(page.get_by_role("heading", name="Legal holds")).to_be_visible()

    page.get_by_label("Matter").fill("Smith v. City")
    page.get_by_label("Authors (comma-separated)").fill("troll")
    page.get_by_role("button", name="Place hold").click()
    expect(page.get_by_text("Hold placed.")).to_be_visible()
    expect(page.get_by_text("Smith v. City")).to_be_visible()
    page.get_by_label("Why it is released").fill("settled")
    page.get_by_role("button", name="Release hold").click()
    expect(page.get_by_text("Hold released.")).to_be_visible()

    page.get_by_label("Requester").fill("Jane Reporter")
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_text("Request recorded.")).to_be_visible()
    page.get_by_role("button", name="Export ZIP").click()
    expect(page.get_by_text("Export ready.")).to_be_visible(timeout=120_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download export").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".zip" and export.verify_export(saved) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto(live_app.url + "/more")
    page.get_by_role("button", name="العربية").click()
    page.goto(live_app.url + "/more/records")
    expect(page.get_by_role("heading", name="التحفظات القانونية")).to_be_visible()
    expect(page.locator("[dir=rtl]").first).to_be_visible()
    page.goto(live_app.url + "/more")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    ctx.close()


def test_a_responder_is_refused_the_records_page(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    sign_in(page, live_app.url, "responder2@demo.gov")
    page.goto(live_app.url + "/more")
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    expect(page.get_by_role("link", name="Records")).to_have_count(0)
    page.goto(live_app.url + "/more/records")
    expect(page.get_by_text("may not do this")).to_be_visible()
    expect(page.get_by_text("Smith v. City")).to_have_count(0)
    ctx.close()
