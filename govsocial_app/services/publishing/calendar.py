"""The shared publishing calendar: posts by month, week or list, filtered by profile, campaign and status, with campaigns overlaid."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Campaign, Post, PostTarget, SocialProfile, User
from govsocial_app.services.publishing import campaigns
from govsocial_app.services.textnorm import excerpt
from govsocial_app.services.timefmt import zone

STATUSES = ("draft", "pending_approval", "scheduled", "queued", "publishing", "published", "failed", "held")
MAX_ITEMS = 500  # a month view for a busy team; anything more is paged in the list view


@dataclass(frozen=True)
class CalendarFilter:
    profile_ids: tuple[int, ...] = ()
    campaign_id: int | None = None
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class CalendarItem:
    post_id: int
    when: datetime  # UTC
    status: str
    excerpt: str
    profiles: tuple[str, ...]
    networks: tuple[str, ...]
    campaign_id: int | None
    campaign_name: str
    campaign_color: str
    author: str
    flagged: bool


def _query(f: CalendarFilter):
    q = select(Post).where(col(Post.deleted_at).is_(None), col(Post.scheduled_at).is_not(None))
    if f.statuses:
        q = q.where(col(Post.status).in_(f.statuses))
    if f.campaign_id:
        q = q.where(Post.campaign_id == f.campaign_id)
    if f.profile_ids:
        q = q.where(col(Post.id).in_(
            select(PostTarget.post_id).where(col(PostTarget.profile_id).in_(f.profile_ids), PostTarget.status != "cancelled")
        ))
    return q


def _items(s, posts: list[Post]) -> list[CalendarItem]:
    ids = [p.id for p in posts]
    profiles: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for post_id, handle, network in s.exec(
        select(PostTarget.post_id, SocialProfile.handle, SocialProfile.network)
        .join(SocialProfile, col(SocialProfile.id) == PostTarget.profile_id)
        .where(col(PostTarget.post_id).in_(ids or [-1]), PostTarget.status != "cancelled").order_by(col(PostTarget.id))
    ).all():
        profiles[post_id].append((handle, network))
    camp = {c.id: c for c in s.exec(select(Campaign).where(col(Campaign.id).in_({p.campaign_id for p in posts if p.campaign_id} or {-1}))).all()}
    users = {u.id: u.display_name for u in s.exec(select(User).where(col(User.id).in_({p.author_id for p in posts} or {-1}))).all()}
    out = []
    for p in posts:
        c = camp.get(p.campaign_id)
        out.append(CalendarItem(
            p.id, p.scheduled_at, p.status, excerpt(p.text, 90), tuple(h for h, _ in profiles[p.id]),
            tuple(dict.fromkeys(n for _, n in profiles[p.id])), p.campaign_id, c.name if c else "", c.color if c else "",
            users.get(p.author_id, ""), p.flagged_for_review,
        ))
    return out


def items_between(start: datetime, end: datetime, f: CalendarFilter = CalendarFilter(), *, limit: int = MAX_ITEMS) -> list[CalendarItem]:
    """Posts whose time falls in [start, end), earliest first."""
    with session_scope() as s:
        posts = s.exec(
            _query(f).where(col(Post.scheduled_at) >= start, col(Post.scheduled_at) < end)
            .order_by(col(Post.scheduled_at), col(Post.id)).limit(limit)
        ).all()
        return _items(s, posts)


def upcoming(f: CalendarFilter = CalendarFilter(), *, after: tuple[datetime, int] | None = None, since: datetime | None = None,
             limit: int = 30) -> list[CalendarItem]:
    """The list view: keyset-paged by (time, id), from `since` (default: the start of today, UTC) onwards."""
    with session_scope() as s:
        q = _query(f)
        if after:
            at, pid = after
            q = q.where((col(Post.scheduled_at) > at) | ((col(Post.scheduled_at) == at) & (col(Post.id) > pid)))
        elif since:
            q = q.where(col(Post.scheduled_at) >= since)
        return _items(s, s.exec(q.order_by(col(Post.scheduled_at), col(Post.id)).limit(limit)).all())


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    is_today: bool
    items: tuple[CalendarItem, ...]
    campaigns: tuple[campaigns.CampaignView, ...] = ()


@dataclass(frozen=True)
class Span:
    first: date
    last: date
    days: tuple[Day, ...]
    campaigns: tuple[campaigns.CampaignView, ...] = field(default_factory=tuple)

    @property
    def weeks(self) -> list[tuple[Day, ...]]:
        return [self.days[i: i + 7] for i in range(0, len(self.days), 7)]


def _utc_bounds(first: date, last: date, tz_name: str) -> tuple[datetime, datetime]:
    tz = zone(tz_name)
    start = datetime.combine(first, time.min, tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz).astimezone(timezone.utc)
    return start, end


def _span(first: date, last: date, tz_name: str, f: CalendarFilter, month: int | None, today: date) -> Span:
    start, end = _utc_bounds(first, last, tz_name)
    tz = zone(tz_name)
    by_day: dict[date, list[CalendarItem]] = defaultdict(list)
    for item in items_between(start, end, f):
        by_day[item.when.astimezone(tz).date()].append(item)
    running = [c for c in campaigns.overlapping(first, last) if not f.campaign_id or c.id == f.campaign_id]
    days = []
    d = first
    while d <= last:
        on = tuple(c for c in running if (c.starts_on is None or c.starts_on <= d) and (c.ends_on is None or c.ends_on >= d))
        days.append(Day(d, month is None or d.month == month, d == today, tuple(by_day.get(d, ())), on))
        d += timedelta(days=1)
    return Span(first, last, tuple(days), tuple(running))


def month(year: int, month_: int, tz_name: str, f: CalendarFilter = CalendarFilter(), *, week_starts: int = 0,
          today: date | None = None) -> Span:
    """Whole weeks covering the month, in the viewer's time zone (week_starts: 0 Monday, 6 Sunday)."""
    first_of = date(year, month_, 1)
    next_month = date(year + (month_ == 12), month_ % 12 + 1, 1)
    first = first_of - timedelta(days=(first_of.weekday() - week_starts) % 7)
    last_of = next_month - timedelta(days=1)
    last = last_of + timedelta(days=(week_starts - 1 - last_of.weekday()) % 7)
    today = today or datetime.now(zone(tz_name)).date()
    return _span(first, last, tz_name, f, month_, today)


def week(any_day: date, tz_name: str, f: CalendarFilter = CalendarFilter(), *, week_starts: int = 0, today: date | None = None) -> Span:
    first = any_day - timedelta(days=(any_day.weekday() - week_starts) % 7)
    today = today or datetime.now(zone(tz_name)).date()
    return _span(first, first + timedelta(days=6), tz_name, f, None, today)
