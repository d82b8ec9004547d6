"""State for the alert settings page (/alerts/settings): spike rules and their chart, keyword cool-downs and
recipients, and the SMTP settings."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import reflex as rx

from govsocial_app.services import auth, mailer
from govsocial_app.services.alerting import alerts, keyword_alerts, spikes
from govsocial_app.services.authz import ROLES, can
from govsocial_app.services.errors import UserError
from govsocial_app.state.alerts import local_time
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState
from govsocial_app.state.charts import chart_json

METHOD_LABELS = {spikes.HOUR_OF_DAY: "same hour, last 7 days", spikes.TRAILING_24H: "last 24 hours (short history)", spikes.NO_HISTORY: "no history yet"}


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
    figure: dict = {}  # chart_json (state/charts.py) of the rules' chart
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
                local_time(v.last_alert_at, self.user_tz),
            )
            for v in views
        ]
        self.figure = chart_json(self._chart(views))
        self.keywords = [
            KeywordRow(k.id, k.name, k.priority, str(k.cooldown_min), local_time(k.last_alert_at, self.user_tz)) for k in keyword_alerts.alerting_keywords()
        ]
        self.people = [Person(str(u.id), u.display_name) for u in auth.list_users()]
        audience = alerts.audience_for("keyword")
        self.keyword_roles, self.keyword_user_ids = list(audience.roles), [str(u) for u in audience.user_ids]
        if can(self.user_role, "settings.manage"):
            cfg = mailer.smtp_config()
            self.smtp_host, self.smtp_port = (cfg.host, str(cfg.port)) if cfg else ("", "587")
            self.smtp_username, self.smtp_starttls = (cfg.username, cfg.starttls) if cfg else ("", True)
            self.smtp_sender, self.smtp_has_password = (cfg.sender, bool(cfg.password)) if cfg else ("", False)

    @rx.event
    @requires("alerts.configure", signed_out="login", refused="page")  # the page shows no_access() for this role
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
        alerts.set_audience("keyword", self._picked(form, "role_"), [int(u) for u in self._picked(form, "user_")], actor)
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
