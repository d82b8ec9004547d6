"""Web Push without a browser: VAPID keys, devices, and sends checked by a receiver that decrypts and verifies them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from govsocial_app.config import get_settings, reset_settings_cache
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, PushSubscription, Setting
from govsocial_app.services.alerting import webpush
from govsocial_app.services.errors import UserError
from tests.alerts.push_receiver import Browser, VapidError, verify_vapid


def test_vapid_keys_are_generated_once_stored_encrypted_and_reused(db):
    keys = webpush.vapid_keys()
    assert len(webpush.b64url_decode(keys.public_key)) == 65
    webpush._cache.clear()  # as a second process would see it
    assert webpush.vapid_keys() == keys
    with session_scope() as s:
        stored = s.get(Setting, webpush.SETTING).value
        generated = s.exec(select(AuditLog).where(AuditLog.action == "webpush.keys_generated")).all()
    assert stored["public"] == keys.public_key
    assert keys.private_key not in str(stored)
    assert len(generated) == 1


def test_vapid_keys_from_the_environment_win(db, monkeypatch):
    pair = webpush.generate_keys()
    monkeypatch.setenv("VAPID_PRIVATE_KEY", pair.private_key)
    monkeypatch.setenv("VAPID_PUBLIC_KEY", pair.public_key)
    reset_settings_cache()
    try:
        assert webpush.vapid_keys() == pair
        monkeypatch.setenv("VAPID_PUBLIC_KEY", webpush.generate_keys().public_key)
        reset_settings_cache()
        with pytest.raises(UserError, match="does not belong"):
            webpush.vapid_keys()
    finally:
        monkeypatch.delenv("VAPID_PRIVATE_KEY")
        monkeypatch.delenv("VAPID_PUBLIC_KEY")
        reset_settings_cache()


def test_subscribe_lists_relabels_and_removes_devices(db, actor_factory):
    alice, bob = actor_factory("responder", "Alice"), actor_factory("responder", "Bob")
    sub = Browser().subscription("https://push.example.net/send/abc")
    sid = webpush.subscribe(alice, sub, "Alice's phone")
    assert [(d.label, d.service) for d in webpush.devices(alice.user_id)] == [("Alice's phone", "push.example.net")]
    # The same browser subscribing again (a new label, or someone else signing in on it) reuses the row.
    assert webpush.subscribe(bob, sub, "Shared tablet") == sid
    assert webpush.devices(alice.user_id) == []
    with pytest.raises(UserError):
        webpush.unsubscribe(alice, sid)
    webpush.unsubscribe(bob, sid)
    assert webpush.devices(bob.user_id) == []
    with session_scope() as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.object_type == "push_subscription")).all()]
    assert actions == ["push.subscribe", "push.subscribe", "push.unsubscribe"]


@pytest.mark.parametrize(
    "endpoint",
    ["http://push.example.net/x", "http://10.0.0.5/x", "https://10.0.0.5/x", "https://127.0.0.1/x", "https://[::1]/x",
     "https://169.254.169.254/latest", "ftp://127.0.0.1/x", "https:///nohost", ""],
)
def test_subscriptions_with_unusable_endpoints_are_refused(db, actor_factory, endpoint):
    with pytest.raises(UserError):
        webpush.subscribe(actor_factory("viewer"), Browser().subscription(endpoint), "x")


def test_subscriptions_with_bad_keys_are_refused(db, actor_factory):
    sub = Browser().subscription("https://push.example.net/x")
    sub["keys"]["auth"] = webpush.b64url(b"short")
    with pytest.raises(UserError):
        webpush.subscribe(actor_factory("viewer"), sub, "x")


async def test_a_push_decrypts_with_http_ece_and_carries_a_valid_vapid_jwt(db, actor_factory, receiver):
    actor = actor_factory("responder")
    browser = Browser()
    sid = webpush.subscribe(actor, browser.subscription(receiver.endpoint("dev1")), "Phone")
    with session_scope() as s:
        target = webpush.target(s, sid)
    payload = {"title": "Spike on all profiles: 57 messages", "body": "فيضان — flooding", "url": "/inbox?since=2026-11-24T10:00"}
    result = await webpush.send(target, payload, ttl=600, urgency="high")
    assert result.ok and result.status == 201
    push = receiver.pushes[-1]
    assert browser.decrypt(push.body) == payload
    assert push.headers["content-encoding"] == "aes128gcm"
    assert push.headers["ttl"] == "600" and push.headers["urgency"] == "high"
    claims = verify_vapid(push.headers["authorization"], audience=receiver.origin, public_key=webpush.vapid_keys().public_key)
    assert claims["sub"] == get_settings().vapid_subject
    # The receiver really checks: a different key or audience is refused.
    with pytest.raises(VapidError):
        verify_vapid(push.headers["authorization"], audience="https://other.example", public_key=webpush.vapid_keys().public_key)
    with pytest.raises(VapidError):
        verify_vapid(push.headers["authorization"], audience=receiver.origin, public_key=webpush.generate_keys().public_key)
    with session_scope() as s:
        assert s.get(PushSubscription, sid).last_success_at is not None


async def test_a_410_prunes_the_device_and_a_500_does_not(db, actor_factory, receiver):
    actor = actor_factory("responder")
    sid = webpush.subscribe(actor, Browser().subscription(receiver.endpoint("dev2")), "Old phone")
    with session_scope() as s:
        target = webpush.target(s, sid)
    receiver.status = 500
    result = await webpush.send(target, {"title": "x"})
    assert not result.ok and not result.gone and "500" in result.error
    assert len(webpush.devices(actor.user_id)) == 1
    receiver.status = 410
    result = await webpush.send(target, {"title": "x"})
    assert result.gone
    assert webpush.devices(actor.user_id) == []
    with session_scope() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "push.pruned")).one().object_id == str(sid)


async def test_an_unreachable_push_service_is_a_result_not_an_exception(db, actor_factory):
    actor = actor_factory("responder")
    sid = webpush.subscribe(actor, Browser().subscription("http://127.0.0.1:9/push/none"), "Gone")
    with session_scope() as s:
        target = webpush.target(s, sid)
    result = await webpush.send(target, {"title": "x"})
    assert result.status == 0 and not result.ok and "unreachable" in result.error


def test_large_payloads_are_cut_to_fit(db):
    data = webpush.encode_payload({"title": "t", "body": "ب" * 5000})
    assert len(data) <= webpush.MAX_PAYLOAD
    assert data.decode().endswith('…"}')
