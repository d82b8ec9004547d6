"""Official alerts in the product: poll the due CAP sources, store what arrived, raise an "Official alert" in the
alert centre (push and email through services/alerting/alerts.py, which honours each person's snooze), and flag the
published posts of an alert the source has since updated or cancelled. The cap-poll job calls `poll_due`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import CapAlert, CapInfo, CapSource, PostEmergency
from govsocial_app.services import audit, bus
from govsocial_app.services.alerting import alerts
from govsocial_app.services.authz import Actor
from govsocial_app.services.events import FollowUpsFlagged
from govsocial_app.services.cap import store
from govsocial_app.services.cap.feeds import poll_source, policy_for

log = logging.getLogger(__name__)

SYSTEM = Actor.system("cap")
# English msgids; the Arabic catalogue (i18n/ar_cap_wire.po) uses the Arabic headline where the alert has one.
TITLES = {
    "new": "Official alert: {headline}",
    "update": "Official alert updated: {headline}",
    "cancel": "Official alert cancelled: {headline}",
}
BODY = "{sender}: {event}. Expires {expires}."
BODY_NO_EXPIRY = "{sender}: {event}."
FOLLOW_UP = "Published posts to follow up: {posts}."
CRASHED = "The alert source could not be processed: {error}"
MSGIDS = (*TITLES.values(), BODY, BODY_NO_EXPIRY, FOLLOW_UP, CRASHED)
SEVERITY = {"Extreme": "critical", "Severe": "critical", "Moderate": "warning"}
# The job ticks every 5 s and each poll sets the next one 5 s after its own start: without a little slack, a tick
# that fires a few milliseconds early would skip a 5-second source to the tick after (10 s). Hosts with a published
# rule (feeds.HOST_MIN_INTERVAL_S, IPAWS) get no slack.
TICK_SLACK = timedelta(seconds=0.5)
DEFAULT_FLOOR_S = 5.0


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


@dataclass
class SourceOutcome:
    source_id: int
    status: str
    error: str = ""
    raised: tuple[int, ...] = ()  # CapAlert ids
    app_alerts: tuple[int, ...] = ()  # alerts.Alert ids
    flagged_posts: tuple[int, ...] = ()


@dataclass
class PollReport:
    sources: list[SourceOutcome] = field(default_factory=list)

    @property
    def app_alerts(self) -> list[int]:
        return [a for s in self.sources for a in s.app_alerts]


# ---------------------------------------------------------------- follow-up of published posts


def _ref_keys(refs: Sequence[str]) -> set[tuple[str, str]]:
    keys = set()
    for ref in refs:
        parts = ref.split(",")
        if len(parts) >= 2:
            keys.add((parts[0].strip(), parts[1].strip()))
    return keys


def flag_follow_ups(s: Session, row: CapAlert, now: datetime) -> list[int]:
    """Mark the emergency posts made from any alert this Update/Cancel refers to (directly or through an earlier
    update in the same chain). Returns the flagged post ids."""
    keys = _ref_keys(list(row.follow_up or []) + list(row.references or []))
    if not keys or row.msg_type not in ("Update", "Cancel"):
        return []
    earlier = s.exec(select(CapAlert).where(col(CapAlert.identifier).in_({k[1] for k in keys}))).all()
    ids = [a.id for a in earlier if (a.sender, a.identifier) in keys]
    if not ids:
        return []
    flagged = []
    for em in s.exec(select(PostEmergency).where(col(PostEmergency.cap_alert_id).in_(ids))).all():
        kind = "cancel" if row.msg_type == "Cancel" else "update"
        if em.follow_up == "cancel" and kind == "update":
            continue  # a cancellation stays the stronger flag
        em.follow_up, em.follow_up_alert_id, em.follow_up_at = kind, row.id, now
        s.add(em)
        audit.record(s, SYSTEM, "post.cap_follow_up", "post", em.post_id, kind=kind, cap_alert=row.id)
        flagged.append(em.post_id)
    return flagged


# ---------------------------------------------------------------- raising


def _pick_info(s: Session, row: CapAlert, language: str) -> CapInfo | None:
    infos = s.exec(select(CapInfo).where(CapInfo.alert_id == row.id).order_by(col(CapInfo.position))).all()
    wanted = [i for i in infos if not row.info_indexes or i.position in row.info_indexes] or list(infos)
    return next((i for i in wanted if i.language.lower().startswith(language)), None)


def _spec(s: Session, row: CapAlert, flagged: list[int]) -> alerts.AlertSpec:
    en = _pick_info(s, row, "en")
    ar = _pick_info(s, row, "ar")
    first = en or ar or s.exec(select(CapInfo).where(CapInfo.alert_id == row.id).order_by(col(CapInfo.position))).first()
    headline = ((first.headline or first.event) if first else row.identifier)[:200]
    headline_ar = ((ar.headline or ar.event)[:200] if ar else headline)
    expires = row.expires
    params = {
        "headline": headline, "headline_ar": headline_ar,
        "sender": (first.sender_name if first and first.sender_name else row.sender)[:120],
        "event": (first.event if first else "")[:120], "event_ar": ((ar.event if ar else "") or (first.event if first else ""))[:120],
        "expires": expires.strftime("%Y-%m-%d %H:%M UTC") if expires else "",
        "posts": ", ".join(f"#{p}" for p in flagged),
    }
    body = BODY if expires else BODY_NO_EXPIRY
    kind = row.decision_kind if row.decision_kind in TITLES else "new"
    severity = SEVERITY.get(first.severity if first else "", "info")
    if kind == "cancel":
        severity = "warning" if flagged else "info"
    return alerts.AlertSpec(
        kind="official", severity=severity, title=TITLES[kind], body=body if not flagged else FOLLOW_UP, params=params,
        link=f"/publish?cap={row.id}" if kind != "cancel" else (f"/publish?post={flagged[0]}" if flagged else "/alerts"),
        data={"cap_alert_id": row.id, "msg_type": row.msg_type, "flagged_posts": flagged, "expires": params["expires"]},
    )


def raise_official(report: store.IngestReport, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """After ingest_poll committed: an alert-centre alert (with its deliveries) per raised CAP alert, and the
    follow-up flags for updates and cancellations. Returns (alerting ids, flagged post ids)."""
    now = _now(now)
    created, flagged_all = [], []
    with session_scope() as s:
        for cap_id in (*report.raised, *report.stored):
            row = s.get(CapAlert, cap_id)
            if row is None:
                continue
            flagged = flag_follow_ups(s, row, now)
            flagged_all.extend(flagged)
            if cap_id not in report.raised or row.app_alert_id is not None:
                continue
            alert = alerts.create_alert(s, _spec(s, row, flagged), alerts.audience_for("official", s), now)
            row.app_alert_id = alert.id
            s.add(row)
            created.append(alert.id)
    alerts.announce(created)
    if flagged_all:
        bus.publish(FollowUpsFlagged(tuple(flagged_all)))
    return created, flagged_all


# ---------------------------------------------------------------- the job


def _record_crash(source_id: int, error: str, now: datetime) -> None:
    with session_scope() as s:
        row = s.get(CapSource, source_id)
        if row is None:
            return
        row.status, row.status_code, row.status_message = "error", "internal", error[:2000]
        row.last_polled_at = now
        s.add(row)


async def poll_one(source: store.SourceView, *, now: datetime | None = None, client: httpx.AsyncClient | None = None) -> SourceOutcome:
    """Poll one source, store and decide, raise, then record the poll (the state that marks entries seen is saved
    only after what they carried is committed, so a crash in between means a re-fetch, never a lost alert)."""
    now = _now(now)
    try:
        result = await poll_source(source.url, source.poll_state, policy=policy_for(source.url, source.interval_s),
                                   client=client, allowed_hosts=source.allowed_hosts, validate_schema=source.validate_schema)
        report = None
        if result.status == "ok" and result.alerts:
            report = await asyncio.to_thread(store.ingest_poll, source.id, result.alerts, now=now)
        await asyncio.to_thread(store.record_poll, source.id, result, now=now)
        if report is None:
            return SourceOutcome(source.id, result.status, result.error)
        app_alerts, flagged = await asyncio.to_thread(raise_official, report, now)
        if app_alerts:
            await alerts.deliver(app_alerts, now=now)
        return SourceOutcome(source.id, result.status, result.error, report.raised, tuple(app_alerts), tuple(flagged))
    except Exception as exc:  # noqa: BLE001 - one source's fault is its visible status, never the job's crash
        log.exception("CAP source %s (%s) crashed", source.id, source.url)
        message = f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(_record_crash, source.id, message, now)
        return SourceOutcome(source.id, "error", message)


async def poll_due(now: datetime | None = None, *, client: httpx.AsyncClient | None = None) -> PollReport:
    """Every enabled source whose own interval has passed (store.due_sources), one after another."""
    now = _now(now)
    report = PollReport()
    for source in await asyncio.to_thread(store.due_sources, now + TICK_SLACK):
        strict = policy_for(source.url).min_interval_s > DEFAULT_FLOOR_S  # IPAWS: never even half a second early
        if strict and source.next_poll_at is not None and source.next_poll_at > now:
            continue
        report.sources.append(await poll_one(source, now=now, client=client))
    return report
