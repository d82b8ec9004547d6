"""Official alerts on a phone, from the front door: a CAP Alert with English and Arabic info blocks inside the
jurisdiction arrives on a local feed and becomes an "Official alert" with a push; one tap opens the composer with a
twin post (both languages, Arabic right-to-left) and the alert's expiry; the post goes out through the app's own
publishing job; the source then cancels the alert and the published post is flagged in Alerts and on the post.

The poll runs here, in the test process, through the same function the cap-poll job calls (official.poll_due), on
the running app's database: the shared app was started without loopback feeds allowed, and the job itself is
exercised by tests/cap/test_wire.py and `make bench-cap`."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.alerts.push_receiver import Browser, PushReceiver
from tests.browser.conftest import PHONE, phone_context, sign_in
from tests.cap.feed_server import FeedServer
from tests.cap.helpers import fixture
from tests.cap.wire_helpers import publish_on

pytestmark = pytest.mark.browser


def _in_thread(fn, *args):
    """Playwright's sync API keeps an event loop running in this thread; the async poll runs in its own."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(fn(*args))).result(timeout=60)


def _actor(email: str):
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import User
    from govsocial_app.services.authz import Actor

    with session_scope() as s:
        u = s.exec(select(User).where(User.email == email)).one()
        return Actor(u.id, f"{u.display_name} <{u.email}>", u.role, "127.0.0.1", "browser test")


def _tear_down() -> None:
    """Leave the shared app as the other browser tests expect it: no alert source, no jurisdiction, no push device."""
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import CapJurisdiction, CapSource, PushSubscription, utcnow

    with session_scope() as s:
        for row in s.exec(select(CapSource)).all():
            row.deleted_at, row.enabled = utcnow(), False
        for row in s.exec(select(CapJurisdiction)).all():
            row.deleted_at = row.deleted_at or utcnow()
        for row in s.exec(select(PushSubscription).where(PushSubscription.device_label == "browser test")).all():
            s.delete(row)


def test_an_official_alert_becomes_a_twin_post_with_its_expiry_and_a_cancel_flags_it(browser, live_app, loopback_peers):
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Post, PostEmergency
    from govsocial_app.services.alerting import webpush
    from govsocial_app.services.cap import official, store
    from tests.conftest import _SESSION_TMP, point_app_at

    point_app_at(f"sqlite:///{live_app.data_dir / 'govsocial.db'}")
    receiver = PushReceiver().start()
    device = Browser()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        with FeedServer() as feed:
            admin, publisher = _actor("admin@demo.gov"), _actor("publisher@demo.gov")
            store.save_jurisdiction(admin, fixture("riverton_boundary.geojson"), name="Riverton", now=now)
            source_id = store.create_source(admin, "County CAP feed", feed.url("/index.atom"), interval_s=5, now=now)
            webpush.subscribe(publisher, device.subscription(receiver.endpoint("parker")), "browser test")
            publish_on(feed, ["flood_alert"], now, tag="web")
            report = _in_thread(official.poll_due, now)
            assert [s.status for s in report.sources] == ["ok"] and report.app_alerts, report
            push = device.decrypt(receiver.pushes[-1].body)
            assert push["title"].startswith("Official alert: ")

            # ---- the publisher, on a phone, from the front door
            ctx = phone_context(browser)
            page = ctx.new_page()
            page.set_default_timeout(20_000)
            sign_in(page, live_app.url, "publisher@demo.gov")
            page.get_by_role("navigation", name="Main").filter(visible=True).get_by_role("link", name="Alerts").tap()
            page.wait_for_url("**/alerts**")
            # The critical official alert is in the red banner on every screen. The poll ran in this process, so the
            # app's workers hear of it only through their summary cache (30 s, the bound on a missed bus event); the
            # banner then appears above the page and moves everything down. Wait for it before tapping, as a person
            # would see it first: a tap aimed before it appeared lands on whatever slid under the finger.
            banner = page.get_by_role("alert").filter(has_text=push["title"]).first
            for _ in range(9):
                if banner.is_visible():
                    break
                page.wait_for_timeout(4_000)
                page.reload()
            expect(banner).to_be_visible()
            card = page.locator("li").filter(has_text=push["title"]).first
            expect(card).to_be_visible()
            expect(card.get_by_text("Official", exact=True)).to_be_visible()
            card.get_by_role("link", name="Draft a post").tap()  # the one tap
            page.wait_for_url("**/publish?cap=**")
            english = page.get_by_label("Post text")
            arabic = page.get_by_label("Arabic text")
            page.wait_for_function("() => (document.querySelector('#gs-post-text')?.value || '').toLowerCase().includes('flood')")
            page.wait_for_function("() => /[\\u0600-\\u06FF]/.test(document.querySelector('#gs-post-text-ar')?.value || '')")
            assert arabic.get_attribute("dir") == "rtl" and english.is_visible()
            official_note = page.locator("#gs-official-draft")
            expect(official_note).to_contain_text("Drafted from an official alert.")
            expect(official_note).to_contain_text("It expires at")
            expect(official_note).to_contain_text("The post cannot be scheduled after that.")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.get_by_role("button", name="Post now").tap()
            expect(page.get_by_text("Publishing now.").first).to_be_visible()

            with session_scope() as s:
                em = s.exec(select(PostEmergency).order_by(PostEmergency.id.desc())).first()
                post_id = em.post_id
                assert em.cap_alert_id and em.expires_at is not None and em.languages["ar"]["dir"] == "rtl"
            # The app's own publishing job sends it (to the simulator).
            deadline = datetime.now(timezone.utc).timestamp() + 40
            while datetime.now(timezone.utc).timestamp() < deadline:
                with session_scope() as s:
                    status = s.get(Post, post_id).status
                if status == "published":
                    break
                page.wait_for_timeout(500)
            assert status == "published"

            # ---- the source cancels the alert: the published post is flagged
            publish_on(feed, ["flood_alert", "flood_cancel"], now, tag="web")
            with session_scope() as s:
                from govsocial_app.db.models import CapSource

                s.get(CapSource, source_id).next_poll_at = None
            report = _in_thread(official.poll_due, datetime.now(timezone.utc))
            assert post_id in report.sources[0].flagged_posts
            page.goto(live_app.url + "/alerts")
            follow = page.locator("#gs-follow-ups")
            expect(follow).to_contain_text(f"Post #{post_id}: its official alert was cancelled.")
            follow.get_by_role("link", name=f"Post #{post_id}: its official alert was cancelled.").tap()
            page.wait_for_url(f"**/publish?post={post_id}")
            expect(page.locator("#gs-follow-up")).to_contain_text("Follow up: the official alert behind this post was cancelled.")
            ctx.close()
    finally:
        receiver.stop()
        _tear_down()
        point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")
