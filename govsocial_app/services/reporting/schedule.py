"""Scheduled reports: subscriptions (weekly on Monday or monthly on the 1st, at a local time), and the logged, retried email sends."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import update
from sqlmodel import col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import ReportSend, ReportSubscription, SocialProfile, User
from govsocial_app.services import audit, mailer, settings_store
from govsocial_app.services.reporting import pdf as report_pdf, reports
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.timefmt import checked_zone

log = logging.getLogger(__name__)

CADENCES = ("weekly", "monthly")
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=5)  # attempt n waits 5, 15, 35, 75 minutes after the first
MAX_RECIPIENTS = 20
_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


# ---------------------------------------------------------------- calendar


def next_run(cadence: str, local_time: str, tz: str, after: datetime) -> datetime:
    """The first Monday (weekly) or 1st of the month (monthly) at `local_time` in `tz` strictly after `after`, in UTC."""
    zone = checked_zone(tz)
    match = _TIME.fullmatch(local_time or "")
    if not match:
        raise UserError("Give the time as HH:MM, for example 08:00.")
    at = time(int(match[1]), int(match[2]))
    day = after.astimezone(zone).date()
    for _ in range(400):
        if (cadence == "weekly" and day.weekday() == 0) or (cadence == "monthly" and day.day == 1):
            candidate = datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)
            if candidate > after:
                return candidate
        day += timedelta(days=1)
    raise UserError("Unknown schedule: choose weekly or monthly.")


def period_for(cadence: str, run_day: date) -> tuple[date, date]:
    """The complete period a send on `run_day` reports: the Monday-to-Sunday week before it, or the month before."""
    if cadence == "weekly":
        end = run_day - timedelta(days=run_day.weekday() + 1)
        return end - timedelta(days=6), end
    end = run_day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def retry_at(created_at: datetime, attempts: int) -> datetime:
    """When a send that has had `attempts` attempts may be tried again: 0, 5, 15, 35, 75 minutes after it was created."""
    return created_at + RETRY_BASE * (2**attempts - 1)


# ---------------------------------------------------------------- subscriptions


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    report: str
    cadence: str
    local_time: str
    timezone: str
    recipients: list[str]
    filters: dict
    next_run_at: datetime | None
    owner: str


@dataclass(frozen=True)
class SendView:
    id: int
    subscription_id: int
    report: str
    period_start: date
    period_end: date
    status: str  # pending, sending, sent, failed (retrying while attempts < MAX_ATTEMPTS), gave_up
    attempts: int
    last_error: str
    sent_at: datetime | None
    created_at: datetime


def parse_recipients(raw: str | list[str]) -> list[str]:
    items = raw if isinstance(raw, list) else re.split(r"[\s,;]+", raw or "")
    out = list(dict.fromkeys(a.strip().lower() for a in items if a.strip()))
    bad = [a for a in out if not _EMAIL.fullmatch(a)]
    if bad:
        raise UserError(f"Not an email address: {bad[0]}")
    if not out:
        raise UserError("Add at least one email address.")
    if len(out) > MAX_RECIPIENTS:
        raise UserError(f"At most {MAX_RECIPIENTS} recipients per subscription.")
    return out


def check_recipients(emails: list[str]) -> None:
    outside = [a for a in emails if a not in allowed_recipients(emails)]
    if outside:
        raise UserError(f"{outside[0]} cannot receive reports: send them to people with a GovSocial account, or ask an "
                        "administrator to allow that address's domain.")


# ---------------------------------------------------------------- who may receive reports

DOMAINS_SETTING = "reports.recipient_domains"
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def recipient_domains() -> list[str]:
    """Domains outside the user list that reports may be emailed to, as an administrator set them."""
    return list(settings_store.get(DOMAINS_SETTING, []) or [])


def set_recipient_domains(actor: Actor, raw: str | list[str]) -> list[str]:
    require(actor, "settings.manage")
    items = raw if isinstance(raw, list) else re.split(r"[\s,;]+", raw or "")
    domains = list(dict.fromkeys(d.strip().lower().lstrip("@").rstrip(".") for d in items if d.strip()))
    bad = [d for d in domains if not _DOMAIN.fullmatch(d)]
    if bad:
        raise UserError(f"Not a domain name: {bad[0]}")
    settings_store.set_value(DOMAINS_SETTING, domains, actor, audit_action="reports.recipient_domains", domains=domains)
    return domains


def allowed_recipients(emails: list[str]) -> set[str]:
    """Which of these addresses may receive the agency's reports: active users of GovSocial, and addresses in a domain
    (or a subdomain of one) that an administrator allowed. Anyone else could be sent the agency's figures by any publisher."""
    emails = [e.lower() for e in emails]
    with session_scope() as s:
        users = set(s.exec(select(User.email).where(col(User.email).in_(emails), col(User.is_active).is_(True),
                                                     col(User.deleted_at).is_(None))).all())
    domains = recipient_domains()

    def in_domain(email: str) -> bool:
        host = email.rsplit("@", 1)[-1]
        return any(host == d or host.endswith("." + d) for d in domains)

    return {e for e in emails if e in users or in_domain(e)}


def subscribe(actor: Actor, report: str, filters: dict, cadence: str, local_time: str, tz: str, recipients: str | list[str],
              now: datetime | None = None) -> int:
    require(actor, "reports.schedule")
    if report not in reports.REPORTS:
        raise UserError("Unknown report.")
    if cadence not in CADENCES:
        raise UserError("Choose weekly or monthly.")
    clean = {"profile_ids": [int(p) for p in filters.get("profile_ids") or []], "networks": [str(n) for n in filters.get("networks") or []]}
    emails = parse_recipients(recipients)
    check_recipients(emails)
    first = next_run(cadence, local_time, tz, now or datetime.now(timezone.utc))
    with session_scope() as s:
        sub = ReportSubscription(user_id=actor.user_id, report=report, filters=clean, cadence=cadence, local_time=local_time, timezone=tz,
                                 recipients=emails, next_run_at=first)
        s.add(sub)
        s.flush()
        audit.record(s, actor, "report.subscribe", "report_subscription", sub.id, report=report, cadence=cadence, local_time=local_time,
                     timezone=tz, recipients=emails, filters=clean)
        return sub.id


def unsubscribe(actor: Actor, subscription_id: int) -> None:
    require(actor, "reports.schedule")
    with session_scope() as s:
        sub = s.get(ReportSubscription, subscription_id)
        if sub is None or sub.deleted_at is not None:
            raise UserError("That subscription does not exist.")
        if sub.user_id != actor.user_id and actor.role not in ("admin", "manager", "system"):
            raise UserError("Only its owner or a manager can cancel this subscription.")
        sub.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "report.unsubscribe", "report_subscription", sub.id, report=sub.report)


def subscriptions() -> list[SubscriptionView]:
    with session_scope() as s:
        rows = s.exec(
            select(ReportSubscription, User.display_name).join(User, User.id == ReportSubscription.user_id)
            .where(col(ReportSubscription.deleted_at).is_(None)).order_by(col(ReportSubscription.id).desc()).limit(50)
        ).all()
        return [SubscriptionView(r.id, r.report, r.cadence, r.local_time, r.timezone, list(r.recipients), dict(r.filters),
                                 r.next_run_at, owner) for r, owner in rows]


def send_status(send: ReportSend) -> str:
    return "gave_up" if send.status == "failed" and send.attempts >= MAX_ATTEMPTS else send.status


def sends(limit: int = 30) -> list[SendView]:
    with session_scope() as s:
        rows = s.exec(
            select(ReportSend, ReportSubscription.report).join(ReportSubscription, ReportSubscription.id == ReportSend.subscription_id)
            .order_by(col(ReportSend.id).desc()).limit(limit)
        ).all()
        return [SendView(r.id, r.subscription_id, report, r.period_start, r.period_end, send_status(r), r.attempts, r.last_error,
                         r.sent_at, r.created_at) for r, report in rows]


# ---------------------------------------------------------------- the job


def plan_due(now: datetime) -> list[int]:
    """Log a pending send for every subscription whose time has come, and move it on to its next run."""
    made = []
    with session_scope() as s:
        due = s.exec(
            select(ReportSubscription).where(col(ReportSubscription.deleted_at).is_(None), col(ReportSubscription.next_run_at).is_not(None),
                                             ReportSubscription.next_run_at <= now)
        ).all()
        for sub in due:
            run_day = sub.next_run_at.astimezone(checked_zone(sub.timezone)).date()
            start, end = period_for(sub.cadence, run_day)
            exists = s.exec(select(ReportSend.id).where(ReportSend.subscription_id == sub.id, ReportSend.period_start == start,
                                                        ReportSend.period_end == end)).first()
            if exists is None:
                send = ReportSend(subscription_id=sub.id, period_start=start, period_end=end, status="pending", created_at=now)
                s.add(send)
                s.flush()
                made.append(send.id)
            # After downtime, skip the missed runs rather than sending a burst of stale reports.
            sub.next_run_at = next_run(sub.cadence, sub.local_time, sub.timezone, max(now, sub.next_run_at))
    return made


def due_send_ids(now: datetime) -> list[int]:
    with session_scope() as s:
        rows = s.exec(
            select(ReportSend).where(col(ReportSend.status).in_(("pending", "failed", "sending")), ReportSend.attempts < MAX_ATTEMPTS)
            .order_by(ReportSend.id)
        ).all()
        return [r.id for r in rows if retry_at(r.created_at, r.attempts) <= now]


def _claim(send_id: int, seen_attempts: int | None) -> tuple[ReportSend, ReportSubscription] | None:
    """Take a send for one attempt. The conditional update means two workers (or the job and a "retry now") never both send."""
    with session_scope() as s:
        send = s.get(ReportSend, send_id)
        if send is None or send.status == "sent":
            return None
        attempts = send.attempts if seen_attempts is None else seen_attempts
        claimed = s.execute(
            update(ReportSend).where(ReportSend.id == send_id, ReportSend.attempts == attempts, ReportSend.status != "sent")
            .values(status="sending", attempts=attempts + 1)
        ).rowcount
        if not claimed:
            return None
        s.refresh(send)
        sub = s.get(ReportSubscription, send.subscription_id)
        s.expunge_all()
        return send, sub


def render_for(sub: ReportSubscription, start: date, end: date) -> tuple[reports.Report, bytes]:
    f = reports.ReportFilters.from_dict(start, end, {**(sub.filters or {}), "tz": sub.timezone})
    report = reports.build(sub.report, f)
    names = []
    if f.profile_ids:
        with session_scope() as s:
            names = [p.display_name or p.handle for p in s.exec(select(SocialProfile).where(col(SocialProfile.id).in_(f.profile_ids))).all()]
    return report, report_pdf.render(report, profile_names=names)


def email_text(report: reports.Report) -> tuple[str, str]:
    """(subject, plain-text body) of a scheduled report's email."""
    subject = f"{get_settings().agency_name}: {report.title}, {report.filters.label()}"
    body = (
        f"{report.title} for {report.filters.label()}\n\n{report.summary()}\n\n"
        "The full report is attached as a PDF.\n\nSent by GovSocial. To stop these emails, cancel the subscription on the Reports page."
    )
    return subject, body


async def deliver(send_id: int, *, seen_attempts: int | None = None) -> bool:
    """One attempt at one send: render the PDF, email it, and log the outcome. Returns whether it was sent."""
    claimed = await asyncio.to_thread(_claim, send_id, seen_attempts)
    if claimed is None:
        return False
    send, sub = claimed
    error = ""
    try:
        # Checked again at each send: someone who left the agency, or a domain no longer allowed, gets nothing more.
        allowed = await asyncio.to_thread(allowed_recipients, list(sub.recipients))
        recipients = [r for r in sub.recipients if r in allowed]
        if not recipients:
            raise UserError("None of the recipients may receive reports any more.")
        report, pdf = await asyncio.to_thread(render_for, sub, send.period_start, send.period_end)
        subject, body = email_text(report)
        await mailer.send_mail(recipients, subject, body,
                               attachments=[mailer.Attachment(report_pdf.filename(report), pdf, "application/pdf")])
    except Exception as exc:  # any failure is logged on the send and retried; nothing escapes the job
        error = f"{type(exc).__name__}: {exc}"[:1000]
        log.warning("report send %s failed (attempt %s): %s", send_id, send.attempts, error)

    def finish() -> None:
        with session_scope() as s:
            row = s.get(ReportSend, send_id)
            row.status, row.last_error = ("failed", error) if error else ("sent", "")
            if not error:
                row.sent_at = datetime.now(timezone.utc)

    await asyncio.to_thread(finish)
    return not error


async def run_due(now: datetime | None = None) -> dict[str, int]:
    """The scheduled job: plan what is due, then make one attempt at each send whose retry time has come."""
    now = now or datetime.now(timezone.utc)
    planned = await asyncio.to_thread(plan_due, now)
    sent = failed = 0
    for send_id in await asyncio.to_thread(due_send_ids, now):
        if await deliver(send_id):
            sent += 1
        else:
            failed += 1
    return {"planned": len(planned), "sent": sent, "failed": failed}


async def retry_now(actor: Actor, send_id: int) -> bool:
    """A person asks for a failed send to be tried again at once (one more attempt, even after the automatic ones)."""
    require(actor, "reports.schedule")

    def reopen() -> int:
        with session_scope() as s:
            send = s.get(ReportSend, send_id)
            if send is None or send.status == "sent":
                raise UserError("That send does not exist or has already gone.")
            if send.status == "sending":
                raise UserError("That send is being tried right now.")
            audit.record(s, actor, "report.retry", "report_send", send.id, attempts=send.attempts)
            return send.attempts

    seen = await asyncio.to_thread(reopen)
    return await deliver(send_id, seen_attempts=seen)


async def send_now(actor: Actor, subscription_id: int, now: datetime | None = None) -> bool:
    """Send the most recent complete period of a subscription now (to check it arrives), logged like any send."""
    require(actor, "reports.schedule")
    now = now or datetime.now(timezone.utc)

    def make() -> int:
        with session_scope() as s:
            sub = s.get(ReportSubscription, subscription_id)
            if sub is None or sub.deleted_at is not None:
                raise UserError("That subscription does not exist.")
            start, end = period_for(sub.cadence, now.astimezone(checked_zone(sub.timezone)).date())
            send = ReportSend(subscription_id=sub.id, period_start=start, period_end=end, status="pending", created_at=now)
            s.add(send)
            s.flush()
            audit.record(s, actor, "report.send_now", "report_subscription", sub.id, send_id=send.id)
            return send.id

    return await deliver(await asyncio.to_thread(make))
