"""State for Settings → Profiles (connect, check, disconnect) and Settings → Brand keywords."""

from __future__ import annotations

import dataclasses

import reflex as rx

from connectors.registry import NETWORKS, network_choices
from govsocial_app.services import profiles
from govsocial_app.services.inbox import vip
from govsocial_app.services.listening import keywords
from govsocial_app.services.timefmt import relative_time
from govsocial_app.services.listening.keyword_query import describe_syntax
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState


@dataclasses.dataclass
class FormField:
    name: str = ""
    label: str = ""
    help: str = ""
    required: bool = True
    secret: bool = False


@dataclasses.dataclass
class ProfileRow:
    id: int = 0
    network: str = ""
    handle: str = ""
    name: str = ""
    status: str = ""
    last_success: str = ""
    last_error: str = ""
    rate: str = ""


class ProfilesState(AppState):
    rows: list[ProfileRow] = []
    networks: list[list[str]] = [[n, label] for n, label in network_choices()]
    network: str = "simulator"
    fields: list[FormField] = []
    error: str = ""
    working: bool = False

    def _refresh(self) -> None:
        self._require("profiles.manage")  # a helper that reads data checks for itself
        self.rows = [
            ProfileRow(h.id, h.network, h.handle, h.display_name, h.status, relative_time(h.last_success_at, lang=self.lang, tz=self.user_tz) or self._("never"), h.last_error, h.rate)
            for h in profiles.health()
        ]

    def _set_fields(self) -> None:
        info = NETWORKS[self.network]
        self.fields = [FormField(f.name, f.label, f.help, f.required, False) for f in info.config_fields] + [
            FormField(f.name, f.label, f.help, f.required, True) for f in info.secret_fields
        ]

    @rx.event
    @requires("profiles.manage", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("profiles.manage")
        self._set_fields()
        self._refresh()

    @rx.event
    @requires("profiles.manage")
    def choose_network(self, network: str):
        self._require("profiles.manage")
        if network in NETWORKS:
            self.network = network
            self._set_fields()

    @rx.event
    @requires("profiles.manage")
    async def connect(self, form: dict):
        actor = self._require("profiles.manage")
        self.error = ""
        await profiles.connect(self.network, form, actor)
        self._refresh()
        return rx.toast.success(self._("Profile connected."))

    @rx.event
    @requires("profiles.manage")
    async def check(self, profile_id: int):
        actor = self._require("profiles.manage")
        message = await profiles.check_connection(profile_id, actor)
        self._refresh()
        return rx.toast.success(message)

    @rx.event
    @requires("profiles.manage")
    def disconnect(self, profile_id: int):
        actor = self._require("profiles.manage")
        profiles.disconnect(profile_id, actor)
        self._refresh()


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


@dataclasses.dataclass
class VipListRow:
    id: int = 0
    name: str = ""
    members: int = 0


class VipState(AppState):
    lists: list[VipListRow] = []
    import_errors: list[str] = []
    import_result: str = ""
    import_list: str = ""

    def _refresh(self) -> None:
        self._require("inbox.view")  # a helper that reads data checks for itself
        self.lists = [VipListRow(v.id, v.name, v.members) for v in vip.lists()]

    @rx.event
    @requires("inbox.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("inbox.view")
        self._refresh()

    @rx.event
    @requires("vip.edit")
    def create(self, form: dict):
        actor = self._require("vip.edit")
        vip.create_list(form.get("name", ""), actor)
        self._refresh()

    @rx.event
    @requires("vip.edit")
    def rename(self, form: dict):
        actor = self._require("vip.edit")
        vip.rename_list(int(form.get("list_id") or 0), form.get("name", ""), actor)
        self._refresh()

    @rx.event
    @requires("vip.edit")
    def delete(self, list_id: int):
        actor = self._require("vip.edit")
        vip.delete_list(list_id, actor)
        self._refresh()

    @rx.event
    @requires("vip.edit")
    def import_csv(self, form: dict):
        actor = self._require("vip.edit")
        result = vip.import_csv(int(form.get("list_id") or 0), form.get("csv", ""), actor, tuple(NETWORKS))
        self.import_errors = result.errors
        self.import_result = "" if result.errors else self._("Imported {added} new; {already} were already on the list.", added=result.added, already=result.already)
        self._refresh()
