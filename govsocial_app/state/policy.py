"""State for the Comment policy page: the current clauses, the version history, and the moderation settings."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services.authz import can
from govsocial_app.services.records import moderation, policy
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires

EDIT = "policy.edit"


class PolicyState(AppState):
    clauses: list[dict[str, str]] = []
    versions: list[dict[str, str]] = []
    version: int = 0
    intro: str = ""
    may_edit: bool = False
    may_configure: bool = False
    second_person: bool = False
    public_url: str = ""
    notice: str = ""

    def _refresh(self) -> None:
        actor = self._require("policy.view")  # a helper that reads data checks for itself
        now = policy.current()
        ar = self.lang == "ar"
        self.version = now.version if now else 0
        self.intro = (now.intro_ar if ar and now.intro_ar else now.intro_en) if now else ""
        self.clauses = [{"number": c.number, "title": c.title(self.lang), "text": c.text(self.lang), "title_en": c.title_en,
                         "title_ar": c.title_ar, "text_en": c.text_en, "text_ar": c.text_ar} for c in (now.clauses if now else ())]
        self.versions = [{"version": str(p.version), "at": p.created_at.strftime("%Y-%m-%d %H:%M"), "by": p.created_by,
                          "note": p.change_note, "count": str(len(p.clauses))} for p in policy.history(actor)]
        self.may_edit = can(actor.role, EDIT)
        self.may_configure = can(actor.role, "moderation.configure")
        self.second_person = moderation.second_person_required()
        self.public_url = "/api/comment-policy" + ("?lang=ar" if ar else "")

    @rx.event
    @requires("policy.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self.notice = ""
        self._refresh()

    @rx.event
    @requires(EDIT)
    def save_clause(self, form: dict):
        actor = self._require(EDIT)
        clause = policy.Clause(form.get("number", ""), form.get("title_en", ""), form.get("title_ar", ""),
                               form.get("text_en", ""), form.get("text_ar", ""))
        v = policy.save_clause(clause, actor, change_note=form.get("change_note", ""))
        self.notice = self._("Policy version {version} published.", version=v)
        self._refresh()

    @rx.event
    @requires(EDIT)
    def remove_clause(self, number: str):
        actor = self._require(EDIT)
        v = policy.remove_clause(number, actor, change_note=f"removed {number}")
        self.notice = self._("Policy version {version} published.", version=v)
        self._refresh()

    @rx.event
    @requires("moderation.configure")
    def set_second_person(self, value: bool):
        actor = self._require("moderation.configure")
        moderation.set_second_person_required(bool(value), actor)
        self._refresh()
