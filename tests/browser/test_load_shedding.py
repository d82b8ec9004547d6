"""Load shedding on a phone (issue 20 item 4): while the web worker's event loop is saturated, a person who opens
the app is told "Busy — reconnecting in a moment" and let in once the worker recovers; a person already connected
loses nothing: what they asked for during the surge is done, and the inbox still updates."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import phone_context, sign_in

pytestmark = pytest.mark.browser


def test_a_saturated_worker_delays_new_connections_with_the_busy_message_and_loses_no_event(browser, live_app):
    ctx_a, ctx_b = phone_context(browser), phone_context(browser)
    a, b = ctx_a.new_page(), ctx_b.new_page()
    try:
        a.set_default_timeout(15_000)
        b.set_default_timeout(15_000)
        sign_in(a, live_app.url, "responder@demo.gov")
        expect(a.get_by_role("list", name="Messages").get_by_role("listitem").first).to_be_visible()

        # Saturated until the test says stop (at most a minute): pages still load, slowly, in the loop's gaps.
        assert httpx.post(live_app.url + "/api/test/saturate?seconds=60", timeout=10).status_code == 200
        deadline = time.time() + 10
        while not httpx.get(live_app.url + "/api/test/shed", timeout=10).json()["busy"]:
            assert time.time() < deadline, "the worker never saw its own lag"
            time.sleep(0.2)

        # Riley searches while the worker is saturated: the event waits in the queue, it is not lost.
        a.get_by_role("searchbox", name="Search messages").fill("water")
        a.get_by_role("button", name="Search").click()

        # Someone opening the app now is held at the door with the busy message, not a spinner that times out.
        b.goto(live_app.url + "/", timeout=45_000, wait_until="commit")
        expect(b.get_by_role("status").filter(has_text="Busy — reconnecting in a moment")).to_be_visible(timeout=45_000)
        assert httpx.get(live_app.url + "/api/test/shed", timeout=10).json()["refused"] >= 1
        expect(b.get_by_role("status").filter(has_text="Busy — reconnecting in a moment")).to_be_visible()  # still held
        assert httpx.post(live_app.url + "/api/test/saturate?seconds=0", timeout=10).status_code == 200

        # The worker recovers: the newcomer gets in by themselves (the page retries) and signs in to the inbox.
        b.wait_for_url("**/login**", timeout=45_000)
        expect(b.get_by_role("status").filter(has_text="Busy — reconnecting in a moment")).to_have_count(0, timeout=30_000)
        b.get_by_label("Email").fill("responder2@demo.gov")
        b.get_by_label("Password").fill("govsocial-demo")
        b.get_by_role("button", name="Sign in").click()
        b.wait_for_url("**/inbox**", timeout=30_000)
        expect(b.get_by_role("list", name="Messages").get_by_role("listitem").first).to_be_visible(timeout=20_000)

        # Riley's search from the middle of the surge was carried out.
        a.wait_for_url(re.compile(r".*[?&]q=water.*"), timeout=45_000)
        expect(a.get_by_role("searchbox", name="Search messages")).to_have_value("water")
    finally:
        ctx_a.close()
        ctx_b.close()
