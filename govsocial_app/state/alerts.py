"""Alert states: the live badge and banner every screen shares, and the alert centre (/alerts). The settings page
has its own state, state/alert_settings.py."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reflex as rx

from govsocial_app.services.alerting import alerts as alerting
from govsocial_app.services.authz import can
from govsocial_app.services.errors import UserError
from govsocial_app.state.guard import SIGNED_IN, requires
from govsocial_app.state.app_state import AppState

CACHE_S = 30.0  # the bus keeps every worker's copy current; this only bounds a missed event
PAGE = 30
KIND_LABELS = {"spike": "Spike", "keyword": "Keyword", "auth": "Reconnect", "approval": "Approval", "publish": "Publishing", "system": "System",
               "official": "Official", "target_breach": "Response target"}
SEVERITY_LABELS = {"info": "Info", "warning": "Warning", "critical": "Critical"}
CHANNEL_LABELS = {"push": "Push", "email": "Email", "inapp": "In-app"}
STATUS_LABELS = {"pending": "pending", "sending": "sending", "sent": "sent", "retrying": "retrying", "failed": "failed", "skipped": "skipped"}


def _zone(name: str):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def local_time(dt: datetime | None, tz_name: str) -> str:
    return dt.astimezone(_zone(tz_name)).strftime("%Y-%m-%d %H:%M") if dt else ""


# ---------------------------------------------------------------- live badge and banner (on every screen)


class AlertsLive(rx.State):
    """The unacknowledged count and the newest critical alerts on every signed-in screen. Each worker pushes them to
    its own clients on the "alerts" bus topic (state/relay.py `push_to_every_client`), from one read per worker."""

    rev: int = 0
    unacked: int = 0
    critical: list[dict[str, str]] = []

    @rx.event
    @requires(SIGNED_IN, signed_out="ignore")
    async def join(self):
        await _apply(self, await _summary(), joining=True)


_cached: tuple[float, alerting.LiveSummary] | None = None


async def _summary(fresh: bool = False) -> alerting.LiveSummary:
    global _cached
    if fresh or _cached is None or time.monotonic() - _cached[0] > CACHE_S:
        _cached = (time.monotonic(), await asyncio.to_thread(alerting.live_summary))
    return _cached[1]


async def _apply(live: AlertsLive, summary: alerting.LiveSummary, joining: bool = False) -> None:
    from govsocial_app.state import watchers

    app = await live.get_state(AppState)
    actor = await watchers.session_actor(app.auth_token)  # re-checked: a revoked session or deactivated person gets nothing
    allowed = actor is not None and actor.user_id == watchers.signed_in_as(app, actor, joining) and can(actor.role, "alerts.view")
    # A signed-out tab, or a role without alerts, is told nothing; anyone else the team's alerts and their own.
    unacked, critical = summary.for_user(actor.user_id) if allowed else (0, [])
    critical = [dict(c) for c in critical]
    if (live.unacked, live.critical) != (unacked, critical):
        live.rev += 1
        live.unacked, live.critical = unacked, critical


async def relay_alerts():
    """For the bus relay (state/relay.py), on every "alerts" event: read the summary once, and return what to
    apply to each client's badge and banner."""
    summary = await _summary(fresh=True)
    return lambda state: _apply(state, summary)


class AlertBannerState(AppState):
    """Acknowledge straight from the banner, on any page."""

    @rx.event
    @requires("alerts.ack")
    def acknowledge(self, alert_id: str):
        actor = self._require("alerts.ack")
        alerting.acknowledge(int(alert_id), actor)
        return rx.toast.success(self._("Alert acknowledged."), position="top-center")


# ---------------------------------------------------------------- the alert centre


@dataclasses.dataclass
class TermView:
    term: str = ""
    link: str = ""


@dataclasses.dataclass
class AlertView:
    id: int = 0
    kind: str = ""
    kind_label: str = ""
    severity: str = ""
    severity_label: str = ""
    title: str = ""
    body: str = ""
    link: str = ""
    when: str = ""
    acked: bool = False
    ack_text: str = ""
    numbers: str = ""
    terms: list[TermView] = dataclasses.field(default_factory=list)
    deliveries: list[str] = dataclasses.field(default_factory=list)
    delivery_problem: bool = False


class AlertsState(AppState):
    alerts: list[AlertView] = []
    f_kind: str = "all"
    f_ack: str = "all"
    f_since: str = ""
    f_until: str = ""
    has_more: bool = False
    snoozed: dict[str, str] = {}  # kind -> "until HH:MM" for this user
    follow_ups: list[dict[str, str]] = []  # published emergency posts whose official alert changed (cap-wire)

    def _day(self, raw: str, end: bool = False) -> datetime | None:
        if not raw:
            return None
        try:
            day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=_zone(self.user_tz))
        except ValueError as exc:
            raise UserError(self._("Dates must look like 2026-11-24.")) from exc
        return day + timedelta(days=1) if end else day

    def _filter(self) -> alerting.HistoryFilter:
        return alerting.HistoryFilter(
            kind="" if self.f_kind == "all" else self.f_kind,
            acknowledged="" if self.f_ack == "all" else self.f_ack,
            since=self._day(self.f_since), until=self._day(self.f_until, end=True),
        )

    def _view(self, r: alerting.AlertRow) -> AlertView:
        numbers = ""
        if r.count is not None and r.threshold is not None:
            numbers = self._("{count} in the last hour · usual {baseline} · alert at {threshold}", count=r.count,
                             baseline=f"{r.baseline or 0:.1f}", threshold=r.threshold)
        elif r.count is not None:
            numbers = self._("{count} new matches", count=r.count)
        ack = self._("Acknowledged by {name} at {when}", name=r.acknowledged_by or "?", when=local_time(r.acknowledged_at, self.user_tz)) if r.acknowledged_at else ""
        lines = [
            f"{self._(CHANNEL_LABELS.get(d.channel, d.channel))}: {d.count} {self._(STATUS_LABELS.get(d.status, d.status))}"
            + (f" — {d.error[:160]}" if d.error and d.status != "sent" else "")
            for d in r.deliveries
        ]
        return AlertView(
            r.id, r.kind, self._(KIND_LABELS.get(r.kind, r.kind)), r.severity, self._(SEVERITY_LABELS.get(r.severity, r.severity)),
            r.title, r.body, r.link, local_time(r.created_at, self.user_tz), r.acknowledged_at is not None, ack, numbers,
            [TermView(t, link) for t, link in r.terms], lines,
            any(d.status in ("retrying", "failed") for d in r.deliveries),
        )

    def _fetch(self, before_id: int | None = None) -> list[AlertView]:
        actor = self._require("alerts.view")  # a helper that reads data checks for itself
        rows = alerting.history(self._filter(), viewer_id=actor.user_id, lang=self.lang, before_id=before_id, limit=PAGE + 1)
        self.has_more = len(rows) > PAGE
        return [self._view(r) for r in rows[:PAGE]]

    def _refresh_snoozes(self) -> None:
        self._require("alerts.view")  # a helper that reads data checks for itself
        self.snoozed = {k: local_time(v, self.user_tz)[-5:] for k, v in alerting.snoozes(self.user_id).items()}

    @rx.event
    @requires("alerts.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("alerts.view")
        self.alerts = self._fetch()
        self._refresh_snoozes()
        self._refresh_follow_ups()

    def _refresh_follow_ups(self) -> None:
        from govsocial_app.services.cap import emergency

        self.follow_ups = [
            {"post": str(pid), "text": self._("Post #{id}: its official alert was cancelled." if kind == "cancel"
                                              else "Post #{id}: its official alert was updated.", id=pid)}
            for pid, kind in emergency.flagged_posts()
        ]

    @rx.event
    @requires("alerts.view", signed_out="ignore")
    def refresh(self):
        """The alerts bus said something changed: re-read the first page (kept short)."""
        if self.user_id:
            self._require("alerts.view")
            self.alerts = self._fetch()
            self._refresh_follow_ups()

    @rx.event
    @requires("alerts.view")
    def apply(self, form: dict):
        self._require("alerts.view")
        self.f_kind, self.f_ack = form.get("kind") or "all", form.get("ack") or "all"
        self.f_since, self.f_until = form.get("since", ""), form.get("until", "")
        self.alerts = self._fetch()

    @rx.event
    @requires("alerts.view")
    def set_kind(self, value: str):
        self.f_kind = value

    @rx.event
    @requires("alerts.view")
    def set_ack(self, value: str):
        self.f_ack = value

    @rx.event
    @requires("alerts.view")
    def more(self):
        self._require("alerts.view")
        if self.alerts:
            self.alerts = self.alerts + self._fetch(self.alerts[-1].id)

    @rx.event
    @requires("alerts.ack")
    def acknowledge(self, alert_id: int):
        actor = self._require("alerts.ack")
        alerting.acknowledge(alert_id, actor)
        self.alerts = self._fetch()

    @rx.event
    @requires("alerts.view")
    def snooze(self, kind: str):
        actor = self._require("alerts.view")
        until = alerting.snooze(kind, actor)
        self._refresh_snoozes()
        return rx.toast.info(self._("No push or email for {kind} alerts until {until}.", kind=self._(KIND_LABELS.get(kind, kind)),
                                    until=local_time(until, self.user_tz)[-5:]), position="top-center")
