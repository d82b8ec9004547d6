"""Replies from the inbox, with the server-side collision guard that stops two people answering the same citizen.

An outbound reply's status: "sending" (being sent now), "queued" (publishing is paused: held, sent on resume by
the replies job), "unknown" (an ambiguous failure, or a sender that died: the job asks the network whether it
exists before anything is sent again), "sent", "failed". While a reply is sending, queued or unknown its
`completed_at` holds when that state began (outbound messages are never "completed" otherwise), which is how
the job finds replies stuck in "sending" by a process that died."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors import textcount
from connectors.base import AuthError, OutboundPost, PermanentError, RateLimited, TransientError
from connectors.http import OutcomeUnknown
from connectors.registry import limits_for
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, MessageVersion, SocialProfile, User
from govsocial_app.services import audit, bus, profiles
from govsocial_app.services import pause_flag as pause
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import InboxChanged
from govsocial_app.services.textnorm import search_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldReply:
    """Someone else answered after you opened the message: show it, and let the user decide."""

    reply_id: int
    by: str
    text: str
    at: datetime


@dataclass(frozen=True)
class SentReply:
    outbound_id: int
    external_id: str
    url: str


@dataclass(frozen=True)
class QueuedReply:
    """Publishing is paused: the reply is kept and goes out when publishing resumes (audited both times)."""

    outbound_id: int
    message: str = "Publishing is paused. Your reply is queued and will be sent when publishing resumes."


@dataclass(frozen=True)
class UncertainReply:
    """The network failed after it may have posted the reply: it is being checked, never resent blind."""

    outbound_id: int
    message: str = "We could not confirm whether your reply was sent. We are checking with the network; it will not be sent twice."


@dataclass(frozen=True)
class CharCount:
    used: int
    limit: int

    @property
    def over(self) -> bool:
        return self.used > self.limit


def char_count(network: str, text: str) -> CharCount:
    limits = limits_for(network)
    return CharCount(textcount.count(text or "", limits), limits.max_chars)


def _lock_message(s: Session, message_id: int) -> None:
    """Serialise replies to one message. On SQLite the first statement is a write, which takes the
    database write lock before anything is read; on PostgreSQL the row lock does the same job."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(Message).where(Message.id == message_id).values(version=Message.version))
    else:
        s.exec(select(Message.id).where(Message.id == message_id).with_for_update()).first()


def _newer_reply(s: Session, m: Message, seen_reply_id: int, user_id: int) -> Message | None:
    return s.exec(
        select(Message)
        .where(
            Message.direction == "out",
            Message.network == m.network,
            Message.conversation_key == m.conversation_key,
            Message.id > seen_reply_id,
            Message.status != "failed",
            Message.sent_by_id != user_id,
        )
        .order_by(col(Message.id).desc())
    ).first()


def _claim(message_id: int, text: str, actor: Actor, seen_reply_id: int) -> HeldReply | tuple[int, str, SocialProfile, Message, bool]:
    now = datetime.now(timezone.utc)
    with session_scope() as s:
        # The pause lock first, as the publishing claim takes it: a pause committed before this holds the
        # reply; a reply claimed before the pause is one the pause's drain waits for.
        pause.lock(s, exclusive=False)
        paused = pause.replies_held(s)
        _lock_message(s, message_id)
        m = s.get(Message, message_id)
        if m is None or m.deleted_at is not None or m.direction != "in":
            raise UserError("That message does not exist.")
        count = char_count(m.network, text)
        if count.over:  # before anything is written: nothing is claimed, the draft stays
            raise UserError(f"The reply is {count.used} characters; {m.network} allows {count.limit}.")
        newer = _newer_reply(s, m, seen_reply_id, actor.user_id)
        if newer is not None:
            by = s.get(User, newer.sent_by_id) if newer.sent_by_id else None
            return HeldReply(newer.id, by.display_name if by else "someone", newer.text, newer.created_at)
        profile = s.get(SocialProfile, m.profile_id) if m.profile_id else None
        if profile is None or profile.deleted_at is not None:
            raise UserError("This message's profile is no longer connected, so it cannot be answered from here.")
        if profile.status != "active":
            raise UserError(f"{profile.display_name or profile.handle} needs reconnecting before you can reply.")
        key = uuid.uuid4().hex
        out = Message(
            network=m.network,
            external_id=f"pending:{key}",
            profile_id=m.profile_id,
            direction="out",
            kind="reply",
            conversation_key=m.conversation_key,
            in_reply_to_external_id=m.external_id,
            author_handle=profile.handle,
            author_key=profile.handle.lstrip("@").lower(),
            author_name=profile.display_name or profile.handle,
            text=text,
            search_text=search_text(text, profile.handle, profile.display_name),
            lang=m.lang,
            created_at=now,
            received_at=now,
            status="queued" if paused else "sending",
            completed_at=now,
            sent_by_id=actor.user_id,
        )
        s.add(out)
        s.flush()
        s.add(MessageVersion(message_id=out.id, version=1, change="created", text=text, captured_at=now))
        m.replied_by_id, m.replied_at = actor.user_id, now
        m.first_response_at = m.first_response_at or now
        audit.record(s, actor, "message.reply_queued" if paused else "message.reply", "message", m.id, outbound_id=out.id,
                     chars=len(text), paused=paused)
        s.flush()  # write the reply marker before detaching the rows we hand back
        s.expunge(profile)
        s.expunge(m)
        return out.id, key, profile, m, paused


def _finish(outbound_id: int, message_id: int, actor: Actor, *, external_id: str = "", url: str = "", error: str = "",
            unknown: str = "") -> None:
    with session_scope() as s:
        out = s.get(Message, outbound_id)
        if unknown:
            # It may be on the network: still counts as an answer; the replies job reconciles it.
            out.status, out.completed_at = "unknown", datetime.now(timezone.utc)
            audit.record(s, actor, "message.reply_unknown", "message", message_id, outbound_id=outbound_id, error=unknown[:300])
        elif error:
            out.status = "failed"
            m = s.get(Message, message_id)
            # The failed reply must not count as an answer: undo the marker if it was ours.
            if m.replied_by_id == actor.user_id:
                previous = s.exec(
                    select(Message).where(
                        Message.direction == "out", Message.conversation_key == m.conversation_key,
                        Message.network == m.network, Message.status == "sent",
                    ).order_by(col(Message.id).desc())
                ).first()
                m.replied_by_id = previous.sent_by_id if previous else None
                m.replied_at = previous.created_at if previous else None
            audit.record(s, actor, "message.reply_failed", "message", message_id, outbound_id=outbound_id, error=error[:300])
        else:
            out.status = "sent"
            out.completed_at = None
            out.external_id = external_id[:300]
            out.url = url[:500]


async def send_reply(message_id: int, text: str, actor: Actor, *, seen_reply_id: int) -> HeldReply | SentReply:
    """Send a reply through the message's network. `seen_reply_id` is the newest reply the user saw when
    they opened the message; a newer reply by someone else holds this one back (send it again with that
    reply's id as `seen_reply_id` to send anyway). Raises UserError with a clear message on failure; the
    caller keeps the draft."""
    require(actor, "inbox.reply")
    text = (text or "").strip()
    if not text:
        raise UserError("Write a reply first.")
    # Each thread hop waits its turn on a busy event loop on the way back, so the length check is made in the
    # claim's own hop (a reply was four hops and the slowest event of bench-load's steady state).
    claimed = await asyncio.to_thread(_claim, message_id, text, actor, seen_reply_id)
    if isinstance(claimed, HeldReply):
        return claimed
    outbound_id, key, profile, m, paused = claimed
    network = m.network
    bus.publish(InboxChanged.of(changed_ids=[message_id]))
    if paused:
        return QueuedReply(outbound_id)
    attempt = await _attempt(profile, network, OutboundPost(text=text, idempotency_key=key, in_reply_to_id=m.external_id))
    await asyncio.to_thread(
        _finish, outbound_id, message_id, actor, external_id=attempt.result.external_id if attempt.result else "",
        url=attempt.result.url if attempt.result else "", error=attempt.error, unknown=attempt.unknown,
    )
    bus.publish(InboxChanged.of(changed_ids=[message_id]))
    if attempt.refused:
        await _refused(profile.id, attempt.refused)
    if attempt.error:
        raise UserError(attempt.error)
    if attempt.unknown:
        return UncertainReply(outbound_id)
    return SentReply(outbound_id, attempt.result.external_id, attempt.result.url)


@dataclass
class _Attempt:
    result: object = None
    error: str = ""  # the network refused or never got it: the user is told, the reply is "failed"
    unknown: str = ""  # it may have gone out: reconcile, never resend blind
    refused: str = ""  # the credentials were refused: the profile needs reconnecting


async def _attempt(profile: SocialProfile, network: str, post: OutboundPost, *, since: datetime | None = None) -> _Attempt:
    """Send one reply through the profile's connector; with `since`, first ask the network whether an earlier
    attempt made it (found: that is the result; cannot tell: still unknown, nothing sent)."""
    attempt = _Attempt()
    connector = profiles.connector_for(profile)
    try:
        if since is not None:
            try:
                found = await connector.find_published(post, since)
            except AuthError as exc:
                attempt.unknown = attempt.refused = str(exc) or "credentials refused"
                return attempt
            except Exception as exc:  # noqa: BLE001 - cannot tell: stays unknown
                attempt.unknown = f"could not check whether the reply was sent: {exc}"
                return attempt
            if found is not None:
                attempt.result = found
                return attempt
        attempt.result = await connector.publish(post)
    except OutcomeUnknown as exc:
        attempt.unknown = str(exc) or "no answer"
    except RateLimited as exc:
        attempt.error = f"{network} is limiting how fast we can post. Your reply was not sent; try again in {int(exc.retry_after)} seconds."
    except AuthError as exc:
        attempt.error = f"{profile.display_name or profile.handle} needs reconnecting. Your reply was not sent."
        attempt.refused = str(exc) or "credentials refused"
    except TransientError:
        attempt.error = f"{network} did not answer. Your reply was not sent; try again."
    except PermanentError as exc:
        attempt.error = f"{network} refused the reply: {exc}"
    except Exception as exc:  # noqa: BLE001 - an error we do not know, after sending: ambiguous, never "failed"
        log.exception("replies: unexpected error sending a reply on profile %s", profile.id)
        attempt.unknown = str(exc) or type(exc).__name__
    finally:
        await connector.aclose()
    return attempt


async def _refused(profile_id: int, error: str) -> None:
    from govsocial_app.services.alerting import reconnect

    try:
        await reconnect.mark_needs_reconnect(profile_id, error, source="replies")
    except Exception:  # noqa: BLE001 - the reply's own outcome is already recorded
        log.exception("replies: could not mark profile %s as needing reconnection", profile_id)


# ---------------------------------------------------------------- the replies job: queued, stuck, unknown

SYSTEM = Actor.system("replies")
STUCK_AFTER_S = 180.0  # a reply "sending" longer than this belongs to a process that died (cf. publisher.stale_after_s)
JOB_BATCH = 20


def _take(now: datetime, stuck_after_s: float) -> list[tuple[int, str, bool]]:
    """In one transaction under the pause lock: stuck "sending" replies become "unknown"; then take up to a
    batch of "unknown" (always: checking sends nothing by itself) and, unless paused, "queued" replies, moving
    each to "sending" stamped now. Returns (outbound id, previous status, reconcile)."""
    from datetime import timedelta

    taken: list[tuple[int, str, bool]] = []
    with session_scope() as s:
        pause.lock(s, exclusive=False)
        paused = pause.replies_held(s)
        cutoff = now - timedelta(seconds=stuck_after_s)
        stuck = s.execute(
            update(Message).where(Message.direction == "out", Message.status == "sending", col(Message.completed_at) <= cutoff)
            .values(status="unknown", completed_at=now)
        ).rowcount
        if stuck:
            audit.record(s, SYSTEM, "message.reply_stuck_recovered", "message", "", count=stuck)
        wanted = ("unknown",) if paused else ("unknown", "queued")
        rows = s.exec(
            select(Message.id, Message.status).where(Message.direction == "out", col(Message.status).in_(wanted))
            .order_by(col(Message.id)).limit(JOB_BATCH)
        ).all()
        for outbound_id, status in rows:
            if paused and status == "unknown":
                # Reconciling may end in a send (confirmed absent): not while paused.
                continue
            n = s.execute(
                update(Message).where(Message.id == outbound_id, Message.status == status).values(status="sending", completed_at=now)
            ).rowcount
            if n:
                taken.append((outbound_id, status, status == "unknown"))
    return taken


def _job_context(outbound_id: int) -> tuple[Message, Message | None, SocialProfile | None]:
    with session_scope() as s:
        out = s.get(Message, outbound_id)
        parent = s.exec(
            select(Message).where(Message.direction == "in", Message.network == out.network,
                                  Message.external_id == out.in_reply_to_external_id)
        ).first()
        profile = s.get(SocialProfile, out.profile_id) if out.profile_id else None
        for row in (out, parent, profile):
            if row is not None:
                s.expunge(row)
        return out, parent, profile


async def process_pending(*, now: datetime | None = None, stuck_after_s: float = STUCK_AFTER_S) -> dict[str, int]:
    """The replies job: send replies queued during a pause once it is lifted, and settle replies whose outcome
    is unknown (ambiguous failure, or stuck in "sending") by asking the network first. Never a blind resend."""
    now = now or datetime.now(timezone.utc)
    counts: dict[str, int] = {}
    for outbound_id, previous, reconcile in await asyncio.to_thread(_take, now, stuck_after_s):
        out, parent, profile = await asyncio.to_thread(_job_context, outbound_id)
        actor = Actor(user_id=out.sent_by_id, role="system", label="replies") if out.sent_by_id else SYSTEM
        message_id = parent.id if parent is not None else 0
        if profile is None or profile.deleted_at is not None or profile.status != "active":
            outcome = {"error": "The profile is not connected; the reply was not sent."} if not reconcile else {
                "unknown": "The profile is not connected, so we could not check whether the reply was sent."}
            await asyncio.to_thread(partial(_job_finish, out.id, message_id, actor, **outcome))
            counts["held"] = counts.get("held", 0) + 1
            continue
        key = out.external_id.removeprefix("pending:")
        post = OutboundPost(text=out.text, idempotency_key=key, in_reply_to_id=out.in_reply_to_external_id)
        attempt = await _attempt(profile, out.network, post, since=out.created_at if reconcile else None)
        await asyncio.to_thread(partial(
            _job_finish, out.id, message_id, actor, external_id=attempt.result.external_id if attempt.result else "",
            url=attempt.result.url if attempt.result else "", error=attempt.error, unknown=attempt.unknown, previous=previous,
        ))
        if attempt.refused:
            await _refused(profile.id, attempt.refused)
        outcome = "sent" if attempt.result else "unknown" if attempt.unknown else "failed"
        counts[outcome] = counts.get(outcome, 0) + 1
        if message_id:
            bus.publish(InboxChanged.of(changed_ids=[message_id]))
    return counts


def _job_finish(outbound_id: int, message_id: int, actor: Actor, *, external_id: str = "", url: str = "", error: str = "",
                unknown: str = "", previous: str = "") -> None:
    if message_id:
        _finish(outbound_id, message_id, actor, external_id=external_id, url=url, error=error, unknown=unknown)
    else:
        with session_scope() as s:
            out = s.get(Message, outbound_id)
            out.status = "sent" if external_id else "unknown" if unknown else "failed"
            if external_id:
                out.external_id, out.url, out.completed_at = external_id[:300], url[:500], None
    if external_id:
        with session_scope() as s:
            audit.record(s, SYSTEM, "message.reply_sent_after_pause" if previous == "queued" else "message.reply_reconciled",
                         "message", message_id or outbound_id, outbound_id=outbound_id, external_id=external_id)


def queue_automatic(s: Session, m: Message, profile: SocialProfile, text: str, actor: Actor) -> int:
    """An automatic reply (an inbox rule's saved reply), in the caller's transaction: stored "queued" like a reply
    written during a pause, so the replies job (`process_pending`) sends it with its idempotency key once the
    transaction commits, and treats a lost answer as "unknown" to reconcile, never a blind resend. It is not a
    person's answer: the message's replied-by and first-response marks stay as they are."""
    now = datetime.now(timezone.utc)
    key = uuid.uuid4().hex
    out = Message(
        network=m.network, external_id=f"pending:{key}", profile_id=m.profile_id, direction="out", kind="reply",
        conversation_key=m.conversation_key, in_reply_to_external_id=m.external_id, author_handle=profile.handle,
        author_key=profile.handle.lstrip("@").lower(), author_name=profile.display_name or profile.handle, text=text,
        search_text=search_text(text, profile.handle, profile.display_name), lang=m.lang, created_at=now, received_at=now,
        status="queued", completed_at=now, sent_by_id=None,
    )
    s.add(out)
    s.flush()
    s.add(MessageVersion(message_id=out.id, version=1, change="created", text=text, captured_at=now))
    audit.record(s, actor, "message.auto_reply_queued", "message", m.id, outbound_id=out.id, chars=len(text))
    return out.id
