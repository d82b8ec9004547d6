"""Delivery: channels are isolated, failures are recorded and retried with backoff, email reaches a real SMTP server;
and the alert centre's audience, snooze, acknowledge, history and live summary."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AlertDelivery, AuditLog
from govsocial_app.services import mailer
from govsocial_app.services.alerting import alerts, webpush
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from tests.alerts.push_receiver import Browser
from tests.alerts.smtp_peer import PASSWORD, USERNAME

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SPEC = alerts.AlertSpec(kind="spike", severity="critical", title="Spike on {stream}: {count} messages in the last hour",
                          body="Usual for this hour: {baseline}.", params={"stream": "all profiles", "count": 57, "baseline": "6.0"},
                          translate_params=("stream",), link="/inbox?since=2026-11-24T09%3A00")


def _raise(audience: alerts.Audience, spec: alerts.AlertSpec = SPEC, now: datetime = NOW) -> int:
    with session_scope() as s:
        return alerts.create_alert(s, spec, audience, now).id


def _rows(alert_id: int) -> dict[str, AlertDelivery]:
    with session_scope() as s:
        return {d.channel: d for d in s.exec(select(AlertDelivery).where(AlertDelivery.alert_id == alert_id)).all()}


async def test_email_arrives_at_a_real_smtp_server_with_starttls_and_auth(smtp_configured, actor_factory):
    responder = actor_factory("responder", "Riley")
    alert_id = _raise(alerts.Audience(user_ids=(responder.user_id,)))
    report = await alerts.deliver([alert_id], now=NOW)
    assert report.sent == 1
    [mail] = smtp_configured.wait_for(1)
    assert mail.tls and mail.authenticated_as == USERNAME
    assert mail.rcpt_tos == [responder.label.split("<")[1].rstrip(">")]
    assert mail.message["Subject"] == "Spike on all profiles: 57 messages in the last hour"
    text = mail.message.get_content()
    assert "Usual for this hour: 6.0." in text and "/inbox?since=2026-11-24T09%3A00" in text and "/alerts" in text
    assert _rows(alert_id)["email"].status == "sent"


async def test_reports_can_send_pdf_attachments_through_the_same_mailer(smtp_peer):
    config = mailer.SmtpConfig(smtp_peer.host, smtp_peer.port, USERNAME, PASSWORD, ca_file=str(smtp_peer.cert_path))
    await mailer.send_mail(["chief@test.gov"], "Weekly report", "Attached.", attachments=[mailer.Attachment("week.pdf", b"%PDF-1.7 ...")],
                           config=config)
    [mail] = smtp_peer.wait_for(1)
    [part] = list(mail.message.iter_attachments())
    assert part.get_filename() == "week.pdf" and part.get_content_type() == "application/pdf" and part.get_content() == b"%PDF-1.7 ..."


async def test_a_failing_email_channel_does_not_block_push_and_is_retried_with_backoff(db, actor_factory, receiver, smtp_peer):
    admin = actor_factory("admin")
    # SMTP points at a port where nothing listens.
    mailer.save_config(mailer.SmtpConfig("127.0.0.1", 9, USERNAME, PASSWORD), admin)
    browser = Browser()
    webpush.subscribe(admin, browser.subscription(receiver.endpoint("a")), "Phone")
    alert_id = _raise(alerts.Audience(user_ids=(admin.user_id,)))
    report = await alerts.deliver([alert_id], now=NOW)
    assert (report.sent, report.failed) == (1, 1)
    assert browser.decrypt(receiver.pushes[-1].body)["title"].startswith("Spike on all profiles")
    email = _rows(alert_id)["email"]
    assert email.status == "retrying" and email.attempts == 1 and "127.0.0.1:9" in email.last_error
    assert email.next_attempt_at.replace(tzinfo=timezone.utc) == NOW + timedelta(seconds=30)
    # Not due yet: nothing is sent.
    assert (await alerts.deliver(now=NOW + timedelta(seconds=20))).failed == 0
    # Due: retried, fails again, waits longer.
    await alerts.deliver(now=NOW + timedelta(seconds=31))
    email = _rows(alert_id)["email"]
    assert email.attempts == 2 and email.next_attempt_at.replace(tzinfo=timezone.utc) == NOW + timedelta(seconds=31 + 120)
    # The mail server is fixed; the next retry gets through, and push was never sent twice.
    mailer.save_config(mailer.SmtpConfig(smtp_peer.host, smtp_peer.port, USERNAME, PASSWORD, ca_file=str(smtp_peer.cert_path)), admin)
    report = await alerts.deliver(now=NOW + timedelta(minutes=3))
    assert report.sent == 1
    assert _rows(alert_id)["email"].status == "sent" and len(smtp_peer.wait_for(1)) == 1
    assert len(receiver.pushes) == 1


async def test_a_failing_push_service_does_not_block_email(smtp_configured, actor_factory, receiver):
    responder = actor_factory("responder")
    webpush.subscribe(responder, Browser().subscription(receiver.endpoint("b")), "Phone")
    receiver.status = 503
    alert_id = _raise(alerts.Audience(user_ids=(responder.user_id,)))
    report = await alerts.deliver([alert_id], now=NOW)
    assert (report.sent, report.failed) == (1, 1)
    rows = _rows(alert_id)
    assert rows["email"].status == "sent" and rows["push"].status == "retrying" and "503" in rows["push"].last_error
    assert len(smtp_configured.wait_for(1)) == 1


async def test_deliveries_give_up_after_the_last_attempt_and_say_so(db, actor_factory, receiver):
    responder = actor_factory("responder")
    webpush.subscribe(responder, Browser().subscription(receiver.endpoint("c")), "Phone")
    receiver.status = 500
    alert_id = _raise(alerts.Audience(user_ids=(responder.user_id,)))
    now = NOW
    await alerts.deliver([alert_id], now=now)
    for _ in range(alerts.MAX_ATTEMPTS - 1):
        now += timedelta(hours=2)
        await alerts.deliver(now=now)
    push = _rows(alert_id)["push"]
    assert push.status == "failed" and push.attempts == alerts.MAX_ATTEMPTS and push.next_attempt_at is None
    assert len(receiver.pushes) == alerts.MAX_ATTEMPTS
    with session_scope() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "alert.delivery_failed")).one().detail["channel"] == "push"
    [row] = alerts.history(alerts.HistoryFilter(), viewer_id=None)
    assert alerts.DeliveryLine("push", "failed", 1, push.last_error) in row.deliveries


async def test_a_delivery_is_claimed_once_even_when_two_senders_race(db, actor_factory, receiver):
    import asyncio

    responder = actor_factory("responder")
    webpush.subscribe(responder, Browser().subscription(receiver.endpoint("d")), "Phone")
    alert_id = _raise(alerts.Audience(user_ids=(responder.user_id,)))
    await asyncio.gather(alerts.deliver([alert_id], now=NOW), alerts.deliver([alert_id], now=NOW))
    assert len(receiver.pushes) == 1


def test_audience_is_roles_or_named_users_and_only_active_people(db, actor_factory):
    admin = actor_factory("admin")
    manager, viewer = actor_factory("manager"), actor_factory("viewer")
    with pytest.raises(PermissionDenied):
        alerts.set_audience("keyword", ["viewer"], [], viewer)
    alerts.set_audience("keyword", ["manager"], [viewer.user_id], admin)
    with session_scope() as s:
        audience = alerts.audience_for("keyword", s)
        people = {u.id for u in alerts._audience_users(s, audience)}
    assert people == {manager.user_id, viewer.user_id}
    with pytest.raises(UserError):
        alerts.set_audience("keyword", [], [], admin)


def test_snoozed_people_get_no_push_or_email_for_that_type_only(smtp_configured, actor_factory):
    responder = actor_factory("responder")
    until = alerts.snooze("spike", responder, now=NOW)
    assert until == NOW + timedelta(hours=1)
    assert alerts.snoozes(responder.user_id, now=NOW) == {"spike": until}
    spike = _raise(alerts.Audience(user_ids=(responder.user_id,)))
    keyword = _raise(alerts.Audience(user_ids=(responder.user_id,)), dataclasses.replace(SPEC, kind="keyword"))
    after = _raise(alerts.Audience(user_ids=(responder.user_id,)), now=NOW + timedelta(hours=1, seconds=1))
    assert "email" not in _rows(spike) and _rows(keyword)["email"].status == "pending" and _rows(after)["email"].status == "pending"
    with session_scope() as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "alert.snooze")).one().object_id == "spike"


def test_acknowledge_records_who_and_when_once_and_is_audited(db, actor_factory):
    responder, viewer = actor_factory("responder", "Riley"), actor_factory("viewer")
    alert_id = _raise(alerts.Audience(("admin",)))
    with pytest.raises(PermissionDenied):
        alerts.acknowledge(alert_id, viewer)
    alerts.acknowledge(alert_id, responder, now=NOW + timedelta(minutes=3))
    alerts.acknowledge(alert_id, actor_factory("manager"), now=NOW + timedelta(minutes=4))  # too late: stays Riley's
    [row] = alerts.history(alerts.HistoryFilter(), viewer_id=None)
    assert row.acknowledged_by == "Riley" and row.acknowledged_at == NOW + timedelta(minutes=3)
    with session_scope() as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "alert.ack")).all()) == 1


def test_history_filters_by_kind_acknowledgement_severity_and_date(db, actor_factory):
    responder = actor_factory("responder")
    a = _raise(alerts.Audience(("admin",)), now=NOW - timedelta(days=2))
    b = _raise(alerts.Audience(("admin",)), dataclasses.replace(SPEC, kind="keyword", severity="warning"), now=NOW - timedelta(days=1))
    c = _raise(alerts.Audience(("admin",)), now=NOW)
    alerts.acknowledge(c, responder, now=NOW)

    def ids(**f):
        return [r.id for r in alerts.history(alerts.HistoryFilter(**f), viewer_id=None)]

    assert ids() == [c, b, a]
    assert ids(kind="spike") == [c, a]
    assert ids(acknowledged="no") == [b, a] and ids(acknowledged="yes") == [c]
    assert ids(severity="warning") == [b]
    assert ids(since=NOW - timedelta(days=1, hours=1), until=NOW - timedelta(hours=1)) == [b]
    assert [r.id for r in alerts.history(alerts.HistoryFilter(), viewer_id=None, before_id=c, limit=1)] == [b]


def test_live_summary_counts_unacknowledged_and_lists_critical_ones(db, actor_factory):
    a = _raise(alerts.Audience(("admin",)))
    _raise(alerts.Audience(("admin",)), dataclasses.replace(SPEC, severity="warning"))
    summary = alerts.live_summary()
    assert summary.unacknowledged == 2
    assert [c["id"] for c in summary.critical] == [str(a)]
    assert summary.critical[0]["title_en"] == "Spike on all profiles: 57 messages in the last hour"
    alerts.acknowledge(a, actor_factory("responder"))
    assert alerts.live_summary() == alerts.LiveSummary(1, ())
