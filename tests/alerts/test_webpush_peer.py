"""The push path end to end against web-push-testing (npm), a third-party push-service mock that decrypts what it accepts."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AlertDelivery
from govsocial_app.services import auth
from govsocial_app.services.alerting import alerts, webpush

pytestmark = pytest.mark.peers
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def _spec(**over) -> alerts.AlertSpec:
    base = dict(kind="keyword", severity="critical", title="{priority} keyword “{name}”: {count} new matches", body="Top terms: {terms}.",
                params={"priority": "Crisis", "name": "Flooding", "count": 12, "terms": "flood, road"}, translate_params=("priority",),
                link="/inbox?kind=keyword&since=2026-11-24T09%3A58")
    return alerts.AlertSpec(**{**base, **over})


async def test_an_alert_reaches_the_push_service_and_decrypts_to_its_payload(db, actor_factory, push_service):
    responder = actor_factory("responder", "Riley")
    sub = push_service.subscribe(webpush.vapid_keys().public_key)
    webpush.subscribe(responder, sub, "Riley's phone")
    with session_scope() as s:
        alert = alerts.create_alert(s, _spec(), alerts.Audience(("responder",)), NOW)
    report = await alerts.deliver([alert.id], now=NOW)
    assert report.sent == 1 and report.failed == 0
    [message] = push_service.messages(sub["clientHash"])
    assert json.loads(message) == {
        "title": "Crisis keyword “Flooding”: 12 new matches", "body": "Top terms: flood, road.",
        "url": "/inbox?kind=keyword&since=2026-11-24T09%3A58", "tag": f"alert-{alert.id}", "severity": "critical", "alert_id": alert.id,
    }


async def test_each_recipient_gets_the_alert_in_their_language(db, actor_factory, push_service):
    arabic = actor_factory("responder", "Amal")
    auth.update_preferences(arabic.user_id, arabic, locale="ar")
    sub = push_service.subscribe(webpush.vapid_keys().public_key)
    webpush.subscribe(arabic, sub, "هاتف")
    with session_scope() as s:
        alert = alerts.create_alert(s, _spec(), alerts.Audience(user_ids=(arabic.user_id,)), NOW)
    await alerts.deliver([alert.id], now=NOW)
    payload = json.loads(push_service.messages(sub["clientHash"])[-1])
    assert "Flooding" in payload["title"] and "Crisis" not in payload["title"] and "أزمة" in payload["title"]


async def test_an_expired_subscription_answers_410_and_is_pruned(db, actor_factory, push_service):
    responder = actor_factory("responder")
    sub = push_service.subscribe(webpush.vapid_keys().public_key)
    sid = webpush.subscribe(responder, sub, "Old phone")
    push_service.expire(sub["clientHash"])
    with session_scope() as s:
        alert = alerts.create_alert(s, _spec(), alerts.Audience(user_ids=(responder.user_id,)), NOW)
    report = await alerts.deliver([alert.id], now=NOW)
    assert report.sent == 0 and report.skipped == 1
    assert webpush.devices(responder.user_id) == []
    with session_scope() as s:
        row = s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert.id, AlertDelivery.channel == "push")).one()
    assert row.status == "skipped" and "410" in row.last_error and str(sid) == row.target
    assert push_service.messages(sub["clientHash"]) == []
    # The next alert does not even try the dead device.
    with session_scope() as s:
        again = alerts.create_alert(s, _spec(), alerts.Audience(user_ids=(responder.user_id,)), NOW)
        assert s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == again.id, AlertDelivery.channel == "push")).all() == []


async def test_send_test_reaches_every_device_of_the_user(db, actor_factory, push_service):
    me = actor_factory("viewer")
    subs = [push_service.subscribe(webpush.vapid_keys().public_key) for _ in range(2)]
    for i, sub in enumerate(subs):
        webpush.subscribe(me, sub, f"Device {i}")
    assert await webpush.send_test(me) == (2, 0)
    for sub in subs:
        assert json.loads(push_service.messages(sub["clientHash"])[-1])["title"] == webpush.TEST_TITLE
