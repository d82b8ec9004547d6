"""Signing in the way a person does: from the root address on a phone, and from a link a colleague sent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, sign_in

pytestmark = pytest.mark.browser


def _submit(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_from_the_root_on_a_phone_lands_in_the_inbox(phone_page, live_app):
    """Issue 14: from `/` the sign-in went back to `/`, which showed a spinner for good."""
    page = phone_page
    page.goto(live_app.url + "/")
    page.wait_for_url(re.compile(r"/login/?$"))  # the root needs no ?next=/
    _submit(page, "responder@demo.gov")
    page.wait_for_url(re.compile(r"/inbox/?$"))
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(page.get_by_role("list", name="Messages").get_by_role("listitem").first).to_be_visible()
    # The root address itself takes a signed-in person to the inbox, however they reach it.
    page.goto(live_app.url + "/")
    page.wait_for_url(re.compile(r"/inbox/?$"))
    page.goto(live_app.url + "/login?next=/")  # an old bookmark
    page.wait_for_url(re.compile(r"/inbox/?$"))


def test_a_link_to_reports_survives_sign_in(phone_page, live_app):
    sign_in(phone_page, live_app.url, "manager@demo.gov", start="/reports", lands=re.compile(r"/reports/?$"))
    expect(phone_page.get_by_role("heading", name="Reports", level=1)).to_be_visible()


def test_a_link_to_a_tag_in_the_inbox_survives_sign_in(phone_page, live_app):
    page = phone_page
    page.goto(live_app.url + "/inbox?tag=Roads&status=open")
    page.wait_for_url(re.compile(r"/login\?next="))
    _submit(page, "responder@demo.gov")
    page.wait_for_url(re.compile(r"/inbox/?\?tag=Roads&status=open$"))
    cards = page.get_by_role("list", name="Messages").get_by_role("listitem")
    expect(cards.first).to_be_visible()
    # No error said on the page. The live alert banner (an unacknowledged crisis or official alert that an earlier test
    # raised in the shared app, with its Acknowledge button) is an alert too, and a welcome one: it is not a refusal.
    refusals = page.get_by_role("alert").filter(has_text=re.compile(r"\w")).filter(has_not=page.get_by_role("button", name="Acknowledge"))
    assert refusals.count() == 0, "the link was refused"
    # Every message shown carries the Roads tag: the filter came through, not just the address.
    for i in range(min(cards.count(), 10)):
        expect(cards.nth(i).get_by_text("Roads", exact=True)).to_be_visible()
    page.locator("summary", has_text="Filters").click()
    expect(page.get_by_role("combobox", name="Tag")).to_have_text("Roads")


def test_a_link_to_a_page_the_role_may_not_open_says_so_instead_of_empty_forms(phone_page, live_app):
    """A manager follows a link to the Users admin page: after sign-in they land on it, and it says plainly that they
    have no access, with a way on; the page's forms (and any user's data) are not there."""
    page = phone_page
    sign_in(page, live_app.url, "manager@demo.gov", start="/admin/users", lands=re.compile(r"/admin/users/?$"))
    notice = page.locator("#gs-no-access")
    expect(notice).to_contain_text("You do not have access to this page.")
    expect(page.get_by_role("button", name="Add user")).to_have_count(0)
    expect(page.get_by_text("admin@demo.gov")).to_have_count(0)
    # One plain notice: the page's two on_load handlers refuse quietly, so no refusal toast stacks on top of it.
    # (Watched for 3 s: before the fix two toasts came about 0.5 s after the notice.)
    refusal_toasts = page.locator("[data-sonner-toast]").filter(has_text="may not do this")
    for _ in range(10):
        assert refusal_toasts.count() == 0, refusal_toasts.all_inner_texts()
        page.wait_for_timeout(300)
    notice.get_by_role("link", name="Go to the inbox").tap()
    page.wait_for_url(re.compile(r"/inbox/?$"))


def test_the_sign_in_form_submits_nothing_before_the_app_has_started(browser, live_app):
    """The page paints before its scripts load (govsocial_app/frontend_build.py), so a person can type into the form
    before the app has started. Until the server has answered, Sign in is disabled: a native submit would send the
    password in the address of a GET to this page. Held there by a WebSocket that never opens."""
    from tests.browser.conftest import phone_context
    from tests.browser.test_loading_frame import NEVER_OPENS

    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(NEVER_OPENS)
    page.goto(live_app.url + "/login")
    button = page.get_by_role("button", name="Sign in")
    expect(button).to_be_disabled()
    page.get_by_label("Email").fill("responder@demo.gov")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("Password").press("Enter")
    button.click(force=True)
    page.wait_for_timeout(500)
    assert "password" not in page.url and DEMO_PASSWORD not in page.url
    assert page.url.rstrip("/").endswith("/login")
    # With the app answering, the same form signs in.
    fresh = ctx.new_page()
    fresh.goto(live_app.url + "/login")
    expect(fresh.get_by_role("button", name="Sign in")).to_be_enabled()
    ctx.close()
