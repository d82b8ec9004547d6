"""The publishing job's logic: claim due posts under the pause lock, send each once with its idempotency key, record, retry.

The protocol, and why no post is sent twice or lost even if the process is killed at any instant:

1. Claim (one transaction): take the pause lock (SQLite: the database write lock; PostgreSQL: a shared
   row lock on the pause row, so a pause waits for claims in progress and claims wait for a pause in
   progress), re-read the pause flag, and move a batch of due targets to "claimed" with a fresh token.
   A pause committed before the claim stops it; a claim committed before the pause is waited for by
   `pause.pause()`, which returns only when those posts have been sent ("acknowledged").
2. Send each claimed target through its connector with the target's idempotency key, which never
   changes for the life of the target.
3. Record (one transaction): published with the network's id and URL, or back to "due" with a backoff
   for a transient failure, or "failed" with the network's message (and a notice to the author).

A kill between 1 and 2 leaves a claim that nothing sent; a kill between 2 and 3 leaves a claim the
network accepted. We cannot tell which, and neither can an ambiguous failure (timeout after sending,
connection reset, 5xx, success with a body we cannot read): many servers ignore Idempotency-Key, so a
resend "with the same key" can publish twice (issue 14). So such a target becomes "unknown" and is
never resent blind: the next claim first *reconciles*, asking the network through
`connector.find_published` whether the post exists (Mastodon: our own recent statuses by text and time;
Bluesky: the record key derived from our idempotency key; X/Meta: our recent posts by text; simulator:
its timeline by text). Found: recorded as published. Confirmed absent: sent. The network cannot say:
back to "unknown" with a backoff, and after MAX_ATTEMPTS "check" (a person must look), with a notice to
the author. Stale claims (a dead publisher, or a fail-over) are recovered to "unknown", never "due".
Residual risk, documented in the issue note: a human posting the identical text on the same profile
inside the window would be taken for ours (we then record their post instead of publishing)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, func, select

from connectors.base import AuthError, Connector, MediaAttachment, OutboundPost, PermanentError, PublishResult, RateLimited, TransientError
from connectors.http import OutcomeUnknown
from govsocial_app.config import stale_after_s
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import MediaAsset, Post, PostTarget, SocialProfile, utcnow
from govsocial_app.services import audit
from govsocial_app.services.publishing import approvals, pause
from govsocial_app.services.authz import Actor
from govsocial_app.services.publishing.lifecycle import lock_post, notify

log = logging.getLogger(__name__)

SYSTEM = Actor.system("publisher")
BATCH = 16
CONCURRENCY = 8
CALL_TIMEOUT_S = 60.0  # a connector call that takes longer is treated as a transient failure
MAX_ATTEMPTS = 6
BACKOFF_S = (5, 15, 45, 120, 300)  # about 8 minutes in all: well inside every network's idempotency window


UNKNOWN = "unknown"  # the network may or may not have the post: reconcile before anything else
CHECK = "check"  # reconciling failed MAX_ATTEMPTS times: a person must look; never sent automatically


@dataclass(frozen=True)
class Claim:
    target_id: int
    token: str
    post_id: int
    profile_id: int
    author_id: int
    text: str
    link: str
    idempotency_key: str
    attempts: int
    media: tuple[MediaAttachment, ...] = ()
    reconcile: bool = False  # the outcome of an earlier attempt is unknown: look before sending
    since: datetime | None = None  # the post cannot be on the network before this (its due time)
    language: str = ""  # a twin post's language on this profile ("en+ar" combined; "en" / "ar": one post each)


# ---------------------------------------------------------------- 1. claim


def claim_due(*, now: datetime | None = None, limit: int = BATCH) -> list[Claim]:
    """Claim up to `limit` due targets in one transaction that re-reads the pause flag under its lock."""
    now = now or utcnow()
    token = uuid.uuid4().hex
    with session_scope() as s:
        pause.lock(s, exclusive=False)
        if pause.is_paused(s):
            return []
        q = (
            select(PostTarget.id, PostTarget.status)
            .where(col(PostTarget.status).in_(("due", UNKNOWN)), col(PostTarget.due_at) <= now,
                   or_(col(PostTarget.next_attempt_at).is_(None), col(PostTarget.next_attempt_at) <= now))
            .order_by(col(PostTarget.due_at), col(PostTarget.id))
            .limit(limit)
        )
        if s.get_bind().dialect.name != "sqlite":
            q = q.with_for_update(skip_locked=True)  # two workers never wait on, or take, the same rows
        found = {i: status for i, status in s.exec(q).all()}
        ids = list(found)
        if not ids:
            return []
        s.execute(
            update(PostTarget).where(col(PostTarget.id).in_(ids), col(PostTarget.status).in_(("due", UNKNOWN)))
            .values(status="claimed", claim_token=token, claimed_at=now, attempts=PostTarget.attempts + 1)
        )
        rows = s.exec(
            select(PostTarget, Post).join(Post, col(Post.id) == PostTarget.post_id)
            .where(col(PostTarget.id).in_(ids), PostTarget.claim_token == token).order_by(col(PostTarget.due_at), col(PostTarget.id))
        ).all()
        media: dict[int, list[MediaAttachment]] = {}
        for m in s.exec(select(MediaAsset).where(col(MediaAsset.post_id).in_({p.id for _, p in rows}), col(MediaAsset.deleted_at).is_(None)).order_by(col(MediaAsset.id))).all():
            media.setdefault(m.post_id, []).append(MediaAttachment(m.path, m.mime_type, m.alt_text))
        return [
            Claim(t.id, token, p.id, t.profile_id, p.author_id, t.text_override or p.text, p.link, t.idempotency_key, t.attempts,
                  tuple(media.get(p.id, ())), reconcile=found.get(t.id) == UNKNOWN, since=t.due_at, language=t.language)
            for t, p in rows
        ]


def recover_stale(older_than_s: float | None = None, *, now: datetime | None = None) -> int:
    """Claims whose publisher died become "unknown": it may have sent them, so the next claim reconciles
    (asks the network) before anything is sent again. Never back to "due", which would resend blind."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=stale_after_s() if older_than_s is None else older_than_s)
    with session_scope() as s:
        n = s.execute(
            update(PostTarget).where(PostTarget.status == "claimed", col(PostTarget.claimed_at) <= cutoff)
            .values(status=UNKNOWN, claim_token="", next_attempt_at=None)
        ).rowcount
        if n:
            audit.record(s, SYSTEM, "publish.recover_stale", "post_target", "", count=n, older_than_s=older_than_s)
    if n:
        log.warning("publisher: %d stale claims put back to due", n)
    return n


# ---------------------------------------------------------------- 3. record


def _settle_post(s: Session, post: Post) -> None:
    counts = dict(s.exec(
        select(PostTarget.status, func.count()).where(PostTarget.post_id == post.id, PostTarget.status != "cancelled").group_by(PostTarget.status)
    ).all())
    if counts and set(counts) == {"published"}:
        post.status = "published"
    elif counts.get("failed") and not (counts.get("due") or counts.get("claimed") or counts.get("pending")
                                       or counts.get(UNKNOWN) or counts.get(CHECK)):
        post.status = "failed"
    elif counts.get("published") or counts.get("failed"):
        post.status = "publishing"


def record_success(c: Claim, result: PublishResult, *, now: datetime | None = None, reconciled: bool = False) -> bool:
    now = now or utcnow()
    with session_scope() as s:
        post = lock_post(s, c.post_id)
        # Ours if we still hold the claim, or if it was put back to "due" meanwhile (we know it went out).
        n = s.execute(
            update(PostTarget)
            .where(PostTarget.id == c.target_id, or_(
                (col(PostTarget.status) == "claimed") & (col(PostTarget.claim_token) == c.token),
                col(PostTarget.status).in_(("due", UNKNOWN, CHECK))))
            .values(status="published", external_id=result.external_id[:300], external_url=(result.url or "")[:500],
                    published_at=result.published_at or now, error="", claim_token="", next_attempt_at=None)
        ).rowcount
        if not n:
            log.info("publisher: target %s was re-claimed meanwhile; the other claim records it", c.target_id)
            return False
        if post is not None:
            _settle_post(s, post)
        audit.record(s, SYSTEM, "publish.published", "post_target", c.target_id, post_id=c.post_id, external_id=result.external_id,
                     url=result.url, attempts=c.attempts, reconciled=reconciled)
        return True


def record_failure(c: Claim, exc: BaseException, *, now: datetime | None = None, unknown: bool = False) -> str:
    """"retry" (back to due, with a backoff), "unknown" (the network may have it: reconcile next), "check"
    (reconciling kept failing: a person must look; the author is told), "failed" (the author is told), or
    "lost" (no longer our claim)."""
    now = now or utcnow()
    message = str(exc) or type(exc).__name__
    transient = not isinstance(exc, (PermanentError, AuthError))
    if isinstance(exc, AuthError):
        message = f"The profile needs reconnecting: {message}"
    if unknown or ambiguous(exc):
        # It may be on the network. Never "due" (a blind resend), never "failed" (a person would resend).
        if c.attempts < MAX_ATTEMPTS:
            delay = BACKOFF_S[min(c.attempts, len(BACKOFF_S)) - 1]
            if isinstance(exc, RateLimited):
                delay = max(delay, exc.retry_after)
            values = {"status": UNKNOWN, "next_attempt_at": now + timedelta(seconds=delay), "error": message[:2000], "claim_token": ""}
            outcome = UNKNOWN
        else:
            message = f"Unknown outcome after {c.attempts} attempts; check the profile on the network before publishing again: {message}"
            values = {"status": CHECK, "error": message[:2000], "claim_token": ""}
            outcome = CHECK
    elif transient and c.attempts < MAX_ATTEMPTS:
        delay = BACKOFF_S[min(c.attempts, len(BACKOFF_S)) - 1]
        if isinstance(exc, RateLimited):
            delay = max(delay, exc.retry_after)
        values = {"status": "due", "next_attempt_at": now + timedelta(seconds=delay), "error": message[:2000], "claim_token": ""}
        outcome = "retry"
    else:
        if transient:
            message = f"Gave up after {c.attempts} attempts: {message}"
        values = {"status": "failed", "error": message[:2000], "claim_token": ""}
        outcome = "failed"
    with session_scope() as s:
        post = lock_post(s, c.post_id)
        n = s.execute(
            update(PostTarget).where(PostTarget.id == c.target_id, PostTarget.status == "claimed", PostTarget.claim_token == c.token).values(**values)
        ).rowcount
        if not n:
            return "lost"
        if outcome == "failed" and post is not None:
            _settle_post(s, post)
            handle = s.exec(select(SocialProfile.handle).where(SocialProfile.id == c.profile_id)).first() or "?"
            notify(s, {c.author_id}, "publish", "Your post could not be published on {profile}: {error}",
                   params={"profile": handle, "error": message[:300]}, link=f"/publish?post={c.post_id}", severity="warning", post_id=c.post_id)
        elif outcome == CHECK and post is not None:
            _settle_post(s, post)
            handle = s.exec(select(SocialProfile.handle).where(SocialProfile.id == c.profile_id)).first() or "?"
            notify(s, {c.author_id}, "publish",
                   "We could not confirm whether your post went out on {profile}. Check the profile before publishing it again: {error}",
                   params={"profile": handle, "error": message[:300]}, link=f"/publish?post={c.post_id}", severity="warning", post_id=c.post_id)
        audit.record(s, SYSTEM, f"publish.{outcome}", "post_target", c.target_id, post_id=c.post_id, error=message[:500], attempts=c.attempts)
    return outcome


def ambiguous(exc: BaseException) -> bool:
    """A failure after which the network may have the post: a timeout, reset or 5xx after sending, a 2xx we
    could not read, our own timeout around the call, or an error we do not know."""
    if isinstance(exc, (OutcomeUnknown, asyncio.TimeoutError)):
        return True
    return not isinstance(exc, (TransientError, RateLimited, PermanentError, AuthError))


# ---------------------------------------------------------------- 2. send, and the job's loop


ConnectorFactory = Callable[[int], Connector]


def emergency_refusal(c: Claim) -> str:
    from govsocial_app.services.cap import emergency

    return emergency.refusal(c.post_id, c.text, [m.alt_text for m in c.media])


def _default_factory(profile_id: int) -> Connector:
    from govsocial_app.services import profiles

    with session_scope() as s:
        profile = s.get(SocialProfile, profile_id)
    if profile is None or profile.deleted_at is not None:
        raise PermanentError("the profile has been removed")
    if profile.status == "disconnected":
        raise PermanentError("the profile is disconnected")
    return profiles.connector_for(profile)


async def send(c: Claim, connector: Connector) -> str:
    """Publish one claimed target and record what happened. Returns published, retry, failed, lost or refused."""
    # --- approvals (sec-approvals): send nothing but the content a workflow approved (its SHA-256); otherwise the
    # claim is taken back and the post goes back to its approvers, and its author is told.
    if not await asyncio.to_thread(approvals.approved_to_send, c.post_id, c.target_id, c.token, c.profile_id, c.text, c.link, c.media,
                                   c.language):
        return "refused"
    # --- end approvals
    # --- emergency gate (cap-wire): an expired official alert or a blocking accessibility item stops it here.
    refusal = await asyncio.to_thread(emergency_refusal, c)
    if refusal:
        return await asyncio.to_thread(record_failure, c, PermanentError(refusal))
    # --- end emergency gate
    post = OutboundPost(text=c.text, idempotency_key=c.idempotency_key, media=c.media, link=c.link)
    if c.reconcile:
        finder = getattr(connector, "find_published", None)
        if finder is None:
            return await asyncio.to_thread(
                partial(record_failure, unknown=True), c,
                PermanentError(f"{getattr(connector, 'network', 'this network')} cannot be asked whether the post exists"))
        try:
            found = await asyncio.wait_for(finder(post, c.since or utcnow()), CALL_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - cannot tell: stays unknown, nothing is sent
            log.info("publisher: could not reconcile target %s: %s", c.target_id, exc)
            return await asyncio.to_thread(partial(record_failure, unknown=True), c, exc)
        if found is not None:
            return "published" if await asyncio.to_thread(record_success, c, found, reconciled=True) else "lost"
        log.info("publisher: target %s confirmed absent on the network; sending", c.target_id)
    try:
        result = await asyncio.wait_for(connector.publish(post), CALL_TIMEOUT_S)
    except asyncio.TimeoutError:
        return await asyncio.to_thread(record_failure, c, OutcomeUnknown(f"the network did not answer within {CALL_TIMEOUT_S:.0f} s"))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every outcome must be recorded; unknown errors count as transient
        if not isinstance(exc, (TransientError, RateLimited, PermanentError, AuthError)):
            log.exception("publisher: unexpected error publishing target %s", c.target_id)
        outcome = await asyncio.to_thread(record_failure, c, exc)
        if isinstance(exc, AuthError):
            await _refused(c.profile_id, exc)
        return outcome
    return "published" if await asyncio.to_thread(record_success, c, result) else "lost"


async def _refused(profile_id: int, exc: AuthError) -> None:
    """Refused credentials: the profile needs reconnecting and admins are alerted (once), as when polling."""
    from govsocial_app.services.alerting import reconnect

    try:
        await reconnect.mark_needs_reconnect(profile_id, str(exc) or "the network refused the credentials", source="publisher")
    except Exception:  # noqa: BLE001 - the post's own outcome is already recorded
        log.exception("publisher: could not mark profile %s as needing reconnection", profile_id)


@dataclass
class RunStats:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


async def run_once(
    *, max_seconds: float = 20.0, batch: int = BATCH, concurrency: int = CONCURRENCY,
    connector_factory: ConnectorFactory | None = None,
) -> RunStats:
    """Publish everything due, a batch at a time, until nothing is due, publishing is paused, or time is up."""
    factory = connector_factory or _default_factory
    connectors: dict[int, Connector | BaseException] = {}
    stats = RunStats()
    gate = asyncio.Semaphore(concurrency)
    deadline = time.monotonic() + max_seconds

    async def one(c: Claim) -> str:
        async with gate:
            conn = connectors.get(c.profile_id)
            if conn is None:
                try:
                    conn = await asyncio.to_thread(factory, c.profile_id)
                except Exception as exc:  # noqa: BLE001 - a profile that cannot connect fails its posts, not the job
                    conn = exc
                connectors[c.profile_id] = conn
            if isinstance(conn, BaseException):
                outcome = await asyncio.to_thread(partial(record_failure, unknown=c.reconcile), c, conn)
                if isinstance(conn, AuthError):
                    await _refused(c.profile_id, conn)
                return outcome
            return await send(c, conn)

    try:
        while time.monotonic() < deadline:
            claims = await asyncio.to_thread(claim_due, limit=batch)
            if not claims:
                break
            stats.claimed += len(claims)
            for outcome in await asyncio.gather(*(one(c) for c in claims)):
                stats.outcomes[outcome] = stats.outcomes.get(outcome, 0) + 1
    finally:
        for conn in connectors.values():
            if not isinstance(conn, BaseException):
                try:
                    await conn.aclose()
                except Exception:  # noqa: BLE001
                    log.debug("publisher: closing a connector failed", exc_info=True)
    return stats
