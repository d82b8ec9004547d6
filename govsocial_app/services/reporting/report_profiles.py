"""Profile performance: followers gained, posts, impressions and engagement per profile, against the previous
period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from govsocial_app.db.models import Post, PostTarget, ProfileMetricDaily, SocialProfile
from govsocial_app.services.reporting import metrics
from govsocial_app.services.reporting.metrics import engagement_rate, period_change
from govsocial_app.services.reporting.report_base import (
    TOP_SERIES, Chart, Column, KeyNumber, Report, ReportFilters, Series, Table, followers_at, profile_conditions,
    say, session_or_new, x_labels,
)



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
        x = x_labels(self.filters)
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
            f"From {self.filters.label()}, the {n} profile{'s' if n != 1 else ''} reached {say(k['followers'])} followers in total, "
            f"a growth of {say(k['growth'])}. They published {say(k['posts'])} posts with {say(k['engagements'])} engagements, "
            f"an engagement rate of {say(k['rate'])}. Changes compare with {self.compared()}."
        )


def _profile_rows(s: Session, f: ReportFilters) -> tuple[list[ProfileRow], ProfileRow]:
    profiles = s.execute(
        select(SocialProfile.id, func.coalesce(func.nullif(SocialProfile.display_name, ""), SocialProfile.handle), SocialProfile.network)
        .where(*profile_conditions(f)).order_by(SocialProfile.id)
    ).all()
    start_before = dict(s.execute(select(*followers_at(s, f.start - timedelta(days=1)).c)).all())
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
    end = dict(s.execute(select(*followers_at(s, f.end).c)).all())
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
    with session_or_new(session) as s:
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
