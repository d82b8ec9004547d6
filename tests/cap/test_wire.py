"""CAP wired into the product: the cap-poll job against a real local feed server raises an official alert (push
through a real push receiver), stores without raising what is out of area or below thresholds, shows a failing
source's status; one tap's bilingual draft, the expiry rule, twin posts, the accessibility gate at save and in the
publisher, the follow-up flag on a Cancel, and GovSocial's own CAP feed valid against the OASIS 1.2 schema."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, AlertDelivery, AuditLog, CapAlert, CapSource, Post, PostEmergency, PostTarget
from govsocial_app.i18n import translate
from govsocial_app.services.alerting import alerts, webpush
from govsocial_app.services.publishing import sender
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.cap import emergency, official, outbound, store
from govsocial_app.services.cap.schema import schema_errors
from govsocial_app.services.publishing.composer import ComposerInput, ComposerInvalid
from tests.alerts.push_receiver import Browser, PushReceiver
from tests.cap.feed_server import FeedServer
from tests.cap.helpers import FLOOD_NOW
from tests.cap.wire_helpers import publish_on, riverton
from tests.publishing.conftest import make_profile, simulator_for


@pytest.fixture
def receiver():
    r = PushReceiver().start()
    yield r
    r.stop()


@pytest.fixture
def feed():
    with FeedServer() as server:
        yield server


def _official_alerts() -> list[Alert]:
    with session_scope() as s:
        return list(s.exec(select(Alert).where(Alert.kind == "official").order_by(Alert.id)))


def _source(admin, feed, **kw) -> int:
    return store.create_source(admin, "County feed", feed.url("/index.atom"), interval_s=kw.pop("interval_s", 5), **kw)


async def test_the_job_raises_an_in_area_alert_with_a_push_and_a_card_that_opens_the_composer(actor_factory, feed, receiver):
    admin = actor_factory("admin")
    responder = actor_factory("responder")
    browser = Browser()
    webpush.subscribe(responder, browser.subscription(receiver.endpoint("phone")), "Phone")
    riverton(admin)
    sid = _source(admin, feed)
    publish_on(feed, ["flood_alert"], FLOOD_NOW)

    report = await official.poll_due(FLOOD_NOW)
    (outcome,) = report.sources
    assert outcome.status == "ok" and len(outcome.raised) == 1 and len(outcome.app_alerts) == 1
    (card,) = _official_alerts()
    assert card.title.startswith("Official alert: ") and card.severity == "critical"
    cap_id = outcome.raised[0]
    assert card.link == f"/publish?cap={cap_id}"
    # The Arabic reader sees the Arabic headline the alert itself carried.
    title_ar, _ = alerts.rendered(card, "ar")
    assert title_ar.startswith("تنبيه رسمي: ") and any("\u0600" <= ch <= "\u06ff" for ch in title_ar[12:])
    push = browser.decrypt(receiver.pushes[-1].body)
    assert push["title"] == card.title and push["url"] == card.link
    with session_scope() as s:
        assert s.get(CapAlert, cap_id).app_alert_id == card.id
        assert {d.channel: d.status for d in s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == card.id))}["push"] == "sent"
    # Its own interval: not polled again before it is due, and the same entry never raises twice.
    assert (await official.poll_due(FLOOD_NOW + timedelta(seconds=2))).sources == []
    # A job tick a moment before the 5 s are up still polls it (it would otherwise wait for the next tick, 10 s).
    again = await official.poll_due(FLOOD_NOW + timedelta(seconds=4.6))
    assert [s.status for s in again.sources] in (["not_modified"], ["ok"]) and again.app_alerts == []
    assert len(_official_alerts()) == 1
    assert store.list_sources()[0].id == sid


async def test_out_of_area_and_low_severity_alerts_are_stored_but_not_raised(actor_factory, feed):
    admin = actor_factory("admin")
    # Below the thresholds: the flood is Severe, this agency only wants Extreme.
    riverton(admin, min_severity="Extreme")
    _source(admin, feed)
    publish_on(feed, ["flood_alert"], FLOOD_NOW)
    report = await official.poll_due(FLOOD_NOW)
    assert report.app_alerts == [] and _official_alerts() == []
    with session_scope() as s:
        (row,) = s.exec(select(CapAlert)).all()
        assert row.decision == "store" and row.app_alert_id is None
    # Out of the area: a boundary on the other side of the world.
    far = {"type": "Polygon", "coordinates": [[[151.0, -34.0], [151.3, -34.0], [151.3, -33.7], [151.0, -33.7], [151.0, -34.0]]]}
    store.save_jurisdiction(admin, far, name="Elsewhere")
    publish_on(feed, ["flood_alert"], FLOOD_NOW, tag="far")
    report = await official.poll_due(FLOOD_NOW + timedelta(minutes=5))
    assert report.app_alerts == [] and _official_alerts() == []
    with session_scope() as s:
        far_row = s.exec(select(CapAlert).where(CapAlert.identifier.contains("far"))).one()
        assert far_row.decision == "store" and any(r["code"].startswith("outside") or "area" in r["code"] for r in far_row.reasons)


async def test_a_failing_or_garbage_source_shows_its_status_and_never_crashes_the_job(actor_factory, feed):
    admin = actor_factory("admin")
    riverton(admin)
    down = store.create_source(admin, "Down", "http://127.0.0.1:9/index.atom", interval_s=5)
    garbage = _source(admin, feed)
    feed.put("/index.atom", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><feed>&a;</feed>", content_type="application/atom+xml")
    report = await official.poll_due(FLOOD_NOW)
    statuses = {s.id: s for s in store.list_sources()}
    assert {o.source_id: o.status for o in report.sources} == {down: "error", garbage: "error"}
    assert statuses[down].status == "error" and "could not be reached" in statuses[down].status_message
    assert statuses[garbage].status == "error" and statuses[garbage].status_message


def test_sources_and_the_jurisdiction_are_admin_only(actor_factory):
    manager = actor_factory("manager")
    with pytest.raises(PermissionDenied):
        store.create_source(manager, "x", "https://alerts.example.gov/feed.atom")
    with pytest.raises(PermissionDenied):
        riverton(manager)
    with pytest.raises(PermissionDenied):
        emergency.set_blocking_items(manager, ["all_caps"])


async def _raised_flood(actor_factory, feed) -> tuple[object, int]:
    admin = actor_factory("admin")
    riverton(admin)
    _source(admin, feed)
    publish_on(feed, ["flood_alert"], FLOOD_NOW)
    report = await official.poll_due(FLOOD_NOW)
    return admin, report.sources[0].raised[0]


async def test_one_tap_gives_a_bilingual_draft_with_the_expiry_that_cannot_be_outlived(actor_factory, feed, tmp_path):
    admin, cap_id = await _raised_flood(actor_factory, feed)
    publisher_ = actor_factory("publisher")
    draft = emergency.draft_for_alert(publisher_, cap_id)
    assert set(draft.texts) == {"en", "ar"} and draft.directions["ar"] == "rtl"
    assert "Flood" in draft.texts["en"] or "flood" in draft.texts["en"].lower()
    assert draft.expires == datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)
    pid = make_profile(tmp_path)
    inp = ComposerInput(text=draft.texts["en"], link=draft.link, profile_ids=[pid])
    with pytest.raises(ComposerInvalid) as refused:
        emergency.save(publisher_, inp, action="schedule", second_text=draft.texts["ar"], cap_alert_id=cap_id,
                       when=draft.expires + timedelta(minutes=1), now=FLOOD_NOW)
    assert refused.value.issues[0].msgid == emergency.AFTER_EXPIRY
    assert "2026-11-25 05:00 UTC" in str(refused.value)
    assert translate(emergency.AFTER_EXPIRY, "ar", expires="x") != emergency.AFTER_EXPIRY
    with pytest.raises(ComposerInvalid, match="queue"):
        emergency.save(publisher_, inp, action="queue", second_text=draft.texts["ar"], cap_alert_id=cap_id, now=FLOOD_NOW)
    result = emergency.save(publisher_, inp, action="schedule", second_text=draft.texts["ar"], cap_alert_id=cap_id,
                            when=draft.expires - timedelta(hours=1), now=FLOOD_NOW)
    # A twin post: one post (one approval unit) whose single network post carries both languages.
    with session_scope() as s:
        (target,) = s.exec(select(PostTarget).where(PostTarget.post_id == result.post_id)).all()
        assert draft.texts["ar"].split("\n")[0] in target.text_override and draft.texts["en"].split("\n")[0] in target.text_override
        em = s.exec(select(PostEmergency).where(PostEmergency.post_id == result.post_id)).one()
        assert em.cap_alert_id == cap_id and em.expires_at.replace(tzinfo=timezone.utc) == draft.expires
        assert em.languages["ar"]["dir"] == "rtl"
    counts = emergency.language_counts(draft.texts, draft.link, ["x"])
    assert {c.language: c.direction for c in counts} == {"en": "ltr", "ar": "rtl"}


async def test_the_publisher_refuses_a_post_whose_official_alert_has_expired(actor_factory, feed, tmp_path):
    admin, cap_id = await _raised_flood(actor_factory, feed)
    draft = emergency.draft_for_alert(admin, cap_id)
    pid = make_profile(tmp_path)
    result = emergency.save(admin, ComposerInput(text=draft.texts["en"], profile_ids=[pid]), action="now", cap_alert_id=cap_id, now=FLOOD_NOW)
    assert emergency.refusal(result.post_id, draft.texts["en"], now=FLOOD_NOW) == ""
    # The real clock is past the fixture's expiry (2026-11-25): the publisher, right before sending, refuses.
    stats = await sender.run_once(max_seconds=10)
    assert stats.outcomes.get("failed") == 1
    with session_scope() as s:
        (target,) = s.exec(select(PostTarget).where(PostTarget.post_id == result.post_id)).all()
        assert target.status == "failed" and "expired" in target.error
    assert simulator_for(pid).received_log() == []


def test_accessibility_blocking_items_stop_saving_and_sending_with_a_clear_message(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    shouting = ComposerInput(text="EVACUATE THE RIVER DISTRICT NOW. Go to the high school on Main Street.", profile_ids=[pid])
    # Not blocking yet: it may be saved, and the publisher lets it through.
    early = publishing_save(admin, shouting)
    assert emergency.refusal(early, shouting.text) == ""
    emergency.set_blocking_items(admin, ["all_caps"])
    with session_scope() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "cap.accessibility.blocking")).first() is not None
    with pytest.raises(ComposerInvalid) as refused:
        emergency.save(admin, shouting, action="now")
    assert "No sentences in capitals" in str(refused.value)
    # Made blocking after it was saved: the publisher's last check stops it with the reason.
    reason = emergency.refusal(early, shouting.text)
    assert reason.startswith("Not sent: the accessibility check") and "No sentences in capitals" in reason
    stats = asyncio.run(sender.run_once(max_seconds=10))
    assert stats.outcomes.get("failed") == 1 and simulator_for(pid).received_log() == []
    # The Arabic version is checked too.
    emergency.set_blocking_items(admin, ["link_text"])
    with pytest.raises(ComposerInvalid):
        emergency.save(admin, ComposerInput(text="Roads are closed near the river.", profile_ids=[pid]), action="now",
                       second_text="الطرق مغلقة. اضغط هنا: https://riverton.gov/roads")


def publishing_save(actor, inp) -> int:
    from govsocial_app.services.publishing import composer

    return composer.save(actor, inp, action="now").post_id


async def test_a_cancel_from_the_source_flags_the_published_post_and_raises_a_card(actor_factory, feed, tmp_path):
    admin, cap_id = await _raised_flood(actor_factory, feed)
    draft = emergency.draft_for_alert(admin, cap_id)
    pid = make_profile(tmp_path)
    result = emergency.save(admin, ComposerInput(text=draft.texts["en"], profile_ids=[pid]), action="now",
                            second_text=draft.texts["ar"], cap_alert_id=cap_id, now=FLOOD_NOW)
    with session_scope() as s:
        s.get(Post, result.post_id).status = "published"
    publish_on(feed, ["flood_alert", "flood_update", "flood_cancel"], FLOOD_NOW)
    report = await official.poll_due(FLOOD_NOW + timedelta(minutes=1))
    assert result.post_id in report.sources[0].flagged_posts
    view = emergency.view(result.post_id)
    assert view.follow_up == "cancel"
    assert emergency.flagged_posts() == [(result.post_id, "cancel")]
    cards = _official_alerts()
    cancel_card = cards[-1]
    assert cancel_card.title.startswith("Official alert cancelled") and f"#{result.post_id}" in cancel_card.body
    assert cancel_card.link == f"/publish?post={result.post_id}"
    emergency.acknowledge_follow_up(admin, result.post_id)
    assert emergency.view(result.post_id).follow_up == ""


def _validate(xml: bytes) -> None:
    root = etree.fromstring(xml)
    assert schema_errors(root) == ()


def test_the_cap_atom_feed_carries_alert_update_and_cancel_each_valid_against_the_oasis_schema(actor_factory, tmp_path):
    from starlette.testclient import TestClient

    from govsocial_app.api import build_api

    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    result = emergency.save(admin, ComposerInput(text="Flood warning for the river district.\nMove to higher ground.", profile_ids=[pid]),
                            action="now", second_text="تحذير من الفيضانات في منطقة النهر.")
    client = TestClient(build_api())
    empty = client.get("/api/cap.atom")
    assert empty.status_code == 200 and b"<entry" not in empty.content  # nothing is published yet
    with session_scope() as s:
        s.get(Post, result.post_id).status = "published"
    t0 = datetime.now(timezone.utc)
    assert len(outbound.sync(t0)) == 1 and outbound.sync(t0) == []  # once
    emergency.update_published(admin, result.post_id, {"en": "Flood warning extended to the north bank.", "ar": "تمديد تحذير الفيضانات."})
    assert len(outbound.sync(t0 + timedelta(seconds=1))) == 1
    emergency.withdraw(admin, result.post_id, "The river has fallen below flood stage.")
    feed = client.get("/api/cap.atom")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    root = etree.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    links = root.xpath("//a:entry/a:link[@rel='alternate']/@href", namespaces=ns)
    assert len(links) == 3
    kinds = []
    for href in links:
        doc = client.get(href.replace("http://127.0.0.1:3000", ""))
        assert doc.status_code == 200 and doc.headers["content-type"].startswith("application/cap+xml")
        _validate(doc.content)
        cap = etree.fromstring(doc.content)
        kinds.append(cap.findtext("{urn:oasis:names:tc:emergency:cap:1.2}msgType"))
        if kinds[-1] != "Alert":
            assert cap.findtext("{urn:oasis:names:tc:emergency:cap:1.2}references")
        langs = cap.xpath("//c:info/c:language/text()", namespaces={"c": "urn:oasis:names:tc:emergency:cap:1.2"})
        if kinds[-1] != "Cancel":
            assert set(langs) == {"en-US", "ar"}
    assert sorted(kinds) == ["Alert", "Cancel", "Update"]
    assert client.get("/api/cap/999999.xml").status_code == 404
    assert client.get("/api/cap/abc.xml").status_code == 404
    with pytest.raises(Exception):
        emergency.update_published(admin, result.post_id, {"en": "again"})


def test_every_new_message_has_arabic_with_parameters_the_caller_provides():
    import string

    from govsocial_app.i18n import catalog

    arabic = catalog("ar")

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    offered = {"headline", "headline_ar", "sender", "event", "event_ar", "expires", "posts", "error", "item", "message"}
    for msgid in (*official.MSGIDS, *emergency.MSGIDS):
        assert msgid in arabic, msgid
        assert fields(arabic[msgid]) <= offered and fields(msgid) <= offered, msgid
        assert arabic[msgid] != msgid
