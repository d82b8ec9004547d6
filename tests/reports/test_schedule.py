"""Scheduled reports: the calendar, the retry schedule, and a real email with the PDF attached at a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import io
import socket
from datetime import date, datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller

from govsocial_app import config
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, ReportSend
from govsocial_app.services.reporting import schedule as RS
from govsocial_app.services.errors import UserError
from tests.reports import factory as F
from tests.reports.conftest import at


@pytest.fixture(autouse=True)
def _agency_domains(request):
    """The agency's administrator allowed its own domains for emailed reports (tests below that need a database)."""
    if "db" in request.fixturenames or "any_db" in request.fixturenames:
        request.getfixturevalue("db" if "db" in request.fixturenames else "any_db")
        from govsocial_app.services import settings_store
        from govsocial_app.services.authz import Actor

        settings_store.set_value(RS.DOMAINS_SETTING, ["riverton.gov", "b.gov"], Actor.system("test"))


def test_next_run_weekly_is_monday_at_local_time():
    # Fri 13 Nov 2026 → Mon 16 Nov 08:00 in Dubai (UTC+4) = 04:00 UTC
    assert RS.next_run("weekly", "08:00", "Asia/Dubai", at(13)) == datetime(2026, 11, 16, 4, 0, tzinfo=timezone.utc)
    # On the Monday itself, after the time: a week later
    assert RS.next_run("weekly", "08:00", "UTC", datetime(2026, 11, 16, 9, tzinfo=timezone.utc)) == at(23, 8)


def test_next_run_monthly_is_the_first():
    assert RS.next_run("monthly", "07:30", "UTC", at(13)) == datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)
    # New York in winter is UTC-5
    assert RS.next_run("monthly", "07:30", "America/New_York", at(13)) == datetime(2026, 12, 1, 12, 30, tzinfo=timezone.utc)


def test_bad_schedule_inputs():
    with pytest.raises(UserError):
        RS.next_run("weekly", "25:00", "UTC", at(1))
    with pytest.raises(UserError):
        RS.next_run("weekly", "08:00", "Nowhere/Special", at(1))
    with pytest.raises(UserError):
        RS.parse_recipients("ok@x.gov, not-an-address")
    assert RS.parse_recipients("A@x.gov; b@y.gov a@x.gov") == ["a@x.gov", "b@y.gov"]


def test_periods():
    assert RS.period_for("weekly", date(2026, 11, 16)) == (date(2026, 11, 9), date(2026, 11, 15))
    assert RS.period_for("weekly", date(2026, 11, 18)) == (date(2026, 11, 9), date(2026, 11, 15))  # a late run: same week
    assert RS.period_for("monthly", date(2026, 12, 1)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert RS.period_for("monthly", date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))


def test_retry_schedule():
    created = at(1, 10)
    assert [RS.retry_at(created, n) - created for n in range(5)] == [timedelta(minutes=m) for m in (0, 5, 15, 35, 75)]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """aiosmtpd on a fixed local port that a test can take down and bring back (a stopped controller cannot restart)."""

    def __init__(self, inbox: _Inbox, port: int):
        self.inbox, self.port, self.controller = inbox, port, None

    def up(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server (aiosmtpd) on a free local port, and the app's settings pointed at it."""
    server = _Server(_Inbox(), _free_port())
    server.up()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    monkeypatch.setenv("SMTP_STARTTLS", "0")
    monkeypatch.setenv("SMTP_FROM", "GovSocial <reports@riverton.gov>")
    config.reset_settings_cache()
    yield server
    server.down()
    config.reset_settings_cache()


async def test_scheduled_report_arrives_with_the_pdf(db, actor_factory, smtp):
    inbox = smtp.inbox
    manager = actor_factory("manager")
    pid = F.profile("@city", name="City")
    F.message(pid, at(10, 9), text="hello")  # in the week of 9–15 Nov
    F.daily(pid, date(2026, 11, 15), 1234)
    sub_id = RS.subscribe(manager, "inbox", {"profile_ids": [pid]}, "weekly", "08:00", "UTC", "lead@riverton.gov, deputy@riverton.gov",
                          now=at(13))
    assert await RS.run_due(at(16, 7, 59)) == {"planned": 0, "sent": 0, "failed": 0}  # not yet
    assert await RS.run_due(at(16, 8, 0)) == {"planned": 1, "sent": 1, "failed": 0}
    assert len(inbox.messages) == 1
    rcpts, raw = inbox.messages[0]
    assert sorted(rcpts) == ["deputy@riverton.gov", "lead@riverton.gov"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert "Inbox activity" in msg["Subject"] and "9 Nov – 15 Nov 2026" in msg["Subject"]
    pdfs = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_filename() == "inbox-report-2026-11-09-2026-11-15.pdf"
    body = pdfs[0].get_payload(decode=True)
    assert body.startswith(b"%PDF")
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert "Inbox activity" in text and "City" in text
    sends = RS.sends()
    assert sends[0].status == "sent" and sends[0].attempts == 1 and sends[0].sent_at is not None
    # Running again sends nothing twice; the next run is a week on.
    assert await RS.run_due(at(16, 8, 5)) == {"planned": 0, "sent": 0, "failed": 0}
    assert RS.subscriptions()[0].next_run_at == at(23, 8)
    with session_scope() as s:
        assert s.query(AuditLog).filter(AuditLog.action == "report.subscribe").count() == 1


async def test_failed_send_is_logged_retried_and_shown(db, actor_factory, smtp, monkeypatch):
    inbox = smtp.inbox
    manager = actor_factory("manager")
    RS.subscribe(manager, "tags", {}, "monthly", "06:00", "UTC", ["lead@riverton.gov"], now=at(13))
    smtp.down()  # the mail server is down
    first = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
    assert await RS.run_due(first) == {"planned": 1, "sent": 0, "failed": 1}
    shown = RS.sends()[0]
    assert (shown.status, shown.attempts, shown.period_start, shown.period_end) == ("failed", 1, date(2026, 11, 1), date(2026, 11, 30))
    assert shown.last_error
    assert await RS.run_due(first + timedelta(minutes=4)) == {"planned": 0, "sent": 0, "failed": 0}  # backing off
    smtp.up()
    assert await RS.run_due(first + timedelta(minutes=5)) == {"planned": 0, "sent": 1, "failed": 0}
    assert RS.sends()[0].status == "sent" and RS.sends()[0].attempts == 2
    assert len(inbox.messages) == 1


async def test_gives_up_after_max_attempts_and_manual_retry(db, actor_factory, smtp):
    inbox = smtp.inbox
    manager = actor_factory("manager")
    RS.subscribe(manager, "profiles", {}, "weekly", "08:00", "UTC", ["lead@riverton.gov"], now=at(13))
    smtp.down()
    t = at(16, 8)
    for _ in range(RS.MAX_ATTEMPTS):
        await RS.run_due(t)
        t += timedelta(hours=3)
    assert RS.sends()[0].status == "gave_up" and RS.sends()[0].attempts == RS.MAX_ATTEMPTS
    assert await RS.run_due(t + timedelta(days=1)) == {"planned": 0, "sent": 0, "failed": 0}
    smtp.up()
    send_id = RS.sends()[0].id
    assert await RS.retry_now(manager, send_id) is True
    assert RS.sends()[0].status == "sent"
    with pytest.raises(UserError):
        await RS.retry_now(manager, send_id)


def test_subscribing_needs_the_permission(db, actor_factory):
    from govsocial_app.services.authz import PermissionDenied

    with pytest.raises(PermissionDenied):
        RS.subscribe(actor_factory("viewer"), "tags", {}, "weekly", "08:00", "UTC", ["a@b.gov"])
    manager = actor_factory("manager")
    sub = RS.subscribe(manager, "tags", {}, "weekly", "08:00", "UTC", ["a@b.gov"])
    RS.unsubscribe(manager, sub)
    assert RS.subscriptions() == []
    with session_scope() as s:
        assert s.query(ReportSend).count() == 0


# ---------------------------------------------------------------- who may receive reports (security review, issue 13)


def test_reports_go_only_to_users_or_allowed_domains(db, actor_factory):
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    publisher, admin = actor_factory("publisher"), actor_factory("admin")
    auth.create_user("chief@county.example", "County Chief", "a long enough phrase", "viewer", Actor.system("t"))
    with pytest.raises(UserError, match="attacker@gmail.com cannot receive reports"):
        RS.subscribe(publisher, "tags", {}, "weekly", "08:00", "UTC", "lead@riverton.gov, attacker@gmail.com", now=at(13))
    with pytest.raises(UserError, match="cannot receive"):
        RS.subscribe(publisher, "tags", {}, "weekly", "08:00", "UTC", "x@riverton.gov.evil.example", now=at(13))
    # A GovSocial user anywhere, the allowed domains and their subdomains are fine.
    RS.subscribe(publisher, "tags", {}, "weekly", "08:00", "UTC", "chief@county.example, lead@riverton.gov, ops@fire.riverton.gov", now=at(13))
    with pytest.raises(Exception, match="settings.manage"):
        RS.set_recipient_domains(publisher, "gmail.com")
    assert RS.set_recipient_domains(admin, "Partner.example, @riverton.gov") == ["partner.example", "riverton.gov"]
    with pytest.raises(UserError, match="Not a domain"):
        RS.set_recipient_domains(admin, "not a domain!")
    with session_scope() as s:
        assert s.query(AuditLog).filter(AuditLog.action == "reports.recipient_domains").count() >= 1


async def test_a_recipient_no_longer_allowed_gets_nothing_more(db, actor_factory, smtp):
    manager = actor_factory("manager")
    sub_id = RS.subscribe(manager, "tags", {}, "weekly", "08:00", "UTC", "lead@riverton.gov, partner@b.gov", now=at(13))
    RS.set_recipient_domains(actor_factory("admin"), "riverton.gov")  # b.gov is no longer allowed
    assert await RS.send_now(manager, sub_id, now=at(13))
    assert [rcpts for rcpts, _raw in smtp.inbox.messages] == [["lead@riverton.gov"]]
