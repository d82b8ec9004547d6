"""Pause all publishing: who may flip the one flag every outgoing path re-reads (kept in services/pause_flag.py),
and resuming with choices for missed posts."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from govsocial_app.config import stale_after_s
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import Post, PostTarget, Setting, SocialProfile, utcnow
from govsocial_app.services import audit, bus
from govsocial_app.services.authz import Actor, PermissionDenied, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.textnorm import excerpt
from govsocial_app.services.events import PauseChanged
# The flag itself lives in the kernel (services/pause_flag.py); the sender and the tests read it through here too.
from govsocial_app.services.pause_flag import PAUSE_HOLDS_REPLIES, PAUSE_KEY, _value, is_paused, lock, replies_held  # noqa: F401

log = logging.getLogger(__name__)

ROLES_KEY = "publishing.pause_roles"
DEFAULT_ROLES = ("admin", "manager", "publisher", "responder")
CHOICES = ("publish_now", "reschedule", "draft", "hold")
DRAIN_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class PauseStatus:
    paused: bool
    by_id: int | None = None
    by_name: str = ""
    at: datetime | None = None
    reason: str = ""


def status(session: Session | None = None) -> PauseStatus:
    if session is None:
        with session_scope() as s:
            return status(s)
    v = _value(session)
    if not v.get("paused"):
        return PauseStatus(False)
    at = v.get("at")
    return PauseStatus(True, v.get("by_id"), v.get("by_name", ""), datetime.fromisoformat(at) if at else None, v.get("reason", ""))


def pause_projection() -> dict[str, Any]:
    """What the banner shows on every client: plain JSON-able values."""
    st = status()
    return {
        "paused": st.paused,
        "by": st.by_name,
        "at": st.at.isoformat() if st.at else "",
        "at_label": st.at.strftime("%Y-%m-%d %H:%M UTC") if st.at else "",
        "reason": st.reason,
        "holds_replies": st.paused and PAUSE_HOLDS_REPLIES,
    }


# ---------------------------------------------------------------- who may pause


def allowed_roles(session: Session | None = None) -> list[str]:
    if session is None:
        with session_scope() as s:
            return allowed_roles(s)
    value = session.exec(select(Setting.value).where(Setting.key == ROLES_KEY)).first()
    return list(value) if isinstance(value, list) and value else list(DEFAULT_ROLES)


def may_pause(actor: Actor | None) -> bool:
    if actor is None:
        return False
    if actor.role == "system":
        return True
    try:
        require(actor, "publish.pause")
    except PermissionDenied:
        return False
    return actor.role in allowed_roles()


def _require_pause(actor: Actor) -> None:
    require(actor, "publish.pause")
    if actor.role != "system" and actor.role not in allowed_roles():
        raise PermissionDenied("publish.pause", actor.role)


def set_allowed_roles(actor: Actor, roles: list[str]) -> list[str]:
    require(actor, "settings.manage")
    chosen = [r for r in DEFAULT_ROLES if r in set(roles)]
    if "admin" not in chosen:
        chosen.insert(0, "admin")  # someone must always be able to stop everything
    with session_scope() as s:
        row = s.get(Setting, ROLES_KEY)
        if row is None:
            s.add(Setting(key=ROLES_KEY, value=chosen, updated_by=actor.user_id))
        else:
            row.value, row.updated_at, row.updated_by = chosen, utcnow(), actor.user_id
        audit.record(s, actor, "publishing.pause_roles", "setting", ROLES_KEY, roles=chosen)
    return chosen


# ---------------------------------------------------------------- pause


@dataclass(frozen=True)
class PauseAck:
    """`acknowledged_at`: from here on nothing goes out. Posts already on their way when the pause
    committed are waited for first (`in_flight`); `still_in_flight` > 0 only if a network hung."""

    paused_at: datetime
    acknowledged_at: datetime
    in_flight: int
    still_in_flight: int
    already_paused: bool = False


def _in_flight(session: Session, now: datetime) -> int:
    cutoff = now - timedelta(seconds=stale_after_s())
    return session.exec(
        select(func.count()).select_from(PostTarget).where(PostTarget.status == "claimed", col(PostTarget.claimed_at) > cutoff)
    ).one()


def pause(actor: Actor, reason: str = "", *, drain_timeout_s: float = DRAIN_TIMEOUT_S) -> PauseAck:
    """Stop all publishing. Returns once nothing more can go out: the flag is committed (no claim after it
    succeeds) and every post already claimed before it has been sent or released."""
    _require_pause(actor)
    reason = (reason or "").strip()[:500]
    with session_scope() as s:
        lock(s, exclusive=True)
        current = _value(s)
        already = bool(current.get("paused"))
        now = utcnow()
        if not already:
            value = {"paused": True, "by_id": actor.user_id, "by_name": _name(actor), "at": now.isoformat(), "reason": reason}
            s.execute(update(Setting).where(col(Setting.key) == PAUSE_KEY).values(value=value, updated_at=now, updated_by=actor.user_id))
            audit.record(s, actor, "publishing.pause", "setting", PAUSE_KEY, reason=reason)
        paused_at = datetime.fromisoformat(current["at"]) if already and current.get("at") else now
        in_flight = _in_flight(s, now)
    if not already:
        bus.publish(PauseChanged(paused=True))
    still = _drain(drain_timeout_s)
    return PauseAck(paused_at, utcnow(), in_flight, still, already)


def _drain(timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        with Session(get_engine()) as s:
            left = _in_flight(s, utcnow())
        if left == 0 or time.monotonic() >= deadline:
            if left:
                log.warning("pause: %d posts were still being sent after %.0f s", left, timeout_s)
            return left
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _name(actor: Actor) -> str:
    # "Morgan Manager <manager@demo.gov>" → "Morgan Manager": the banner shows a name, not an address.
    return actor.label.split(" <", 1)[0] if actor.label else "someone"


# ---------------------------------------------------------------- resume


@dataclass(frozen=True)
class MissedPost:
    post_id: int
    excerpt: str
    due_at: datetime
    profiles: tuple[str, ...]
    author_id: int


def _missed_rows(s: Session, now: datetime) -> list[tuple[Post, datetime, str]]:
    return list(
        s.exec(
            select(Post, PostTarget.due_at, SocialProfile.handle)
            .join(PostTarget, col(PostTarget.post_id) == Post.id)
            .join(SocialProfile, col(SocialProfile.id) == PostTarget.profile_id)
            .where(PostTarget.status == "due", col(PostTarget.due_at) <= now, col(Post.deleted_at).is_(None))
            .order_by(col(PostTarget.due_at), col(Post.id))
        ).all()
    )


def _group(rows) -> list[MissedPost]:
    out: dict[int, MissedPost] = {}
    for post, due_at, handle in rows:
        m = out.get(post.id)
        if m is None:
            out[post.id] = MissedPost(post.id, excerpt(post.text, 120), due_at, (handle,), post.author_id)
        elif handle not in m.profiles:
            out[post.id] = MissedPost(m.post_id, m.excerpt, min(m.due_at, due_at), m.profiles + (handle,), m.author_id)
    return list(out.values())


def missed_posts(now: datetime | None = None) -> list[MissedPost]:
    """Posts whose time has come but that the pause kept back: what resuming asks about."""
    with session_scope() as s:
        return _group(_missed_rows(s, now or utcnow()))


@dataclass(frozen=True)
class Choice:
    action: str  # publish_now, reschedule, draft, hold
    when: datetime | None = None  # for reschedule, timezone-aware


@dataclass
class ResumeResult:
    resumed: bool
    counts: dict[str, int] = field(default_factory=dict)
    post_ids: dict[str, list[int]] = field(default_factory=dict)


def resume(actor: Actor, choices: dict[int, Choice] | None = None, bulk: Choice | None = None, *, now: datetime | None = None) -> ResumeResult:
    """Lift the pause and, in the same transaction, settle every post whose time passed meanwhile.

    Each missed post gets its own choice, else `bulk`, else it is held: nothing the pause kept back goes
    out on resume unless someone chose so. The pause lock is held throughout, so the publishing job cannot
    claim a missed post between the flag clearing and its choice being applied."""
    from govsocial_app.services.publishing import actions

    _require_pause(actor)
    choices = choices or {}
    for c in list(choices.values()) + ([bulk] if bulk else []):
        _check_choice(c, now)
    result = ResumeResult(False)
    with session_scope() as s:
        lock(s, exclusive=True)
        current = _value(s)
        if not current.get("paused"):
            return result
        now = now or utcnow()
        missed = _group(_missed_rows(s, now))
        for m in missed:
            choice = choices.get(m.post_id) or bulk or Choice("hold")
            actions.apply_choice(s, m.post_id, choice.action, choice.when, now=now, reason="Missed during the pause",
                                    editor_id=actor.user_id)
            result.counts[choice.action] = result.counts.get(choice.action, 0) + 1
            result.post_ids.setdefault(choice.action, []).append(m.post_id)
        value = {"paused": False, "last": {**current, "resumed_by": _name(actor), "resumed_at": now.isoformat()}}
        s.execute(update(Setting).where(col(Setting.key) == PAUSE_KEY).values(value=value, updated_at=now, updated_by=actor.user_id))
        audit.record(s, actor, "publishing.resume", "setting", PAUSE_KEY, paused_by=current.get("by_name", ""),
                     paused_at=current.get("at", ""), missed=len(missed), choices=result.post_ids)
        result.resumed = True
    bus.publish(PauseChanged(paused=False))
    return result


def _check_choice(c: Choice, now: datetime | None) -> None:
    if c.action not in CHOICES:
        raise UserError("Choose publish now, reschedule or keep as draft.")
    if c.action == "reschedule":
        if c.when is None:
            raise UserError("Pick a new date and time to reschedule.")
        if c.when.tzinfo is None or c.when <= (now or datetime.now(timezone.utc)):
            raise UserError("The time you picked has already passed. Choose a time in the future.")
