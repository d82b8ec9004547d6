"""State for More → Inbox rules (/more/rules): the ordered list, the rule form, and the dry run before saving."""

from __future__ import annotations

import dataclasses

import reflex as rx

from govsocial_app.services.intake import rules
from govsocial_app.services.authz import can
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires


@dataclasses.dataclass
class RuleRow:
    id: int = 0
    name: str = ""
    summary: str = ""
    enabled: bool = True
    stop: bool = False
    matches: int = 0
    errors: int = 0
    last_error: str = ""


@dataclasses.dataclass
class ChoiceRow:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class ExampleRow:
    id: int = 0
    author: str = ""
    text: str = ""


class RulesState(AppState):
    rows: list[RuleRow] = []
    can_manage: bool = False  # set from the server-side role on load; every change checks again
    editing: bool = False
    edit_id: int = 0
    form_key: int = 0  # bumped to re-mount the (uncontrolled) form with new defaults
    defaults: dict[str, str] = {}
    intent: str = "save"
    error: str = ""
    error_position: int = -1
    dry_text: str = ""
    examples: list[ExampleRow] = []
    profiles: list[ChoiceRow] = []
    vip_lists: list[ChoiceRow] = []
    claims: list[ChoiceRow] = []
    assignees: list[ChoiceRow] = []
    saved_replies: list[ChoiceRow] = []
    clauses: list[ChoiceRow] = []
    is_admin: bool = False  # automatic replies and the agency's time zone are admin settings
    auto_reply_on: bool = False
    agency_tz: str = "UTC"

    def _refresh(self) -> None:
        actor = self._require("inbox.view")
        self.can_manage = can(actor.role, "rules.manage")
        self.is_admin = can(actor.role, "settings.manage")
        self.auto_reply_on, self.agency_tz = rules.auto_reply_enabled(), rules.agency_timezone()
        self.rows = [RuleRow(v.id, v.name, rules.summary(v, self.lang), v.enabled, v.stop_processing, v.match_count, v.error_count,
                             v.last_error) for v in rules.list_rules(actor)]

    def _clear(self) -> None:
        self.error, self.error_position, self.dry_text, self.examples = "", -1, "", []

    @rx.event
    @requires("inbox.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._refresh()
        c = rules.form_choices(self._require("inbox.view"), self.lang)
        self.profiles, self.vip_lists, self.claims = ([ChoiceRow(x.value, x.label) for x in xs] for xs in (c.profiles, c.vip_lists, c.claims))
        self.assignees, self.saved_replies, self.clauses = ([ChoiceRow(x.value, x.label) for x in xs] for xs in (c.assignees, c.saved_replies, c.clauses))

    @rx.event
    @requires("rules.manage")
    def new_rule(self):
        self._require("rules.manage")
        self.editing, self.edit_id, self.defaults, self.form_key = True, 0, {}, self.form_key + 1
        self._clear()

    @rx.event
    @requires("rules.manage")
    def edit(self, rule_id: int):
        actor = self._require("rules.manage")
        view = next((v for v in rules.list_rules(actor) if v.id == rule_id), None)
        if view is not None:
            self.editing, self.edit_id, self.defaults, self.form_key = True, rule_id, rules.to_form(view), self.form_key + 1
            self._clear()

    @rx.event
    @requires("rules.manage")
    def cancel(self):
        self._require("rules.manage")
        self.editing = False
        self._clear()

    @rx.event
    @requires("rules.manage")
    def set_intent(self, intent: str):
        self._require("rules.manage")
        self.intent = "dry" if intent == "dry" else "save"

    @rx.event
    @requires("rules.manage")
    def submit(self, form: dict):
        """The form's two buttons: "Dry run" shows what the rule would have matched; "Save rule" stores it."""
        actor = self._require("rules.manage")
        self._clear()
        try:
            name, conditions, actions, enabled, stop = rules.from_form(form)
            if self.intent == "dry":
                result = rules.dry_run(conditions, actor=actor)
                self.dry_text = self._("Would have matched {count} of the last 7 days' messages.", count=result.count) + (
                    " " + self._("Only the newest {n} messages were checked.", n=result.scanned) if result.capped else "")
                self.examples = [ExampleRow(e.id, e.author, e.text) for e in result.examples]
                return
            rules.save(actor, rule_id=self.edit_id or None, name=name, conditions=conditions, actions=actions, enabled=enabled,
                       stop_processing=stop)
        except rules.RuleError as err:
            self.error = err.said(self.lang)
            self.error_position = -1 if err.position is None else err.position + 1
            return
        self.editing = False
        self._refresh()
        return rx.toast.success(self._("Rule saved."), position="top-center")

    @rx.event
    @requires("rules.manage")
    def toggle(self, rule_id: int, enabled: bool):
        rules.set_enabled(rule_id, enabled, self._require("rules.manage"))
        self._refresh()

    @rx.event
    @requires("rules.manage")
    def move(self, rule_id: int, step: int):
        rules.move(rule_id, step, self._require("rules.manage"))
        self._refresh()

    @rx.event
    @requires("rules.manage")
    def delete(self, rule_id: int):
        rules.delete(rule_id, self._require("rules.manage"))
        self._refresh()

    @rx.event
    @requires("settings.manage")
    def set_auto_reply(self, enabled: bool):
        rules.set_auto_reply_enabled(bool(enabled), self._require("settings.manage"))
        self._refresh()

    @rx.event
    @requires("settings.manage")
    def save_timezone(self, form: dict):
        rules.set_agency_timezone(str(form.get("timezone") or ""), self._require("settings.manage"))
        self._refresh()
        return rx.toast.success(self._("Time zone saved."), position="top-center")
