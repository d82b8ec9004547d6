"""The four reports (tags, post performance, profile performance, inbox activity): SQL aggregates, the comparison with
the previous period, and the charts, tables and key numbers that the page, the CSV export and the PDF all show."""

from __future__ import annotations

import io
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from govsocial_app.db import sql
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, MessageTag, Post, PostTarget, ProfileMetricDaily, SocialProfile, Tag
from govsocial_app.services import csv_export
from govsocial_app.services.reporting import metrics
from govsocial_app.services.errors import UserError
from govsocial_app.services.timefmt import checked_zone
from govsocial_app.services.reporting.metrics import Scope, engagement_rate, period_change

MAX_DAYS = 366
TOP_SERIES = 6  # lines or stacks per chart: more is unreadable on a phone
ROW_LIMIT = 50  # rows a table shows on screen; CSV exports every row

REPORTS = {
    "tags": "Tag report",
    "posts": "Post performance",
    "profiles": "Profile performance",
    "inbox": "Inbox activity",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ---------------------------------------------------------------- filters and periods


@dataclass(frozen=True)
class ReportFilters:
    """A report's period (local dates, both inclusive) in a time zone, and its profile and network filters."""

    start: date
    end: date
    profile_ids: tuple[int, ...] = ()
    networks: tuple[str, ...] = ()
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise UserError("The report's end date is before its start date.")
        if self.days > MAX_DAYS:
            raise UserError(f"A report covers at most {MAX_DAYS} days.")
        checked_zone(self.tz)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def zone(self) -> ZoneInfo:
        return checked_zone(self.tz)

    def previous(self) -> ReportFilters:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return replace(self, start=end - timedelta(days=self.days - 1), end=end)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as a half-open UTC range: local midnight at the start to local midnight after the end."""
        z = self.zone
        since = datetime.combine(self.start, time(0), tzinfo=z).astimezone(timezone.utc)
        until = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=z).astimezone(timezone.utc)
        return since, until

    def scope(self) -> Scope:
        since, until = self.bounds()
        return Scope(since, until, self.profile_ids, self.networks)

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def local(self, dt: datetime) -> datetime:
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(self.zone)

    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%-d %b %Y}"
        if self.start.year == self.end.year:
            return f"{self.start:%-d %b} – {self.end:%-d %b %Y}"
        return f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y}"

    def to_dict(self) -> dict[str, Any]:
        return {"profile_ids": list(self.profile_ids), "networks": list(self.networks), "tz": self.tz}

    @classmethod
    def from_dict(cls, start: date, end: date, raw: dict[str, Any] | None) -> ReportFilters:
        raw = raw or {}
        return cls(start, end, tuple(int(p) for p in raw.get("profile_ids") or ()), tuple(str(n) for n in raw.get("networks") or ()),
                   str(raw.get("tz") or "UTC"))


def last_days(days: int, tz: str = "UTC", today: date | None = None, **kw) -> ReportFilters:
    """The last `days` complete local days, ending yesterday (today is still filling up)."""
    end = (today or datetime.now(ZoneInfo(tz)).date()) - timedelta(days=1)
    return ReportFilters(end - timedelta(days=days - 1), end, tz=tz, **kw)


# ---------------------------------------------------------------- what every report shows


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, pct, seconds, datetime, float


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    total: int | None = None  # rows in the full result when `rows` is a page of it


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    color: str = ""  # a colour that means something (sentiment); empty takes the next one of the chart palette


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: str  # line, bar, stacked, hbar, heatmap
    x: tuple[str, ...]
    series: tuple[Series, ...]
    y: tuple[str, ...] = ()  # heat-map rows (one Series per row)
    unit: str = ""
    zero: bool = True  # start the value axis at zero (not for followers, whose change is what matters)


@dataclass(frozen=True)
class KeyNumber:
    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str = "int"

    @property
    def change(self) -> float | None:
        return period_change(self.value, self.previous)


def fmt(value: Any, kind: str) -> str:
    """A value as people read it (English digits; the UI localises labels, not numbers)."""
    if value is None or value == "":
        return "–"
    if kind == "int":
        return f"{int(round(value)):,}"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "seconds":
        return fmt_duration(value)
    if kind == "float":
        return f"{value:,.2f}"
    if kind == "datetime":
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)


def fmt_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def fmt_change(change: float | None) -> str:
    if change is None:
        return "–"
    return f"{'+' if change >= 0 else '−'}{abs(change) * 100:.0f}%"


@dataclass
class Report:
    """Base of the four reports: what the page, the CSV export and the PDF read."""

    kind: str
    filters: ReportFilters

    @property
    def title(self) -> str:
        return REPORTS[self.kind]

    def key_numbers(self) -> list[KeyNumber]:
        raise NotImplementedError

    def charts(self) -> list[Chart]:
        raise NotImplementedError

    def tables(self) -> list[Table]:
        raise NotImplementedError

    def summary(self) -> str:
        raise NotImplementedError

    def compared(self) -> str:
        prev = self.filters.previous()
        return f"the previous {self.filters.days} days ({prev.label()})"


def _say(k: KeyNumber) -> str:
    change = k.change
    if change is None:
        return fmt(k.value, k.kind)
    return f"{fmt(k.value, k.kind)} ({fmt_change(change)})"


# ---------------------------------------------------------------- shared helpers


def _local_day(bucket: str, f: ReportFilters) -> date:
    return sql.parse_hour(bucket).astimezone(f.zone).date()


def daily(by_hour: dict[str, int], f: ReportFilters) -> list[int]:
    """Fold hourly UTC counts into the period's local days."""
    index = {d: i for i, d in enumerate(f.dates())}
    out = [0] * f.days
    for bucket, n in by_hour.items():
        i = index.get(_local_day(bucket, f))
        if i is not None:
            out[i] += int(n)
    return out


def _x(f: ReportFilters) -> tuple[str, ...]:
    return tuple(d.isoformat() for d in f.dates())


def _profile_conditions(f: ReportFilters) -> list:
    out = [col(SocialProfile.deleted_at).is_(None)]
    if f.profile_ids:
        out.append(col(SocialProfile.id).in_(f.profile_ids))
    if f.networks:
        out.append(col(SocialProfile.network).in_(f.networks))
    return out


def _session(session: Session | None):
    return nullcontext(session) if session is not None else session_scope()


# ---------------------------------------------------------------- tag report


@dataclass(frozen=True)
class TagRow:
    tag_id: int
    name: str
    inbound: int
    outbound: int
    prev_inbound: int
    prev_outbound: int

    @property
    def change(self) -> float | None:
        return period_change(self.inbound, self.prev_inbound)


@dataclass
class TagReport(Report):
    rows: list[TagRow] = field(default_factory=list)
    inbound_total: int = 0
    prev_inbound_total: int = 0
    tagged_inbound: int = 0
    prev_tagged_inbound: int = 0
    daily_in: dict[str, list[int]] = field(default_factory=dict)  # top tags only
    daily_out: dict[str, list[int]] = field(default_factory=dict)

    def key_numbers(self) -> list[KeyNumber]:
        out = sum(r.outbound for r in self.rows)
        prev_out = sum(r.prev_outbound for r in self.rows)
        used = sum(1 for r in self.rows if r.inbound or r.outbound)
        prev_used = sum(1 for r in self.rows if r.prev_inbound or r.prev_outbound)
        return [
            KeyNumber("inbound", "Inbound messages", self.inbound_total, self.prev_inbound_total),
            KeyNumber("tagged", "Tagged inbound messages", self.tagged_inbound, self.prev_tagged_inbound),
            KeyNumber("outbound", "Replies to tagged messages", out, prev_out),
            KeyNumber("tags_used", "Tags in use", used, prev_used),
        ]

    def charts(self) -> list[Chart]:
        top = self.rows[:TOP_SERIES]
        return [
            Chart("tags_daily", "Inbound messages per tag per day", "stacked", _x(self.filters),
                  tuple(Series(name, tuple(v)) for name, v in self.daily_in.items())),
            Chart("tags_top", "Top tags: inbound and outbound", "hbar", tuple(r.name for r in top),
                  (Series("Inbound", tuple(r.inbound for r in top)), Series("Outbound", tuple(r.outbound for r in top)))),
        ]

    def tables(self) -> list[Table]:
        cols = (Column("tag", "Tag"), Column("inbound", "Inbound", "int"), Column("outbound", "Outbound", "int"),
                Column("prev_inbound", "Inbound, previous period", "int"), Column("change", "Change", "pct"))
        return [Table("tags", "Tags", cols, tuple((r.name, r.inbound, r.outbound, r.prev_inbound, r.change) for r in self.rows))]

    def summary(self) -> str:
        k = {n.key: n for n in self.key_numbers()}
        top = ", ".join(f"{r.name} ({r.inbound:,})" for r in self.rows[:3] if r.inbound) or "none"
        return (
            f"From {self.filters.label()}, {_say(k['inbound'])} inbound messages arrived, of which {_say(k['tagged'])} were tagged; "
            f"the team sent {_say(k['outbound'])} replies to tagged messages. Top tags: {top}. "
            f"Changes compare with {self.compared()}."
        )


def _tag_counts(s: Session, scope: Scope, *, by_hour: bool) -> tuple[dict, dict]:
    """Inbound messages per tag, and outbound replies to messages carrying the tag (optionally per UTC hour)."""
    tagged = and_(MessageTag.message_id == Message.id, col(MessageTag.removed_at).is_(None))
    hour_in = sql.hour_bucket(s, Message.received_at)
    keys_in = [MessageTag.tag_id, hour_in] if by_hour else [MessageTag.tag_id]
    inbound = s.execute(
        select(*keys_in, func.count(Message.id)).join(MessageTag, tagged).where(Message.direction == "in", *scope.conditions()).group_by(*keys_in)
    ).all()
    parent = aliased(Message)
    out_tag = and_(MessageTag.message_id == parent.id, col(MessageTag.removed_at).is_(None))
    hour_out = sql.hour_bucket(s, Message.created_at)
    keys_out = [MessageTag.tag_id, hour_out] if by_hour else [MessageTag.tag_id]
    outbound = s.execute(
        select(*keys_out, func.count(Message.id))
        .join(parent, and_(parent.network == Message.network, parent.external_id == Message.in_reply_to_external_id))
        .join(MessageTag, out_tag)
        .where(Message.direction == "out", Message.status != "failed", *scope.conditions(at=Message.created_at))
        .group_by(*keys_out)
    ).all()
    pack = (lambda r: ((r[0], r[1]), int(r[2]))) if by_hour else (lambda r: (r[0], int(r[1])))
    return dict(map(pack, inbound)), dict(map(pack, outbound))


def _inbound_and_tagged(s: Session, scope: Scope) -> tuple[int, int]:
    """(inbound messages, those carrying at least one tag) in one pass."""
    exists_tag = select(MessageTag.id).where(MessageTag.message_id == Message.id, col(MessageTag.removed_at).is_(None)).exists()
    n, tagged = s.execute(
        select(func.count(Message.id), func.sum(case((exists_tag, 1), else_=0))).where(Message.direction == "in", *scope.conditions())
    ).one()
    return int(n or 0), int(tagged or 0)


def tag_report(f: ReportFilters, *, session: Session | None = None) -> TagReport:
    prev = f.previous()
    with _session(session) as s:
        names = dict(s.execute(select(Tag.id, Tag.name).where(col(Tag.deleted_at).is_(None))).all())
        cur_in, cur_out = _tag_counts(s, f.scope(), by_hour=True)
        prev_in, prev_out = _tag_counts(s, prev.scope(), by_hour=False)
        totals_in: dict[int, int] = {}
        totals_out: dict[int, int] = {}
        for (tag, _h), n in cur_in.items():
            totals_in[tag] = totals_in.get(tag, 0) + n
        for (tag, _h), n in cur_out.items():
            totals_out[tag] = totals_out.get(tag, 0) + n
        tag_ids = [t for t in names if t in totals_in or t in totals_out or t in prev_in or t in prev_out]
        rows = sorted(
            (TagRow(t, names[t], totals_in.get(t, 0), totals_out.get(t, 0), prev_in.get(t, 0), prev_out.get(t, 0)) for t in tag_ids),
            key=lambda r: (-r.inbound, -r.outbound, r.name),
        )
        (total, tagged), (prev_total, prev_tagged) = _inbound_and_tagged(s, f.scope()), _inbound_and_tagged(s, prev.scope())
        report = TagReport("tags", f, rows=rows, inbound_total=total, prev_inbound_total=prev_total, tagged_inbound=tagged,
                           prev_tagged_inbound=prev_tagged)
    for r in rows[:TOP_SERIES]:
        report.daily_in[r.name] = daily({h: n for (t, h), n in cur_in.items() if t == r.tag_id}, f)
        report.daily_out[r.name] = daily({h: n for (t, h), n in cur_out.items() if t == r.tag_id}, f)
    return report


# ---------------------------------------------------------------- post performance


POST_SORTS = ("published_at", "impressions", "likes", "reposts", "replies", "clicks", "engagements", "rate")


@dataclass(frozen=True)
class PostRow:
    target_id: int
    published_at: datetime
    profile: str
    network: str
    text: str
    impressions: int | None
    likes: int | None
    reposts: int | None
    replies: int | None
    clicks: int | None
    engagements: int | None
    rate: float | None


@dataclass
class PostReport(Report):
    rows: list[PostRow] = field(default_factory=list)
    total_rows: int = 0
    sort: str = "engagements"
    descending: bool = True
    best: list[PostRow] = field(default_factory=list)
    worst: list[PostRow] = field(default_factory=list)
    posts: int = 0
    prev_posts: int = 0
    impressions: int = 0
    prev_impressions: int = 0
    engaged: int = 0
    prev_engaged: int = 0
    avg_rate: float | None = None
    prev_avg_rate: float | None = None
    daily_posts: list[int] = field(default_factory=list)
    daily_engagements: list[int] = field(default_factory=list)

    def key_numbers(self) -> list[KeyNumber]:
        return [
            KeyNumber("posts", "Posts published", self.posts, self.prev_posts),
            KeyNumber("impressions", "Impressions", self.impressions, self.prev_impressions),
            KeyNumber("engagements", "Engagements", self.engaged, self.prev_engaged),
            KeyNumber("rate", "Average engagement rate", self.avg_rate, self.prev_avg_rate, "pct"),
        ]

    def charts(self) -> list[Chart]:
        x = _x(self.filters)
        top = self.best[:8]
        return [
            Chart("posts_daily", "Engagements on posts published each day", "bar", x,
                  (Series("Engagements", tuple(self.daily_engagements)),)),
            Chart("posts_best", "Best posts by engagement rate", "hbar", tuple(short(r.text, 40) for r in top),
                  (Series("Engagement rate", tuple(r.rate for r in top)),), unit="%"),
        ]

    def _table(self, key: str, title: str, rows: list[PostRow], total: int | None = None) -> Table:
        cols = (Column("published_at", "Publish date", "datetime"), Column("profile", "Profile"), Column("network", "Network"),
                Column("text", "Post"), Column("impressions", "Impressions", "int"), Column("likes", "Likes", "int"),
                Column("reposts", "Reposts", "int"), Column("replies", "Replies", "int"), Column("clicks", "Clicks", "int"),
                Column("engagements", "Engagements", "int"), Column("rate", "Engagement rate", "pct"))
        data = tuple((self.filters.local(r.published_at), r.profile, r.network, r.text, r.impressions, r.likes, r.reposts, r.replies,
                      r.clicks, r.engagements, r.rate) for r in rows)
        return Table(key, title, cols, data, total)

    def tables(self) -> list[Table]:
        return [
            self._table("posts", "Published posts", self.rows, self.total_rows),
            self._table("best", "Best performers", self.best),
            self._table("worst", "Worst performers", self.worst),
        ]

    def summary(self) -> str:
        k = {n.key: n for n in self.key_numbers()}
        best = f" The best post reached an engagement rate of {fmt(self.best[0].rate, 'pct')}." if self.best and self.best[0].rate else ""
        return (
            f"From {self.filters.label()}, {_say(k['posts'])} posts were published. They earned {_say(k['impressions'])} impressions "
            f"and {_say(k['engagements'])} engagements, an average engagement rate of {_say(k['rate'])}.{best} "
            f"Changes compare with {self.compared()}."
        )


def short(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _followers_at(s: Session, day: date):
    """Subquery: each profile's followers on its latest daily snapshot on or before `day`."""
    last = (
        select(ProfileMetricDaily.profile_id, func.max(ProfileMetricDaily.day).label("d"))
        .where(ProfileMetricDaily.day <= day)
        .group_by(ProfileMetricDaily.profile_id)
        .subquery()
    )
    return (
        select(ProfileMetricDaily.profile_id, ProfileMetricDaily.followers)
        .join(last, and_(last.c.profile_id == ProfileMetricDaily.profile_id, last.c.d == ProfileMetricDaily.day))
        .subquery()
    )


def _post_base(s: Session, f: ReportFilters):
    """(columns, from-clause builder) for published posts in the period with their latest metrics."""
    since, until = f.bounds()
    latest = metrics.latest_snapshots()
    followers = _followers_at(s, f.end)
    # NULL, not 0, for a post with no numbers yet: it sorts last and stays out of averages.
    eng = case((latest.c.target_id.is_not(None), metrics.engagement_sql(latest)), else_=None)
    rate = case(
        (latest.c.target_id.is_(None), None),
        (latest.c.impressions > 0, eng * 1.0 / latest.c.impressions),
        (followers.c.followers > 0, eng * 1.0 / followers.c.followers),
        else_=None,
    )
    where = [
        PostTarget.status == "published", PostTarget.published_at >= since, PostTarget.published_at < until,
        col(Post.deleted_at).is_(None), *_profile_conditions(f),
    ]

    def source(q):
        return (
            q.select_from(PostTarget)
            .join(Post, Post.id == PostTarget.post_id)
            .join(SocialProfile, SocialProfile.id == PostTarget.profile_id)
            .outerjoin(latest, latest.c.target_id == PostTarget.id)
            .outerjoin(followers, followers.c.profile_id == PostTarget.profile_id)
            .where(*where)
        )

    return latest, eng, rate, source


def _post_totals(s: Session, f: ReportFilters) -> tuple[int, int, int, float | None]:
    latest, eng, rate, source = _post_base(s, f)
    n, impressions, engaged, avg_rate = s.execute(
        source(select(func.count(PostTarget.id), func.sum(latest.c.impressions), func.sum(eng), func.avg(rate)))
    ).one()
    return int(n or 0), int(impressions or 0), int(engaged or 0), None if avg_rate is None else float(avg_rate)


def post_report(f: ReportFilters, *, sort: str = "engagements", descending: bool = True, limit: int | None = ROW_LIMIT,
                session: Session | None = None) -> PostReport:
    if sort not in POST_SORTS:
        raise UserError("Unknown sort column.")
    with _session(session) as s:
        latest, eng, rate, source = _post_base(s, f)
        text = func.substr(func.coalesce(func.nullif(PostTarget.text_override, ""), Post.text), 1, 280)
        columns = [
            PostTarget.id, PostTarget.published_at, func.coalesce(func.nullif(SocialProfile.display_name, ""), SocialProfile.handle),
            SocialProfile.network, text, latest.c.impressions, latest.c.likes, latest.c.reposts, latest.c.replies, latest.c.clicks,
            eng, rate,
        ]
        sort_expr = {
            "published_at": PostTarget.published_at, "impressions": latest.c.impressions, "likes": latest.c.likes,
            "reposts": latest.c.reposts, "replies": latest.c.replies, "clicks": latest.c.clicks, "engagements": eng, "rate": rate,
        }[sort]
        # Posts without numbers yet go last whichever way the table is sorted.
        order = [sort_expr.is_(None), sort_expr.desc() if descending else sort_expr.asc(), col(PostTarget.id).desc()]

        def rows(q) -> list[PostRow]:
            return [PostRow(*r[:1], r[1], *r[2:]) for r in s.execute(q).all()]

        q = source(select(*columns)).order_by(*order)
        table = rows(q.limit(limit) if limit else q)
        ranked = source(select(*columns)).where(rate.is_not(None))
        best = rows(ranked.order_by(rate.desc(), col(PostTarget.id)).limit(5))
        worst = rows(ranked.order_by(rate.asc(), col(PostTarget.id)).limit(5))
        posts, impressions, engaged, avg_rate = _post_totals(s, f)
        prev = _post_totals(s, f.previous())
        day = sql.hour_bucket(s, PostTarget.published_at)
        per_hour = s.execute(source(select(day, func.count(PostTarget.id), func.sum(eng))).group_by(day)).all()
    return PostReport(
        "posts", f, rows=table, total_rows=posts, sort=sort, descending=descending, best=best, worst=worst,
        posts=posts, prev_posts=prev[0], impressions=impressions, prev_impressions=prev[1], engaged=engaged, prev_engaged=prev[2],
        avg_rate=avg_rate, prev_avg_rate=prev[3],
        daily_posts=daily({h: n for h, n, _e in per_hour}, f), daily_engagements=daily({h: e or 0 for h, _n, e in per_hour}, f),
    )


# ---------------------------------------------------------------- profile performance


@dataclass(frozen=True)
class ProfileRow:
    profile_id: int | None  # None on the total row
    name: str
    network: str
    followers_start: int | None
    followers_end: int | None
    posts: int
    engagements: int
    impressions: int
    rate: float | None

    @property
    def growth(self) -> int | None:
        if self.followers_start is None or self.followers_end is None:
            return None
        return self.followers_end - self.followers_start

    @property
    def growth_rate(self) -> float | None:
        return period_change(self.followers_end, self.followers_start)


@dataclass
class ProfileReport(Report):
    rows: list[ProfileRow] = field(default_factory=list)
    total: ProfileRow | None = None
    prev_total: ProfileRow | None = None
    followers: dict[str, list[int | None]] = field(default_factory=dict)  # profile name -> followers per day

    def key_numbers(self) -> list[KeyNumber]:
        t, p = self.total, self.prev_total
        return [
            KeyNumber("followers", "Followers", t.followers_end if t else None, p.followers_end if p else None),
            KeyNumber("growth", "Follower growth", t.growth if t else None, p.growth if p else None),
            KeyNumber("posts", "Posts published", t.posts if t else 0, p.posts if p else 0),
            KeyNumber("engagements", "Engagements", t.engagements if t else 0, p.engagements if p else 0),
            KeyNumber("rate", "Engagement rate", t.rate if t else None, p.rate if p else None, "pct"),
        ]

    def charts(self) -> list[Chart]:
        x = _x(self.filters)
        top = self.rows[:TOP_SERIES]
        return [
            Chart("followers", "Followers per profile", "line", x, tuple(Series(n, tuple(v)) for n, v in self.followers.items()),
                  zero=False),
            Chart("profile_rate", "Engagement rate per profile", "hbar", tuple(r.name for r in top),
                  (Series("Engagement rate", tuple(r.rate for r in top)),), unit="%"),
        ]

    def tables(self) -> list[Table]:
        cols = (Column("profile", "Profile"), Column("network", "Network"), Column("followers_start", "Followers at start", "int"),
                Column("followers_end", "Followers at end", "int"), Column("growth", "Growth", "int"),
                Column("growth_rate", "Growth rate", "pct"), Column("posts", "Posts", "int"),
                Column("impressions", "Impressions", "int"), Column("engagements", "Engagements", "int"),
                Column("rate", "Engagement rate", "pct"))
        rows = [*self.rows, *([self.total] if self.total else [])]
        data = tuple((r.name, r.network, r.followers_start, r.followers_end, r.growth, r.growth_rate, r.posts, r.impressions,
                      r.engagements, r.rate) for r in rows)
        return [Table("profiles", "Profiles", cols, data)]

    def summary(self) -> str:
        k = {n.key: n for n in self.key_numbers()}
        n = len(self.rows)
        return (
            f"From {self.filters.label()}, the {n} profile{'s' if n != 1 else ''} reached {_say(k['followers'])} followers in total, "
            f"a growth of {_say(k['growth'])}. They published {_say(k['posts'])} posts with {_say(k['engagements'])} engagements, "
            f"an engagement rate of {_say(k['rate'])}. Changes compare with {self.compared()}."
        )


def _profile_rows(s: Session, f: ReportFilters) -> tuple[list[ProfileRow], ProfileRow]:
    profiles = s.execute(
        select(SocialProfile.id, func.coalesce(func.nullif(SocialProfile.display_name, ""), SocialProfile.handle), SocialProfile.network)
        .where(*_profile_conditions(f)).order_by(SocialProfile.id)
    ).all()
    start_before = dict(s.execute(select(*_followers_at(s, f.start - timedelta(days=1)).c)).all())
    # A profile connected during the period starts from its first snapshot in it.
    first_in = (
        select(ProfileMetricDaily.profile_id, func.min(ProfileMetricDaily.day).label("d"))
        .where(ProfileMetricDaily.day >= f.start, ProfileMetricDaily.day <= f.end)
        .group_by(ProfileMetricDaily.profile_id).subquery()
    )
    start_first = dict(s.execute(
        select(ProfileMetricDaily.profile_id, ProfileMetricDaily.followers)
        .join(first_in, and_(first_in.c.profile_id == ProfileMetricDaily.profile_id, first_in.c.d == ProfileMetricDaily.day))
    ).all())
    end = dict(s.execute(select(*_followers_at(s, f.end).c)).all())
    since, until = f.bounds()
    latest = metrics.latest_snapshots()
    eng = metrics.engagement_sql(latest)
    has_impr = latest.c.impressions > 0
    agg = {
        r[0]: r[1:]
        for r in s.execute(
            select(PostTarget.profile_id, func.count(PostTarget.id), func.count(latest.c.target_id), func.sum(eng),
                   func.sum(case((has_impr, eng), else_=0)), func.sum(case((has_impr, latest.c.impressions), else_=0)))
            .join(Post, Post.id == PostTarget.post_id)
            .outerjoin(latest, latest.c.target_id == PostTarget.id)
            .where(PostTarget.status == "published", PostTarget.published_at >= since, PostTarget.published_at < until,
                   col(Post.deleted_at).is_(None))
            .group_by(PostTarget.profile_id)
        ).all()
    }
    rows = []
    sums = {"start": 0, "end": 0, "posts": 0, "eng": 0, "eng_i": 0, "impr": 0, "audience": 0, "has_start": False, "has_end": False}
    for pid, name, network in profiles:
        posts, measured, engaged, eng_i, impr = (int(v or 0) for v in agg.get(pid, (0, 0, 0, 0, 0)))
        f_start = start_before.get(pid, start_first.get(pid))
        f_end = end.get(pid)
        # Posts without numbers yet are left out of the rate: unknown is not zero.
        rate = engagement_rate(eng_i, impr) if impr else engagement_rate(engaged, followers=f_end, posts=measured)
        rows.append(ProfileRow(pid, name, network, f_start, f_end, posts, engaged, impr, rate))
        sums["posts"] += posts
        sums["eng"] += engaged
        sums["eng_i"] += eng_i
        sums["impr"] += impr
        sums["audience"] += measured * (f_end or 0)
        if f_start is not None:
            sums["start"] += f_start
            sums["has_start"] = True
        if f_end is not None:
            sums["end"] += f_end
            sums["has_end"] = True
    # The total's rate by followers is the posts-weighted mean of each profile's per-post rate.
    total_rate = engagement_rate(sums["eng_i"], sums["impr"]) if sums["impr"] else engagement_rate(sums["eng"], followers=sums["audience"])
    total = ProfileRow(None, "Total", "", sums["start"] if sums["has_start"] else None, sums["end"] if sums["has_end"] else None,
                       sums["posts"], sums["eng"], sums["impr"], total_rate)
    return rows, total


def profile_report(f: ReportFilters, *, session: Session | None = None) -> ProfileReport:
    with _session(session) as s:
        rows, total = _profile_rows(s, f)
        _prev_rows, prev_total = _profile_rows(s, f.previous())
        ids = [r.profile_id for r in rows]
        series = s.execute(
            select(ProfileMetricDaily.profile_id, ProfileMetricDaily.day, ProfileMetricDaily.followers)
            .where(col(ProfileMetricDaily.profile_id).in_(ids), ProfileMetricDaily.day >= f.start, ProfileMetricDaily.day <= f.end)
        ).all() if ids else []
    index = {d: i for i, d in enumerate(f.dates())}
    names = {r.profile_id: r.name for r in rows}
    followers: dict[str, list[int | None]] = {}
    for pid, day, n in series:
        followers.setdefault(names[pid], [None] * f.days)[index[day]] = n
    rows.sort(key=lambda r: (-(r.followers_end or 0), r.name))
    return ProfileReport("profiles", f, rows=rows, total=total, prev_total=prev_total, followers=followers)


# ---------------------------------------------------------------- inbox activity


@dataclass
class InboxReport(Report):
    current: metrics.InboxMetrics | None = None
    previous: metrics.ResponseStats | None = None
    prev_outbound: int = 0
    heat: list[list[int]] = field(default_factory=list)  # [weekday][hour], local time

    def key_numbers(self) -> list[KeyNumber]:
        c, p = self.current.totals, self.previous
        return [
            KeyNumber("inbound", "Inbound messages", c.messages, p.messages),
            KeyNumber("outbound", "Replies sent", self.current.outbound, self.prev_outbound),
            KeyNumber("answered", "Answered", c.answered_share, p.answered_share, "pct"),
            KeyNumber("response", "Average time to first response", c.avg_response_s, p.avg_response_s, "seconds"),
            KeyNumber("sla", "Answered within an hour", c.sla_share, p.sla_share, "pct"),
            KeyNumber("completed", "Completed", c.completed, p.completed),
            KeyNumber("completion", "Average time to completion", c.avg_completion_s, p.avg_completion_s, "seconds"),
        ]

    def charts(self) -> list[Chart]:
        x = _x(self.filters)
        hours = tuple(f"{h:02d}" for h in range(24))
        return [
            Chart("inbox_daily", "Messages per day", "line", x,
                  (Series("Inbound", tuple(daily(self.current.inbound_by_hour, self.filters))),
                   Series("Outbound", tuple(daily(self.current.outbound_by_hour, self.filters))))),
            Chart("inbox_heat", "Busiest hours (inbound messages)", "heatmap", hours,
                  tuple(Series(WEEKDAYS[d], tuple(self.heat[d])) for d in range(7)), y=WEEKDAYS),
        ]

    def tables(self) -> list[Table]:
        def stat_cols(first: str) -> tuple[Column, ...]:
            return (Column("name", first), Column("messages", "Messages", "int"), Column("answered", "Answered", "int"),
                    Column("avg_response", "Average first response", "seconds"), Column("sla", "Within an hour", "pct"),
                    Column("completed", "Completed", "int"), Column("avg_completion", "Average time to completion", "seconds"))

        def data(groups: list[metrics.GroupStats]) -> tuple[tuple, ...]:
            return tuple((g.label, g.stats.messages, g.stats.answered, g.stats.avg_response_s, g.stats.sla_share, g.stats.completed,
                          g.stats.avg_completion_s) for g in groups)

        c = self.current
        return [
            Table("responders", "Responses per user", stat_cols("User"), data(c.by_responder)),
            Table("completers", "Completion per user", stat_cols("User"), data(c.by_completer)),
            Table("inbox_tags", "Response and completion per tag", stat_cols("Tag"), data(c.by_tag)),
        ]

    def busiest(self) -> tuple[int, int, int]:
        """(weekday, hour, messages) of the busiest local hour of the week."""
        return max(((d, h, self.heat[d][h]) for d in range(7) for h in range(24)), key=lambda t: (t[2], -t[0], -t[1]))

    def summary(self) -> str:
        k = {n.key: n for n in self.key_numbers()}
        d, h, n = self.busiest()
        busiest = f" The busiest hour was {WEEKDAYS[d]} {h:02d}:00–{h + 1:02d}:00 ({n:,} messages)." if n else ""
        answered = (
            f"{_say(k['answered'])} were answered, on average in {_say(k['response'])}; {_say(k['sla'])} of answers came within an hour."
            if self.current.totals.answered else "None were answered."
        )
        completed = (
            f"{_say(k['completed'])} were completed, on average in {_say(k['completion'])}."
            if self.current.totals.completed else "None were completed."
        )
        return (
            f"From {self.filters.label()}, {_say(k['inbound'])} inbound messages arrived and the team sent {_say(k['outbound'])} replies. "
            f"{answered} {completed}{busiest} Changes compare with {self.compared()}."
        )


def inbox_report(f: ReportFilters, *, session: Session | None = None) -> InboxReport:
    prev = f.previous()
    with _session(session) as s:
        current = metrics.inbox_metrics(f.scope(), session=s)
        previous = metrics.response_totals(s, prev.scope())
        prev_out = metrics.outbound_count(s, prev.scope())
    heat = [[0] * 24 for _ in range(7)]
    for bucket, n in current.inbound_by_hour.items():
        local = sql.parse_hour(bucket).astimezone(f.zone)
        heat[local.weekday()][local.hour] += n
    return InboxReport("inbox", f, current=current, previous=previous, prev_outbound=prev_out, heat=heat)


# ---------------------------------------------------------------- entry points and CSV


def build(kind: str, f: ReportFilters, *, session: Session | None = None, **options) -> Report:
    builders = {"tags": tag_report, "posts": post_report, "profiles": profile_report, "inbox": inbox_report}
    if kind not in builders:
        raise UserError("Unknown report.")
    return builders[kind](f, session=session, **options)


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "pct":
        return round(value * 100, 2)
    if kind == "seconds":
        return int(round(value))
    if kind == "datetime":
        return value.isoformat(timespec="minutes")
    return value


def _csv_header(c: Column) -> str:
    return c.label + {"pct": " (%)", "seconds": " (seconds)"}.get(c.kind, "")


def table_csv(table: Table) -> str:
    out = io.StringIO()
    w = csv_export.writer(out)  # social content is untrusted: no cell may run as a spreadsheet formula
    w.writerow([_csv_header(c) for c in table.columns])
    for row in table.rows:
        w.writerow([_csv_value(v, c.kind) for v, c in zip(row, table.columns)])
    return out.getvalue()


def export_csv(kind: str, f: ReportFilters, table_key: str, **options) -> tuple[str, str]:
    """(file name, CSV text) of one of a report's tables, with every row (not just the page shown)."""
    if kind == "posts":
        options["limit"] = None
    report = build(kind, f, **options)
    table = next((t for t in report.tables() if t.key == table_key), None)
    if table is None:
        raise UserError("Unknown table.")
    return f"{kind}-{table_key}-{f.start}-{f.end}.csv", table_csv(table)


__all__ = [
    "Chart", "Column", "InboxReport", "KeyNumber", "POST_SORTS", "PostReport", "PostRow", "ProfileReport", "ProfileRow", "REPORTS",
    "Report", "ReportFilters", "Series", "Table", "TagReport", "TagRow", "build", "export_csv", "fmt", "fmt_change",
    "fmt_duration", "inbox_report", "last_days", "post_report", "profile_report", "table_csv", "tag_report",
]
