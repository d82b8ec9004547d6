"""Replies from the inbox, with the server-side collision guard that stops two people answering the same citizen."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors import textcount
from connectors.base import AuthError, OutboundPost, PermanentError, RateLimited, TransientError
from connectors.registry import limits_for
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, MessageVersion, SocialProfile, User
from govsocial_app.services import audit, bus, profiles
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
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


def _claim(message_id: int, text: str, actor: Actor, seen_reply_id: int) -> HeldReply | tuple[int, str, SocialProfile, Message]:
    now = datetime.now(timezone.utc)
    with session_scope() as s:
        _lock_message(s, message_id)
        m = s.get(Message, message_id)
        if m is None or m.deleted_at is not None or m.direction != "in":
            raise UserError("That message does not exist.")
        newer = _newer_reply(s, m, seen_reply_id, actor.user_id)
        if newer is not None:
            by = s.get(User, newer.sent_by_id) if newer.sent_by_id else None
            created = newer.created_at if newer.created_at.tzinfo else newer.created_at.replace(tzinfo=timezone.utc)
            return HeldReply(newer.id, by.display_name if by else "someone", newer.text, created)
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
            status="sending",
            sent_by_id=actor.user_id,
        )
        s.add(out)
        s.flush()
        s.add(MessageVersion(message_id=out.id, version=1, change="created", text=text, captured_at=now))
        m.replied_by_id, m.replied_at = actor.user_id, now
        m.first_response_at = m.first_response_at or now
        audit.record(s, actor, "message.reply", "message", m.id, outbound_id=out.id, chars=len(text))
        s.flush()  # write the reply marker before detaching the rows we hand back
        s.expunge(profile)
        s.expunge(m)
        return out.id, key, profile, m


def _finish(outbound_id: int, message_id: int, actor: Actor, *, external_id: str = "", url: str = "", error: str = "") -> None:
    with session_scope() as s:
        out = s.get(Message, outbound_id)
        if error:
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
    network = await asyncio.to_thread(_network_of, message_id)
    count = char_count(network, text)
    if count.over:
        raise UserError(f"The reply is {count.used} characters; {network} allows {count.limit}.")
    claimed = await asyncio.to_thread(_claim, message_id, text, actor, seen_reply_id)
    if isinstance(claimed, HeldReply):
        return claimed
    outbound_id, key, profile, m = claimed
    bus.publish("inbox", {"changed": [message_id]})
    error = ""
    result = None
    connector = profiles.connector_for(profile)
    try:
        result = await connector.publish(OutboundPost(text=text, idempotency_key=key, in_reply_to_id=m.external_id))
    except RateLimited as exc:
        error = f"{network} is limiting how fast we can post. Your reply was not sent; try again in {int(exc.retry_after)} seconds."
    except AuthError:
        error = f"{profile.display_name or profile.handle} needs reconnecting. Your reply was not sent."
    except TransientError:
        error = f"{network} did not answer. Your reply was not sent; try again."
    except PermanentError as exc:
        error = f"{network} refused the reply: {exc}"
    finally:
        await connector.aclose()
    await asyncio.to_thread(
        _finish, outbound_id, message_id, actor,
        external_id=result.external_id if result else "", url=result.url if result else "", error=error,
    )
    bus.publish("inbox", {"changed": [message_id]})
    if error:
        raise UserError(error)
    return SentReply(outbound_id, result.external_id, result.url)


def _network_of(message_id: int) -> str:
    with session_scope() as s:
        m = s.get(Message, message_id)
        if m is None:
            raise UserError("That message does not exist.")
        return m.network
