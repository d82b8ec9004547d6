"""What a person does to a saved post: decide a held one, reschedule, discard, retry what failed.
These consult approvals (a new time is a change of approved content); approvals never import them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Post, PostTarget, utcnow
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing import approvals
from govsocial_app.services.publishing.lifecycle import editable_post


def apply_choice(s: Session, post_id: int, action: str, when: datetime | None, *, now: datetime, reason: str = "",
                 editor_id: int | None = None) -> None:
    """What to do with a post that missed its time (after a pause, or held): publish now, reschedule, draft, or hold.
    A new time is a change of approved content: under a workflow, the post needs approval again."""
    post = s.get(Post, post_id)
    targets = s.exec(
        select(PostTarget).where(PostTarget.post_id == post_id, col(PostTarget.status).in_(("due", "pending")))
    ).all()
    if action == "publish_now":
        for t in targets:
            t.status, t.due_at, t.next_attempt_at = "due", min(t.due_at or now, now), None
        post.status, post.held_reason = "scheduled", ""
    elif action == "reschedule":
        for t in targets:
            t.status, t.due_at, t.next_attempt_at = "due", when, None
        post.status, post.scheduled_at, post.held_reason = "scheduled", when, ""
        approvals.content_changed(s, post, editor_id, now)
    elif action == "draft":
        for t in targets:
            t.status = "pending"
        post.status, post.held_reason = "draft", ""
    else:
        for t in targets:
            t.status = "pending"
        post.status, post.held_reason = "held", reason[:300]


def decide_held(actor: Actor, post_id: int, action: str, when: datetime | None = None) -> str:
    """The author's (or an editor's) choice for a held post: publish now, reschedule or keep as draft."""
    require(actor, "publish.compose")
    if action not in ("publish_now", "reschedule", "draft"):
        raise UserError("Choose publish now, reschedule or keep as draft.")
    now = utcnow()
    when = when
    if action == "reschedule" and (when is None or when <= now):
        raise UserError("The time you picked has already passed. Choose a time in the future.")
    with session_scope() as s:
        post = editable_post(s, post_id)
        if post.status != "held":
            raise UserError("This post is not held.")
        if action != "draft" and approvals.approval_pending(s, post):
            raise UserError("This post is still waiting for approval; it goes out as soon as it is approved.")
        apply_choice(s, post_id, action, when, now=now, editor_id=actor.user_id)
        audit.record(s, actor, f"post.held_{action}", "post", post_id, when=when)
        return post.status


@dataclass(frozen=True)
class Rescheduled:
    when: datetime
    needs_approval: bool  # the time is part of what approvers approve: under a workflow, a new time needs approval again


def reschedule(actor: Actor, post_id: int, when: datetime, *, now: datetime | None = None) -> Rescheduled:
    """Move a post to a new time (the calendar's date/time picker). Under a workflow, the new time needs approval again."""
    require(actor, "publish.compose")
    now = now or utcnow()
    when = when
    if when is None or when <= now:
        raise UserError("The time you picked has already passed. Choose a time in the future.")
    with session_scope() as s:
        post = editable_post(s, post_id)
        old = post.scheduled_at
        targets = s.exec(select(PostTarget).where(PostTarget.post_id == post_id, col(PostTarget.status).in_(("due", "pending")))).all()
        for t in targets:
            t.due_at, t.next_attempt_at = when, None
        post.scheduled_at = when
        if post.status == "held" and approvals.approval_pending(s, post):
            post.status, post.held_reason = "pending_approval", ""  # its new time has not come yet
        elif post.status == "held":
            apply_choice(s, post_id, "reschedule", when, now=now, editor_id=actor.user_id)
        elif post.status == "queued":
            post.status = "scheduled"
        again = approvals.content_changed(s, post, actor.user_id, now)
        audit.record(s, actor, "post.reschedule", "post", post_id, old=old, new=when, needs_approval=again)
        return Rescheduled(when, again or approvals.approval_pending(s, post))


def discard(actor: Actor, post_id: int) -> None:
    """Soft-delete a post that has not gone out; its targets are cancelled. Audited, never erased."""
    require(actor, "publish.compose")
    with session_scope() as s:
        post = editable_post(s, post_id)
        post.deleted_at = utcnow()
        for t in s.exec(select(PostTarget).where(PostTarget.post_id == post_id, col(PostTarget.status).in_(("due", "pending", "failed")))).all():
            t.status = "cancelled"
        audit.record(s, actor, "post.discard", "post", post_id, status=post.status)


def retry_failed(actor: Actor, post_id: int) -> int:
    """Send the failed parts of a post again (same idempotency keys, so nothing already sent repeats)."""
    require(actor, "publish.compose")
    now = utcnow()
    with session_scope() as s:
        post = s.get(Post, post_id)
        if post is None or post.deleted_at is not None:
            raise UserError("This post no longer exists.")
        failed = s.exec(select(PostTarget).where(PostTarget.post_id == post_id, PostTarget.status == "failed")).all()
        if not failed:
            raise UserError("Nothing to retry: no part of this post failed.")
        for t in failed:
            t.status, t.due_at, t.next_attempt_at, t.attempts, t.error = "due", now, None, 0, ""
        post.status = "scheduled"
        audit.record(s, actor, "post.retry", "post", post_id, targets=len(failed))
        return len(failed)
