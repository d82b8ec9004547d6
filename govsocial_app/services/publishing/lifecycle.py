"""A post's lifecycle: lock it, check it may still change, hand it to the sender, and tell people about it.

The states (draft, pending_approval, scheduled, queued, held, failed, published) change here and in actions.py;
approvals.py and the sender build on these helpers, and nothing here imports them: that is what keeps the
composer, approvals and the sender out of an import circle."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from govsocial_app.db.models import Alert, Post, PostTarget, SocialProfile
from govsocial_app.services import bus
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import AlertsChanged


EDITABLE = ("draft", "pending_approval", "scheduled", "queued", "held", "failed")


# ---------------------------------------------------------------- notices (alerts rows + the live bus)


def notify(
    session: Session, user_ids: set[int] | list[int], kind: str, msgid: str, *, params: dict[str, Any] | None = None,
    body: str = "", link: str = "", severity: str = "info", post_id: int | None = None,
) -> Alert | None:
    """Tell some users through the alert centre (in-app, push, email), translated per recipient from `msgid`.
    The alert commits with the change that caused it; other processes hear of it only after the commit."""
    from govsocial_app.services.alerting import alerts

    users = sorted({int(u) for u in user_ids if u})
    if not users:
        return None
    # The body is free text (a post's words), rendered like a msgid: braces in it must not be read as fields.
    if params:
        body = body.replace("{", "{{").replace("}", "}}")
    spec = alerts.AlertSpec(kind=kind, severity=severity, title=msgid, body=body, params={k: str(v) for k, v in (params or {}).items()},
                              link=link, data={"user_ids": users, "post_id": post_id})
    alert = alerts.create_alert(session, spec, alerts.Audience(user_ids=tuple(users)))
    bus.announce_after_commit(session, AlertsChanged(raised=(alert.id,)))
    return alert


def load_profiles(s: Session, ids: list[int]) -> list[SocialProfile]:
    rows = s.exec(
        select(SocialProfile).where(col(SocialProfile.id).in_(ids or [-1]), col(SocialProfile.deleted_at).is_(None))
    ).all()
    found = {p.id: p for p in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise UserError("A chosen profile is no longer connected. Refresh and choose again.")
    return [found[i] for i in dict.fromkeys(ids)]


def lock_post(s: Session, post_id: int) -> Post | None:
    """Serialise changes to one post (approvals deciding at once, targets of one post recording at once).
    Take it first in the transaction: on SQLite the write takes the database lock before anything is read."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(Post).where(col(Post.id) == post_id).values(approval_step=Post.approval_step))
        return s.get(Post, post_id)
    return s.exec(select(Post).where(Post.id == post_id).with_for_update()).first()


def editable_post(s: Session, post_id: int) -> Post:
    post = lock_post(s, post_id)
    if post is None or post.deleted_at is not None:
        raise UserError("This post no longer exists.")
    targets = select(PostTarget).where(PostTarget.post_id == post_id)
    if s.get_bind().dialect.name != "sqlite":
        # The job claims with SKIP LOCKED: holding these rows keeps it off them until this change commits.
        targets = targets.with_for_update()
    # "unknown"/"check" (publisher.py): it may be on the network already; changing its text would make the
    # reconciliation miss it and send a second, different post.
    busy = [t for t in s.exec(targets).all() if t.status in ("claimed", "published", "unknown", "check")]
    if busy or post.status not in EDITABLE:
        raise UserError("This post is being published or has been published; it can no longer be changed.")
    return post


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def release(s: Session, post: Post, now: datetime) -> None:
    """Approved (or bypassed, or a held post let go): hand the post to the publishing job.
    A time that has passed means now; the job still honours the pause."""
    for t in s.exec(select(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status == "pending")).all():
        due = t.due_at
        t.due_at = due if due and due > now else now
        t.status, t.next_attempt_at = "due", None
    post.status, post.held_reason = "scheduled", ""
