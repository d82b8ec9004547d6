"""Approvals state: the approver's queue, decisions with comments, admin bypass and review, and workflow set-up."""

from __future__ import annotations

import dataclasses
import re

import reflex as rx

from govsocial_app.services import approvals
from govsocial_app.services import auth as auth_service
from govsocial_app.services.approvals import StepSpec
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing import zone
from govsocial_app.state.app_state import AppState
from govsocial_app.state.publish import Option, SummaryView, summary_view

STEPS_IN_FORM = 3
_EXTERNAL = re.compile(r"\s*(?P<name>[^<,]+?)\s*<(?P<email>[^>\s]+@[^>\s]+)>\s*")


@dataclasses.dataclass
class QueueView:
    id: str = ""
    author: str = ""
    text: str = ""
    link: str = ""
    when: str = ""
    profiles: str = ""
    workflow: str = ""
    step: str = ""
    held: bool = False
    mine: bool = False
    decisions: list[str] = dataclasses.field(default_factory=list)
    externals: str = ""
    images: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class WorkflowRow:
    id: str = ""
    name: str = ""
    steps: str = ""


def parse_externals(raw: str) -> tuple[tuple[str, str], ...]:
    """"Mayor's office <mayor@city.gov>, Legal <legal@city.gov>" → ((name, email), ...)."""
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        m = _EXTERNAL.fullmatch(part)
        if not m:
            raise UserError("Write external approvers as Name <email>, separated by commas.")
        out.append((m["name"], m["email"].lower()))
    return tuple(out)


class ApprovalsState(AppState):
    mine: list[QueueView] = []
    others: list[QueueView] = []
    flagged: list[SummaryView] = []
    comments: dict[str, str] = {}
    bypass_id: str = ""
    bypass_reason: str = ""
    links: list[Option] = []
    links_for: str = ""
    workflows: list[WorkflowRow] = []
    workflow_opts: list[Option] = []
    assignments: list[Option] = []  # value = profile id, label = handle
    assigned: dict[str, str] = {}  # profile id → workflow id or "none"
    groups: list[WorkflowRow] = []  # name, and "members → workflow" in `steps`
    wf_error: str = ""

    def _view(self, q: approvals.QueueItem) -> QueueView:
        when = q.scheduled_at.astimezone(zone(self.user_tz)).strftime("%Y-%m-%d %H:%M") if q.scheduled_at else self._("As soon as approved")
        step = self._("Step {n} of {total}: {name} ({mode})", n=q.step_index, total=q.step_count, name=q.step_name,
                      mode=self._("any one approver") if q.step_mode == "any" else self._("every approver"))
        return QueueView(str(q.post_id), q.author, q.text, q.link, when, ", ".join(q.profiles), q.workflow, step, q.held, q.mine_to_decide,
                         list(q.decisions), ", ".join(q.externals), list(q.images))

    def _refresh(self) -> None:
        actor = self.current_actor()
        self.mine = [self._view(q) for q in approvals.queue(actor)]
        mine_ids = {q.id for q in self.mine}
        self.others = [self._view(q) for q in approvals.queue(actor, all_pending=True) if str(q.post_id) not in mine_ids] if self.is_admin else []
        self.flagged = [summary_view(p, self.user_tz, self._) for p in approvals.flagged_for_review()] if self.is_admin else []
        if self.is_admin:
            wfs = approvals.list_workflows()
            self.workflows = [WorkflowRow(str(w.id), w.name, " → ".join(
                f"{s.name} ({s.mode}: {', '.join(filter(None, [s.role, *[str(u) for u in s.user_ids], *[e for _, e in s.externals]]))})" for s in w.steps))
                for w in wfs]
            self.workflow_opts = [Option(str(w.id), w.name) for w in wfs]
            rows = approvals.profile_assignments()
            self.assignments = [Option(str(a.profile_id), a.handle) for a in rows]
            self.assigned = {str(a.profile_id): str(a.workflow_id) if a.workflow_id else "none" for a in rows}
            names = {w.id: w.name for w in wfs}
            emails = {u.id: u.email for u in auth_service.list_users()}
            self.groups = [WorkflowRow(str(gid), name, ", ".join(emails.get(m, "?") for m in members) + " → " + names.get(wf, self._("No approval needed")))
                           for gid, name, members, wf in approvals.groups()]

    @rx.event
    def load(self):
        if not self._load_user():
            return self._to_login()
        self.require("publish.view")
        self.comments, self.bypass_id, self.links, self.links_for = {}, "", [], ""
        self._refresh()

    @rx.event
    def set_comment(self, post_id: str, value: str):
        self.comments[post_id] = value[:2000]

    @rx.event
    def decide(self, post_id: str, decision: str):
        actor = self.require("publish.view")
        try:
            result = approvals.decide(actor, int(post_id), decision, self.comments.get(post_id, ""))
        except UserError as exc:
            return rx.toast.error(self._(str(exc)), position="top-center")
        self.comments.pop(post_id, None)
        self._refresh()
        return rx.toast.success(self._(result.msgid, **result.params), position="top-center")

    @rx.event
    def open_bypass(self, post_id: str):
        self.require("publish.bypass")
        self.bypass_id, self.bypass_reason = post_id, ""

    @rx.event
    def close_bypass(self, value: bool = False):
        if not value:
            self.bypass_id = ""

    @rx.event
    def set_bypass_reason(self, value: str):
        self.bypass_reason = value[:1000]

    @rx.event
    def confirm_bypass(self):
        actor = self.require("publish.bypass")
        try:
            approvals.bypass(actor, int(self.bypass_id), self.bypass_reason)
        except UserError as exc:
            return rx.toast.error(self._(str(exc)), position="top-center")
        self.bypass_id = ""
        self._refresh()
        return rx.toast.warning(self._("Published past the workflow. It is flagged for review and the approvers have been told."), position="top-center")

    @rx.event
    def reviewed(self, post_id: str):
        actor = self.require("publish.bypass")
        approvals.mark_reviewed(actor, int(post_id))
        self._refresh()

    @rx.event
    def show_links(self, post_id: str):
        actor = self.require("publish.compose")
        self.links_for = post_id
        self.links = [Option(link.url, f"{link.name} <{link.email}>" + (f" · {link.decided}" if link.decided else ""))
                      for link in approvals.external_links(actor, int(post_id))]

    # ---------------------------------------------------------------- set-up (admins)

    @rx.event
    def save_workflow(self, form: dict):
        actor = self.require("workflows.manage")
        emails = {u.email.lower(): u.id for u in auth_service.list_users()}
        steps = []
        try:
            for i in range(1, STEPS_IN_FORM + 1):
                role, people, ext = form.get(f"role{i}", "none"), form.get(f"people{i}", ""), form.get(f"externals{i}", "")
                role = "" if role == "none" else role
                if not (role or people.strip() or ext.strip()):
                    continue
                ids = []
                for email in filter(None, (e.strip().lower() for e in people.split(","))):
                    if email not in emails:
                        raise UserError("No user has one of those email addresses.")
                    ids.append(emails[email])
                steps.append(StepSpec(form.get(f"name{i}", ""), form.get(f"mode{i}", "any"), role, tuple(ids), parse_externals(ext)))
            approvals.save_workflow(actor, form.get("name", ""), steps)
        except UserError as exc:
            self.wf_error = self._(str(exc))
            return
        self.wf_error = ""
        self._refresh()
        return rx.toast.success(self._("Workflow saved."), position="top-center")

    @rx.event
    def save_group(self, form: dict):
        actor = self.require("workflows.manage")
        emails = {u.email.lower(): u.id for u in auth_service.list_users()}
        wanted = [e.strip().lower() for e in (form.get("members") or "").split(",") if e.strip()]
        if not (form.get("name") or "").strip() or not wanted or any(e not in emails for e in wanted):
            self.wf_error = self._("Give the group a name and the email addresses of its members.")
            return
        workflow = form.get("workflow", "none")
        approvals.save_group(actor, form["name"], [emails[e] for e in wanted], int(workflow) if workflow.isdigit() else None)
        self.wf_error = ""
        self._refresh()

    @rx.event
    def assign(self, profile_id: str, workflow_id: str):
        actor = self.require("workflows.manage")
        approvals.require_for_profile(actor, int(profile_id), int(workflow_id) if workflow_id.isdigit() else None)
        self._refresh()

    @rx.event
    def archive(self, workflow_id: str):
        actor = self.require("workflows.manage")
        approvals.archive_workflow(actor, int(workflow_id))
        self._refresh()
