"""Listening page state: topics and the selected topic's charts, trends, voices and concerns; the misinformation claim tracker."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import reflex as rx

from govsocial_app.services.listening import claims, topics as listening
from govsocial_app.services.reporting import reports
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState
from govsocial_app.state.charts import chart_json
from govsocial_app.state.reports import Option, figure

DAY_CHOICES = ("7", "30", "90")


@dataclasses.dataclass
class TopicRow:
    id: int = 0
    name: str = ""
    queries: str = ""
    matches: int = 0


@dataclasses.dataclass
class TrendRow:
    term: str = ""
    count: int = 0
    baseline: str = ""
    score: str = ""


@dataclasses.dataclass
class VoiceRow:
    handle: str = ""
    name: str = ""
    network: str = ""
    followers: str = ""
    engagements: str = ""
    messages: int = 0
    vips: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ConcernRow:
    label: str = ""
    size: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ClaimRow:
    id: int = 0
    text: str = ""
    correction: str = ""
    link: str = ""
    matches: int = 0
    last: str = ""


@dataclasses.dataclass
class MatchRow:
    id: int = 0
    handle: str = ""
    text: str = ""
    when: str = ""
    reply_href: str = ""
    open_href: str = ""


class ListeningState(AppState):
    topics: list[TopicRow] = []
    topic_id: int = 0
    days: str = "30"
    network: str = "all"
    network_opts: list[Option] = []
    total: int = 0
    # Charts as chart_json (state/charts.py): an empty dict by default, in every page's initial state and copied
    # into every new client's state, where a Figure was 7 KB of template and a rebuild each time.
    fig_volume: dict = {}
    fig_networks: dict = {}
    fig_sentiment: dict = {}
    trends: list[TrendRow] = []
    voices: list[VoiceRow] = []
    concerns: list[ConcernRow] = []
    claims: list[ClaimRow] = []
    claim_id: int = 0
    fig_claim: dict = {}
    spreaders: list[VoiceRow] = []
    matched: list[MatchRow] = []
    error: str = ""

    def _period(self) -> reports.ReportFilters:
        return reports.last_days(int(self.days) if self.days in DAY_CHOICES else 30, self.user_tz or "UTC")

    def _load_topics(self) -> None:
        self._require("reports.view")  # a helper that reads data checks for itself
        rows = listening.topics()
        self.topics = [TopicRow(t.id, t.name, " · ".join(t.queries), t.matches) for t in rows]
        if rows and self.topic_id not in {t.id for t in rows}:
            self.topic_id = rows[0].id

    def _load_view(self) -> None:
        self._require("reports.view")  # a helper that reads data checks for itself
        if not self.topic_id:
            self.total, self.trends, self.voices, self.concerns = 0, [], [], []
            return
        f = self._period()
        since, until = f.bounds()
        v = listening.topic_view(self.topic_id, since, until, (self.network,) if self.network != "all" else ())
        tr = self._
        self.total = v.total
        x = tuple(d.isoformat() for d in f.dates())
        self.fig_volume = chart_json(figure(reports.Chart("v", "", "bar", x, (reports.Series("Messages", tuple(reports.daily(v.by_hour, f))),)), tr))
        nets = sorted(v.networks.items(), key=lambda kv: -kv[1])
        self.fig_networks = chart_json(figure(reports.Chart("n", "", "hbar", tuple(n for n, _ in nets), (reports.Series("Messages", tuple(c for _, c in nets)),)), tr))
        pos = reports.daily({h: p for h, (_n, _s, p, _neg) in v.sentiment_by_hour.items()}, f)
        neg = reports.daily({h: neg for h, (_n, _s, _p, neg) in v.sentiment_by_hour.items()}, f)
        scored = reports.daily({h: n for h, (n, _s, _p, _neg) in v.sentiment_by_hour.items()}, f)
        neutral = [max(0, n - p - q) for n, p, q in zip(scored, pos, neg)]
        self.fig_sentiment = chart_json(figure(reports.Chart("s", "", "stacked", x, listening.sentiment_series(pos, neutral, neg)), tr))
        self.trends = [TrendRow(t.term, t.count, f"{t.baseline:.1f}", f"{t.score:.1f}") for t in v.trends]
        self.voices = [self._voice(x, x.vip_lists) for x in v.voices]
        self.concerns = [ConcernRow(c.label, c.size, c.examples) for c in v.concerns]

    @staticmethod
    def _voice(x: listening.Voice | claims.Spreader, vips: list[str] = ()) -> VoiceRow:
        return VoiceRow(x.handle, x.name, x.network, f"{x.followers:,}", f"{x.engagements:,}", x.messages, list(vips))

    def _load_claims(self) -> None:
        self._require("reports.view")  # a helper that reads data checks for itself
        rows = claims.claims()
        self.claims = [ClaimRow(c.id, c.text, c.correction, c.link, c.matches, f"{c.last_match_at:%Y-%m-%d %H:%M}" if c.last_match_at else "")
                       for c in rows]
        if rows and self.claim_id not in {c.id for c in rows}:
            self.claim_id = rows[0].id
        if not rows:
            self.claim_id, self.spreaders, self.matched = 0, [], []
            return
        f = self._period()
        since, until = f.bounds()
        v = claims.claim_view(self.claim_id, since, until)
        x = tuple(d.isoformat() for d in f.dates())
        self.fig_claim = chart_json(figure(reports.Chart("c", "", "bar", x, (reports.Series("Matched messages", tuple(reports.daily(v.by_hour, f))),)), self._))
        self.spreaders = [self._voice(s) for s in v.spreaders]
        self.matched = [
            MatchRow(m.id, m.handle, m.text, f"{f.local(m.received_at):%d %b %H:%M}",
                     f"/inbox?message={m.id}&reply=correction-{self.claim_id}", f"/inbox?message={m.id}")
            for m in v.messages
        ]

    @rx.event
    @requires("reports.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("reports.view")
        self.error = ""
        self._load_topics()
        self.network_opts = [Option(n, n) for n in sorted({n for n in self._networks()})]
        self._load_view()
        self._load_claims()

    @staticmethod
    def _networks() -> list[str]:
        from govsocial_app.services import profiles

        return [p.network for p in profiles.summaries()]

    @rx.event
    @requires("reports.view")
    def select_topic(self, topic_id: int):
        self._require("reports.view")
        self.topic_id = topic_id
        self._load_view()

    @rx.event
    @requires("reports.view")
    def set_days(self, days: str):
        self._require("reports.view")
        self.days = days if days in DAY_CHOICES else "30"
        self._load_view()
        self._load_claims()

    @rx.event
    @requires("reports.view")
    def set_network(self, network: str):
        self._require("reports.view")
        self.network = network
        self._load_view()

    @rx.event
    @requires("listening.edit")
    def create_topic(self, form: dict):
        actor = self._require("listening.edit")
        queries = [q for q in (form.get("queries") or "").splitlines() if q.strip()]
        self.topic_id = listening.create_topic(actor, form.get("name", ""), queries)
        self._load_topics()
        self._load_view()
        return rx.toast.success(self._("Topic saved."))

    @rx.event
    @requires("listening.edit")
    def archive_topic(self, topic_id: int):
        actor = self._require("listening.edit")
        listening.archive_topic(actor, topic_id)
        self._load_topics()
        self._load_view()

    @rx.event
    @requires("listening.edit")
    def create_claim(self, form: dict):
        actor = self._require("listening.edit")
        lang = "ar" if form.get("lang") == "ar" else "en"
        self.claim_id = claims.create_claim(actor, form.get("text", ""), form.get("correction", ""), form.get("link", ""), lang)
        self._load_claims()
        return rx.toast.success(self._("Claim registered. Matching messages are flagged in the inbox."))

    @rx.event
    @requires("reports.view")
    def select_claim(self, claim_id: int):
        self._require("reports.view")
        self.claim_id = claim_id
        self._load_claims()

    @rx.event
    @requires("listening.edit")
    def archive_claim(self, claim_id: int):
        actor = self._require("listening.edit")
        claims.archive_claim(actor, claim_id)
        self._load_claims()

