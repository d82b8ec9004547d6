"""Reports page state: the chosen report, period and filters, its key numbers, two charts and tables, exports and email subscriptions."""

from __future__ import annotations

import dataclasses
from datetime import date

import plotly.graph_objects as go
import reflex as rx

from govsocial_app.services import profiles as profile_service
from govsocial_app.services.reporting import pdf, reports, schedule as report_schedule
from govsocial_app.services.errors import UserError
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState
from govsocial_app.state.charts import chart_json

PALETTE = ("#3e63dd", "#e5484d", "#30a46c", "#f76b15", "#8e4ec6", "#12a594", "#ffc53d", "#6f6e77")
PRESETS = {"7": 7, "30": 30, "90": 90}


@dataclasses.dataclass
class KeyView:
    label: str = ""
    value: str = ""
    previous: str = ""
    change: str = ""
    tone: str = "gray"  # green when up, red when down, gray when unchanged or unknown


@dataclasses.dataclass
class TableView:
    key: str = ""
    title: str = ""
    headers: list[str] = dataclasses.field(default_factory=list)
    sort_keys: list[str] = dataclasses.field(default_factory=list)
    rows: list[list[str]] = dataclasses.field(default_factory=list)
    note: str = ""


@dataclasses.dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class SubView:
    id: int = 0
    report: str = ""
    schedule: str = ""
    recipients: str = ""
    next_run: str = ""
    owner: str = ""


@dataclasses.dataclass
class SendRow:
    id: int = 0
    report: str = ""
    period: str = ""
    status: str = ""
    tone: str = "gray"
    detail: str = ""
    can_retry: bool = False


def figure(chart: reports.Chart, tr) -> go.Figure:
    """A plotly figure from a report chart, laid out to stay readable at 360 px: legend below, few margins."""
    fig = go.Figure()
    pct = chart.unit == "%"
    if chart.kind == "heatmap":
        fig.add_trace(go.Heatmap(z=[list(s.values) for s in chart.series], x=list(chart.x), y=[tr(y) for y in chart.y],
                                 colorscale="Blues", hovertemplate="%{y} %{x}:00 · %{z}<extra></extra>", showscale=False))
        fig.update_yaxes(autorange="reversed")
    for i, s in enumerate(chart.series if chart.kind != "heatmap" else ()):
        values = [None if v is None else (v * 100 if pct else v) for v in s.values]
        color = s.color or PALETTE[i % len(PALETTE)]
        if chart.kind == "line":
            fig.add_trace(go.Scatter(x=list(chart.x), y=values, name=tr(s.name), mode="lines", line={"color": color, "width": 2},
                                     connectgaps=True))
        elif chart.kind == "hbar":
            fig.add_trace(go.Bar(y=list(chart.x), x=values, name=tr(s.name), orientation="h", marker_color=color))
        else:
            fig.add_trace(go.Bar(x=list(chart.x), y=values, name=tr(s.name), marker_color=color))
    fig.update_layout(
        barmode="stack" if chart.kind == "stacked" else "group",
        height=320 if chart.kind != "heatmap" else 300,
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        legend={"orientation": "h", "y": -0.2},
        showlegend=len(chart.series) > 1 and chart.kind != "heatmap",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"size": 12},
    )
    if chart.kind == "hbar":
        fig.update_yaxes(autorange="reversed", automargin=True)
    if pct:
        fig.update_xaxes(ticksuffix="%") if chart.kind == "hbar" else fig.update_yaxes(ticksuffix="%")
    return fig


def _tone(change: float | None) -> str:
    if change is None or abs(change) < 0.005:
        return "gray"
    return "green" if change > 0 else "red"


class ReportsState(AppState):
    kind: str = "inbox"
    start: str = ""
    end: str = ""
    tz: str = "UTC"
    profile: str = "all"
    network: str = "all"
    sort: str = "engagements"
    descending: bool = True
    period_label: str = ""
    compare_label: str = ""
    summary: str = ""
    numbers: list[KeyView] = []
    chart1_title: str = ""
    chart2_title: str = ""
    # Empty figures start without plotly's default template: a var's default is in every page's initial state (7 KB
    # of template each, in the code of every page, the inbox's too). The real figures keep the template.
    fig1: dict = {}  # chart_json of a figure
    fig2: dict = {}
    tables: list[TableView] = []
    profile_opts: list[Option] = []
    network_opts: list[Option] = []
    subs: list[SubView] = []
    sends: list[SendRow] = []
    recipient_domains: str = ""
    error: str = ""
    loading: bool = False

    # ---------------------------------------------------------------- building

    def _filters(self) -> reports.ReportFilters:
        try:
            start, end = date.fromisoformat(self.start), date.fromisoformat(self.end)
        except ValueError:
            raise UserError(self._("Choose a start and an end date.")) from None
        return reports.ReportFilters(
            start, end, (int(self.profile),) if self.profile.isdigit() else (), (self.network,) if self.network != "all" else (), self.tz
        )

    def _build(self) -> None:
        self._require("reports.view")  # a helper that reads data checks for itself
        self._require("reports.view")
        self.error = ""
        try:
            f = self._filters()
            options = {"sort": self.sort, "descending": self.descending} if self.kind == "posts" else {}
            report = reports.build(self.kind, f, **options)
        except UserError as exc:
            self.error, self.numbers, self.tables, self.summary = str(exc), [], [], ""
            return
        self._show(report)

    def _show(self, report: reports.Report) -> None:
        tr = self._
        f = report.filters
        self.period_label = f.label()
        self.compare_label = tr("Compared with {period}", period=f.previous().label())
        self.summary = report.summary()
        self.numbers = [
            KeyView(tr(k.label), reports.fmt(k.value, k.kind, self.lang), reports.fmt(k.previous, k.kind, self.lang), reports.fmt_change(k.change), _tone(k.change))
            for k in report.key_numbers()
        ]
        charts = report.charts()
        self.chart1_title, self.fig1 = tr(charts[0].title), chart_json(figure(charts[0], tr))
        self.chart2_title, self.fig2 = tr(charts[1].title), chart_json(figure(charts[1], tr))
        self.tables = [self._table(t, f) for t in report.tables()]

    def _table(self, t: reports.Table, f: reports.ReportFilters) -> TableView:
        rows = [[v.read(self.lang, self._) if isinstance(v, reports.Words)  # a word or name with a form in the reader's language
                 else f"{f.local(v):%d %b %H:%M}" if c.kind == "datetime" and v is not None else reports.fmt(v, c.kind, self.lang)
                 for v, c in zip(row, t.columns)] for row in t.rows[: reports.ROW_LIMIT]]
        shown = len(rows)
        total = t.total if t.total is not None else len(t.rows)
        note = self._("Showing {shown} of {total} rows; the CSV has them all.", shown=shown, total=total) if total > shown else ""
        sortable = [c.key if self.kind == "posts" and t.key == "posts" and c.key in reports.POST_SORTS else "" for c in t.columns]
        return TableView(t.key, self._(t.title), [self._(c.label) for c in t.columns], sortable, rows, note)

    def _load_schedule(self) -> None:
        self._require("reports.view")  # a helper that reads data checks for itself
        names = dict(reports.REPORTS)
        self.subs = [
            SubView(s.id, self._(names.get(s.report, s.report)),
                    self._("Every Monday at {time} ({tz})" if s.cadence == "weekly" else "On the 1st of each month at {time} ({tz})",
                           time=s.local_time, tz=s.timezone),
                    ", ".join(s.recipients), f"{s.next_run_at:%Y-%m-%d %H:%M} UTC" if s.next_run_at else "", s.owner)
            for s in report_schedule.subscriptions()
        ]
        self.sends = [self._send_row(x) for x in report_schedule.sends(limit=15)]
        self.recipient_domains = ", ".join(report_schedule.recipient_domains())

    def _send_row(self, x: report_schedule.SendView) -> SendRow:
        labels = {"sent": ("Sent", "green"), "pending": ("Waiting", "gray"), "sending": ("Sending", "blue"),
                  "failed": ("Failed, will retry", "amber"), "gave_up": ("Failed", "red")}
        label, tone = labels.get(x.status, (x.status, "gray"))
        detail = f"{x.sent_at:%Y-%m-%d %H:%M} UTC" if x.sent_at else (x.last_error[:160] if x.last_error else "")
        return SendRow(x.id, self._(dict(reports.REPORTS).get(x.report, x.report)), f"{x.period_start} – {x.period_end}",
                       self._(label), tone, detail, x.status in ("failed", "gave_up"))

    # ---------------------------------------------------------------- events

    @rx.event
    @requires("reports.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("reports.view")
        q = self.router.url.query_parameters
        self.tz = self.user_tz or "UTC"
        self.kind = q.get("report", self.kind) if q.get("report") in reports.REPORTS else self.kind
        if not self.start:
            f = reports.last_days(30, self.tz)
            self.start, self.end = f.start.isoformat(), f.end.isoformat()
        self.profile_opts = [Option(str(p.id), p.display_name or p.handle) for p in profile_service.summaries()]
        self.network_opts = [Option(n, n) for n in sorted({p.network for p in profile_service.summaries()})]
        self._build()
        self._load_schedule()

    @rx.event
    @requires("reports.view")
    def set_kind(self, kind: str):
        if kind not in reports.REPORTS:
            raise UserError(self._("Unknown report."))
        self.kind = kind
        self._build()

    @rx.event
    @requires("reports.view")
    def set_preset(self, days: str):
        f = reports.last_days(PRESETS.get(days, 30), self.tz)
        self.start, self.end = f.start.isoformat(), f.end.isoformat()
        self._build()

    @rx.event
    @requires("reports.view")
    def apply_dates(self, form: dict):
        self.start, self.end = form.get("start", self.start), form.get("end", self.end)
        self._build()

    @rx.event
    @requires("reports.view")
    def set_profile(self, value: str):
        self.profile = value
        self._build()

    @rx.event
    @requires("reports.view")
    def set_network(self, value: str):
        self.network = value
        self._build()

    @rx.event
    @requires("reports.view")
    def sort_by(self, key: str):
        if key not in reports.POST_SORTS:
            return
        self.descending = not self.descending if key == self.sort else True
        self.sort = key
        self._build()

    @rx.event
    @requires("reports.view")
    def download_csv(self, table_key: str):
        self._require("reports.view")
        options = {"sort": self.sort, "descending": self.descending} if self.kind == "posts" else {}
        name, text = reports.export_csv(self.kind, self._filters(), table_key, **options)
        return rx.download(data=text, filename=name, mime_type="text/csv")

    @rx.event
    @requires("reports.view")
    def download_pdf(self):
        self._require("reports.view")
        report = reports.build(self.kind, self._filters(), **({"limit": None} if self.kind == "posts" else {}))
        names = [o.label for o in self.profile_opts if o.value == self.profile]
        return rx.download(data=pdf.render(report, profile_names=names), filename=pdf.filename(report),
                           mime_type="application/pdf")

    @rx.event
    @requires("reports.schedule")
    def subscribe(self, form: dict):
        actor = self._require("reports.schedule")
        f = self._filters()
        report_schedule.subscribe(actor, self.kind, f.to_dict(), form.get("cadence", "weekly"), form.get("time", "08:00"),
                                  form.get("tz") or self.tz, form.get("recipients", ""))
        self._load_schedule()
        return rx.toast.success(self._("Subscribed. The first report goes out on the next scheduled day."))

    @rx.event
    @requires("settings.manage")
    def save_recipient_domains(self, form: dict):
        actor = self._require("settings.manage")
        self.recipient_domains = ", ".join(report_schedule.set_recipient_domains(actor, form.get("domains", "")))
        return rx.toast.success(self._("Saved."))

    @rx.event
    @requires("reports.schedule")
    def unsubscribe(self, subscription_id: int):
        actor = self._require("reports.schedule")
        report_schedule.unsubscribe(actor, subscription_id)
        self._load_schedule()

    @rx.event
    @requires("reports.schedule")
    async def retry_send(self, send_id: int):
        actor = self._require("reports.schedule")
        ok = await report_schedule.retry_now(actor, send_id)
        self._load_schedule()
        return rx.toast.success(self._("Sent.")) if ok else rx.toast.error(self._("Sending failed again; see the error."))

    @rx.event
    @requires("reports.schedule")
    async def send_now(self, subscription_id: int):
        actor = self._require("reports.schedule")
        ok = await report_schedule.send_now(actor, subscription_id)
        self._load_schedule()
        return rx.toast.success(self._("Sent.")) if ok else rx.toast.error(self._("Sending failed; it will be retried."))

