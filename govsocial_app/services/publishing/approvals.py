"""Approval workflows: ordered steps (any or all of a role, users or external approvers), decisions bound to the exact
content (approval_content.py), emailed links with one-time codes (approval_links.py; the approver's visit and the outbox in approval_external.py), bypass, holds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import (
    ApprovalDecision,
    ApprovalStep,
    ApprovalWorkflow,
    MediaAsset,
    Post,
    PostTarget,
    SocialProfile,
    User,
    UserGroup,
    utcnow,
)
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, can, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing import approval_content, approval_links
from govsocial_app.services.publishing.lifecycle import lock_post, notify, release
from govsocial_app.services.publishing.views import summaries
from govsocial_app.services.textnorm import excerpt

log = logging.getLogger(__name__)

APPROVAL_ROLES = ("admin", "manager", "publisher", "responder", "viewer")
MEDIA_URL_TTL = timedelta(minutes=15)

WAITING = "A post is waiting for your approval: {excerpt}"
CHANGED_WHILE_READING = "This post changed while you were reading it. Check the new version, then decide."
OWN_POST = "You cannot approve or reject your own post."
EDITED_IT = "You changed this post (version {version}), so someone who did not change it must decide."
NOBODY_LEFT = ("No one who may decide this step is left: everyone who could has written or changed the post. "
               "An admin can publish past the workflow or change it.")
MSGIDS = (WAITING, CHANGED_WHILE_READING, OWN_POST, EDITED_IT, NOBODY_LEFT)
# ---------------------------------------------------------------- defining workflows


@dataclass(frozen=True)
class StepSpec:
    name: str = ""
    mode: str = "any"  # any one approver, or all of them
    role: str = ""
    user_ids: tuple[int, ...] = ()
    externals: tuple[tuple[str, str], ...] = ()  # (name, email)


def _check_step(spec: StepSpec) -> None:
    if spec.mode not in ("any", "all"):
        raise UserError("A step needs any one approver or all of them.")
    if spec.role and spec.role not in APPROVAL_ROLES:
        raise UserError("Unknown role.")
    if not (spec.role or spec.user_ids or spec.externals):
        raise UserError("Each step needs at least one approver: a role, people, or an external approver.")
    for name, email in spec.externals:
        if "@" not in (email or "") or not (name or "").strip():
            raise UserError("External approvers need a name and an email address.")


def save_workflow(actor: Actor, name: str, steps: list[StepSpec], workflow_id: int | None = None) -> int:
    """Create a workflow, or replace an existing one's steps. Posts already in it keep going by step position."""
    require(actor, "workflows.manage")
    if not name.strip():
        raise UserError("Give the workflow a name.")
    if not steps:
        raise UserError("A workflow needs at least one step.")
    for spec in steps:
        _check_step(spec)
    with session_scope() as s:
        if workflow_id:
            wf = s.get(ApprovalWorkflow, workflow_id)
            if wf is None or wf.deleted_at is not None:
                raise UserError("This workflow no longer exists.")
            wf.name = name.strip()
            old = s.exec(select(ApprovalStep).where(ApprovalStep.workflow_id == workflow_id)).all()
        else:
            wf = ApprovalWorkflow(name=name.strip())
            s.add(wf)
            s.flush()
            old = []
        for i, spec in enumerate(steps):
            row = old[i] if i < len(old) else ApprovalStep(workflow_id=wf.id)
            row.position, row.name, row.mode, row.approver_role = i, spec.name.strip() or f"Step {i + 1}", spec.mode, spec.role
            row.approver_user_ids = [int(u) for u in spec.user_ids]
            row.external_approvers = [{"name": n.strip(), "email": e.strip().lower()} for n, e in spec.externals]
            s.add(row)
        for row in old[len(steps):]:
            row.position = -1  # retired: steps are referenced by past decisions, so never deleted
        s.flush()
        audit.record(s, actor, "workflow.save", "workflow", wf.id, name=wf.name,
                     steps=[{"mode": x.mode, "role": x.role, "users": list(x.user_ids), "externals": [e for _, e in x.externals]} for x in steps])
        return wf.id


def archive_workflow(actor: Actor, workflow_id: int) -> None:
    require(actor, "workflows.manage")
    with session_scope() as s:
        wf = s.get(ApprovalWorkflow, workflow_id)
        if wf is None:
            raise UserError("This workflow no longer exists.")
        wf.deleted_at = utcnow()
        for p in s.exec(select(SocialProfile).where(SocialProfile.workflow_id == workflow_id)).all():
            p.workflow_id = None
        for g in s.exec(select(UserGroup).where(UserGroup.workflow_id == workflow_id)).all():
            g.workflow_id = None
        audit.record(s, actor, "workflow.archive", "workflow", workflow_id)


def require_for_profile(actor: Actor, profile_id: int, workflow_id: int | None) -> None:
    require(actor, "workflows.manage")
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        if p is None:
            raise UserError("This profile no longer exists.")
        p.workflow_id = workflow_id
        audit.record(s, actor, "workflow.assign_profile", "profile", profile_id, workflow_id=workflow_id)


def save_group(actor: Actor, name: str, member_ids: list[int], workflow_id: int | None, group_id: int | None = None) -> int:
    """A user group (e.g. "Night shift"); a workflow on it applies to every post its members write."""
    require(actor, "workflows.manage")
    with session_scope() as s:
        g = s.get(UserGroup, group_id) if group_id else UserGroup(name=name)
        if g is None:
            raise UserError("This group no longer exists.")
        g.name, g.member_ids, g.workflow_id = name.strip() or "Group", sorted({int(m) for m in member_ids}), workflow_id
        s.add(g)
        s.flush()
        audit.record(s, actor, "workflow.group", "user_group", g.id, name=g.name, members=g.member_ids, workflow_id=workflow_id)
        return g.id


@dataclass(frozen=True)
class WorkflowView:
    id: int
    name: str
    steps: tuple[StepSpec, ...]


def list_workflows() -> list[WorkflowView]:
    with session_scope() as s:
        out = []
        for wf in s.exec(select(ApprovalWorkflow).where(col(ApprovalWorkflow.deleted_at).is_(None)).order_by(col(ApprovalWorkflow.id))).all():
            steps = tuple(
                StepSpec(x.name, x.mode, x.approver_role, tuple(x.approver_user_ids or ()), tuple((e.get("name", ""), e.get("email", "")) for e in x.external_approvers or ()))
                for x in _steps(s, wf.id)
            )
            out.append(WorkflowView(wf.id, wf.name, steps))
        return out


def workflow_name(s: Session, workflow_id: int | None) -> str:
    wf = s.get(ApprovalWorkflow, workflow_id) if workflow_id else None
    return wf.name if wf else ""


def workflow_for(s: Session, profile_ids: list[int], author_id: int) -> int | None:
    """The workflow a post must pass: one required by a chosen profile or by a group the author is in."""
    found: list[int] = []
    for p in s.exec(select(SocialProfile).where(col(SocialProfile.id).in_(profile_ids or [-1])).order_by(col(SocialProfile.id))).all():
        if p.workflow_id and p.workflow_id not in found:
            found.append(p.workflow_id)
    for g in s.exec(select(UserGroup).where(col(UserGroup.deleted_at).is_(None), col(UserGroup.workflow_id).is_not(None))).all():
        if author_id in (g.member_ids or []) and g.workflow_id not in found:
            found.append(g.workflow_id)
    live = [w for w in found if (wf := s.get(ApprovalWorkflow, w)) is not None and wf.deleted_at is None]
    if len(live) > 1:
        raise UserError("These profiles need different approval workflows. Post to them separately.")
    return live[0] if live else None


# ---------------------------------------------------------------- the state machine


def route(s: Session, post: Post, profiles: list[SocialProfile], targets: list[PostTarget], action: str,
          editor_id: int | None, now: datetime) -> int | None:
    """Where a saved post goes (composer.save): a draft stays; a post under a workflow waits for its first step;
    any other is due for the sender. Records the content version approvals bind to. Returns the workflow id."""
    workflow_id = workflow_for(s, [p.id for p in profiles], post.author_id) if action != "draft" else None
    if action == "draft":
        post.status = "draft"
        post.workflow_id = None
    elif workflow_id:
        post.status, post.workflow_id, post.approval_step = "pending_approval", workflow_id, 0
        post.bypass_reason, post.bypassed_by, post.flagged_for_review = "", None, False
        if action == "now":
            post.scheduled_at = None  # as soon as it is approved
    else:
        post.status = "queued" if action == "queue" else "scheduled"
        post.workflow_id = None
        for t in targets:
            t.status = "due"
    s.flush()
    # Who changed the content, and into what: approvals bind to it, and editors may not approve their own words.
    approval_content.record_version(s, post, editor_id, now)
    if post.status == "pending_approval":
        start(s, post, now)
    return workflow_id


def _steps(s: Session, workflow_id: int) -> list[ApprovalStep]:
    return list(s.exec(
        select(ApprovalStep).where(ApprovalStep.workflow_id == workflow_id, col(ApprovalStep.position) >= 0).order_by(col(ApprovalStep.position))
    ).all())


def approval_pending(s: Session, post: Post) -> bool:
    return bool(post.workflow_id) and post.status in ("pending_approval", "held") and post.approval_step < len(_steps(s, post.workflow_id))


def current_step(s: Session, post: Post) -> ApprovalStep | None:
    if not approval_pending(s, post):
        return None
    return _steps(s, post.workflow_id)[post.approval_step]


def _role_users(s: Session, step: ApprovalStep) -> set[int]:
    """Active staff the step names, before anyone is excluded."""
    ids = set(int(u) for u in step.approver_user_ids or ())
    if step.approver_role:
        ids |= set(s.exec(select(User.id).where(User.role == step.approver_role)).all())
    return set(s.exec(select(User.id).where(col(User.id).in_(ids or [-1]), User.is_active, col(User.deleted_at).is_(None))).all())


def _step_users(s: Session, step: ApprovalStep, post: Post, editors: dict[int, int] | None = None) -> set[int]:
    """Staff who may decide this step: never the author, never anyone who changed the content since it was last approved."""
    if editors is None:
        editors = approval_content.editors_since_approval(s, post)
    return _role_users(s, step) - {post.author_id} - set(editors)


def _externals(step: ApprovalStep) -> dict[str, str]:
    return approval_links.externals(step)


def round_decisions(s: Session, post: Post, step: ApprovalStep, digest: str | None = None) -> list[ApprovalDecision]:
    """Decisions that count: made in this round of the workflow, on the content as it is now."""
    digest = digest if digest is not None else approval_content.load(s, post).sha256
    return list(s.exec(select(ApprovalDecision).where(
        ApprovalDecision.post_id == post.id, ApprovalDecision.step_id == step.id, ApprovalDecision.round == post.approval_round,
        ApprovalDecision.content_hash == digest)).all())


def _step_done(s: Session, post: Post, step: ApprovalStep, digest: str) -> bool:
    approved = [d for d in round_decisions(s, post, step, digest) if d.decision == "approved"]
    if step.mode == "any":
        return bool(approved)
    need_users = _step_users(s, step, post)
    need_ext = set(_externals(step))
    got_users = {d.user_id for d in approved if d.user_id}
    got_ext = {d.external_email.lower() for d in approved if d.external_email}
    return bool(need_users | need_ext) and need_users <= got_users and need_ext <= got_ext


def start(s: Session, post: Post, now: datetime, *, msgid: str = WAITING) -> None:
    """A post has just been submitted, resubmitted or changed: a new round begins at the first step. Decisions and
    links of earlier rounds stop counting; the first step's approvers are told (external ones by email)."""
    if not post.content_version:
        approval_content.record_version(s, post, None, now)
    post.approval_step = 0
    post.approval_round = (post.approval_round or 0) + 1
    approval_links.revoke_all(s, post.id, now)
    _announce_step(s, post, now, msgid)


def content_changed(s: Session, post: Post, editor_id: int | None, now: datetime) -> bool:
    """After a change outside the composer's save (a new time from the calendar or after a pause): keep the new
    version and, for a post under a workflow that is past the draft stage, start the workflow again.
    True when the post needs approval again."""
    if not approval_content.record_version(s, post, editor_id, now):
        return False
    if not post.workflow_id or post.status == "draft":
        return False
    for t in s.exec(select(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status == "due")).all():
        t.status = "pending"
    if post.status not in ("pending_approval", "held"):
        post.status = "pending_approval"
    post.held_reason = ""
    start(s, post, now, msgid=approval_content.CHANGED_NOTICE)
    return True


def _announce_step(s: Session, post: Post, now: datetime, msgid: str = WAITING) -> None:
    step = current_step(s, post)
    if step is None:
        return
    notify(s, _step_users(s, step, post), "approval", msgid, params={"excerpt": excerpt(post.text, 80)},
           link=f"/publish/approvals?post={post.id}", post_id=post.id)
    approval_links.invite_step(s, post, step, now=now)


@dataclass(frozen=True)
class DecisionResult:
    post_id: int
    decision: str
    post_status: str
    finished: bool  # the whole workflow is done (approved) or the post was rejected
    msgid: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.msgid.format(**self.params)


def record_decision(s: Session, post: Post, step: ApprovalStep, decision: str, comment: str, now: datetime, digest: str, *,
                    user_id: int | None = None, ext_name: str = "", ext_email: str = "") -> DecisionResult:
    """Record one decision on the content whose hash is `digest`, and move the workflow on. The caller has checked
    that `digest` is the post's content now and that this person may decide."""
    s.add(ApprovalDecision(post_id=post.id, step_id=step.id, user_id=user_id, external_name=ext_name, external_email=ext_email,
                           decision=decision, comment=comment, at=now, content_hash=digest, version=post.content_version,
                           round=post.approval_round))
    s.flush()
    who = ext_name or (s.get(User, user_id).display_name if user_id else "")
    if decision == "rejected":
        post.status, post.held_reason = "draft", f"Rejected by {who}: {comment}"[:300]
        for t in s.exec(select(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status == "due")).all():
            t.status = "pending"
        approval_links.revoke_all(s, post.id, now)
        notify(s, {post.author_id}, "approval", "{who} rejected your post: {comment}", params={"who": who, "comment": comment or "—"},
               body=post.text[:500], link=f"/publish?post={post.id}", severity="warning", post_id=post.id)
        return DecisionResult(post.id, decision, post.status, True, "Rejected. The author has been told.")
    if not _step_done(s, post, step, digest):
        return DecisionResult(post.id, decision, post.status, False, "Approved. This step still needs the other approvers.")
    post.approval_step += 1
    if approval_pending(s, post):
        _announce_step(s, post, now)
        return DecisionResult(post.id, decision, post.status, False, "Approved. The post moves on to the next step.")
    was_held = post.status == "held"
    post.approved_hash, post.approved_version = digest, post.content_version
    approval_links.revoke_all(s, post.id, now)
    release(s, post, now)
    notify(s, {post.author_id}, "approval", "Your post was approved: {excerpt}", params={"excerpt": excerpt(post.text, 80)},
           link=f"/publish?post={post.id}", post_id=post.id)
    if was_held:
        return DecisionResult(post.id, decision, post.status, True, "Approved. Its time had passed, so it goes out now (unless publishing is paused).")
    return DecisionResult(post.id, decision, post.status, True, "Approved. The post is scheduled.")


def decide(actor: Actor, post_id: int, decision: str, comment: str = "", *, seen_hash: str, now: datetime | None = None) -> DecisionResult:
    """An approver's decision on the current step, bound to `seen_hash`: the content hash of what they were shown.
    If the post has changed since, nothing is recorded and they are asked to look again.
    A rejection needs a comment so the author knows what to change."""
    require(actor, "publish.view")
    if decision not in ("approved", "rejected"):
        raise UserError("Approve or reject.")
    comment = (comment or "").strip()
    if decision == "rejected" and not comment:
        raise UserError("Say why you are rejecting it, so the author knows what to change.")
    now = now or utcnow()
    with session_scope() as s:
        post = lock_post(s, post_id)
        if post is None or post.deleted_at is not None:
            raise UserError("This post no longer exists.")
        step = current_step(s, post)
        if step is None:
            raise UserError("This post is not waiting for approval any more.")
        if post.author_id == actor.user_id:
            raise UserError(OWN_POST)
        editors = approval_content.editors_since_approval(s, post)
        if actor.user_id in editors:
            raise UserError(EDITED_IT.format(version=editors[actor.user_id]))
        if actor.user_id not in _step_users(s, step, post, editors):
            raise UserError("You are not an approver for this step.")
        digest = approval_content.load(s, post).sha256
        if seen_hash != digest:
            raise UserError(CHANGED_WHILE_READING)
        if any(d.user_id == actor.user_id for d in round_decisions(s, post, step, digest)):
            raise UserError("You have already decided on this step.")
        result = record_decision(s, post, step, decision, comment, now, digest, user_id=actor.user_id)
        audit.record(s, actor, f"approval.{decision}", "post", post.id, step=step.position, step_name=step.name, comment=comment,
                     post_status=post.status, content_hash=digest, version=post.content_version)
        return result


# ---------------------------------------------------------------- images for staff: short-lived, per-user addresses


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _media_sig(payload: str) -> str:
    return _b64(hmac.new(approval_links.server_key(), f"media:{payload}".encode(), hashlib.sha256).digest())


def media_url(user_id: int, media_id: int, *, now: datetime | None = None) -> str:
    """A private address for one image, for one signed-in user, for MEDIA_URL_TTL. Never the public /_upload mount:
    the route checks the signature, the expiry, and that the user may still see posts."""
    expires = int(((now or utcnow()) + MEDIA_URL_TTL).timestamp())
    payload = f"{int(user_id)}.{int(media_id)}.{expires}"
    return f"/api/approval-media/{payload}.{_media_sig(payload)}"


def open_media(token: str, *, now: datetime | None = None) -> tuple[str, str] | None:
    """(path, type) for a valid image address; None for anything else (the route answers 404 alike)."""
    try:
        user_id, media_id, expires, sig = token.split(".")
        payload = f"{int(user_id)}.{int(media_id)}.{int(expires)}"
    except ValueError:
        return None
    if not hmac.compare_digest(_media_sig(payload), sig):
        return None
    if (now or utcnow()) >= datetime.fromtimestamp(int(expires), tz=timezone.utc):
        return None
    with session_scope() as s:
        user = s.get(User, int(user_id))
        if user is None or not user.is_active or user.deleted_at is not None or not can(user.role, "publish.view"):
            return None
        m = s.get(MediaAsset, int(media_id))
        if m is None or m.deleted_at is not None:
            return None
        post = s.get(Post, m.post_id) if m.post_id else None
        if (post is None or post.deleted_at is not None) and m.uploaded_by != user.id:
            return None
        return m.path, m.mime_type


# ---------------------------------------------------------------- bypass, holds, the queue


def bypass(actor: Actor, post_id: int, reason: str, *, seen_hash: str, now: datetime | None = None) -> str:
    """Emergency: an admin publishes past a pending workflow the content they were shown (`seen_hash`).
    Needs a reason; flagged for review; audited."""
    require(actor, "publish.bypass")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise UserError("Give a reason for the bypass; it is kept in the audit log.")
    now = now or utcnow()
    with session_scope() as s:
        post = lock_post(s, post_id)
        if post is None or post.deleted_at is not None:
            raise UserError("This post no longer exists.")
        step = current_step(s, post)
        if step is None:
            raise UserError("This post is not waiting for approval any more.")
        digest = approval_content.load(s, post).sha256
        if seen_hash != digest:
            raise UserError(CHANGED_WHILE_READING)
        waiting = _step_users(s, step, post)
        post.bypass_reason, post.bypassed_by, post.flagged_for_review = reason[:1000], actor.user_id, True
        post.approval_step = len(_steps(s, post.workflow_id))
        post.approved_hash, post.approved_version = digest, post.content_version
        approval_links.revoke_all(s, post.id, now)
        release(s, post, now)
        notify(s, waiting | {post.author_id}, "approval", "{who} published past the approval workflow: {reason}",
               params={"who": actor.label.split(" <")[0], "reason": reason}, body=post.text[:500], link=f"/publish?post={post.id}",
               severity="warning", post_id=post.id)
        audit.record(s, actor, "approval.bypass", "post", post.id, reason=reason, step=step.position, content_hash=digest,
                     version=post.content_version)
        return post.status


def mark_reviewed(actor: Actor, post_id: int) -> None:
    require(actor, "publish.bypass")
    with session_scope() as s:
        post = s.get(Post, post_id)
        if post is None:
            raise UserError("This post no longer exists.")
        post.flagged_for_review = False
        audit.record(s, actor, "approval.bypass_reviewed", "post", post_id)


def hold_overdue(now: datetime | None = None) -> list[int]:
    """Posts whose time came before their approval finished are held, never dropped; author and approvers are told.
    (When the approval does finish, the post goes out at once.)"""
    now = now or utcnow()
    held = []
    with session_scope() as s:
        posts = s.exec(
            select(Post).where(Post.status == "pending_approval", col(Post.scheduled_at).is_not(None), col(Post.scheduled_at) <= now,
                               col(Post.deleted_at).is_(None)).limit(200)
        ).all()
        for post in posts:
            step = current_step(s, post)
            post.status, post.held_reason = "held", "Approval was not finished by its time"
            users = {post.author_id} | (_step_users(s, step, post) if step else set())
            notify(s, users, "approval", "A post reached its time before it was approved, so it is held: {excerpt}",
                   params={"excerpt": excerpt(post.text, 80)}, link=f"/publish/approvals?post={post.id}", severity="warning", post_id=post.id)
            audit.record(s, Actor.system("publisher"), "approval.held", "post", post.id, step=post.approval_step)
            held.append(post.id)
    return held


@dataclass(frozen=True)
class QueueItem:
    post_id: int
    author: str
    excerpt: str
    link: str
    scheduled_at: datetime | None
    profiles: tuple[str, ...]
    workflow: str
    step_name: str
    step_mode: str
    step_index: int
    step_count: int
    held: bool
    mine_to_decide: bool
    decisions: tuple[str, ...]
    externals: tuple[approval_links.ExternalStatus, ...]
    targets: tuple[approval_content.Rendered, ...] = ()  # every network's final text, exactly as it will be sent
    media: tuple[approval_content.MediaContent, ...] = ()
    content_hash: str = ""
    version: int = 0
    changes: tuple[tuple[str, dict[str, str]], ...] = ()  # since `changed_since`, the version earlier decisions were made on
    changed_since: int = 0
    editors: tuple[str, ...] = ()  # who, besides the author, changed it since it was last approved (they cannot decide)
    blocked_msgid: str = ""  # why this reader cannot decide it ("" when they can, or are not an approver)
    blocked_params: dict[str, str] = field(default_factory=dict)
    nobody_left: bool = False


def _changes(s: Session, post: Post, content: approval_content.Content) -> tuple[int, tuple[tuple[str, dict[str, str]], ...]]:
    """What changed since the last version anyone decided on (approvers see it is a new version, and how)."""
    seen = s.exec(select(ApprovalDecision.version).where(ApprovalDecision.post_id == post.id, col(ApprovalDecision.version) > 0,
                                                         col(ApprovalDecision.version) < post.content_version)
                  .order_by(col(ApprovalDecision.version).desc())).first()
    if not seen:
        return 0, ()
    old = approval_content.version_manifest(s, post.id, seen)
    if old is None:
        return 0, ()
    handles = {t.profile_id: t.handle for t in content.targets}
    for p in s.exec(select(SocialProfile).where(col(SocialProfile.id).in_([t["profile"] for t in old.get("targets", [])] or [-1]))).all():
        handles.setdefault(p.id, p.handle)
    return seen, tuple(approval_content.changes(old, content.manifest(), handles))


def queue(actor: Actor, *, all_pending: bool = False, limit: int = 50) -> list[QueueItem]:
    """Posts waiting for this approver's decision, with everything that will be published; posts this reader would
    approve but may not (they wrote or changed it), with the reason; and, for those who can bypass, every pending post."""
    require(actor, "publish.view")
    if all_pending and not can(actor.role, "publish.bypass"):
        all_pending = False
    with session_scope() as s:
        posts = s.exec(
            select(Post).where(col(Post.status).in_(("pending_approval", "held")), col(Post.workflow_id).is_not(None),
                               col(Post.deleted_at).is_(None)).order_by(col(Post.scheduled_at).is_(None), col(Post.scheduled_at), col(Post.id))
        ).all()
        out = []
        for post in posts:
            step = current_step(s, post)
            if step is None:
                continue
            content = approval_content.load(s, post)
            digest = content.sha256
            editors = approval_content.editors_since_approval(s, post)
            eligible = _step_users(s, step, post, editors)
            decisions = round_decisions(s, post, step, digest)
            mine = actor.user_id in eligible and not any(d.user_id == actor.user_id for d in decisions)
            named = actor.user_id in _role_users(s, step)
            blocked, blocked_params = "", {}
            if named and actor.user_id == post.author_id:
                blocked = OWN_POST
            elif named and actor.user_id in editors:
                blocked, blocked_params = EDITED_IT, {"version": str(editors[actor.user_id])}
            if not (mine or blocked or all_pending):
                continue
            author = s.get(User, post.author_id)
            people = {u.id: u.display_name for u in s.exec(select(User).where(
                col(User.id).in_([d.user_id for d in decisions if d.user_id] + list(editors) or [-1]))).all()}
            since, changed = _changes(s, post, content)
            decided_ext = {d.external_email.lower(): d.decision for d in decisions if d.external_email}
            out.append(QueueItem(
                post.id, author.display_name if author else "", excerpt(post.text, 140), content.link, content.scheduled_at,
                tuple(dict.fromkeys(t.handle for t in content.targets)), workflow_name(s, post.workflow_id), step.name, step.mode,
                post.approval_step + 1, len(_steps(s, post.workflow_id)), post.status == "held", mine,
                tuple(f"{d.external_name or people.get(d.user_id, '?')}: {d.decision}" + (f" ({d.comment})" if d.comment else "") for d in decisions),
                approval_links.statuses(s, post, step, decided_ext),
                tuple(approval_content.render(t, content.link) for t in content.targets), content.media, digest,
                max(post.content_version, 1), changed, since, tuple(people.get(u, "?") for u in sorted(editors) if u != post.author_id),
                blocked, blocked_params,
                not eligible and not _externals(step),
            ))
            if len(out) >= limit:
                break
        return out


def history(post_id: int) -> list[dict[str, str]]:
    """Every decision ever made on a post, oldest first (superseded rounds and versions included)."""
    with session_scope() as s:
        rows = s.exec(select(ApprovalDecision).where(ApprovalDecision.post_id == post_id).order_by(col(ApprovalDecision.id))).all()
        names = {u.id: u.display_name for u in s.exec(select(User).where(col(User.id).in_([r.user_id for r in rows if r.user_id] or [-1]))).all()}
        return [{"who": r.external_name or names.get(r.user_id, "?"), "external": r.external_email, "decision": r.decision,
                 "comment": r.comment, "at": r.at.isoformat(), "version": str(r.version), "content_hash": r.content_hash}
                for r in rows]


def flagged_for_review(limit: int = 30):
    """Posts published past their workflow by an admin, waiting for someone to review them afterwards."""
    with session_scope() as s:
        posts = s.exec(select(Post).where(Post.flagged_for_review, col(Post.deleted_at).is_(None)).order_by(col(Post.id).desc()).limit(limit)).all()
        return summaries(s, posts)


@dataclass(frozen=True)
class Assignment:
    profile_id: int
    handle: str
    workflow_id: int | None


def profile_assignments() -> list[Assignment]:
    with session_scope() as s:
        rows = s.exec(select(SocialProfile).where(col(SocialProfile.deleted_at).is_(None)).order_by(col(SocialProfile.id))).all()
        return [Assignment(p.id, p.handle, p.workflow_id) for p in rows]


def groups() -> list[tuple[int, str, list[int], int | None]]:
    with session_scope() as s:
        return [(g.id, g.name, list(g.member_ids or []), g.workflow_id)
                for g in s.exec(select(UserGroup).where(col(UserGroup.deleted_at).is_(None)).order_by(col(UserGroup.id))).all()]


# ---------------------------------------------------------------- the sender's last check


def approved_to_send(post_id: int, target_id: int, claim_token: str, profile_id: int, text: str, link: str, media: tuple,
                     language: str = "") -> bool:
    """The publishing job asks this just before it sends one claimed target. Posts that no workflow governs
    pass. A post under a workflow passes only if what is about to go out is exactly what was approved; if not,
    the claim is taken back, the post starts its workflow again, and the author and the approvers are told."""
    with session_scope() as s:
        post = s.get(Post, post_id)
        if post is None or not post.workflow_id:
            return True
        reason = approval_content.mismatch(post, approval_content.load(s, post), profile_id, text, link, media, language)
    if not reason:
        return True
    log.warning("publisher: refused to send target %s of post %s: %s", target_id, post_id, reason)
    _refuse(post_id, target_id, claim_token, reason)
    return False


def _refuse(post_id: int, target_id: int, claim_token: str, reason: str) -> None:
    now = utcnow()
    with session_scope() as s:
        post = lock_post(s, post_id)
        taken = s.execute(
            update(PostTarget).where(PostTarget.id == target_id, PostTarget.status == "claimed", PostTarget.claim_token == claim_token)
            .values(status="pending", claim_token="", error=approval_content.NOT_SENT, next_attempt_at=None)
        ).rowcount
        if not taken or post is None:
            return
        for t in s.exec(select(PostTarget).where(PostTarget.post_id == post_id, PostTarget.status == "due")).all():
            t.status = "pending"
        audit.record(s, approval_content.SYSTEM, "publish.refused_unapproved", "post_target", target_id, post_id=post_id, reason=reason,
                     approved_hash=post.approved_hash, version=post.content_version)
        if approval_pending(s, post):
            return  # another target of this post was refused first and already sent it back
        approval_content.record_version(s, post, None, now)
        post.approved_hash = ""
        due = post.scheduled_at
        post.status = "held" if due and due <= now else "pending_approval"
        post.held_reason = approval_content.NOT_SENT
        start(s, post, now, msgid=approval_content.CHANGED_NOTICE)
        notify(s, {post.author_id}, "approval", approval_content.NOT_SENT_NOTICE, params={"excerpt": excerpt(post.text, 80)},
               link=f"/publish?post={post.id}", severity="warning", post_id=post.id)
