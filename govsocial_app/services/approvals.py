"""Approval workflows: ordered steps (any or all of a role, users or external approvers), decisions, signed links, bypass, holds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import (
    ApprovalDecision,
    ApprovalStep,
    ApprovalWorkflow,
    Post,
    PostTarget,
    Setting,
    SocialProfile,
    User,
    UserGroup,
    utcnow,
)
from govsocial_app.services import audit, crypto
from govsocial_app.services.authz import Actor, can, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing import alt_texts, aware, lock_post, notify, release

log = logging.getLogger(__name__)

LINK_KEY = "approvals.link_key"
LINK_TTL = timedelta(hours=72)
APPROVAL_ROLES = ("admin", "manager", "publisher", "responder", "viewer")


class LinkError(UserError):
    """An external approval link that cannot be used; the message says why."""


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


def _step_users(s: Session, step: ApprovalStep, author_id: int) -> set[int]:
    """Staff who may decide this step. Authors never approve their own posts."""
    ids = set(int(u) for u in step.approver_user_ids or ())
    if step.approver_role:
        ids |= set(s.exec(select(User.id).where(User.role == step.approver_role)).all())
    active = set(s.exec(select(User.id).where(col(User.id).in_(ids or [-1]), User.is_active, col(User.deleted_at).is_(None))).all())
    return active - {author_id}


def _externals(step: ApprovalStep) -> dict[str, str]:
    return {e["email"].lower(): e.get("name", "") for e in step.external_approvers or () if e.get("email")}


def _decisions(s: Session, post: Post, step: ApprovalStep) -> list[ApprovalDecision]:
    # Only decisions on the current content count: editing the post (updated_at) starts approval again.
    since = aware(post.updated_at)
    return [d for d in s.exec(select(ApprovalDecision).where(ApprovalDecision.post_id == post.id, ApprovalDecision.step_id == step.id)).all()
            if aware(d.at) >= since]


def _step_done(s: Session, post: Post, step: ApprovalStep) -> bool:
    approved = [d for d in _decisions(s, post, step) if d.decision == "approved"]
    if step.mode == "any":
        return bool(approved)
    need_users = _step_users(s, step, post.author_id)
    need_ext = set(_externals(step))
    got_users = {d.user_id for d in approved if d.user_id}
    got_ext = {d.external_email.lower() for d in approved if d.external_email}
    return bool(need_users | need_ext) and need_users <= got_users and need_ext <= got_ext


def start(s: Session, post: Post, now: datetime) -> None:
    """A post has just been submitted (or resubmitted): begin at the first step and tell its approvers."""
    post.approval_step = 0
    _announce_step(s, post)


def _announce_step(s: Session, post: Post) -> None:
    step = current_step(s, post)
    if step is None:
        return
    notify(s, _step_users(s, step, post.author_id), "approval", "A post is waiting for your approval: {excerpt}",
           params={"excerpt": _excerpt(post.text)}, link=f"/publish/approvals?post={post.id}", post_id=post.id)


def _excerpt(text: str, n: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


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


def _record(s: Session, post: Post, step: ApprovalStep, decision: str, comment: str, now: datetime, *,
            user_id: int | None = None, ext_name: str = "", ext_email: str = "") -> DecisionResult:
    s.add(ApprovalDecision(post_id=post.id, step_id=step.id, user_id=user_id, external_name=ext_name, external_email=ext_email,
                           decision=decision, comment=comment, at=now))
    s.flush()
    who = ext_name or (s.get(User, user_id).display_name if user_id else "")
    if decision == "rejected":
        post.status, post.held_reason = "draft", f"Rejected by {who}: {comment}"[:300]
        for t in s.exec(select(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status == "due")).all():
            t.status = "pending"
        notify(s, {post.author_id}, "approval", "{who} rejected your post: {comment}", params={"who": who, "comment": comment or "—"},
               body=post.text[:500], link=f"/publish?post={post.id}", severity="warning", post_id=post.id)
        return DecisionResult(post.id, decision, post.status, True, "Rejected. The author has been told.")
    if not _step_done(s, post, step):
        return DecisionResult(post.id, decision, post.status, False, "Approved. This step still needs the other approvers.")
    post.approval_step += 1
    if approval_pending(s, post):
        _announce_step(s, post)
        return DecisionResult(post.id, decision, post.status, False, "Approved. The post moves on to the next step.")
    was_held = post.status == "held"
    release(s, post, now)
    notify(s, {post.author_id}, "approval", "Your post was approved: {excerpt}", params={"excerpt": _excerpt(post.text)},
           link=f"/publish?post={post.id}", post_id=post.id)
    if was_held:
        return DecisionResult(post.id, decision, post.status, True, "Approved. Its time had passed, so it goes out now (unless publishing is paused).")
    return DecisionResult(post.id, decision, post.status, True, "Approved. The post is scheduled.")


def decide(actor: Actor, post_id: int, decision: str, comment: str = "", *, now: datetime | None = None) -> DecisionResult:
    """An approver's decision on the current step. A rejection needs a comment so the author knows what to change."""
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
            raise UserError("You cannot approve or reject your own post.")
        if actor.user_id not in _step_users(s, step, post.author_id):
            raise UserError("You are not an approver for this step.")
        if any(d.user_id == actor.user_id for d in _decisions(s, post, step)):
            raise UserError("You have already decided on this step.")
        result = _record(s, post, step, decision, comment, now, user_id=actor.user_id)
        audit.record(s, actor, f"approval.{decision}", "post", post.id, step=step.position, step_name=step.name, comment=comment,
                     post_status=post.status)
        return result


# ---------------------------------------------------------------- external approvers: signed, expiring links


def _link_key() -> bytes:
    """A random key kept (encrypted with the Fernet secret) in settings, shared by every process."""
    with session_scope() as s:
        row = s.get(Setting, LINK_KEY)
        if row is not None:
            return bytes.fromhex(crypto.decrypt_json(row.value)["key"])
    key = secrets.token_bytes(32)
    try:
        with session_scope() as s:
            s.add(Setting(key=LINK_KEY, value=crypto.encrypt_json({"key": key.hex()})))
    except IntegrityError:  # another process made one first: use that
        return _link_key()
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(post_id: int, step_id: int, email: str, version: datetime, *, expires: datetime) -> str:
    payload = json.dumps({"p": post_id, "s": step_id, "e": email.lower(), "v": int(aware(version).timestamp() * 1000),
                          "x": int(expires.timestamp())}, separators=(",", ":")).encode()
    sig = hmac.new(_link_key(), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(sig)}"


@dataclass(frozen=True)
class LinkClaims:
    post_id: int
    step_id: int
    email: str
    version_ms: int
    expires: datetime


def verify_token(token: str, *, now: datetime | None = None) -> LinkClaims:
    """Check the signature first (constant time), then expiry. Raises LinkError with a message for the visitor."""
    from datetime import timezone

    now = now or utcnow()
    try:
        body, sig = token.split(".")
        payload = _unb64(body)
        given = _unb64(sig)
    except (ValueError, TypeError):
        raise LinkError("This approval link is not valid. Check that you copied all of it.") from None
    if not hmac.compare_digest(hmac.new(_link_key(), payload, hashlib.sha256).digest(), given):
        raise LinkError("This approval link is not valid. Check that you copied all of it.")
    data = json.loads(payload)
    expires = datetime.fromtimestamp(int(data["x"]), tz=timezone.utc)
    if now >= expires:
        raise LinkError("This approval link has expired. Ask the team for a new one.")
    return LinkClaims(int(data["p"]), int(data["s"]), str(data["e"]), int(data["v"]), expires)


@dataclass(frozen=True)
class ExternalLink:
    name: str
    email: str
    url: str
    expires: datetime
    decided: str  # "", "approved" or "rejected"


def external_links(actor: Actor, post_id: int, *, now: datetime | None = None, ttl: timedelta = LINK_TTL) -> list[ExternalLink]:
    """Links for the current step's external approvers, to send them (they need no account)."""
    require(actor, "publish.compose")
    now = now or utcnow()
    with session_scope() as s:
        post = s.get(Post, post_id)
        step = current_step(s, post) if post else None
        if step is None:
            return []
        decided = {d.external_email.lower(): d.decision for d in _decisions(s, post, step) if d.external_email}
        base = get_settings().public_url
        out = []
        for email, name in _externals(step).items():
            token = make_token(post.id, step.id, email, post.updated_at, expires=now + ttl)
            out.append(ExternalLink(name, email, f"{base}/approve/{token}", now + ttl, decided.get(email, "")))
        audit.record(s, actor, "approval.links", "post", post_id, emails=sorted(_externals(step)))
        return out


@dataclass(frozen=True)
class ExternalView:
    post_id: int
    text: str
    link: str
    profiles: tuple[str, ...]
    scheduled_at: datetime | None
    invited_name: str
    invited_email: str
    step_name: str
    expires: datetime
    images: tuple[str, ...] = ()


def _external_context(s: Session, claims: LinkClaims) -> tuple[Post, ApprovalStep]:
    post = s.get(Post, claims.post_id)
    if post is None or post.deleted_at is not None:
        raise LinkError("This post has been withdrawn.")
    step = current_step(s, post)
    if step is None or step.id != claims.step_id:
        raise LinkError("This post no longer needs a decision from this link: it has moved on or been withdrawn.")
    if int(aware(post.updated_at).timestamp() * 1000) != claims.version_ms:
        raise LinkError("The post has been changed since this link was made. Ask the team for a new link.")
    if claims.email not in _externals(step):
        raise LinkError("This link's approver is no longer on the workflow.")
    return post, step


def external_view(token: str, *, now: datetime | None = None) -> ExternalView:
    claims = verify_token(token, now=now)
    with session_scope() as s:
        post, step = _external_context(s, claims)
        handles = tuple(s.exec(
            select(SocialProfile.handle).join(PostTarget, col(PostTarget.profile_id) == SocialProfile.id)
            .where(PostTarget.post_id == post.id, PostTarget.status != "cancelled")
        ).all())
        return ExternalView(post.id, post.text, post.link, handles, aware(post.scheduled_at), _externals(step)[claims.email], claims.email,
                            step.name, claims.expires, alt_texts(s, post.id))


def decide_external(token: str, name: str, email: str, decision: str, comment: str = "", *, client_ip: str = "",
                    user_agent: str = "", now: datetime | None = None) -> DecisionResult:
    """An external approver's decision through their link. Audited under the name and email they gave."""
    now = now or utcnow()
    claims = verify_token(token, now=now)
    name, email, comment = (name or "").strip()[:200], (email or "").strip().lower()[:320], (comment or "").strip()[:2000]
    if not name or "@" not in email:
        raise UserError("Give your name and email address.")
    if email != claims.email:
        raise UserError("Use the email address this link was sent to.")
    if decision not in ("approved", "rejected"):
        raise UserError("Approve or reject.")
    if decision == "rejected" and not comment:
        raise UserError("Say why you are rejecting it, so the author knows what to change.")
    actor = Actor(None, f"{name} <{email}> (external approver)", "external", client_ip, user_agent)
    with session_scope() as s:
        post = lock_post(s, claims.post_id)
        if post is None:
            raise LinkError("This post has been withdrawn.")
        post, step = _external_context(s, claims)
        if any(d.external_email.lower() == email for d in _decisions(s, post, step)):
            raise LinkError("You have already decided on this post. Thank you.")
        result = _record(s, post, step, decision, comment, now, ext_name=name, ext_email=email)
        audit.record(s, actor, f"approval.external_{decision}", "post", post.id, step=step.position, name=name, email=email,
                     comment=comment, post_status=post.status)
        return result


# ---------------------------------------------------------------- bypass, holds, the queue


def bypass(actor: Actor, post_id: int, reason: str, *, now: datetime | None = None) -> str:
    """Emergency: an admin publishes past a pending workflow. Needs a reason; flagged for review; audited."""
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
        waiting = _step_users(s, step, post.author_id)
        post.bypass_reason, post.bypassed_by, post.flagged_for_review = reason[:1000], actor.user_id, True
        post.approval_step = len(_steps(s, post.workflow_id))
        release(s, post, now)
        notify(s, waiting | {post.author_id}, "approval", "{who} published past the approval workflow: {reason}",
               params={"who": actor.label.split(" <")[0], "reason": reason}, body=post.text[:500], link=f"/publish?post={post.id}",
               severity="warning", post_id=post.id)
        audit.record(s, actor, "approval.bypass", "post", post.id, reason=reason, step=step.position)
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
            users = {post.author_id} | (_step_users(s, step, post.author_id) if step else set())
            notify(s, users, "approval", "A post reached its time before it was approved, so it is held: {excerpt}",
                   params={"excerpt": _excerpt(post.text)}, link=f"/publish/approvals?post={post.id}", severity="warning", post_id=post.id)
            audit.record(s, Actor.system("publisher"), "approval.held", "post", post.id, step=post.approval_step)
            held.append(post.id)
    return held


@dataclass(frozen=True)
class QueueItem:
    post_id: int
    author: str
    excerpt: str
    text: str
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
    externals: tuple[str, ...]
    images: tuple[str, ...] = ()


def queue(actor: Actor, *, all_pending: bool = False, limit: int = 50) -> list[QueueItem]:
    """Posts waiting for this approver's decision (or, for those who can bypass, every pending post)."""
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
            decisions = _decisions(s, post, step)
            mine = actor.user_id in _step_users(s, step, post.author_id) and not any(d.user_id == actor.user_id for d in decisions)
            if not (mine or all_pending):
                continue
            author = s.get(User, post.author_id)
            handles = tuple(s.exec(
                select(SocialProfile.handle).join(PostTarget, col(PostTarget.profile_id) == SocialProfile.id)
                .where(PostTarget.post_id == post.id, PostTarget.status != "cancelled")
            ).all())
            names = {u.id: u.display_name for u in s.exec(select(User).where(col(User.id).in_([d.user_id for d in decisions if d.user_id] or [-1]))).all()}
            out.append(QueueItem(
                post.id, author.display_name if author else "", _excerpt(post.text, 140), post.text, post.link, aware(post.scheduled_at), handles,
                workflow_name(s, post.workflow_id), step.name, step.mode, post.approval_step + 1, len(_steps(s, post.workflow_id)),
                post.status == "held", mine,
                tuple(f"{d.external_name or names.get(d.user_id, '?')}: {d.decision}" + (f" ({d.comment})" if d.comment else "") for d in decisions),
                tuple(f"{n} <{e}>" for e, n in _externals(step).items()),
                alt_texts(s, post.id),
            ))
            if len(out) >= limit:
                break
        return out


def history(post_id: int) -> list[dict[str, str]]:
    """Every decision ever made on a post, oldest first (superseded rounds included)."""
    with session_scope() as s:
        rows = s.exec(select(ApprovalDecision).where(ApprovalDecision.post_id == post_id).order_by(col(ApprovalDecision.id))).all()
        names = {u.id: u.display_name for u in s.exec(select(User).where(col(User.id).in_([r.user_id for r in rows if r.user_id] or [-1]))).all()}
        return [{"who": r.external_name or names.get(r.user_id, "?"), "external": r.external_email, "decision": r.decision,
                 "comment": r.comment, "at": aware(r.at).isoformat()} for r in rows]


def flagged_for_review(limit: int = 30):
    """Posts published past their workflow by an admin, waiting for someone to review them afterwards."""
    from govsocial_app.services.publishing import summaries

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
