"""State for More → Profiles (/more/profiles): connect a profile, check it, disconnect it."""

from __future__ import annotations

import dataclasses

import reflex as rx

from connectors.registry import NETWORKS, network_choices
from govsocial_app.services import profiles
from govsocial_app.services.timefmt import relative_time
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
            ProfileRow(h.id, h.network, h.handle, h.display_name, h.status,
                       relative_time(h.last_success_at, lang=self.lang, tz=self.user_tz) or self._("never"), h.last_error,
                       self._("{remaining} of {limit} left", remaining=h.rate_remaining, limit=h.rate_limit) if h.rate_limit else "")
            for h in profiles.health()
        ]

    def _set_fields(self) -> None:
        # The connector package's own description of its form (connectors/<network>/about.py), secret fields last.
        # Labels and help are English msgids (govsocial_app/i18n/ar_connectors.po), said in the reader's language.
        info = NETWORKS[self.network]
        self.networks = [[name, self._(label)] for name, label in network_choices()]
        self.fields = [FormField(f.name, self._(f.label), self._(f.help) if f.help else "", f.required, f.secret)
                       for f in info.config_fields + info.secret_fields]

    @rx.event
    @requires("profiles.manage", signed_out="login", refused="page")  # the page shows no_access() for this role
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
