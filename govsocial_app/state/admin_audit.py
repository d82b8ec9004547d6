"""State for the audit log page (/admin/audit): filters, paging, the chain heads and the CSV export."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import reflex as rx

from govsocial_app.services import audit
from govsocial_app.services.errors import UserError
from govsocial_app.services.records import chain
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState

PAGE = 50


def _parse_day(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise UserError("Dates must look like 2026-11-24.") from exc


class AuditState(AppState):
    rows: list[dict[str, str]] = []
    f_action: str = ""
    f_actor: str = ""
    f_since: str = ""
    f_until: str = ""
    has_more: bool = False
    action_choices: list[str] = []
    chain_heads: list[dict[str, str]] = []

    def _filter(self) -> audit.AuditFilter:
        until = _parse_day(self.f_until)
        return audit.AuditFilter(
            action=self.f_action, actor=self.f_actor.strip(), since=_parse_day(self.f_since),
            until=until + timedelta(days=1) if until else None,
        )

    def _fetch(self, before_id: int | None = None) -> list[dict[str, str]]:
        self._require("audit.view")  # a helper that reads data checks for itself
        rows = audit.search(self._filter(), before_id=before_id, limit=PAGE + 1)
        self.has_more = len(rows) > PAGE
        return [
            {"id": str(r.id), "at": r.at.strftime("%Y-%m-%d %H:%M:%S"), "actor": r.actor_label, "action": r.action,
             "object": f"{r.object_type} {r.object_id}".strip(), "detail": r.detail[:200], "client": r.client[:120]}
            for r in rows[:PAGE]
        ]

    @rx.event
    @requires("audit.view", signed_out="login", refused="page")  # the page shows no_access() for this role
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("audit.view")
        self.action_choices = audit.actions()
        self.rows = self._fetch()
        self.chain_heads = [
            {"chain": h.chain, "seq": str(h.seq), "hash": h.hash,
             "at": h.updated_at.strftime("%Y-%m-%d %H:%M UTC") if h.updated_at else ""}
            for h in chain.current_heads()
        ]

    @rx.event
    @requires("audit.view")
    def apply(self, form: dict):
        self._require("audit.view")
        self.f_action = "" if form.get("action") in (None, "all") else form["action"]
        self.f_actor = form.get("actor", "")
        self.f_since, self.f_until = form.get("since", ""), form.get("until", "")
        self.rows = self._fetch()

    @rx.event
    @requires("audit.view")
    def more(self):
        self._require("audit.view")
        if self.rows:
            self.rows = self.rows + self._fetch(int(self.rows[-1]["id"]))

    @rx.event
    @requires("audit.view")
    def export_csv(self):
        actor = self._require("audit.view")
        return rx.download(data=audit.export_for(actor, self._filter()), filename="govsocial-audit.csv")
