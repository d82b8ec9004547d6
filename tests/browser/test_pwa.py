"""The installable app in Chromium: a valid manifest, a service worker that controls the page, a push shown as a
notification (delivered through the DevTools protocol, since headless Chromium has no push service), the offline
fallback with the last inbox page, enabling alerts on a device, and the alert centre."""

from __future__ import annotations

import json
import re
import struct
import time

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.alerts.push_receiver import Browser
from tests.browser.conftest import phone_context, sign_in

pytestmark = pytest.mark.browser


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def _wait_for(page, script: str, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for: {script}")


SW_READY = "navigator.serviceWorker.ready.then((r) => ({scope: r.scope, script: r.active && r.active.scriptURL}))"


def test_manifest_is_installable(live_app):
    manifest = httpx.get(live_app.url + "/manifest.webmanifest").json()
    for key in ("name", "short_name", "start_url", "theme_color", "background_color"):
        assert manifest.get(key), key
    assert manifest["display"] == "standalone"
    sizes = {}
    for icon in manifest["icons"]:
        r = httpx.get(live_app.url + icon["src"])
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/png")
        width, height = _png_size(r.content)
        assert f"{width}x{height}" == icon["sizes"]
        sizes.setdefault(icon.get("purpose", "any"), set()).add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes["any"] and "512x512" in sizes["maskable"]
    assert httpx.get(live_app.url + "/sw.js").headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")


def test_head_has_manifest_viewport_fit_and_theme_colour(phone_page, live_app):
    sign_in(phone_page, live_app.url, "viewer@demo.gov")
    head = phone_page.evaluate(
        "({manifest: document.querySelector('link[rel=manifest]')?.getAttribute('href'),"
        " viewport: document.querySelector('meta[name=viewport]')?.content,"
        " theme: document.querySelector('meta[name=theme-color]')?.content})"
    )
    assert head["manifest"] == "/manifest.webmanifest" and "viewport-fit=cover" in head["viewport"] and head["theme"]


def test_service_worker_is_registered_and_controls_the_page(phone_page, live_app):
    sign_in(phone_page, live_app.url, "viewer@demo.gov")
    reg = phone_page.evaluate(SW_READY)
    assert reg["scope"] == live_app.url + "/" and reg["script"] == live_app.url + "/sw.js"
    # clients.claim() in the worker: the page that registered it is controlled without a reload.
    _wait_for(phone_page, "navigator.serviceWorker.controller !== null")
    phone_page.reload()
    assert phone_page.evaluate("navigator.serviceWorker.controller.scriptURL") == live_app.url + "/sw.js"


def test_a_push_delivered_through_devtools_shows_a_notification(browser, live_app):
    ctx = phone_context(browser)
    ctx.grant_permissions(["notifications"], origin=live_app.url)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    try:
        cdp = ctx.new_cdp_session(page)
        registrations: list[dict] = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        cdp.send("ServiceWorker.enable")
        sign_in(page, live_app.url, "responder@demo.gov")
        page.evaluate(SW_READY)
        deadline = time.monotonic() + 10
        while not any(r["scopeURL"] == live_app.url + "/" and not r["isDeleted"] for r in registrations) and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        reg_id = next(r["registrationId"] for r in registrations if r["scopeURL"] == live_app.url + "/" and not r["isDeleted"])
        payload = {"title": "Spike on all profiles: 57 messages in the last hour", "body": "Top terms: flood, bridge.",
                   "url": "https://evil.example/phish", "tag": "alert-99", "severity": "critical"}
        _wait_for(page, "navigator.serviceWorker.controller !== null")
        listed = (
            "navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) =>"
            " ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url, sticky: n.requireInteraction})))"
        )
        # A push delivered while the worker is still starting can be dropped by Chromium; the notification
        # carries a fixed tag, so delivering again replaces it rather than adding a second one.
        shown = None
        for _attempt in range(5):
            cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_app.url, "registrationId": reg_id, "data": json.dumps(payload)})
            try:
                shown = _wait_for(page, listed, timeout_s=6)
                break
            except AssertionError:
                continue
        assert shown, "no notification appeared after 5 pushes"
        assert shown == [{"title": payload["title"], "body": payload["body"], "tag": "alert-99",
                          # a link to another site is never opened from a notification
                          "url": live_app.url + "/alerts", "sticky": True}]
    finally:
        ctx.close()


def test_offline_the_last_inbox_page_is_shown_as_text(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_app.url, "responder@demo.gov")
        page.evaluate(SW_READY)
        _wait_for(page, "navigator.serviceWorker.controller !== null")
        first = page.get_by_role("list", name="Messages").get_by_role("listitem").first
        expect(first).to_be_visible()
        snapshot = _wait_for(
            page, "caches.open('govsocial-snapshot').then((c) => c.match('/__govsocial/inbox-snapshot')).then((r) => r ? r.json() : null)"
        )
        assert snapshot["items"] and snapshot["url"].startswith("/inbox")
        ctx.set_offline(True)
        page.reload()
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
        expect(page.get_by_text(re.compile(r"You are offline; last synced at"))).to_be_visible()
        items = page.locator("#items li")
        expect(items.first).to_have_text(snapshot["items"][0])
        # Rendered as text: no element inside any item, whatever the message said.
        assert page.evaluate("[...document.querySelectorAll('#items li')].every((li) => li.children.length === 0)")
        expect(page.get_by_role("button", name="Try again")).to_be_visible()
        ctx.set_offline(False)
        try:
            page.get_by_role("button", name="Try again").click(timeout=3_000)
        except PlaywrightError:
            pass  # the page's own "online" listener reloaded it first
        # Either way, back online the user lands in the live inbox again.
        expect(page.get_by_role("heading", name="Inbox")).to_be_visible(timeout=20_000)
    finally:
        ctx.close()


def test_enable_alerts_stores_this_device_and_lists_it(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_app.url, "manager@demo.gov")
        page.goto(live_app.url + "/more/notifications")
        expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
        # PushManager.subscribe() never resolves in headless Chromium (no push service): answer as a browser would.
        fake = Browser().subscription("http://127.0.0.1:9/push/browser-test")
        page.wait_for_function("window.govsocialPush !== undefined")
        page.evaluate("(sub) => { window.govsocialPush.subscribe = async () => ({ok: true, subscription: sub}); }", fake)
        page.get_by_role("textbox", name="Device name").fill("Duty phone")
        page.get_by_role("button", name="Enable alerts on this device").click()
        expect(page.get_by_text("Alerts are on for this device.")).to_be_visible()
        expect(page.get_by_role("list", name="Your devices").get_by_text("Duty phone")).to_be_visible()
        page.get_by_role("button", name=re.compile("Remove device Duty phone")).click()
        expect(page.get_by_text("No device receives alerts yet.")).to_be_visible()
    finally:
        ctx.close()


def test_the_alert_centre_acknowledges_with_who_and_when(browser, live_app):
    from datetime import datetime, timezone

    from govsocial_app.db.engine import session_scope
    from govsocial_app.services.alerting import alerts
    from tests.conftest import _SESSION_TMP, point_app_at

    point_app_at(f"sqlite:///{live_app.data_dir / 'govsocial.db'}")
    try:
        spec = alerts.AlertSpec(kind="spike", severity="warning", title="Spike on {stream}: {count} messages in the last hour",
                                  params={"stream": "all profiles", "count": 42}, translate_params=("stream",), link="/inbox?q=bridge",
                                  data={"count": 42, "baseline": 7.0, "threshold": 20, "terms": [["bridge", 9]],
                                        "term_links": {"bridge": "/inbox?q=bridge"}})
        with session_scope() as s:
            alerts.create_alert(s, spec, alerts.Audience(("admin",)), datetime.now(timezone.utc))
    finally:
        point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_app.url, "responder@demo.gov")
        page.goto(live_app.url + "/alerts")
        card = page.get_by_role("list", name="Alerts").get_by_role("listitem").filter(has_text="42 messages in the last hour").first
        expect(card.get_by_text("42 in the last hour · usual 7.0 · alert at 20")).to_be_visible()
        expect(card.get_by_role("link", name="bridge")).to_have_attribute("href", "/inbox?q=bridge")
        card.get_by_role("button", name="Acknowledge").click()
        expect(card.get_by_text(re.compile(r"Acknowledged by Riley Responder at \d{4}-\d\d-\d\d \d\d:\d\d"))).to_be_visible()
        card.get_by_role("button", name="Snooze this alert type for 1 h").click()
        expect(card.get_by_text(re.compile(r"Snoozed until \d\d:\d\d"))).to_be_visible()
    finally:
        ctx.close()
