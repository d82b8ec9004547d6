"""The inbox's loading frame (components/layout.py loading_frame; issue 20, item 3): before the server has confirmed
the session, a phone signed in on this device sees the page's frame at once (its heading, the bottom navigation as
real links, "Loading messages…" as a status) with nothing private in it; a signed-out visitor and an Arabic
reader get the plain spinner instead; the header does not move when the messages arrive.

"Before the server answers" is held open by a page whose WebSocket never opens (NEVER_OPENS): its scripts run and
hydrate, but no event reaches the app."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import phone_context, sign_in

pytestmark = pytest.mark.browser

NAV = ("Inbox", "Publish", "Alerts", "Reports", "More")


# A WebSocket that never opens: the page's scripts run and hydrate, and wait for the app for good. (Playwright's
# route_web_socket does the same but left its event loop marked running for tests/browser/test_ws_signed_out.py.)
NEVER_OPENS = """window.WebSocket = class { constructor() { this.readyState = 0; }
    send() {} close() {} addEventListener() {} removeEventListener() {} };"""


def _no_server(page) -> None:
    page.add_init_script(NEVER_OPENS)


def _heading_in_main(page) -> list[float]:
    """The page's h1 relative to its main area: left, top, width, height."""
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    return page.evaluate("""() => {
        const m = document.getElementById('main').getBoundingClientRect();
        const h = document.querySelector('#main h1').getBoundingClientRect();
        return [h.left - m.left, h.top - m.top, h.width, h.height];
    }""")


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return errors


def test_a_signed_in_phone_sees_the_frame_before_the_server_answers(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_app.url, "responder2@demo.gov")
    name = page.evaluate("document.body.innerText")
    signed_in_heading = _heading_in_main(page)

    waiting = ctx.new_page()
    waiting.set_default_timeout(15_000)
    csp = _csp_errors(waiting)
    _no_server(waiting)
    waiting.goto(live_app.url + "/inbox")
    expect(waiting.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(waiting.get_by_role("status").filter(has_text="Loading messages…")).to_be_visible()
    nav = waiting.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    for label in NAV:
        link = nav.get_by_role("link", name=label)
        expect(link).to_be_visible()
        assert link.get_attribute("href").rstrip("/") == "/" + label.lower()
    expect(nav.get_by_role("link", name="Inbox")).to_have_attribute("aria-current", "page")
    # Nothing private: no name, no role, no message.
    text = waiting.evaluate("document.body.innerText")
    assert "Responder" not in text and "responder2" not in text
    assert "Loading messages…" not in name  # the real page never shows the frame's status
    # The header sits where the signed-in page's header sits in its main area: the messages replace the status
    # below it. (A pause or critical-alert banner, which only the server knows of, still comes above it.)
    assert _heading_in_main(waiting) == signed_in_heading
    assert csp == []
    ctx.close()


def _only_the_spinner(page) -> None:
    """The plain spinner, and nothing of the signed-in frame: no navigation, no heading, no loading words."""
    expect(page.get_by_role("status", name="Loading")).to_be_visible()
    assert not page.get_by_role("navigation", name="Main").is_visible()
    assert not page.get_by_role("heading", name="Inbox").is_visible()
    assert not page.get_by_text("Loading messages…").is_visible()


def test_a_signed_out_visitor_gets_the_spinner_then_sign_in(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    _no_server(page)
    page.goto(live_app.url + "/inbox")
    _only_the_spinner(page)
    # With the app answering, the same visitor ends at sign-in.
    fresh = ctx.new_page()
    fresh.goto(live_app.url + "/inbox")
    fresh.wait_for_url("**/login**")
    expect(fresh.get_by_role("button", name="Sign in")).to_be_visible()
    ctx.close()


def test_an_arabic_reader_gets_the_spinner_not_an_english_frame(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_app.url, "responder2@demo.gov")
    page.close()  # its next update would write its own language back
    ctx.add_init_script("localStorage.setItem('gs_lang', 'ar')")  # as switching to Arabic on More leaves it
    waiting = ctx.new_page()
    waiting.set_default_timeout(15_000)
    _no_server(waiting)
    waiting.goto(live_app.url + "/inbox")
    _only_the_spinner(waiting)
    ctx.close()


def _raise_critical_alert(live_app, title: str) -> None:
    """A critical alert for every responder, raised in the shared app's database (its workers see it within their
    summary cache, alerts.CACHE_S)."""
    from govsocial_app.db.engine import session_scope
    from govsocial_app.services.alerting import alerts
    from tests.conftest import _SESSION_TMP, point_app_at

    point_app_at(f"sqlite:///{live_app.data_dir / 'govsocial.db'}")
    try:
        with session_scope() as s:
            alerts.create_alert(s, alerts.AlertSpec("system", "critical", title), alerts.Audience(roles=("responder",)))
    finally:
        point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")


def test_a_critical_alert_docks_above_the_navigation_and_moves_nothing(browser, live_app):
    """A critical alert arrives a round trip after the page (its banner joins when it mounts). It sits in the
    shell's bottom dock, fixed above the phone's navigation, so it moves nothing: at the top of the page it pushed
    the list down under a finger about to tap (Lighthouse's CLS 0.07). The last message still scrolls above it.
    (Layout shifts are not summed here: in the shared app other live changes can move the list too, and CI once
    measured 0.044 with the alert docked; bench-paint measures CLS on a quiet app.)"""
    title = "Test: river gauge 4 is offline"
    _raise_critical_alert(live_app, title)
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_app.url, "responder2@demo.gov")
    banner = page.get_by_role("alert").filter(has_text=title)
    for _ in range(10):  # until this worker's summary has it
        if banner.is_visible():
            break
        page.wait_for_timeout(4_000)
        page.reload()
    expect(banner).to_be_visible()
    page.close()

    fresh = ctx.new_page()  # a new client of the same signed-in phone, as when the app is opened again
    fresh.set_default_timeout(15_000)
    fresh.goto(live_app.url + "/inbox")
    alert = fresh.get_by_role("alert").filter(has_text=title)
    expect(alert).to_be_visible()
    first = fresh.locator("#main li").first  # the messages
    expect(first).to_be_visible()
    # It takes no room above the messages: with the dock taken out of the page they stay exactly where they are.
    # (At the top of the page it arrived a round trip after them and pushed them down.)
    fresh.evaluate("window.scrollTo(0, 0)")
    with_alert = first.bounding_box()["y"]
    dock = alert.element_handle().evaluate_handle("banner => banner.parentElement")
    dock.evaluate("dock => { dock.style.display = 'none'; }")
    assert first.bounding_box()["y"] == with_alert
    dock.evaluate("dock => { dock.style.display = ''; }")
    # Docked: right above the bottom navigation, with its Acknowledge button in reach.
    nav = fresh.get_by_role("navigation", name="Main").filter(visible=True)
    assert abs(alert.bounding_box()["y"] + alert.bounding_box()["height"] - nav.bounding_box()["y"]) <= 2
    assert alert.get_by_role("button", name="Acknowledge").first.bounding_box()["height"] >= 44
    # The foot of the list scrolls clear of the dock.
    for _ in range(5):  # to the very end (cards off screen render lazily, content-visibility: auto)
        fresh.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        fresh.wait_for_timeout(300)
    assert fresh.evaluate("window.scrollY") > 0
    last = fresh.locator("#main li").last.bounding_box()
    assert last["y"] + last["height"] <= alert.bounding_box()["y"] + 1
    ctx.close()
