"""Collision detection between two people in two browsers: viewing, replying, replied, and the held reply."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, phone_context, sign_in

pytestmark = pytest.mark.browser


def test_two_responders_see_each_other_and_the_second_reply_is_held(browser, live_app):
    ctx_a, ctx_b = phone_context(browser), phone_context(browser)
    a, b = ctx_a.new_page(), ctx_b.new_page()
    for page in (a, b):
        page.set_default_timeout(15_000)
    sign_in(a, live_app.url, "responder@demo.gov")  # Riley Responder
    sign_in(b, live_app.url, "responder2@demo.gov")  # Sam Responder

    # Riley opens a message that has not been answered; its card is the first open, unreplied one.
    a.goto(live_app.url + "/inbox?status=open&kind=mention")
    a.get_by_role("listitem").first.get_by_role("link").first.click()
    a.wait_for_url(re.compile(r"message=\d+"))
    message_id = re.search(r"message=(\d+)", a.url).group(1)
    expect(a.get_by_role("textbox", name="Reply")).to_be_visible()

    # Sam, on the list, sees Riley viewing that message.
    b.goto(live_app.url + "/inbox?status=open&kind=mention")
    expect(b.get_by_role("listitem").filter(has_text="Riley Responder is viewing")).to_have_count(1, timeout=30_000)  # list presence is paced per client (5 s); a loaded CI machine once took over 15 s

    # Sam opens it too, before Riley answers.
    b.goto(live_app.url + f"/inbox?message={message_id}")
    b_detail, a_detail = b.get_by_role("region", name="Message"), a.get_by_role("region", name="Message")
    expect(b_detail.get_by_text("Riley Responder is viewing")).to_be_visible()
    expect(a_detail.get_by_text("Sam Responder is viewing")).to_be_visible()

    # Riley types: Sam sees "is replying…".
    a.get_by_role("textbox", name="Reply").fill("Thanks for flagging this, a crew is on the way.")
    expect(b_detail.get_by_text("Riley Responder is replying…")).to_be_visible(timeout=15_000)

    # Riley sends: Sam sees "Replied by Riley Responder" without reloading.
    a.get_by_role("button", name="Send reply").click()
    expect(a_detail.get_by_text("Thanks for flagging this, a crew is on the way.").first).to_be_visible()
    # Through the server: the reply is sent, the bus announces it, the relay patches Sam's open message. On a busy
    # machine (CI with other suites running) that takes longer than expect()'s default 5 s; this waits, it times nothing.
    expect(b_detail.get_by_text(re.compile("Replied by Riley Responder")).first).to_be_visible(timeout=20_000)

    # Sam's own reply is held, with Riley's answer and the choice.
    b.get_by_role("textbox", name="Reply").fill("We are looking into it.")
    b.get_by_role("button", name="Send reply").click()
    alert = b.get_by_role("alert").filter(has_text="Your reply has not been sent")
    expect(alert).to_contain_text("Riley Responder")
    expect(alert).to_contain_text("a crew is on the way")
    expect(b.get_by_role("button", name="Send anyway")).to_be_visible()
    expect(b.get_by_role("button", name="Discard")).to_be_visible()
    b.get_by_role("button", name="Discard").click()
    expect(b.get_by_role("textbox", name="Reply")).to_have_value("")
    ctx_a.close()
    ctx_b.close()


def test_presence_disappears_when_the_viewer_leaves(browser, live_app):
    ctx_a, ctx_b = phone_context(browser), browser.new_context(viewport=DESKTOP)
    a, b = ctx_a.new_page(), ctx_b.new_page()
    sign_in(a, live_app.url, "manager@demo.gov")  # Morgan Manager
    sign_in(b, live_app.url, "responder2@demo.gov")
    a.goto(live_app.url + "/inbox")
    a.get_by_role("listitem").nth(3).get_by_role("link").first.click()
    a.wait_for_url(re.compile(r"message=\d+"))
    b.goto(live_app.url + "/inbox")
    expect(b.get_by_text("Morgan Manager is viewing")).to_have_count(1)
    ctx_a.close()  # the tab closes without saying goodbye: presence must expire by itself
    # Within the entry's TTL (20 s) after the last server-side beat, plus a prune pass and the list's 5 s pacing.
    expect(b.get_by_text("Morgan Manager is viewing")).to_have_count(0, timeout=45_000)
    ctx_b.close()


SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_presence_lasts_with_no_browser_heartbeat_and_a_hidden_page_leaves_at_once(browser, live_app):
    from govsocial_app.services.inbox import presence

    ctx_a, ctx_b = phone_context(browser), browser.new_context(viewport=DESKTOP)
    a, b = ctx_a.new_page(), ctx_b.new_page()
    sign_in(a, live_app.url, "manager@demo.gov")  # Morgan Manager, on a phone
    sign_in(b, live_app.url, "responder2@demo.gov")
    a.goto(live_app.url + "/inbox")
    a.get_by_role("listitem").nth(2).get_by_role("link").first.click()
    a.wait_for_url(re.compile(r"message=\d+"))
    message_id = re.search(r"message=(\d+)", a.url).group(1)
    b.goto(live_app.url + f"/inbox?message={message_id}")  # Sam opens the same message: collision detection
    viewing = b.get_by_role("region", name="Message").get_by_text("Morgan Manager is viewing")
    expect(viewing).to_have_count(1)
    # Well past the entry's TTL: the server keeps an open, visible page present; the browser sends nothing.
    b.wait_for_timeout((presence.TTL_S + 4) * 1000)
    expect(viewing).to_have_count(1)
    a.evaluate(SET_VISIBILITY, "hidden")  # the phone is locked
    expect(viewing).to_have_count(0, timeout=5_000)  # at once, not when an entry lapses
    a.evaluate(SET_VISIBILITY, "visible")
    expect(viewing).to_have_count(1, timeout=5_000)
    a.reload()  # the unloading page turns hidden too: that must not leave Morgan "away" on the reloaded one
    expect(a.get_by_role("textbox", name="Reply")).to_be_visible()
    expect(viewing).to_have_count(1, timeout=5_000)
    b.wait_for_timeout(3_000)
    expect(viewing).to_have_count(1)
    a.get_by_role("link", name="Alerts").click()  # leaving the inbox leaves the message at once too
    a.wait_for_url(re.compile(r"/alerts"))
    expect(viewing).to_have_count(0, timeout=5_000)
    ctx_a.close()
    ctx_b.close()
