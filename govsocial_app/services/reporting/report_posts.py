"""Post performance: published posts with their latest network metrics, engagement rate on followers at the
period's end, sortable, against the previous period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from govsocial_app.db import sql
from govsocial_app.db.models import Post, PostTarget, SocialProfile
from govsocial_app.services.errors import UserError
from govsocial_app.services.reporting import metrics
from govsocial_app.services.reporting.report_base import (
    ROW_LIMIT, Chart, Column, KeyNumber, Report, ReportFilters, Series, Table, daily, fmt, followers_at,
    profile_conditions, say, session_or_new, x_labels,
)



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
        x = x_labels(self.filters)
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
            f"From {self.filters.label()}, {say(k['posts'])} posts were published. They earned {say(k['impressions'])} impressions "
            f"and {say(k['engagements'])} engagements, an average engagement rate of {say(k['rate'])}.{best} "
            f"Changes compare with {self.compared()}."
        )


def short(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"




def _post_base(s: Session, f: ReportFilters):
    """(columns, from-clause builder) for published posts in the period with their latest metrics."""
    since, until = f.bounds()
    latest = metrics.latest_snapshots()
    followers = followers_at(s, f.end)
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
        col(Post.deleted_at).is_(None), *profile_conditions(f),
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
    with session_or_new(session) as s:
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
