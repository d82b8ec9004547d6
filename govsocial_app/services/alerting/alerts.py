"""Alerts: raise one, work out who hears about it, deliver it by Web Push, email and in-app, and the alert centre's acknowledge, snooze and history.

Delivery is one AlertDelivery row per channel and recipient. Each row is claimed, sent and
recorded on its own, so a failing channel (SMTP down, a dead push service) never holds back
another; failures are retried with backoff and stay visible on the alert."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import Session, col, exists, func, or_, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, AlertDelivery, AlertRecipient, AlertSnooze, User
from govsocial_app.i18n import translate
from govsocial_app.services import audit, bus, mailer, settings_store
from govsocial_app.services.alerting import webpush
from govsocial_app.services.authz import ROLES, Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import AlertsChanged

log = logging.getLogger(__name__)

KINDS = ("spike", "keyword", "auth", "approval", "publish", "system", "official", "target_breach")
SEVERITIES = ("info", "warning", "critical")
SYSTEM = Actor.system("alerts")
AUDIENCE_SETTING = "alerts.audience"  # {kind: {"roles": [...], "user_ids": [...]}}; spike rules carry their own
DEFAULT_ROLES = {
    "spike": ("admin", "manager", "responder"),
    "keyword": ("admin", "manager", "responder"),
    "auth": ("admin",),
    "approval": ("admin", "manager"),
    "publish": ("admin", "manager", "publisher"),
    "system": ("admin",),
    "official": ("admin", "manager", "publisher", "responder"),  # official (CAP) alerts: services/cap/official.py
    "target_breach": ("admin", "manager"),  # response-time escalations go to the team lead; these roles without one
}
SNOOZE = timedelta(hours=1)
MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)  # a claimed row not recorded by then (crash) is picked up again by the retry job
PUSH_TTL_S = 4 * 3600  # a crisis alert older than this is stale news, not worth waking a phone for
SEND_CONCURRENCY = 10

EMAIL_OPEN = "Open in GovSocial: {url}"
EMAIL_ACK = "Acknowledge or snooze in the alert centre: {url}"
NO_SMTP = "Email is not set up: no SMTP server is configured."
MSGIDS = (EMAIL_OPEN, EMAIL_ACK, NO_SMTP)


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts`: 30 s, 2 min, 8 min, 32 min, then hourly."""
    return timedelta(seconds=min(3600, 30 * 4 ** max(0, attempts - 1)))


def _now(now: datetime | None) -> datetime:
    # SQLite keeps times as naive UTC text, so every comparison must be made in UTC.
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


# ---------------------------------------------------------------- raising


@dataclass(frozen=True)
class AlertSpec:
    kind: str
    severity: str
    title: str  # an English msgid with {named} params, translated per recipient
    body: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    translate_params: tuple[str, ...] = ()  # params whose values are msgids themselves
    link: str = ""
    profile_id: int | None = None
    keyword_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Audience:
    roles: tuple[str, ...] = ()
    user_ids: tuple[int, ...] = ()


def _render(msgid: str, params: dict[str, Any], translated: Sequence[str], lang: str) -> str:
    if not msgid:
        return ""
    values = {k: translate(str(v), lang) if k in translated else v for k, v in params.items()}
    return translate(msgid, lang, **values)


def rendered(alert: Alert, lang: str) -> tuple[str, str]:
    """The alert's title and body in `lang` (alerts raised without a msgid keep their stored text)."""
    i18n = (alert.data or {}).get("i18n")
    if not i18n:
        return alert.title, alert.body
    params, translated = i18n.get("params", {}), i18n.get("translate", [])
    return _render(i18n["title"], params, translated, lang), _render(i18n.get("body", ""), params, translated, lang)


def audience_for(kind: str, s: Session | None = None) -> Audience:
    """Who hears about alerts of `kind` (spike rules carry their own audience)."""
    entry = (settings_store.get(AUDIENCE_SETTING, {}, session=s) or {}).get(kind) or {}
    return Audience(tuple(entry.get("roles", DEFAULT_ROLES.get(kind, ("admin",)))), tuple(entry.get("user_ids", ())))


def set_audience(kind: str, roles: Sequence[str], user_ids: Sequence[int], actor: Actor) -> None:
    require(actor, "alerts.configure")
    if kind not in KINDS:
        raise UserError(f"Unknown alert type {kind!r}.")
    roles = sorted(set(roles))
    if unknown := [r for r in roles if r not in ROLES]:
        raise UserError(f"Unknown role: {', '.join(unknown)}.")
    if not roles and not user_ids:
        raise UserError("Choose at least one role or person to alert.")
    with session_scope() as s:
        current = dict(settings_store.get(AUDIENCE_SETTING, {}, session=s) or {})
        current[kind] = {"roles": roles, "user_ids": sorted(set(user_ids))}
        settings_store.put(s, AUDIENCE_SETTING, current, actor, audit_action="alerts.audience", kind=kind, **current[kind])


def _audience_users(s: Session, audience: Audience) -> list[User]:
    conds = []
    if audience.roles:
        conds.append(col(User.role).in_(list(audience.roles)))
    if audience.user_ids:
        conds.append(col(User.id).in_(list(audience.user_ids)))
    if not conds:
        return []
    return list(
        s.exec(select(User).where(or_(*conds), col(User.is_active).is_(True), col(User.deleted_at).is_(None)).order_by(col(User.id))).all()
    )


def _snoozed(s: Session, kind: str, now: datetime) -> set[int]:
    return set(s.exec(select(AlertSnooze.user_id).where(AlertSnooze.kind == kind, AlertSnooze.until > now)).all())


def create_alert(s: Session, spec: AlertSpec, audience: Audience, now: datetime | None = None) -> Alert:
    """Insert the alert and one pending delivery per channel and recipient, inside the caller's transaction.
    Call announce() after the commit, then deliver()."""
    now = _now(now)
    if spec.kind not in KINDS or spec.severity not in SEVERITIES:
        raise ValueError(f"bad alert kind/severity {spec.kind!r}/{spec.severity!r}")
    i18n = {"title": spec.title, "body": spec.body, "params": spec.params, "translate": list(spec.translate_params)}
    users = _audience_users(s, audience)
    snoozed = _snoozed(s, spec.kind, now)
    recipients = [u for u in users if u.id not in snoozed]
    alert = Alert(
        kind=spec.kind, severity=spec.severity,
        title=_render(spec.title, spec.params, spec.translate_params, "en")[:300],
        body=_render(spec.body, spec.params, spec.translate_params, "en"),
        link=spec.link[:1000], profile_id=spec.profile_id, keyword_id=spec.keyword_id,
        data={**spec.data, "i18n": i18n, "audience": {"users": len(users), "snoozed": len(users) - len(recipients)}},
        created_at=now,
    )
    s.add(alert)
    s.flush()
    # A personal alert (publishing.notify puts its people in data["user_ids"]) is only theirs to see and acknowledge.
    personal = sorted({int(u) for u in (spec.data.get("user_ids") or ())})
    if personal:
        known = set(s.exec(select(User.id).where(col(User.id).in_(personal))).all())
        s.add_all([AlertRecipient(alert_id=alert.id, user_id=u) for u in personal if u in known])
    audit.record(s, SYSTEM, "alert.raise", "alert", alert.id, kind=alert.kind, severity=alert.severity, title=alert.title[:200],
                 recipients=len(recipients))
    rows = [AlertDelivery(alert_id=alert.id, channel="inapp", target="banner", status="sent", attempts=1, sent_at=now)]
    subs = webpush.subscription_ids_by_user(s, [u.id for u in recipients])
    email_ready = mailer.smtp_config(s) is not None
    for u in recipients:
        for sid in subs.get(u.id, []):
            rows.append(AlertDelivery(alert_id=alert.id, channel="push", target=str(sid), user_id=u.id, next_attempt_at=now + LEASE))
        if email_ready:
            rows.append(AlertDelivery(alert_id=alert.id, channel="email", target=u.email, user_id=u.id, next_attempt_at=now + LEASE))
    if recipients and not email_ready:
        rows.append(AlertDelivery(alert_id=alert.id, channel="email", status="skipped", last_error=NO_SMTP))
    s.add_all(rows)
    return alert


def announce(alert_ids: Sequence[int]) -> None:
    """Tell every web worker (banner, badge, alert centre) after the alerts are committed."""
    if alert_ids:
        bus.publish(AlertsChanged(raised=tuple(alert_ids)))


# ---------------------------------------------------------------- delivering


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    channel: str
    target: webpush.PushTarget | str
    lang: str
    alert_id: int
    title: str
    body: str
    link: str
    severity: str


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # will be retried, or gave up
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _claim(alert_ids: list[int] | None, now: datetime) -> list[_Job]:
    """Take the rows to send now. Each row is claimed with a compare-and-set on (status, attempts),
    so the immediate send and the retry job can never both send it."""
    with session_scope() as s:
        q = select(AlertDelivery).where(col(AlertDelivery.channel).in_(("push", "email")))
        if alert_ids is not None:
            q = q.where(col(AlertDelivery.alert_id).in_(alert_ids), AlertDelivery.status == "pending")
        else:
            q = q.where(col(AlertDelivery.status).in_(("pending", "retrying", "sending")), col(AlertDelivery.next_attempt_at) <= now)
        rows = s.exec(q.order_by(col(AlertDelivery.id)).limit(500)).all()
        jobs: list[_Job] = []
        alerts: dict[int, Alert] = {}
        for row in rows:
            claimed = s.execute(
                update(AlertDelivery)
                .where(AlertDelivery.id == row.id, AlertDelivery.status == row.status, AlertDelivery.attempts == row.attempts)
                .values(status="sending", attempts=row.attempts + 1, next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                continue
            target: webpush.PushTarget | str | None = row.target
            if row.channel == "push":
                target = webpush.target(s, int(row.target))
                if target is None:
                    s.execute(update(AlertDelivery).where(AlertDelivery.id == row.id)
                              .values(status="skipped", last_error="The device was removed.", next_attempt_at=None)
                              .execution_options(synchronize_session=False))
                    continue
            alert = alerts.get(row.alert_id) or s.get(Alert, row.alert_id)
            alerts[alert.id] = alert
            user = s.get(User, row.user_id) if row.user_id else None
            lang = user.locale if user else "en"
            title, body = rendered(alert, lang)
            jobs.append(_Job(row.id, row.channel, target, lang, alert.id, title, body, alert.link, alert.severity))
        return jobs


def _email_text(job: _Job) -> str:
    base = get_settings().public_url
    lines = [job.title, "", job.body] if job.body else [job.title]
    if job.link:
        lines += ["", translate(EMAIL_OPEN, job.lang, url=base + job.link)]
    lines += [translate(EMAIL_ACK, job.lang, url=f"{base}/alerts"), ""]
    return "\n".join(lines)


async def _send(job: _Job, client: httpx.AsyncClient, gate: asyncio.Semaphore) -> tuple[int, str, str]:
    """(delivery id, "sent" | "skipped" | "error", error text). Never raises: isolation is the point."""
    async with gate:
        try:
            if job.channel == "push":
                payload = {"title": job.title, "body": job.body, "url": job.link or "/alerts", "tag": f"alert-{job.alert_id}",
                           "severity": job.severity, "alert_id": job.alert_id}
                urgency = "high" if job.severity == "critical" else "normal"
                result = await webpush.send(job.target, payload, ttl=PUSH_TTL_S, urgency=urgency, client=client)
                if result.ok:
                    return job.delivery_id, "sent", ""
                return job.delivery_id, "skipped" if result.gone else "error", result.error
            await mailer.send_mail([job.target], job.title, _email_text(job))
            return job.delivery_id, "sent", ""
        except Exception as exc:  # noqa: BLE001 - any failure of one channel is recorded, never propagated
            log.warning("alert %s: %s delivery %s failed: %s", job.alert_id, job.channel, job.delivery_id, exc)
            return job.delivery_id, "error", f"{type(exc).__name__}: {exc}"[:1000]


def _record(outcomes: list[tuple[int, str, str]], now: datetime) -> DeliveryReport:
    report = DeliveryReport()
    with session_scope() as s:
        for delivery_id, outcome, error in outcomes:
            row = s.get(AlertDelivery, delivery_id)
            row.last_error = error[:1000]
            if outcome == "sent":
                row.status, row.sent_at, row.next_attempt_at = "sent", now, None
                report.sent += 1
            elif outcome == "skipped":
                row.status, row.next_attempt_at = "skipped", None
                report.skipped += 1
            else:
                report.failed += 1
                report.errors.append(f"{row.channel}: {error}")
                if row.attempts >= MAX_ATTEMPTS:
                    row.status, row.next_attempt_at = "failed", None
                    audit.record(s, SYSTEM, "alert.delivery_failed", "alert", row.alert_id, channel=row.channel,
                                 attempts=row.attempts, error=error[:300])
                else:
                    row.status, row.next_attempt_at = "retrying", now + backoff(row.attempts)
    return report


async def deliver(alert_ids: Sequence[int] | None = None, *, now: datetime | None = None) -> DeliveryReport:
    """Send pending deliveries of `alert_ids` now, or (None) every delivery due for a retry.
    All channels go out concurrently; each outcome is recorded on its own row."""
    now = _now(now)
    jobs = await asyncio.to_thread(_claim, None if alert_ids is None else list(alert_ids), now)
    if not jobs:
        return DeliveryReport()
    gate = asyncio.Semaphore(SEND_CONCURRENCY)
    async with webpush.push_client() as client:  # refuses push endpoints on private networks at connection time
        outcomes = await asyncio.gather(*(_send(j, client, gate) for j in jobs))
    report = await asyncio.to_thread(_record, list(outcomes), now)
    if report.failed or report.skipped:
        bus.publish(AlertsChanged(undelivered=tuple(sorted({j.alert_id for j in jobs}))))
    return report


# ---------------------------------------------------------------- the alert centre


def acknowledge(alert_id: int, actor: Actor, now: datetime | None = None) -> None:
    require(actor, "alerts.ack")
    now = _now(now)
    with session_scope() as s:
        alert = s.get(Alert, alert_id)
        if alert is None or not s.exec(select(Alert.id).where(Alert.id == alert_id, visible_to(actor.user_id))).first():
            raise UserError("That alert no longer exists.")  # someone else's personal alert: not even its existence
        if alert.acknowledged_at is not None:
            return  # someone else was quicker; the page shows who
        alert.acknowledged_at, alert.acknowledged_by = now, actor.user_id
        audit.record(s, actor, "alert.ack", "alert", alert_id, kind=alert.kind, severity=alert.severity)
        bus.announce_after_commit(s, AlertsChanged(acknowledged=(alert_id,)))


def snooze(kind: str, actor: Actor, now: datetime | None = None, duration: timedelta = SNOOZE) -> datetime:
    """Stop this user's push and email for one alert type for `duration` (in-app history still shows them)."""
    require(actor, "alerts.view")
    if kind not in KINDS:
        raise UserError(f"Unknown alert type {kind!r}.")
    if actor.user_id is None:
        raise UserError("Only a signed-in person can snooze alerts.")
    now = _now(now)
    until = now + duration
    with session_scope() as s:
        row = s.exec(select(AlertSnooze).where(AlertSnooze.user_id == actor.user_id, AlertSnooze.kind == kind, AlertSnooze.until > now)).first()
        if row is None:
            s.add(AlertSnooze(user_id=actor.user_id, kind=kind, until=until))
        else:
            row.until = until
        audit.record(s, actor, "alert.snooze", "alert_kind", kind, until=until)
    return until


def snoozes(user_id: int, now: datetime | None = None) -> dict[str, datetime]:
    """The alert types this user has snoozed, and until when."""
    with session_scope() as s:
        rows = s.exec(select(AlertSnooze).where(AlertSnooze.user_id == user_id, AlertSnooze.until > _now(now))).all()
        return {r.kind: r.until for r in rows}


@dataclass(frozen=True)
class HistoryFilter:
    kind: str = ""
    acknowledged: str = ""  # "", "yes", "no"
    severity: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class DeliveryLine:
    channel: str
    status: str
    count: int
    error: str  # the latest error among them


@dataclass(frozen=True)
class AlertRow:
    id: int
    kind: str
    severity: str
    title: str
    body: str
    link: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str
    count: int | None
    baseline: float | None
    threshold: int | None
    terms: tuple[tuple[str, str], ...]  # (term, inbox link)
    deliveries: tuple[DeliveryLine, ...]


def visible_to(user_id: int | None):
    """The alerts this person may see: the team's (no named recipients) and the personal ones addressed to them."""
    personal = exists().where(AlertRecipient.alert_id == Alert.id)
    if user_id is None:
        return ~personal
    return or_(~personal, exists().where(AlertRecipient.alert_id == Alert.id, AlertRecipient.user_id == user_id))


def _conditions(f: HistoryFilter) -> list:
    conds = []
    if f.kind:
        conds.append(Alert.kind == f.kind)
    if f.severity:
        conds.append(Alert.severity == f.severity)
    if f.acknowledged == "yes":
        conds.append(col(Alert.acknowledged_at).is_not(None))
    elif f.acknowledged == "no":
        conds.append(col(Alert.acknowledged_at).is_(None))
    if f.since:
        conds.append(Alert.created_at >= f.since)
    if f.until:
        conds.append(Alert.created_at < f.until)
    return conds


def _delivery_lines(s: Session, alert_ids: list[int]) -> dict[int, tuple[DeliveryLine, ...]]:
    counts: dict[int, Counter] = {}
    errors: dict[tuple[int, str, str], str] = {}
    rows = s.exec(select(AlertDelivery).where(col(AlertDelivery.alert_id).in_(alert_ids)).order_by(col(AlertDelivery.id))).all()
    for d in rows:
        counts.setdefault(d.alert_id, Counter())[(d.channel, d.status)] += 1
        if d.last_error:
            errors[(d.alert_id, d.channel, d.status)] = d.last_error
    return {
        aid: tuple(DeliveryLine(ch, st, n, errors.get((aid, ch, st), "")) for (ch, st), n in sorted(c.items()))
        for aid, c in counts.items()
    }


def history(f: HistoryFilter, *, viewer_id: int | None, lang: str = "en", before_id: int | None = None, limit: int = 50) -> list[AlertRow]:
    """Newest first, keyset-paged by id: the team's alerts and the viewer's own personal ones."""
    with session_scope() as s:
        q = select(Alert).where(*_conditions(f), visible_to(viewer_id))
        if before_id:
            q = q.where(Alert.id < before_id)
        alerts = s.exec(q.order_by(col(Alert.id).desc()).limit(limit)).all()
        ackers = {u.id: u.display_name for u in s.exec(select(User).where(col(User.id).in_([a.acknowledged_by for a in alerts if a.acknowledged_by]))).all()}
        lines = _delivery_lines(s, [a.id for a in alerts])
        out = []
        for a in alerts:
            data = a.data or {}
            title, body = rendered(a, lang)
            links = data.get("term_links") or {}
            out.append(AlertRow(
                a.id, a.kind, a.severity, title, body, a.link, a.created_at, a.acknowledged_at,
                ackers.get(a.acknowledged_by, ""), data.get("count"), data.get("baseline"), data.get("threshold"),
                tuple((t, links.get(t, a.link)) for t, _n in data.get("terms") or ()), lines.get(a.id, ()),
            ))
        return out


@dataclass(frozen=True)
class LiveSummary:
    unacknowledged: int  # the team's open alerts
    critical: tuple[dict[str, str], ...]  # newest unacknowledged critical alerts: id, title_en, title_ar, link
    personal: dict[int, int] = field(default_factory=dict)  # user id → their open personal alerts
    personal_critical: dict[int, tuple[dict[str, str], ...]] = field(default_factory=dict)

    def for_user(self, user_id: int) -> tuple[int, list[dict[str, str]]]:
        """What one person's badge and banner show: the team's alerts and their own, never another person's."""
        mine = list(self.personal_critical.get(user_id, ()))
        return self.unacknowledged + self.personal.get(user_id, 0), (mine + list(self.critical))[: max(len(self.critical), 3)]


def live_summary(limit: int = 3) -> LiveSummary:
    """What every signed-in screen shows, read once for all of them: the team's badge count and banner, and each
    person's own personal alerts on top (LiveSummary.for_user)."""
    def banner(a: Alert) -> dict[str, str]:
        return {"id": str(a.id), "title_en": rendered(a, "en")[0], "title_ar": rendered(a, "ar")[0], "link": a.link or "/alerts"}

    with session_scope() as s:
        team, open_ = visible_to(None), col(Alert.acknowledged_at).is_(None)
        open_count = s.exec(select(func.count()).select_from(Alert).where(open_, team)).one()
        rows = s.exec(select(Alert).where(open_, team, Alert.severity == "critical").order_by(col(Alert.id).desc()).limit(limit)).all()
        personal = dict(s.exec(
            select(AlertRecipient.user_id, func.count()).join(Alert, Alert.id == AlertRecipient.alert_id).where(open_).group_by(AlertRecipient.user_id)
        ).all())
        crit: dict[int, list[dict[str, str]]] = {}
        for uid, a in s.exec(
            select(AlertRecipient.user_id, Alert).join(Alert, Alert.id == AlertRecipient.alert_id)
            .where(open_, Alert.severity == "critical").order_by(col(Alert.id).desc()).limit(200)
        ).all():
            if len(crit.setdefault(uid, [])) < limit:
                crit[uid].append(banner(a))
        return LiveSummary(open_count, tuple(banner(a) for a in rows), personal, {u: tuple(v) for u, v in crit.items()})
