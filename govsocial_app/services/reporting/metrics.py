"""Metrics: profile and post numbers collected from each connector into history, and inbox metrics computed from messages."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, bindparam, case, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from connectors.base import ConnectorError, OutboundPost, PostMetrics, ProfileMetrics
from govsocial_app.db.engine import session_scope
from govsocial_app.db.sql import dialect_of, hour_bucket, seconds_between
from govsocial_app.db.models import (
    Message,
    MessageTag,
    Post,
    PostMetricSnapshot,
    PostTarget,
    ProfileMetricDaily,
    SocialProfile,
    Tag,
    User,
)
from govsocial_app.services import profiles as profile_service

log = logging.getLogger(__name__)

POST_METRICS_BATCH = 100  # ids per post_metrics() call: every network we support accepts at least this many
# Young posts change fast, so they are measured hourly; after a week daily; after 90 days their last numbers stand.
FAST_REFRESH = timedelta(hours=1)
SLOW_REFRESH = timedelta(days=1)
FAST_FOR = timedelta(days=7)
TRACK_FOR = timedelta(days=90)
RESPONSE_SLA_S = 3600  # "answered within an hour", the response-time target the reports show


# ---------------------------------------------------------------- formulas (pinned by tests/reports)


def engagements(likes: int, reposts: int, replies: int, clicks: int | None = None) -> int:
    """Engagements on a post: likes + reposts + replies + link clicks where the network reports clicks."""
    return int(likes or 0) + int(reposts or 0) + int(replies or 0) + int(clicks or 0)


def engagement_rate(engaged: int, impressions: int | None = None, followers: int | None = None, posts: int = 1) -> float | None:
    """Engagement rate as a fraction.

    By impressions when the network reports them: engagements / impressions.
    Otherwise by followers, per post: engagements / posts / followers (the audience each post could reach).
    None when neither denominator is known, so "no data" never shows as 0 %."""
    if impressions:
        return engaged / impressions
    if followers and posts:
        return engaged / posts / followers
    return None


def period_change(current: float | None, previous: float | None) -> float | None:
    """Relative change against the previous period: (current - previous) / previous; None when there is no base."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous


# ---------------------------------------------------------------- message scope shared by every inbox aggregate


@dataclass(frozen=True)
class Scope:
    """Which messages an aggregate covers: a UTC half-open range and the profile and network filters."""

    since: datetime
    until: datetime
    profile_ids: tuple[int, ...] = ()
    networks: tuple[str, ...] = ()

    def conditions(self, m=Message, *, at=None) -> list:
        at = at if at is not None else m.received_at
        out = [at >= self.since, at < self.until, col(m.deleted_at).is_(None)]
        if self.profile_ids:
            out.append(col(m.profile_id).in_(self.profile_ids))
        if self.networks:
            out.append(col(m.network).in_(self.networks))
        return out


# ---------------------------------------------------------------- inbox metrics


@dataclass(frozen=True)
class ResponseStats:
    """Time to first response (first_response_at - received_at) and to completion (completed_at - received_at)."""

    messages: int = 0
    answered: int = 0
    avg_response_s: float | None = None
    within_sla: int = 0
    completed: int = 0
    avg_completion_s: float | None = None

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.messages if self.messages else None

    @property
    def sla_share(self) -> float | None:
        return self.within_sla / self.answered if self.answered else None


@dataclass(frozen=True)
class GroupStats:
    key: int | None
    label: str
    stats: ResponseStats


@dataclass(frozen=True)
class InboxMetrics:
    totals: ResponseStats
    outbound: int
    inbound_by_hour: dict[str, int] = field(default_factory=dict)  # UTC 'YYYY-MM-DD HH' -> inbound messages
    outbound_by_hour: dict[str, int] = field(default_factory=dict)
    by_responder: list[GroupStats] = field(default_factory=list)
    by_completer: list[GroupStats] = field(default_factory=list)
    by_tag: list[GroupStats] = field(default_factory=list)


def _stat_columns(s: Session, m=Message) -> list:
    response = seconds_between(s, m.received_at, m.first_response_at)
    completion = seconds_between(s, m.received_at, m.completed_at)
    answered = col(m.first_response_at).is_not(None)
    completed = and_(m.status == "completed", col(m.completed_at).is_not(None))
    return [
        func.count(m.id),
        func.sum(case((answered, 1), else_=0)),
        func.avg(case((answered, response), else_=None)),
        func.sum(case((and_(answered, response <= RESPONSE_SLA_S), 1), else_=0)),
        func.sum(case((completed, 1), else_=0)),
        func.avg(case((completed, completion), else_=None)),
    ]


def _stats(row) -> ResponseStats:
    n, answered, avg_r, sla, completed, avg_c = row
    return ResponseStats(
        int(n or 0), int(answered or 0), None if avg_r is None else float(avg_r), int(sla or 0), int(completed or 0),
        None if avg_c is None else float(avg_c),
    )


def response_totals(s: Session, scope: Scope) -> ResponseStats:
    row = s.execute(select(*_stat_columns(s)).where(Message.direction == "in", *scope.conditions())).one()
    return _stats(row)


def outbound_count(s: Session, scope: Scope) -> int:
    q = select(func.count(Message.id)).where(Message.direction == "out", Message.status != "failed", *scope.conditions(at=Message.created_at))
    return int(s.execute(q).scalar_one() or 0)


def inbox_metrics(scope: Scope, *, session: Session | None = None) -> InboxMetrics:
    """Volume, response and completion per responder, per completer and per tag, aggregated in SQL."""
    if session is None:
        with session_scope() as s:
            return inbox_metrics(scope, session=s)
    s = session
    inbound = Message.direction == "in"
    hour_in = hour_bucket(s, Message.received_at)
    by_hour = dict(s.execute(select(hour_in, func.count(Message.id)).where(inbound, *scope.conditions()).group_by(hour_in)).all())
    hour_out = hour_bucket(s, Message.created_at)
    out_q = select(hour_out, func.count(Message.id)).where(
        Message.direction == "out", Message.status != "failed", *scope.conditions(at=Message.created_at)
    )
    out_by_hour = dict(s.execute(out_q.group_by(hour_out)).all())
    users = dict(s.execute(select(User.id, User.display_name)).all())

    def per_user(key_col) -> list[GroupStats]:
        rows = s.execute(
            select(key_col, *_stat_columns(s)).where(inbound, col(key_col).is_not(None), *scope.conditions()).group_by(key_col)
        ).all()
        groups = [GroupStats(r[0], users.get(r[0], f"user {r[0]}"), _stats(r[1:])) for r in rows]
        return sorted(groups, key=lambda g: (-g.stats.messages, g.label))

    tag_rows = s.execute(
        select(Tag.id, Tag.name, *_stat_columns(s))
        .join(MessageTag, and_(MessageTag.message_id == Message.id, col(MessageTag.removed_at).is_(None)))
        .join(Tag, Tag.id == MessageTag.tag_id)
        .where(inbound, *scope.conditions())
        .group_by(Tag.id, Tag.name)
    ).all()
    return InboxMetrics(
        totals=response_totals(s, scope),
        outbound=sum(out_by_hour.values()),
        inbound_by_hour={k: int(v) for k, v in by_hour.items()},
        outbound_by_hour={k: int(v) for k, v in out_by_hour.items()},
        by_responder=per_user(Message.replied_by_id),
        by_completer=per_user(Message.completed_by),
        by_tag=sorted((GroupStats(r[0], r[1], _stats(r[2:])) for r in tag_rows), key=lambda g: (-g.stats.messages, g.label)),
    )


# ---------------------------------------------------------------- latest post metrics (used by the post and profile reports)


def latest_snapshots(as_of: datetime | None = None):
    """A subquery with each target's most recent PostMetricSnapshot (optionally as of a moment)."""
    ranked = select(
        PostMetricSnapshot.target_id,
        PostMetricSnapshot.impressions,
        PostMetricSnapshot.likes,
        PostMetricSnapshot.reposts,
        PostMetricSnapshot.replies,
        PostMetricSnapshot.clicks,
        func.row_number()
        .over(partition_by=PostMetricSnapshot.target_id, order_by=(col(PostMetricSnapshot.captured_at).desc(), col(PostMetricSnapshot.id).desc()))
        .label("rn"),
    )
    if as_of is not None:
        ranked = ranked.where(PostMetricSnapshot.captured_at <= as_of)
    ranked = ranked.subquery("ranked")
    return select(ranked).where(ranked.c.rn == 1).subquery("latest")


def engagement_sql(latest) -> object:
    return (
        func.coalesce(latest.c.likes, 0) + func.coalesce(latest.c.reposts, 0) + func.coalesce(latest.c.replies, 0)
        + func.coalesce(latest.c.clicks, 0)
    )


# ---------------------------------------------------------------- collection from connectors


@dataclass
class CollectResult:
    profiles: int = 0
    snapshots: int = 0
    errors: list[str] = field(default_factory=list)


def _upsert_daily(s: Session, profile_id: int, day: date, pm: ProfileMetrics, engaged: int) -> None:
    values = {"profile_id": profile_id, "day": day, "followers": pm.followers, "following": pm.following, "posts": pm.posts,
              "engagements": engaged}
    insert = sqlite.insert if dialect_of(s) == "sqlite" else postgresql.insert
    stmt = insert(ProfileMetricDaily).values(**values)
    update = {k: stmt.excluded[k] for k in ("followers", "following", "posts", "engagements")}
    s.execute(stmt.on_conflict_do_update(index_elements=["profile_id", "day"], set_=update))


def _targets_due(profile_id: int, now: datetime) -> list[tuple[int, str]]:
    """(target id, network id) of this profile's published posts whose numbers are due a refresh."""
    with session_scope() as s:
        last = (
            select(PostMetricSnapshot.target_id, func.max(PostMetricSnapshot.captured_at).label("at"))
            .group_by(PostMetricSnapshot.target_id)
            .subquery()
        )
        rows = s.execute(
            select(PostTarget.id, PostTarget.external_id, PostTarget.published_at, last.c.at)
            .outerjoin(last, last.c.target_id == PostTarget.id)
            .where(
                PostTarget.profile_id == profile_id, PostTarget.status == "published", PostTarget.external_id != "",
                PostTarget.published_at <= now, PostTarget.published_at >= now - TRACK_FOR,
            )
        ).all()
    due = []
    for tid, ext, published, last_at in rows:
        age = now - published
        every = FAST_REFRESH if age < FAST_FOR else SLOW_REFRESH
        if last_at is None or now - last_at >= every - timedelta(minutes=1):
            due.append((tid, ext))
    return due


def _store(profile_id: int, now: datetime, pm: ProfileMetrics, metrics: list[PostMetrics], ids: dict[str, int]) -> int:
    with session_scope() as s:
        rows = [
            {"target_id": ids[m.external_id], "captured_at": now, "impressions": m.impressions, "likes": m.likes,
             "reposts": m.reposts, "replies": m.replies, "clicks": m.clicks}
            for m in metrics if m.external_id in ids
        ]
        if rows:
            s.execute(PostMetricSnapshot.__table__.insert(), rows)
        latest = latest_snapshots(now)
        engaged = s.execute(
            select(func.coalesce(func.sum(engagement_sql(latest)), 0))
            .select_from(latest)
            .join(PostTarget, PostTarget.id == latest.c.target_id)
            .where(PostTarget.profile_id == profile_id)
        ).scalar_one()
        _upsert_daily(s, profile_id, now.date(), pm, int(engaged or 0))
        return len(rows)


async def collect_profile(profile: SocialProfile, now: datetime | None = None, **connector_kwargs) -> int:
    """Ask one profile's connector for its numbers and its posts' numbers; store them. Returns snapshots stored."""
    now = now or datetime.now(timezone.utc)
    connector = profile_service.connector_for(profile, **connector_kwargs)
    try:
        pm = await connector.profile_metrics()
        due = await asyncio.to_thread(_targets_due, profile.id, now)
        ids = {ext: tid for tid, ext in due}
        metrics: list[PostMetrics] = []
        exts = list(ids)
        for start in range(0, len(exts), POST_METRICS_BATCH):
            metrics += await connector.post_metrics(exts[start : start + POST_METRICS_BATCH])
    finally:
        await connector.aclose()
    return await asyncio.to_thread(_store, profile.id, now, pm, metrics, ids)


async def collect_all(now: datetime | None = None) -> CollectResult:
    """The scheduled collection: every active profile; one profile's failure never stops the others."""
    result = CollectResult()
    for profile in await asyncio.to_thread(profile_service.active_profiles):
        try:
            result.snapshots += await collect_profile(profile, now)
            result.profiles += 1
        except ConnectorError as exc:
            result.errors.append(f"{profile.handle}: {exc}")
            log.warning("metrics for %s: %s", profile.handle, exc)
    return result


__all__ = [
    "CollectResult", "GroupStats", "InboxMetrics", "ResponseStats", "Scope", "collect_all", "collect_profile", "engagement_rate", "engagements", "inbox_metrics", "latest_snapshots",
    "period_change",
]

