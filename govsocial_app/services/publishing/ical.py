"""A per-user iCal feed of the publishing calendar at a secret URL, for Outlook or Google Calendar.

Only a SHA-256 of each secret is stored, so a copy of the database opens no feed; the address is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from icalendar import Calendar, Event
from sqlmodel import col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import User
from govsocial_app.services import audit
from govsocial_app.services.publishing import calendar, campaigns
from govsocial_app.services.authz import Actor, require

MIN_TOKEN = 20
PAST_DAYS = 30
FUTURE_DAYS = 180
STATUS_LABELS = {
    "draft": "Draft", "pending_approval": "Awaiting approval", "scheduled": "Scheduled", "queued": "Queued",
    "publishing": "Publishing", "published": "Published", "failed": "Failed", "held": "Held",
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _url(token: str) -> str:
    return f"{get_settings().public_url}/api/ical/{token}.ics"


def has_feed(user_id: int) -> bool:
    with session_scope() as s:
        user = s.get(User, user_id)
        return bool(user and user.ical_token_hash)


def rotate(actor: Actor) -> str:
    """A new secret address, returned this once: only its hash is stored. Any old address stops working at once."""
    require(actor, "publish.view")
    token = secrets.token_urlsafe(24)
    with session_scope() as s:
        user = s.get(User, actor.user_id)
        first = not user.ical_token_hash
        user.ical_token_hash = _hash(token)
        audit.record(s, actor, "ical.create" if first else "ical.rotate", "user", actor.user_id)
    return _url(token)


def _user_for(token: str) -> User | None:
    if not token or len(token) < MIN_TOKEN or len(token) > 200:
        return None
    digest = _hash(token)
    with session_scope() as s:
        user = s.exec(select(User).where(User.ical_token_hash == digest, User.is_active, col(User.deleted_at).is_(None))).first()
        # Compare again in constant time: the index lookup found it, this confirms it byte for byte.
        return user if user and secrets.compare_digest(user.ical_token_hash, digest) else None


def feed_for_token(token: str, *, now: datetime | None = None) -> bytes | None:
    """The calendar as iCalendar bytes, or None when the token matches no active user."""
    user = _user_for(token)
    if user is None:
        return None
    return build_feed(now=now)


def build_feed(*, now: datetime | None = None) -> bytes:
    now = now or datetime.now(timezone.utc)
    base = get_settings().public_url
    cal = Calendar()
    cal.add("prodid", "-//GovSocial//Publishing calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"GovSocial · {get_settings().agency_name}")
    cal.add("x-published-ttl", "PT15M")
    items = calendar.items_between(now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS), limit=2000)
    for item in items:
        ev = Event()
        ev.add("uid", f"post-{item.post_id}@govsocial")
        ev.add("dtstamp", now)
        ev.add("dtstart", item.when)
        ev.add("dtend", item.when + timedelta(minutes=15))
        label = STATUS_LABELS.get(item.status, item.status)
        ev.add("summary", f"[{label}] {item.excerpt}")
        lines = [item.excerpt, "", "Profiles: " + ", ".join(item.profiles), f"Status: {label}"]
        if item.campaign_name:
            lines.append(f"Campaign: {item.campaign_name}")
            ev.add("categories", [item.campaign_name])
        ev.add("description", "\n".join(lines))
        ev.add("url", f"{base}/publish?post={item.post_id}")
        ev.add("status", "CONFIRMED" if item.status in ("scheduled", "queued", "publishing", "published") else "TENTATIVE")
        cal.add_component(ev)
    for c in campaigns.overlapping((now - timedelta(days=PAST_DAYS)).date(), (now + timedelta(days=FUTURE_DAYS)).date()):
        if not (c.starts_on and c.ends_on):
            continue
        ev = Event()
        ev.add("uid", f"campaign-{c.id}@govsocial")
        ev.add("dtstamp", now)
        ev.add("dtstart", c.starts_on)
        ev.add("dtend", c.ends_on + timedelta(days=1))  # all-day events end the day after
        ev.add("summary", f"Campaign: {c.name}")
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()
