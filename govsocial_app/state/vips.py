"""State for More → VIP lists (/more/vips): the lists, renaming, deleting and CSV import."""

from __future__ import annotations

import dataclasses

import reflex as rx

from connectors.registry import NETWORKS
from govsocial_app.services.inbox import vip
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState


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
