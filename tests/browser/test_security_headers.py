"""The app's own HTTP hardening in embedded mode (no proxy in front): the Content-Security-Policy every page works under,
nosniff and frame-ancestors, CORS, the websocket's origin check, the public health check, and changing a password."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, PHONE, sign_in

pytestmark = pytest.mark.browser

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} ${e.sample || ''}`));
"""
# /alerts/settings is left out: loaded directly it fails to render on main today ("reading .includes" of undefined), CSP or not.
PAGES = ("/inbox", "/publish", "/publish/calendar", "/publish/approvals", "/alerts", "/reports", "/reports/listening",
         "/more", "/more/notifications", "/more/password", "/more/vips", "/admin/audit", "/admin/users")


def _start_at_root_and_sign_in(page, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    # The shared helper: signing in from the root address itself hangs on main today (issue 14, item 1, trust-ui),
    # and that helper is where the fix moves every browser test to start at "/".
    sign_in(page, base, email, password)


def test_every_page_works_under_the_content_security_policy(browser, live_app):
    ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    ctx.add_init_script(WATCH_CSP)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    seen: list[str] = []
    try:
        _start_at_root_and_sign_in(page, live_app.url, "admin@demo.gov")
        policy = httpx.get(live_app.url + "/inbox", follow_redirects=True).headers["content-security-policy"]
        assert "'sha256-" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("style-src")[0], "inline scripts are allowed by hash only"
        expect(page.get_by_role("listitem").first).to_be_visible()
        page.get_by_role("listitem").first.get_by_role("link").first.click()  # an open message: the live websocket at work
        page.wait_for_url(re.compile(r"message=\d+"))
        seen += page.evaluate("window.__csp")
        for path in PAGES:
            page.goto(live_app.url + path)
            expect(page.get_by_role("heading", level=1).first).to_be_visible(timeout=30_000)  # a busy 2-core machine
            page.wait_for_timeout(400)  # charts, the device check on Notifications (rx.call_script, so eval)
            seen += [f"{path}: {v}" for v in page.evaluate("window.__csp")]
        page.goto(live_app.url + "/reports")
        chart = page.locator(".js-plotly-plot .main-svg").first  # plotly.js loads on demand: it must be allowed to
        chart.scroll_into_view_if_needed(timeout=30_000)
        expect(chart).to_be_visible(timeout=30_000)
        seen += [f"/reports: {v}" for v in page.evaluate("window.__csp")]
    finally:
        ctx.close()
    assert seen == [] and console == [], (seen, console)


def test_responses_carry_the_security_headers_and_no_wildcard_cors(live_app):
    for path in ("/", "/login/", "/sw.js", "/manifest.webmanifest", "/api/version", "/ping", "/no-such-page"):
        res = httpx.get(live_app.url + path)
        assert res.headers.get("x-content-type-options") == "nosniff", path
        assert res.headers.get("x-frame-options") == "DENY", path
        assert "frame-ancestors 'none'" in res.headers.get("content-security-policy", ""), path
        assert "strict-transport-security" not in res.headers  # plain http here: HSTS only for an https public address
    evil = {"Origin": "https://evil.example", "Cookie": "session=1"}
    res = httpx.get(live_app.url + "/api/version", headers=evil)
    assert "access-control-allow-origin" not in res.headers, res.headers
    pre = httpx.options(live_app.url + "/api/version", headers={**evil, "Access-Control-Request-Method": "POST"})
    assert pre.headers.get("access-control-allow-origin") != "https://evil.example"
    # The event websocket refuses pages of other origins (it still serves its own: every other browser test).
    handshake = httpx.get(live_app.url + "/_event/?EIO=4&transport=websocket", headers={"Origin": "https://evil.example"})
    assert handshake.status_code == 400 and "not an accepted origin" in handshake.text


def test_the_public_health_check_says_only_up_or_down(live_app):
    res = httpx.get(live_app.url + "/api/health")
    assert res.json() == {"ok": res.status_code == 200}
    forged = httpx.get(live_app.url + "/api/health", headers={"Authorization": "Bearer guess"})
    assert forged.json() == res.json()


def test_change_password_from_the_more_page_on_a_phone(browser, live_app):
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor
    from tests.conftest import _SESSION_TMP, point_app_at

    email, old, new = "dana.change@agency.gov", "harbour lantern quietly", "copper meadow sailing north"
    point_app_at(f"sqlite:///{live_app.data_dir / 'govsocial.db'}")
    try:
        auth.create_user(email, "Dana Change", old, "responder", Actor.system("browser test"))
    finally:
        point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")
    phone = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    laptop = browser.new_context(viewport=PHONE)
    try:
        page, other = phone.new_page(), laptop.new_page()
        for p in (page, other):
            p.set_default_timeout(20_000)
            _start_at_root_and_sign_in(p, live_app.url, email, old)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="More").click()
        page.get_by_role("link", name="Change password").click()
        expect(page.get_by_role("heading", name="Change password", level=1)).to_be_visible()
        button = page.get_by_role("button", name="Change password")
        assert button.bounding_box()["height"] >= 44
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_label("Current password", exact=True).fill(old)
        page.get_by_label("New password", exact=True).fill("password12345")
        page.get_by_label("Repeat the new password").fill("password12345")
        button.click()
        expect(page.get_by_role("alert").filter(has_text="too easy to guess")).to_be_visible()
        page.get_by_label("Current password", exact=True).fill(old)
        page.get_by_label("New password", exact=True).fill(new)
        page.get_by_label("Repeat the new password").fill(new)
        button.click()
        expect(page.get_by_role("status").filter(has_text="signed out (1)")).to_be_visible()
        page.reload()  # this device stays signed in
        expect(page.get_by_role("heading", name="Change password", level=1)).to_be_visible()
        other.goto(live_app.url + "/more")  # the other device is signed out
        other.wait_for_url("**/login**")
        other.get_by_label("Email").fill(email)
        other.get_by_label("Password").fill(old)
        other.get_by_role("button", name="Sign in").click()
        expect(other.get_by_role("alert").filter(has_text="do not match")).to_be_visible()
        other.get_by_label("Password").fill(new)
        other.get_by_role("button", name="Sign in").click()
        other.wait_for_url("**/more**")  # back where it was going
        expect(other.get_by_role("heading", name="More", level=1)).to_be_visible()
    finally:
        phone.close()
        laptop.close()
