"""Alert states: the live badge and banner every screen shares, the alert centre, and the alert settings page."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import plotly.graph_objects as go
import reflex as rx

from govsocial_app.services import alerting, auth, keyword_alerts, mailer, spikes
from govsocial_app.services.authz import ROLES, can
from govsocial_app.services.errors import UserError
from govsocial_app.state.guard import SIGNED_IN, requires
from govsocial_app.state.app_state import AppState

CACHE_S = 30.0  # the bus keeps every worker's copy current; this only bounds a missed event
PAGE = 30
KIND_LABELS = {"spike": "Spike", "keyword": "Keyword", "auth": "Reconnect", "approval": "Approval", "publish": "Publishing", "system": "System",
               "official": "Official"}
SEVERITY_LABELS = {"info": "Info", "warning": "Warning", "critical": "Critical"}
CHANNEL_LABELS = {"push": "Push", "email": "Email", "inapp": "In-app"}
STATUS_LABELS = {"pending": "pending", "sending": "sending", "sent": "sent", "retrying": "retrying", "failed": "failed", "skipped": "skipped"}
METHOD_LABELS = {spikes.HOUR_OF_DAY: "same hour, last 7 days", spikes.TRAILING_24H: "last 24 hours (short history)", spikes.NO_HISTORY: "no history yet"}


def _zone(name: str):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _local(dt: datetime | None, tz_name: str) -> str:
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
        await _apply(self, await _summary())


_cached: tuple[float, alerting.LiveSummary] | None = None


async def _summary(fresh: bool = False) -> alerting.LiveSummary:
    global _cached
    if fresh or _cached is None or time.monotonic() - _cached[0] > CACHE_S:
        _cached = (time.monotonic(), await asyncio.to_thread(alerting.live_summary))
    return _cached[1]


async def _apply(live: AlertsLive, summary: alerting.LiveSummary) -> None:
    from govsocial_app.state import watchers

    app = await live.get_state(AppState)
    actor = await watchers.session_actor(app.auth_token)  # re-checked: a revoked session or deactivated person gets nothing
    allowed = actor is not None and actor.user_id == app.user_id and can(actor.role, "alerts.view")
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
        ack = self._("Acknowledged by {name} at {when}", name=r.acknowledged_by or "?", when=_local(r.acknowledged_at, self.user_tz)) if r.acknowledged_at else ""
        lines = [
            f"{self._(CHANNEL_LABELS.get(d.channel, d.channel))}: {d.count} {self._(STATUS_LABELS.get(d.status, d.status))}"
            + (f" — {d.error[:160]}" if d.error and d.status != "sent" else "")
            for d in r.deliveries
        ]
        return AlertView(
            r.id, r.kind, self._(KIND_LABELS.get(r.kind, r.kind)), r.severity, self._(SEVERITY_LABELS.get(r.severity, r.severity)),
            r.title, r.body, r.link, _local(r.created_at, self.user_tz), r.acknowledged_at is not None, ack, numbers,
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
        self.snoozed = {k: _local(v, self.user_tz)[-5:] for k, v in alerting.snoozes(self.user_id).items()}

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
                                    until=_local(until, self.user_tz)[-5:]), position="top-center")


# ---------------------------------------------------------------- alert settings


@dataclasses.dataclass
class RuleRow:
    rule_id: int = 0
    label: str = ""
    enabled: bool = False
    sensitivity: str = ""
    min_count: str = ""
    cooldown: str = ""
    roles: list[str] = dataclasses.field(default_factory=list)
    user_ids: list[str] = dataclasses.field(default_factory=list)
    status: str = ""  # "12 in the last hour; alerts at 20 (60 %)"
    method: str = ""
    last_alert: str = ""


@dataclasses.dataclass
class KeywordRow:
    id: int = 0
    name: str = ""
    priority: str = ""
    cooldown: str = ""
    last_alert: str = ""


@dataclasses.dataclass
class Person:
    id: str = ""
    name: str = ""


class AlertSettingsState(AppState):
    rules: list[RuleRow] = []
    keywords: list[KeywordRow] = []
    people: list[Person] = []
    roles: list[str] = list(ROLES)
    keyword_roles: list[str] = []
    keyword_user_ids: list[str] = []
    figure: go.Figure = go.Figure()
    smtp_host: str = ""
    smtp_port: str = "587"
    smtp_username: str = ""
    smtp_starttls: bool = True
    smtp_sender: str = ""
    smtp_has_password: bool = False
    notice: str = ""

    def _chart(self, views: list[spikes.RuleView]) -> go.Figure:
        labels = [self._(v.label) if v.profile_id is None else v.label for v in views]
        fig = go.Figure()
        fig.add_bar(y=labels, x=[v.count for v in views], orientation="h", name=self._("Last 60 minutes"), marker_color="#3e63dd")
        fig.add_scatter(y=labels, x=[v.threshold for v in views], mode="markers", name=self._("Alert threshold"),
                        marker={"symbol": "line-ns-open", "size": 22, "line": {"width": 3}, "color": "#e5484d"})
        fig.add_scatter(y=labels, x=[round(v.baseline, 1) for v in views], mode="markers", name=self._("Usual for this hour"),
                        marker={"symbol": "diamond", "size": 10, "color": "#8b8d98"})
        fig.update_layout(height=80 + 48 * len(views), margin={"l": 8, "r": 8, "t": 8, "b": 8}, barmode="overlay",
                          legend={"orientation": "h", "y": -0.25}, xaxis={"rangemode": "tozero"}, yaxis={"automargin": True})
        return fig

    def _refresh(self) -> None:
        self._require("alerts.configure")  # a helper that reads data checks for itself
        views = spikes.rules()
        self.rules = [
            RuleRow(
                v.rule_id, self._(v.label) if v.profile_id is None else v.label, v.enabled, f"{v.sensitivity:g}", str(v.min_count),
                str(v.cooldown_min), list(v.audience_roles), [str(u) for u in v.audience_user_ids],
                self._("{count} in the last hour; alerts at {threshold} ({percent} %)", count=v.count, threshold=v.threshold,
                       percent=round(100 * v.count / v.threshold)),
                self._("Usual: {baseline} an hour ({method}, {tz})", baseline=f"{v.baseline:.1f}", method=self._(METHOD_LABELS[v.method]), tz=v.timezone),
                _local(v.last_alert_at, self.user_tz),
            )
            for v in views
        ]
        self.figure = self._chart(views)
        self.keywords = [
            KeywordRow(k.id, k.name, k.priority, str(k.cooldown_min), _local(k.last_alert_at, self.user_tz)) for k in keyword_alerts.alerting_keywords()
        ]
        self.people = [Person(str(u.id), u.display_name) for u in auth.list_users()]
        audience = alerting.audience_for("keyword")
        self.keyword_roles, self.keyword_user_ids = list(audience.roles), [str(u) for u in audience.user_ids]
        if self.user_role == "admin":
            cfg = mailer.smtp_config()
            self.smtp_host, self.smtp_port = (cfg.host, str(cfg.port)) if cfg else ("", "587")
            self.smtp_username, self.smtp_starttls = (cfg.username, cfg.starttls) if cfg else ("", True)
            self.smtp_sender, self.smtp_has_password = (cfg.sender, bool(cfg.password)) if cfg else ("", False)

    @rx.event
    @requires("alerts.configure", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("alerts.configure")
        self.notice = ""
        self._refresh()

    @staticmethod
    def _picked(form: dict, prefix: str) -> list[str]:
        return [k[len(prefix):] for k, v in form.items() if k.startswith(prefix) and v in ("on", True, "true")]

    @staticmethod
    def _number(raw, message: str, cast=int):
        try:
            return cast(str(raw).strip().replace(",", "."))
        except (TypeError, ValueError) as exc:
            raise UserError(message) from exc

    @rx.event
    @requires("alerts.configure")
    def save_rule(self, form: dict):
        actor = self._require("alerts.configure")
        spikes.update_rule(
            self._number(form.get("rule_id"), self._("That spike rule no longer exists.")), actor,
            enabled=form.get("enabled") in ("on", True, "true"),
            sensitivity=self._number(form.get("sensitivity"), self._("Sensitivity must be a number, like 2."), float),
            min_count=self._number(form.get("min_count"), self._("The minimum count must be a whole number.")),
            cooldown_min=self._number(form.get("cooldown"), self._("The cool-down must be a whole number of minutes.")),
            audience_roles=self._picked(form, "role_"),
            audience_user_ids=[int(u) for u in self._picked(form, "user_")],
        )
        self._refresh()
        return rx.toast.success(self._("Spike settings saved."), position="top-center")

    @rx.event
    @requires("alerts.configure")
    def save_keyword_cooldown(self, form: dict):
        actor = self._require("alerts.configure")
        keyword_alerts.set_cooldown(
            self._number(form.get("keyword_id"), self._("That keyword no longer exists.")),
            self._number(form.get("cooldown"), self._("The cool-down must be a whole number of minutes.")), actor,
        )
        self._refresh()
        return rx.toast.success(self._("Cool-down saved."), position="top-center")

    @rx.event
    @requires("alerts.configure")
    def save_keyword_audience(self, form: dict):
        actor = self._require("alerts.configure")
        alerting.set_audience("keyword", self._picked(form, "role_"), [int(u) for u in self._picked(form, "user_")], actor)
        self._refresh()
        return rx.toast.success(self._("Keyword alert recipients saved."), position="top-center")

    @rx.event
    @requires("settings.manage")
    def save_smtp(self, form: dict):
        actor = self._require("settings.manage")
        password = form.get("password") or ""
        mailer.save_config(
            mailer.SmtpConfig(
                host=form.get("host", ""), port=self._number(form.get("port") or 587, self._("The SMTP port must be a number.")),
                username=form.get("username", ""), password=password, starttls=form.get("starttls") in ("on", True, "true"),
                sender=form.get("sender", ""),
            ),
            actor, keep_password=not password,
        )
        self._refresh()
        return rx.toast.success(self._("Email settings saved."), position="top-center")

    @rx.event(background=True)
    @requires("settings.manage")
    async def send_test_email(self):
        async with self:
            actor = self._require("settings.manage")
            to, subject, text = self.user_email, self._(mailer.TEST_SUBJECT), self._(mailer.TEST_BODY)
            sent = self._("Test email sent to {to}.", to=to)
        try:
            await mailer.send_test(actor, to, subject=subject, text=text)
        except mailer.MailError as exc:
            return rx.toast.error(str(exc), position="top-center")
        return rx.toast.success(sent, position="top-center")
