"""The newcomer's first minutes in a real browser: sign in, move around, language, sign out, and untrusted text."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, phone_context, sign_in

pytestmark = pytest.mark.browser
NAV = ("Inbox", "Publish", "Alerts", "Reports", "More")


def test_sign_in_on_a_phone_shows_the_inbox_without_sideways_scroll(phone_page, live_app):
    sign_in(phone_page, live_app.url, "responder@demo.gov")
    expect(phone_page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(phone_page.get_by_role("listitem").first).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for name in NAV:
        expect(phone_page.get_by_role("navigation", name="Main").get_by_role("link", name=name)).to_be_visible()


def test_navigation_reaches_every_section_and_says_what_is_not_built(desktop_page, live_app):
    sign_in(desktop_page, live_app.url, "manager@demo.gov")
    nav = desktop_page.get_by_role("navigation", name="Main").filter(visible=True)
    for name in NAV[1:]:
        nav.get_by_role("link", name=name).click()
        expect(desktop_page.get_by_role("heading", name=name, level=1)).to_be_visible()
    assert desktop_page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]


def test_session_survives_reload_and_new_tab_then_sign_out(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    sign_in(page, live_app.url, "viewer@demo.gov")
    page.reload()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    other = ctx.new_page()
    other.goto(live_app.url + "/more")
    expect(other.locator("#main").get_by_text("Vic Viewer")).to_be_visible()
    other.get_by_role("button", name="Sign out").click()
    other.wait_for_url("**/login**")
    other.goto(live_app.url + "/inbox")  # signed out, a deep link goes to sign-in and remembers where it was going
    other.wait_for_url("**/login?next=%2Finbox**")
    ctx.close()


def test_wrong_password_gets_a_clear_message(phone_page, live_app):
    phone_page.goto(live_app.url + "/")
    phone_page.wait_for_url("**/login**")
    phone_page.get_by_label("Email").fill("responder@demo.gov")
    phone_page.get_by_label("Password").fill("not the password")
    phone_page.get_by_role("button", name="Sign in").click()
    expect(phone_page.get_by_role("alert")).to_contain_text("do not match")


def test_login_page_lists_demo_accounts_in_demo_mode(phone_page, live_app):
    phone_page.goto(live_app.url + "/")
    phone_page.wait_for_url("**/login**")
    expect(phone_page.get_by_text("responder2@demo.gov")).to_be_visible()
    expect(phone_page.get_by_text("govsocial-demo")).to_be_visible()


def test_arabic_interface_is_right_to_left(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    sign_in(page, live_app.url, "responder2@demo.gov")
    page.goto(live_app.url + "/more")
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("[dir=rtl]").first).to_be_visible()
    expect(page.get_by_role("link", name="البريد الوارد")).to_be_visible()
    page.reload()
    expect(page.get_by_role("link", name="البريد الوارد")).to_be_visible()
    box = page.get_by_role("link", name="البريد الوارد").bounding_box()
    # In RTL the first navigation entry (Inbox) sits at the right-hand end of the bottom bar.
    assert box["x"] > PHONE["width"] / 2
    # Nothing sticks out sideways (the skip link, parked 9,999 px to the side, made the Arabic page 10,000 px wide).
    page.goto(live_app.url + "/inbox")
    expect(page.get_by_role("heading", name="البريد الوارد", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The language switch lives on More, and switching back brings English back everywhere.
    page.goto(live_app.url + "/more")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    ctx.close()


def test_markup_in_a_display_name_is_shown_as_text(browser, live_app):
    payload = '<img src=x onerror="window.__xss=1">Eve'
    db = sqlite3.connect(live_app.data_dir / "govsocial.db")
    db.execute("UPDATE user SET display_name = ? WHERE email = 'publisher@demo.gov'", (payload,))
    db.commit()
    db.close()
    ctx = phone_context(browser)
    page = ctx.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live_app.url, "publisher@demo.gov")
    page.goto(live_app.url + "/more")
    expect(page.locator("#main").get_by_text(payload)).to_be_visible()
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0
    assert dialogs == []
    ctx.close()
