"""Polls each profile's mentions from its stored cursor and records the profile's health."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from connectors.base import AuthError, ConnectorError, RateLimited, TransientError
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import SocialProfile
from govsocial_app.services import profiles
from govsocial_app.services.alerting import alerts, reconnect
from govsocial_app.services.intake import pipeline as intake

log = logging.getLogger(__name__)
MAX_PAGES = 5  # per run, so one busy profile cannot starve the others
# Networks that never notify an edit or deletion of a mention (Mastodon, Bluesky) get recently received
# messages re-checked: a few per poll, sampled from the last day, and only while the rate budget is healthy.
RECHECK_WINDOW = timedelta(hours=24)
RECHECK_PER_POLL = 8
RECHECK_MIN_BUDGET = 0.5  # skip re-checking when less than this share of the rate limit is left


@dataclass
class PollOutcome:
    profile_id: int
    new: int = 0
    versioned: int = 0
    error: str = ""


def due_profile_ids(now: datetime | None = None) -> list[int]:
    now = now or datetime.now(timezone.utc)
    return [p.id for p in profiles.active_profiles() if p.status == "active" and (p.next_poll_at is None or p.next_poll_at <= now)]


async def poll_profile(profile_id: int, *, now: datetime | None = None, **connector_kwargs) -> PollOutcome:
    """Fetch new mentions page by page. The cursor is saved in the same transaction as the page's
    messages, so a crash part-way never skips a page (and re-fetching is deduplicated)."""
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        profile = s.get(SocialProfile, profile_id)
        if profile is None:
            return PollOutcome(profile_id, error="no such profile")
        connector = profiles.connector_for(profile, **connector_kwargs)
        cursor, interval = profile.cursor, profile.poll_interval_s
    outcome = PollOutcome(profile_id)
    source = intake.Source(profile_id)
    new_ids: list[int] = []
    alert_ids: list[int] = []
    last_rate_limit = None
    try:
        for _ in range(MAX_PAGES):
            page = await connector.fetch_mentions(cursor)
            for reason in page.skipped:
                log.warning("profile %s: skipped an item: %s", profile_id, reason)
            with session_scope() as s:
                # The page (messages, tags, listening, alerts) commits with the cursor or not at all.
                result = intake.take_in(s, page.items, source, now=now)
                p = s.get(SocialProfile, profile_id)
                p.cursor = page.cursor or cursor
                p.last_poll_at = p.last_success_at = now
                p.last_error = ""
                p.next_poll_at = now + timedelta(seconds=interval)
                if page.rate_limit is not None:
                    p.rate_limit = {
                        "limit": page.rate_limit.limit, "remaining": page.rate_limit.remaining,
                        "reset_at": page.rate_limit.reset_at.isoformat() if page.rate_limit.reset_at else None,
                    }
            new_ids += result.new_ids
            alert_ids += result.alert_ids
            outcome.new += len(result.new_ids)
            outcome.versioned += len(result.changed_ids)
            last_rate_limit = page.rate_limit
            if not page.cursor or page.cursor == cursor or not page.items:
                break
            cursor = page.cursor
        outcome.versioned += len(await _recheck(connector, source, now, last_rate_limit, exclude=set(new_ids)))
    except AuthError as exc:
        outcome.error = str(exc) or "authentication failed"
        await _record_failure(profile_id, now, outcome.error, status="needs_reconnect", retry=None)
    except RateLimited as exc:
        outcome.error = f"rate limited; retrying in {int(exc.retry_after)} s"
        await _record_failure(profile_id, now, outcome.error, retry=timedelta(seconds=max(exc.retry_after, interval)))
    except (TransientError, ConnectorError) as exc:
        outcome.error = str(exc) or type(exc).__name__
        await _record_failure(profile_id, now, outcome.error, retry=timedelta(seconds=interval * 2))
    except Exception as exc:  # noqa: BLE001 - e.g. keyword matching failed: that page rolled back, retried next poll
        log.exception("profile %s: storing a page failed; it will be fetched again", profile_id)
        outcome.error = f"could not store what the network sent: {type(exc).__name__}"
        await _record_failure(profile_id, now, outcome.error, retry=timedelta(seconds=interval))
    finally:
        await connector.aclose()
    # Each page announced itself after its commit (new ids, and edits and deletions as changed ids).
    await intake.deliver_alerts(alert_ids, now=now)
    return outcome


def _recheck_candidates(profile_id: int, now: datetime, exclude: set[int]) -> list[str]:
    from sqlalchemy import func
    from sqlmodel import col, select

    from govsocial_app.db.models import Message

    with session_scope() as s:
        rows = s.exec(
            select(Message.id, Message.external_id).where(
                Message.profile_id == profile_id, Message.direction == "in", col(Message.network_deleted_at).is_(None),
                col(Message.deleted_at).is_(None), Message.received_at >= now - RECHECK_WINDOW,
                col(Message.kind).in_(("mention", "reply", "comment", "dm")),
            ).order_by(func.random()).limit(RECHECK_PER_POLL + len(exclude))
        ).all()
    return [e for i, e in rows if i not in exclude][:RECHECK_PER_POLL]


async def _recheck(connector, source: intake.Source, now: datetime, rate_limit, *, exclude: set[int]) -> list[int]:
    """Record edits and deletions of recently received messages that the network does not notify, through the
    intake pipeline (so they are announced like any other change). Never fails the poll: what could not be
    checked now is sampled again later."""
    recheck = getattr(connector, "recheck", None)
    if recheck is None:
        return []
    if rate_limit is not None and rate_limit.limit and rate_limit.remaining is not None \
            and rate_limit.remaining < rate_limit.limit * RECHECK_MIN_BUDGET:
        return []
    try:
        ids = await asyncio.to_thread(_recheck_candidates, source.profile_id, now, exclude)
        if not ids:
            return []
        current = await recheck(ids)
        asked = set(ids)
        with session_scope() as s:
            result = intake.take_in(s, [m for m in current if m.external_id in asked], source, now=now)
        return result.changed_ids
    except Exception as exc:  # noqa: BLE001 - re-checking is best effort; the mentions themselves are stored
        log.info("profile %s: re-checking recent messages failed: %s", source.profile_id, exc)
        return []


async def _record_failure(profile_id: int, now: datetime, error: str, *, retry: timedelta | None, status: str | None = None) -> None:
    alert_id = None
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        p.last_poll_at = now
        p.last_error = error[:1000]
        p.last_error_at = now
        p.next_poll_at = now + retry if retry else None
        if status and p.status != status:
            alert_id = reconnect.needs_reconnect(s, p, error, now)
    if status and alert_id:
        alerts.announce([alert_id])
        await alerts.deliver([alert_id])
