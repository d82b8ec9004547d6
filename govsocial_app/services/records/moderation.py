"""Moderation of comments and replies on the agency's own posts: hide (the default), unhide, delete, block, mute and
report, each citing a clause of the comment policy, each sent through the message's connector and kept as a record.

An action's `status`: "awaiting_confirmation" (delete or block, when the admin setting asks a second person),
"pending" (to send now), "sending" (claimed by one sender; `claimed_at` says since when), "retrying" (the network was
busy or limited us: the moderation job sends it again at `next_attempt_at`), "unknown" (the answer was lost after the
network may have acted: the job asks the network first and only repeats what is safe to repeat), "done", "failed"
(the network refused: the message stays as it was, the reason is shown) and "declined" (the second person said no).

Nothing is lost: the message itself is never changed or removed here. Every finished action (done or failed) adds a
version to the message's archive chain carrying the message as it stood (text, author, metadata, media) and the
action (who, when, clause, note, the network's answer). Actions are the record type `moderation_action`
(retention.py). This package sits above inbox (see pyproject's domain contract), so the inbox reads
`message_moderation` straight from the database rather than importing this module."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from connectors.base import (
    IDEMPOTENT_MODERATION, MODERATION_ACTIONS, AuthError, ModerationResult, ModerationSupport, ModerationTarget, NotFound,
    NotSupported, PermanentError, RateLimited, TransientError, moderation_support,
)
from connectors.http import OutcomeUnknown
from connectors.registry import get_connector_class
from govsocial_app.db.engine import read_connection, session_scope
from govsocial_app.db.models import (
    Message, MessageModeration, MessageVersion, ModerationAction, SocialProfile, User, utcnow,
)
from govsocial_app.services import audit, bus, profiles, settings_store
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import InboxChanged
from govsocial_app.services.records import policy

log = logging.getLogger(__name__)

SECOND_PERSON = "moderation.second_person"
NEEDS_SECOND = frozenset({"delete", "block"})
MODERATABLE_KINDS = frozenset({"comment", "reply"})
MAX_ATTEMPTS = 8
STUCK_AFTER_S = 180.0
JOB_BATCH = 20
SYSTEM = Actor.system("moderation")
OPEN = ("awaiting_confirmation", "pending", "sending", "retrying", "unknown", "needs_check")

# The state a message is in after each completed action (author actions leave the message as it was).
MESSAGE_STATE = {"hide": "hidden", "unhide": "visible", "delete": "deleted"}
AUTHOR_STATE = {"block": "blocked", "mute": "muted", "report": "reported"}


# ---------------------------------------------------------------- settings


def second_person_required(session: Session | None = None) -> bool:
    return bool(settings_store.get(SECOND_PERSON, False, session=session))


def set_second_person_required(value: bool, actor: Actor) -> None:
    require(actor, "moderation.configure")
    with session_scope() as s:
        settings_store.put(s, SECOND_PERSON, bool(value), actor, audit_action="moderation.second_person_set", required=bool(value))


# ---------------------------------------------------------------- what can be done to a message


@dataclass(frozen=True)
class Option:
    action: str
    mode: str  # network, in_app, none
    reason: str  # English msgid: why in_app or none
    needs_second: bool


@dataclass(frozen=True)
class Standing:
    state: str  # visible, hidden, hidden_in_app, deleted
    clause: str
    author_state: str
    pending: list[ActionView]
    last: ActionView | None


@dataclass(frozen=True)
class ActionView:
    id: int
    message_id: int
    network: str
    action: str
    mode: str
    clause: str
    clause_title: str
    note: str
    status: str
    requested_by: str
    requested_at: datetime
    confirmed_by: str
    response: dict[str, Any]
    error: str
    undone: bool

    @property
    def message(self) -> str:
        """What the person who asked is told (an English msgid; the state translates)."""
        return STATUS_MESSAGES.get(self.status, "")


STATUS_MESSAGES = {
    "awaiting_confirmation": "Waiting for a second person to confirm.",
    "retrying": "The network did not answer. GovSocial will try again; nothing is lost.",
    "unknown": "We could not confirm the network's answer. GovSocial is checking; it will not be repeated blindly.",
    "declined": "A second person declined this action.",
    "needs_check": "The network cannot tell whether this was done. Check on the network before asking again.",
}


def options(network: str) -> list[Option]:
    try:
        support = moderation_support(get_connector_class(network))
    except Exception:  # noqa: BLE001 - an unknown network supports nothing
        support = {a: ModerationSupport(a, "none", "This network's connector cannot moderate.") for a in MODERATION_ACTIONS}
    need2 = second_person_required()
    return [Option(a, s.mode, s.reason, a in NEEDS_SECOND and need2) for a, s in support.items()]


def is_moderatable(m: Message) -> bool:
    return m.direction == "in" and (m.kind in MODERATABLE_KINDS or bool(m.in_reply_to_external_id and m.kind != "dm"))


def _view(a: ModerationAction, names: dict[int, str]) -> ActionView:
    return ActionView(a.id, a.message_id, a.network, a.action, a.mode, a.clause, a.clause_title, a.note, a.status,
                      names.get(a.requested_by or 0, "system"), a.requested_at, names.get(a.confirmed_by or 0, ""),
                      dict(a.response or {}), a.error, a.undone_by_id is not None)


def _names(s: Session, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.display_name for u in s.exec(select(User).where(col(User.id).in_(ids))).all()}


_A = ModerationAction.__table__
_REQUESTER = User.__table__.alias("requester")
_CONFIRMER = User.__table__.alias("confirmer")
_MM = MessageModeration.__table__
# Where a message stands and its last 20 actions with their people's names, as one statement (an opened comment
# reads it on every open): one row with NULL action columns when nothing was ever asked, none for no message.
_STANDING = (
    core_select(_MM.c.state.label("mm_state"), _MM.c.clause.label("mm_clause"), _MM.c.author_state.label("mm_author_state"),
                *(_A.c[k] for k in ("id", "message_id", "network", "action", "mode", "clause", "clause_title", "note", "status",
                                    "requested_by", "requested_at", "confirmed_by", "response", "error", "undone_by_id")),
                _REQUESTER.c.display_name.label("requester"), _CONFIRMER.c.display_name.label("confirmer"))
    .select_from(
        Message.__table__
        .outerjoin(_MM, _MM.c.message_id == Message.__table__.c.id)
        .outerjoin(_A, _A.c.message_id == Message.__table__.c.id)
        .outerjoin(_REQUESTER, _REQUESTER.c.id == _A.c.requested_by)
        .outerjoin(_CONFIRMER, _CONFIRMER.c.id == _A.c.confirmed_by)
    )
    .where(Message.__table__.c.id == bindparam("mid"))
    .order_by(_A.c.id.desc()).limit(20)
)


def standing(message_id: int, actor: Actor) -> Standing:
    require(actor, "inbox.view")
    with read_connection() as conn:
        rows = conn.execute(_STANDING, {"mid": message_id}).all()
    names = {i: n for r in rows for i, n in ((r.requested_by, r.requester), (r.confirmed_by, r.confirmer)) if i and n is not None}
    views = [_view(r, names) for r in rows if r.id is not None]  # rows carry the action's columns by name
    top = rows[0] if rows else None
    return Standing((top and top.mm_state) or "visible", (top and top.mm_clause) or "", (top and top.mm_author_state) or "",
                    [v for v in views if v.status in OPEN], views[0] if views else None)


def history(message_id: int, actor: Actor) -> list[ActionView]:
    require(actor, "inbox.view")
    with session_scope() as s:
        acts = s.exec(select(ModerationAction).where(ModerationAction.message_id == message_id).order_by(col(ModerationAction.id))).all()
        names = _names(s, {a.requested_by for a in acts} | {a.confirmed_by for a in acts})
        return [_view(a, names) for a in acts]


# ---------------------------------------------------------------- asking for an action


def _request(message_id: int, action: str, clause: str, note: str, actor: Actor) -> tuple[int, bool]:
    if action not in MODERATION_ACTIONS:
        raise UserError("Choose a moderation action.")
    clause = (clause or "").strip()
    if not clause:
        raise UserError("Choose the policy clause this action applies.")
    note = (note or "").strip()
    if len(note) > 2000:
        raise UserError("The note can be at most 2000 characters.")
    with session_scope() as s:
        return request_in(s, message_id, action, clause, note, actor)


def request_in(s: Session, message_id: int, action: str, clause: str, note: str, actor: Actor) -> tuple[int, bool]:
    """Queue a moderation request in the caller's transaction (an inbox rule's hide, during intake): checked and
    audited as any request; the moderation job sends it."""
    clause = (clause or "").strip()
    note = (note or "").strip()
    m = s.get(Message, message_id)
    if m is None or m.deleted_at is not None:
        raise UserError("That message does not exist.")
    if not is_moderatable(m):
        raise UserError("Only comments and replies to the agency's own posts can be moderated.")
    pol = policy.current(s)
    cited = pol.clause(clause) if pol else None
    if cited is None:
        raise UserError("That clause is not in the current comment policy.")
    opt = next(o for o in options(m.network) if o.action == action)
    if opt.mode == "none":
        raise UserError(opt.reason or "This network cannot do that.")
    current = s.get(MessageModeration, message_id)
    state = current.state if current else "visible"
    undoes = None
    if action == "unhide":
        if state not in ("hidden", "hidden_in_app"):
            raise UserError("This message is not hidden.")
        undoes = current.action_id
    elif action == "hide" and state in ("hidden", "hidden_in_app"):
        raise UserError("This message is already hidden.")
    elif action in ("hide", "delete") and state == "deleted":
        raise UserError("This message was deleted from the network.")
    busy = s.exec(select(ModerationAction.id).where(
        ModerationAction.message_id == message_id, ModerationAction.action == action,
        col(ModerationAction.status).in_(OPEN))).first()
    if busy is not None:
        raise UserError("This action is already under way for this message.")
    # An unhide of a message hidden only in GovSocial is done in GovSocial, whatever the network offers.
    mode = "in_app" if (action == "unhide" and state == "hidden_in_app") else opt.mode
    wait = action in NEEDS_SECOND and second_person_required(s)
    a = ModerationAction(
        message_id=m.id, network=m.network, action=action, mode=mode, clause=cited.number, clause_title=cited.title_en[:300],
        policy_version=pol.version, note=note, status="awaiting_confirmation" if wait else "pending",
        requested_by=actor.user_id, undoes_id=undoes,
    )
    s.add(a)
    s.flush()
    audit.record(s, actor, "moderation.request", "message", m.id, action_id=a.id, kind=action, mode=mode,
                 clause=cited.number, policy_version=pol.version, note=note, awaiting_confirmation=wait)
    return a.id, wait


async def request(message_id: int, action: str, clause: str, note: str, actor: Actor) -> ActionView:
    """Ask for a moderation action. Returns the action as it stands: done, failed (with the network's reason),
    retrying, unknown, or awaiting a second person's confirmation. Raises UserError for bad input."""
    require(actor, "moderation.act")
    action_id, wait = await asyncio.to_thread(_request, message_id, action, clause, note, actor)
    if not wait:
        await perform(action_id, actor)
    bus.publish(InboxChanged.of(changed_ids=[message_id]))
    return await asyncio.to_thread(_get, action_id)


async def confirm(action_id: int, actor: Actor) -> ActionView:
    """The second person confirms a delete or block; it is sent at once."""
    require(actor, "moderation.confirm")
    message_id = await asyncio.to_thread(_decide, action_id, actor, True)
    await perform(action_id, actor)
    bus.publish(InboxChanged.of(changed_ids=[message_id]))
    return await asyncio.to_thread(_get, action_id)


async def decline(action_id: int, actor: Actor) -> ActionView:
    require(actor, "moderation.confirm")
    message_id = await asyncio.to_thread(_decide, action_id, actor, False)
    bus.publish(InboxChanged.of(changed_ids=[message_id]))
    return await asyncio.to_thread(_get, action_id)


def _decide(action_id: int, actor: Actor, ok: bool) -> int:
    with session_scope() as s:
        a = s.get(ModerationAction, action_id)
        if a is None or a.status != "awaiting_confirmation":
            raise UserError("This action is not waiting for confirmation.")
        if a.requested_by == actor.user_id:
            raise UserError("A second person must confirm: you asked for this action.")
        n = s.execute(update(ModerationAction).where(ModerationAction.id == action_id, ModerationAction.status == "awaiting_confirmation")
                      .values(status="pending" if ok else "declined", confirmed_by=actor.user_id, confirmed_at=utcnow(),
                              completed_at=None if ok else utcnow())).rowcount
        if not n:
            raise UserError("This action is not waiting for confirmation.")
        audit.record(s, actor, "moderation.confirm" if ok else "moderation.decline", "message", a.message_id, action_id=a.id,
                     kind=a.action, clause=a.clause)
        if not ok:
            s.flush()
            _archive(s, a, actor)
        return a.message_id


def _get(action_id: int) -> ActionView:
    with session_scope() as s:
        a = s.get(ModerationAction, action_id)
        return _view(a, _names(s, {a.requested_by, a.confirmed_by}))


# ---------------------------------------------------------------- sending


def _claim(action_id: int, from_status: tuple[str, ...], now: datetime) -> bool:
    with session_scope() as s:
        return bool(s.execute(update(ModerationAction).where(ModerationAction.id == action_id, col(ModerationAction.status).in_(from_status))
                              .values(status="sending", claimed_at=now, attempts=ModerationAction.attempts + 1)).rowcount)


def _context(action_id: int) -> tuple[ModerationAction, Message, SocialProfile | None]:
    with session_scope() as s:
        a = s.get(ModerationAction, action_id)
        m = s.get(Message, a.message_id)
        p = s.get(SocialProfile, m.profile_id) if m.profile_id else None
        for row in (a, m, p):
            if row is not None:
                s.expunge(row)
        return a, m, p


def _target(a: ModerationAction, m: Message) -> ModerationTarget:
    return ModerationTarget(m.external_id, m.author_external_id, m.author_handle, m.in_reply_to_external_id,
                            m.conversation_key, note=f"{a.clause} {a.clause_title}. {a.note}".strip()[:1000])


@dataclass
class _Outcome:
    result: ModerationResult | None = None
    error: str = ""  # refused: the record stays as it was
    retry_after: float | None = None  # busy or limited: the job sends it again
    unknown: str = ""  # may have happened: reconcile first
    check: bool = False  # the network cannot tell and repeating is not safe: a person checks
    refused: str = ""  # credentials refused: the profile needs reconnecting


async def _send(a: ModerationAction, m: Message, p: SocialProfile | None, *, reconcile: bool) -> _Outcome:
    out = _Outcome()
    label = a.network
    if p is None or p.deleted_at is not None:
        out.error = "This message's profile is no longer connected, so nothing was changed on the network."
        return out
    if p.status != "active":
        out.error = f"{p.display_name or p.handle} needs reconnecting. Nothing was changed on the network."
        return out
    connector = profiles.connector_for(p)
    target = _target(a, m)
    try:
        if reconcile:
            try:
                seen = await connector.moderation_state(a.action, target)
            except NotSupported:
                seen = None
                if a.action not in IDEMPOTENT_MODERATION:
                    out.unknown = "The network cannot tell whether this was done; a person must check before it is repeated."
                    out.check = True
                    return out
            if seen is not None:
                out.result = seen
                return out
        out.result = await connector.moderate(a.action, target)
    except OutcomeUnknown as exc:
        out.unknown = str(exc) or "no answer"
    except RateLimited as exc:
        out.retry_after = max(5.0, exc.retry_after)
    except AuthError as exc:
        out.error = f"{p.display_name or p.handle} needs reconnecting (the network refused our credentials). Nothing was changed."
        out.refused = str(exc) or "credentials refused"
    except NotFound as exc:
        if a.action == "delete":
            out.result = ModerationResult(a.action, "deleted", {"gone": str(exc)[:300]})
        else:
            out.error = f"The comment is gone from {label}, so it could not be changed: {exc}"
    except NotSupported as exc:
        out.error = exc.reason
    except PermanentError as exc:
        out.error = f"{label} refused: {exc}"
    except TransientError:
        out.retry_after = 60.0
    except Exception as exc:  # noqa: BLE001 - an error we do not know, after sending: ambiguous
        log.exception("moderation: unexpected error on action %s", a.id)
        out.unknown = str(exc) or type(exc).__name__
    finally:
        await connector.aclose()
    return out


async def perform(action_id: int, actor: Actor, *, reconcile: bool = False, now: datetime | None = None) -> str:
    """Send one claimed-able action (pending or retrying; unknown when reconciling) and record what happened.
    Returns the new status ("" when another sender has it)."""
    now = now or datetime.now(timezone.utc)
    wanted = ("unknown",) if reconcile else ("pending", "retrying")
    if not await asyncio.to_thread(_claim, action_id, wanted, now):
        return ""
    a, m, p = await asyncio.to_thread(_context, action_id)
    if a.mode == "in_app":
        out = _Outcome(result=ModerationResult(a.action, "hidden_in_app" if a.action == "hide" else "visible",
                                               {"govsocial": "hidden in GovSocial only" if a.action == "hide" else "shown again in GovSocial",
                                                "network_unchanged": True}))
    else:
        out = await _send(a, m, p, reconcile=reconcile)
    status = await asyncio.to_thread(_record, action_id, out, actor, now)
    if out.refused and p is not None:
        from govsocial_app.services.alerting import reconnect

        try:
            await reconnect.mark_needs_reconnect(p.id, out.refused, source="moderation")
        except Exception:  # noqa: BLE001 - the action's own outcome is already recorded
            log.exception("moderation: could not mark profile %s as needing reconnection", p.id)
    return status


def _record(action_id: int, out: _Outcome, actor: Actor, now: datetime) -> str:
    with session_scope() as s:
        a = s.get(ModerationAction, action_id)
        if out.result is not None:
            a.status, a.completed_at, a.error = "done", now, ""
            a.response = {"state": out.result.state, "answer": _trim(out.result.response)}
            _apply(s, a, out.result)
            audit.record(s, actor, "moderation.done", "message", a.message_id, action_id=a.id, kind=a.action, mode=a.mode,
                         clause=a.clause, state=out.result.state)
            _archive(s, a, actor)
        elif out.error:
            a.status, a.completed_at, a.error = "failed", now, out.error[:1000]
            a.response = {"refused": out.error[:1000]}
            audit.record(s, actor, "moderation.failed", "message", a.message_id, action_id=a.id, kind=a.action,
                         clause=a.clause, error=out.error[:300])
            _archive(s, a, actor)
        elif out.unknown:
            a.status, a.error = ("needs_check" if out.check else "unknown"), out.unknown[:1000]
            audit.record(s, actor, "moderation.unknown", "message", a.message_id, action_id=a.id, kind=a.action,
                         error=out.unknown[:300])
        else:
            if a.attempts >= MAX_ATTEMPTS:
                a.status, a.completed_at = "failed", now
                a.error = f"{a.network} did not answer after {a.attempts} tries. Nothing was changed; try again later."
                audit.record(s, actor, "moderation.failed", "message", a.message_id, action_id=a.id, kind=a.action,
                             clause=a.clause, error="gave up after retries")
                _archive(s, a, actor)
            else:
                a.status = "retrying"
                a.next_attempt_at = now + timedelta(seconds=min(3600.0, (out.retry_after or 60.0) * (2 ** max(0, a.attempts - 1))))
                a.error = f"{a.network} did not answer or asked us to wait. GovSocial will try again."
                audit.record(s, actor, "moderation.retry", "message", a.message_id, action_id=a.id, kind=a.action,
                             next_attempt_at=a.next_attempt_at.isoformat())
        return a.status


def _trim(value: Any, depth: int = 0) -> Any:
    if depth > 4:
        return "…"
    if isinstance(value, dict):
        return {str(k)[:80]: _trim(v, depth + 1) for k, v in list(value.items())[:40]}
    if isinstance(value, (list, tuple)):
        return [_trim(v, depth + 1) for v in list(value)[:40]]
    if isinstance(value, str):
        return value[:1000]
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)[:1000]


def _apply(s: Session, a: ModerationAction, result: ModerationResult) -> None:
    row = s.get(MessageModeration, a.message_id)
    if row is None:
        row = MessageModeration(message_id=a.message_id)
        s.add(row)
    if a.action in MESSAGE_STATE:
        state = "hidden_in_app" if a.mode == "in_app" and a.action == "hide" else MESSAGE_STATE[a.action]
        row.state, row.clause, row.action_id = state, a.clause if state != "visible" else "", a.id
        if a.action == "unhide" and a.undoes_id:
            undone = s.get(ModerationAction, a.undoes_id)
            if undone is not None:
                undone.undone_by_id = a.id
    else:
        row.author_state = AUTHOR_STATE[a.action]
    row.updated_at = utcnow()


def _archive(s: Session, a: ModerationAction, actor: Actor) -> None:
    """A version of the message in the archive chain: the message in full as it stood, and the action."""
    m = s.get(Message, a.message_id)
    last = s.exec(select(MessageVersion).where(MessageVersion.message_id == m.id).order_by(col(MessageVersion.version).desc())).first()
    number = max(m.version or 1, last.version if last else 0) + 1
    names = _names(s, {a.requested_by, a.confirmed_by})
    s.add(MessageVersion(
        message_id=m.id, version=number, change="moderation", text=m.text, captured_at=utcnow(),
        raw={
            "moderation": {
                "action_id": a.id, "action": a.action, "mode": a.mode, "status": a.status, "clause": a.clause,
                "clause_title": a.clause_title, "policy_version": a.policy_version, "note": a.note,
                "requested_by": names.get(a.requested_by or 0, ""), "requested_by_id": a.requested_by,
                "requested_at": a.requested_at.isoformat(), "confirmed_by": names.get(a.confirmed_by or 0, ""),
                "recorded_by": actor.label, "response": a.response, "error": a.error,
            },
            "message": {
                "network": m.network, "external_id": m.external_id, "kind": m.kind, "url": m.url, "lang": m.lang,
                "author_external_id": m.author_external_id, "author_handle": m.author_handle, "author_name": m.author_name,
                "author_avatar_url": m.author_avatar_url, "in_reply_to": m.in_reply_to_external_id,
                "conversation": m.conversation_key, "created_at": m.created_at.isoformat(), "text": m.text,
                "likes": m.likes, "reposts": m.reposts, "replies": m.replies,
            },
            # media and the network's own fields as first captured, so nothing is lost when the network removes it
            "original": (last.raw if last else {}),
        },
    ))
    m.version = number


# ---------------------------------------------------------------- the moderation job: retries and reconciling


def _due(now: datetime, stuck_after_s: float) -> list[tuple[int, bool]]:
    with session_scope() as s:
        cutoff = now - timedelta(seconds=stuck_after_s)
        stuck = s.execute(update(ModerationAction).where(ModerationAction.status == "sending", col(ModerationAction.claimed_at) <= cutoff)
                          .values(status="unknown")).rowcount
        if stuck:
            audit.record(s, SYSTEM, "moderation.stuck_recovered", "moderation_action", "", count=stuck)
        rows = s.exec(select(ModerationAction.id, ModerationAction.status).where(
            (ModerationAction.status == "unknown")
            | ((ModerationAction.status == "retrying") & (col(ModerationAction.next_attempt_at) <= now))
            | (ModerationAction.status == "pending") & (col(ModerationAction.requested_at) <= cutoff)
        ).order_by(col(ModerationAction.id)).limit(JOB_BATCH)).all()
        # An "unknown" that the network cannot settle waits for a person: not retried on every tick.
        return [(i, st == "unknown") for i, st in rows]


async def process_pending(*, now: datetime | None = None, stuck_after_s: float = STUCK_AFTER_S) -> dict[str, int]:
    """Send again what the network was too busy for, and settle what may or may not have happened by asking the
    network first. Never a blind repeat of an action that is not safe to repeat."""
    now = now or datetime.now(timezone.utc)
    counts: dict[str, int] = {}
    for action_id, reconcile in await asyncio.to_thread(_due, now, stuck_after_s):
        actor = await asyncio.to_thread(_actor_of, action_id)
        status = await perform(action_id, actor, reconcile=reconcile, now=now)
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts


def _actor_of(action_id: int) -> Actor:
    with session_scope() as s:
        a = s.get(ModerationAction, action_id)
        return Actor(user_id=a.confirmed_by or a.requested_by, role="system", label="moderation job")
