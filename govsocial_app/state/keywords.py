"""State for More → Brand keywords (/more/keywords): the saved searches, their health, create/pause/delete."""

from __future__ import annotations

import dataclasses

import reflex as rx

from connectors.registry import NETWORKS, network_choices
from govsocial_app.services.listening import keywords
from govsocial_app.services.timefmt import relative_time
from govsocial_app.services.listening.keyword_query import describe_syntax
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState


@dataclasses.dataclass
class KeywordRow:
    id: int = 0
    name: str = ""
    query: str = ""
    networks: str = ""
    priority: str = ""
    interval: int = 0
    active: bool = True
    last_run: str = ""
    last_error: str = ""
    matches: int = 0


class KeywordsState(AppState):
    rows: list[KeywordRow] = []
    syntax: str = describe_syntax()
    network_options: list[str] = [n for n, _ in network_choices() if NETWORKS[n].limits.supports_search]
    chosen: list[str] = ["simulator"]
    error: str = ""

    def _refresh(self) -> None:
        self._require("inbox.view")  # a helper that reads data checks for itself
        self.rows = [
            KeywordRow(k.id, k.name, k.query, ", ".join(k.networks), k.priority, k.interval_s, k.is_active,
                       relative_time(k.last_run_at, lang=self.lang, tz=self.user_tz) or self._("not yet"), self._health(k), k.matches)
            for k in keywords.listing()
        ]

    def _health(self, k) -> str:
        """The keyword's health line in the reader's language: the service's notices ("this server searches hashtags
        only", "Nothing found for N days") are translated; a network's own error text stays as the network wrote it."""
        line = k.last_error
        for msgid, params in k.notices:
            line = line.replace(msgid.format(**params), self._(msgid, **params))
        return line

    @rx.event
    @requires("inbox.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("inbox.view")
        self._refresh()

    @rx.event
    @requires("keywords.edit")
    def toggle_network(self, network: str):
        self.chosen = [n for n in self.chosen if n != network] if network in self.chosen else self.chosen + [network]

    @rx.event
    @requires("keywords.edit")
    def create(self, form: dict):
        actor = self._require("keywords.edit")
        try:
            interval = int(form.get("interval") or 120)
        except ValueError:
            interval = 0
        keywords.create(form.get("name", ""), form.get("query", ""), self.chosen, form.get("priority", "normal"), interval, actor)
        self._refresh()
        return rx.toast.success(self._("Keyword saved; it runs from now on."))

    @rx.event
    @requires("keywords.edit")
    def set_active(self, keyword_id: int, active: bool):
        actor = self._require("keywords.edit")
        keywords.update(keyword_id, actor, is_active=active)
        self._refresh()

    @rx.event
    @requires("keywords.edit")
    def delete(self, keyword_id: int):
        actor = self._require("keywords.edit")
        keywords.delete(keyword_id, actor)
        self._refresh()
