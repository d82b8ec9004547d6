"""Approvals state: the approver's queue, decisions with comments, admin bypass and review, and workflow set-up."""

from __future__ import annotations

import dataclasses
import re

import reflex as rx

from govsocial_app.services.publishing import approval_external, approvals
from govsocial_app.services import auth as auth_service
from govsocial_app.services.authz import can
from govsocial_app.services.publishing.approval_content import LANGUAGE_LABELS
from govsocial_app.services.publishing.approvals import StepSpec
from govsocial_app.services.errors import UserError
from govsocial_app.services.timefmt import zone
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState
from govsocial_app.state.publish import Option, SummaryView, summary_view

STEPS_IN_FORM = 3
NOBODY_LEFT = approvals.NOBODY_LEFT
_EXTERNAL = re.compile(r"\s*(?P<name>[^<,]+?)\s*<(?P<email>[^>\s]+@[^>\s]+)>\s*")


@dataclasses.dataclass
class ParagraphView:
    text: str = ""
    dir: str = "ltr"  # "rtl" for Arabic
    lang: str = ""


@dataclasses.dataclass
class NetworkView:
    label: str = ""  # "Mastodon · @city", and the language of a twin post's text ("· Arabic")
    text: str = ""  # exactly what that network receives
    note: str = ""  # how the network treats the link, where it differs
    paragraphs: list[ParagraphView] = dataclasses.field(default_factory=list)  # the text, each paragraph in its direction


@dataclasses.dataclass
class ImageView:
    url: str = ""  # a private, short-lived address (never /_upload)
    alt: str = ""
    caption: str = ""  # "Image 1, described as:" in the reader's language; the alt text follows, in its own direction


@dataclasses.dataclass
class QueueView:
    id: str = ""
    author: str = ""
    when: str = ""
    profiles: str = ""
    workflow: str = ""
    step: str = ""
    held: bool = False
    mine: bool = False
    decisions: list[str] = dataclasses.field(default_factory=list)
    externals: list[str] = dataclasses.field(default_factory=list)
    networks: list[NetworkView] = dataclasses.field(default_factory=list)
    images: list[ImageView] = dataclasses.field(default_factory=list)
    version: str = ""
    changes: str = ""  # "New version: …" when earlier decisions were made on another version
    editors: str = ""
    blocked: str = ""  # why this reader may not decide it
    nobody_left: bool = False
    fingerprint: str = ""
    checklist: list[str] = dataclasses.field(default_factory=list)  # the accessibility checklist, one line per item (cap-wire)


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
    blocked: list[QueueView] = []
    others: list[QueueView] = []
    flagged: list[SummaryView] = []
    comments: dict[str, str] = {}
    bypass_id: str = ""
    bypass_reason: str = ""
    _shown: dict[str, str] = {}  # post id → the content hash this reader was shown (their decision is bound to it)
    workflows: list[WorkflowRow] = []
    workflow_opts: list[Option] = []
    assignments: list[Option] = []  # value = profile id, label = handle
    assigned: dict[str, str] = {}  # profile id → workflow id or "none"
    groups: list[WorkflowRow] = []  # name, and "members → workflow" in `steps`
    wf_error: str = ""

    def _view(self, q: approvals.QueueItem, user_id: int) -> QueueView:
        when = q.scheduled_at.astimezone(zone(self.user_tz)).strftime("%Y-%m-%d %H:%M") if q.scheduled_at else self._("As soon as approved")
        step = self._("Step {n} of {total}: {name} ({mode})", n=q.step_index, total=q.step_count, name=q.step_name,
                      mode=self._("any one approver") if q.step_mode == "any" else self._("every approver"))
        networks = [NetworkView(f"{r.label} · {r.handle}" + (f" · {self._(LANGUAGE_LABELS[r.language])}" if r.language in LANGUAGE_LABELS else ""),
                                r.text, self._(r.note_msgid, **dict(r.note_params)) if r.note_msgid else "",
                                [ParagraphView(text, d, "ar" if d == "rtl" else "") for text, d in r.paragraphs])
                    for r in q.targets]
        images = [ImageView(approvals.media_url(user_id, m.media_id), m.alt_text, self._("Image {n}, described as:", n=str(n)))
                  for n, m in enumerate(q.media, start=1)]
        changes = ""
        if q.changed_since:
            # Handles are isolated (U+2068…U+2069) so they keep their own direction inside an Arabic sentence.
            what = ", ".join(self._(msgid, **{k: f"\u2068{v}\u2069" for k, v in params.items()}) for msgid, params in q.changes)
            what = what or self._("nothing you can see")
            changes = self._("New version: earlier decisions no longer count. Changed since version {n}: {what}.", n=str(q.changed_since), what=what)
        return QueueView(
            str(q.post_id), q.author, when, ", ".join(q.profiles), q.workflow, step, q.held, q.mine_to_decide, list(q.decisions),
            [f"{e.name} <{e.email}>: {self._(e.msgid, **e.params)}" for e in q.externals], networks, images,
            self._("Version {n}", n=str(q.version)), changes,
            self._("Changed since the last approval by: {names}", names=", ".join(q.editors)) if q.editors else "",
            self._(q.blocked_msgid, **q.blocked_params) if q.blocked_msgid else "", q.nobody_left, q.content_hash[:12],
            self._checklist(q.post_id),
        )

    def _checklist(self, post_id: int) -> list[str]:
        from govsocial_app.services.cap import emergency
        from govsocial_app.services.cap.accessibility import TITLES

        texts, alts = emergency.post_texts(post_id)
        marks = {"pass": "✓", "fail": "✗", "n/a": "–"}
        return [f"{marks[i.status]} {self._(TITLES[i.key])} ({lang}): {self._(i.msgid, **i.params)}"
                for lang, checklist in emergency.checklists(texts, alts).items() for i in checklist.items]

    def _refresh(self) -> None:
        self._require("publish.view")  # a helper that reads data checks for itself
        actor = self._current_actor()
        items = approvals.queue(actor, all_pending=self.can_bypass)
        self._shown = {str(q.post_id): q.content_hash for q in items}
        views = [(q, self._view(q, actor.user_id)) for q in items]
        self.mine = [v for q, v in views if q.mine_to_decide]
        self.blocked = [v for q, v in views if not q.mine_to_decide and q.blocked_msgid]
        shown = {v.id for v in self.mine} | {v.id for v in self.blocked}
        self.others = [v for _q, v in views if v.id not in shown] if self.can_bypass else []
        self.flagged = [summary_view(p, self.user_tz, self._) for p in approvals.flagged_for_review()] if self.can_bypass else []
        if can(self.user_role, "workflows.manage"):
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
    @requires("publish.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("publish.view")
        self.comments, self.bypass_id = {}, ""
        self._refresh()

    @rx.event
    @requires("publish.view")
    def set_comment(self, post_id: str, value: str):
        self.comments[post_id] = value[:2000]

    @rx.event
    @requires("publish.view")
    def decide(self, post_id: str, decision: str):
        actor = self._require("publish.view")
        if decision == "approved":
            from govsocial_app.services.cap import emergency

            if blocked := emergency.approval_refusal(int(post_id)):  # an admin made these accessibility items blocking
                return rx.toast.error(" ".join(self._(i.msgid, **{**i.params, "item": self._(i.params["item"])}) for i in blocked),
                                      position="top-center")
        try:
            result = approvals.decide(actor, int(post_id), decision, self.comments.get(post_id, ""), seen_hash=self._shown.get(post_id, ""))
        except UserError as exc:
            self._refresh()  # if it changed meanwhile, the new version is what they now see
            return rx.toast.error(self._(str(exc)), position="top-center")
        self.comments.pop(post_id, None)
        if decision == "approved":
            from govsocial_app.services.cap import emergency

            emergency.remember_pair(actor, int(post_id))  # an approved twin post teaches the translation memory
        self._refresh()
        return rx.toast.success(self._(result.msgid, **result.params), position="top-center")

    @rx.event
    @requires("publish.bypass")
    def open_bypass(self, post_id: str):
        self._require("publish.bypass")
        self.bypass_id, self.bypass_reason = post_id, ""

    @rx.event
    @requires("publish.view")
    def close_bypass(self, value: bool = False):
        if not value:
            self.bypass_id = ""

    @rx.event
    @requires("publish.bypass")
    def set_bypass_reason(self, value: str):
        self.bypass_reason = value[:1000]

    @rx.event
    @requires("publish.bypass")
    def confirm_bypass(self):
        actor = self._require("publish.bypass")
        try:
            approvals.bypass(actor, int(self.bypass_id), self.bypass_reason, seen_hash=self._shown.get(self.bypass_id, ""))
        except UserError as exc:
            self._refresh()
            return rx.toast.error(self._(str(exc)), position="top-center")
        self.bypass_id = ""
        self._refresh()
        return rx.toast.warning(self._("Published past the workflow. It is flagged for review and the approvers have been told."), position="top-center")

    @rx.event
    @requires("publish.bypass")
    def reviewed(self, post_id: str):
        actor = self._require("publish.bypass")
        approvals.mark_reviewed(actor, int(post_id))
        self._refresh()

    @rx.event
    @requires("publish.compose")
    async def resend_links(self, post_id: str):
        """Email the step's link again to its external approvers. Staff never see the link itself."""
        actor = self._require("publish.compose")
        try:
            ids = approval_external.resend(actor, int(post_id))
        except UserError as exc:
            return rx.toast.error(self._(str(exc)), position="top-center")
        report = await approval_external.deliver(ids)
        self._refresh()
        if report.failed:
            return rx.toast.error(self._("The link could not be emailed yet; it is tried again automatically: {error}",
                                         error="; ".join(report.errors)[:300]), position="top-center")
        return rx.toast.success(self._("The link was emailed again to {n} external approvers. Earlier links no longer work.", n=str(report.sent)),
                                position="top-center")

    # ---------------------------------------------------------------- set-up (admins)

    @rx.event
    @requires("workflows.manage")
    def save_workflow(self, form: dict):
        actor = self._require("workflows.manage")
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
    @requires("workflows.manage")
    def save_group(self, form: dict):
        actor = self._require("workflows.manage")
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
    @requires("workflows.manage")
    def assign(self, profile_id: str, workflow_id: str):
        actor = self._require("workflows.manage")
        approvals.require_for_profile(actor, int(profile_id), int(workflow_id) if workflow_id.isdigit() else None)
        self._refresh()

    @rx.event
    @requires("workflows.manage")
    def archive(self, workflow_id: str):
        actor = self._require("workflows.manage")
        approvals.archive_workflow(actor, int(workflow_id))
        self._refresh()
