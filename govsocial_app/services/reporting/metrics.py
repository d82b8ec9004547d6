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


# ---------------------------------------------------------------- SQL that means the same on SQLite and PostgreSQL


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def hour_bucket(session: Session, column):
    """The UTC hour of a timestamp as text 'YYYY-MM-DD HH'. Reports fold hours into local days and weekdays
    afterwards, which stays right across daylight-saving changes (a fixed SQL offset would not)."""
    if dialect_of(session) == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


def seconds_between(session: Session, start, end):
    if dialect_of(session) == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def parse_hour(bucket: str) -> datetime:
    return datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=timezone.utc)


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


# ---------------------------------------------------------------- demo history from the simulator


def _simulator_profiles(profile_ids: list[int] | None = None) -> list[SocialProfile]:
    return [p for p in profile_service.active_profiles() if p.network == "simulator" and (profile_ids is None or p.id in profile_ids)]


def _run(coro):
    """Run a coroutine from synchronous seeding code, or from a thread when a loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def backfill_metrics(days: int = 30, now: datetime | None = None, profile_ids: list[int] | None = None) -> int:
    """Daily snapshots for the past `days` days, asked of each simulator profile as it was at the end of each day.

    The simulator's numbers are functions of its clock, so these are what collection would have stored then."""
    now = now or datetime.now(timezone.utc)

    async def run() -> int:
        stored = 0
        for profile in _simulator_profiles(profile_ids):
            for back in range(days, -1, -1):
                day = (now - timedelta(days=back)).date()
                moment = min(datetime.combine(day, time(23, 59), tzinfo=timezone.utc), now)
                stored += await collect_profile(profile, moment, clock=lambda m=moment: m)
        return stored

    return _run(run())


DEMO_POSTS = (
    ("en", "Bin collections run as normal this week. Check your day at riverton.gov/bins"),
    ("en", "Roadworks on Mill Lane start Monday for two weeks. Please follow the diversion signs."),
    ("ar", "تبدأ أعمال صيانة الطرق في شارع المطحنة يوم الاثنين لمدة أسبوعين. يرجى اتباع إشارات التحويل."),
    ("en", "The library in Northfield is open late on Thursdays until 8pm. Come and see us!"),
    ("en", "Heavy rain is forecast this weekend. Keep drains clear and sign up for flood alerts."),
    ("ar", "يتوقع هطول أمطار غزيرة نهاية هذا الأسبوع. اشتركوا في تنبيهات الفيضانات."),
    ("en", "Thank you to everyone who came to the community clean-up at Riverside Park."),
    ("en", "Council tax bills are NOT going up 20%. The real figure is 2.9%: riverton.gov/budget"),
    ("ar", "ضريبة البلدية لن ترتفع ٢٠٪. الزيادة الحقيقية ٢٫٩٪ فقط"),
    ("en", "Our customer service centre is closed on Monday for staff training. Online services stay open."),
)


def backfill_posts(days: int = 30, per_day: int = 1, now: datetime | None = None, profile_ids: list[int] | None = None) -> int:
    """Publish a few past demo posts through each simulator profile, as if sent on those days, and record them
    as published Post/PostTarget rows. Idempotent: a post already recorded is skipped.

    Call it before the message back-fill: the simulator then also generates the replies to these posts."""
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        author = s.execute(
            select(User.id).where(col(User.role).in_(("publisher", "manager", "admin"))).order_by(User.id)
        ).scalars().first()
    if author is None:
        return 0

    async def run() -> int:
        made = 0
        for n, profile in enumerate(_simulator_profiles(profile_ids)):
            for back in range(days, 0, -1):
                for k in range(per_day):
                    at = datetime.combine((now - timedelta(days=back)).date(), time(9 + 4 * k + n % 3, 30), tzinfo=timezone.utc)
                    lang, text = DEMO_POSTS[(back * per_day + k + n) % len(DEMO_POSTS)]
                    key = f"demo-{profile.id}-{at:%Y%m%d%H%M}"
                    made += await _publish_demo(profile, author, text, at, key)
        return made

    return _run(run())


async def _publish_demo(profile: SocialProfile, author_id: int, text: str, at: datetime, key: str) -> int:
    def known() -> bool:
        with session_scope() as s:
            return s.execute(select(PostTarget.id).where(PostTarget.idempotency_key == key)).first() is not None

    if await asyncio.to_thread(known):
        return 0
    connector = profile_service.connector_for(profile, clock=lambda: at)
    try:
        result = await connector.publish(OutboundPost(text=text, idempotency_key=key))
    finally:
        await connector.aclose()

    def record() -> None:
        with session_scope() as s:
            post = Post(author_id=author_id, text=text, status="published", scheduled_at=at, created_at=at, updated_at=at)
            s.add(post)
            s.flush()
            s.add(PostTarget(post_id=post.id, profile_id=profile.id, status="published", due_at=at, idempotency_key=key,
                             external_id=result.external_id, external_url=result.url, published_at=result.published_at or at))

    await asyncio.to_thread(record)
    return 1


# How the demo team tags: keyword rules per demo tag (textnorm tokens, English and Arabic).
DEMO_TAG_RULES = {
    "Roads": ("road", "roads", "roadworks", "pothole", "potholes", "traffic", "crossing", "طرق", "الطرق", "الزحام", "الحفر", "شارع"),
    "Water": ("water", "pipe", "leak", "tap", "pressure", "مياه", "الماء", "تسرب"),
    "Power": ("power", "electricity", "streetlight", "streetlights", "outage", "الكهرباء", "كهرباء", "انقطعت"),
    "Flooding": ("flood", "flooding", "sandbags", "drains", "فيضان", "سيول", "المجاري"),
    "Waste": ("bin", "bins", "rubbish", "recycling", "waste", "litter", "collection", "النفايات", "القمامة", "الحاويات"),
    "Praise": ("thank", "thanks", "great", "brilliant", "amazing", "شكرا", "شكراً", "ممتاز", "رائع"),
    "Rumour": ("true", "rumour", "heard", "apparently", "صحيح", "سمعت", "يقولون"),
}
DEMO_REPLIES = {
    "en": ("Thanks for letting us know. We've passed this to the team and will update you.",
           "Thank you. A crew has been booked; we'll reply here when it's done.",
           "Thanks for your message. You can also report this at riverton.gov/report.",
           "That's not correct: please see riverton.gov/news for the facts."),
    "ar": ("شكراً لإبلاغنا. أحلنا الأمر إلى الفريق المختص وسنوافيكم بالمستجدات.",
           "شكراً لكم. تم تحديد موعد لفريق الصيانة وسنرد هنا عند الانتهاء.",
           "هذه المعلومة غير صحيحة، يرجى متابعة riverton.gov/news للاطلاع على الحقائق."),
}


def _demo_tags(text: str) -> list[str]:
    from govsocial_app.services import textnorm

    forms = set(textnorm.tokens(text))
    return [tag for tag, words in DEMO_TAG_RULES.items() if forms.intersection(textnorm.normalize(w) for w in words)]


def _demo_delay(rng, received: datetime) -> timedelta:
    """How long the demo team takes to answer: minutes in office hours (08–18 UTC on weekdays), the next morning otherwise."""
    minutes = rng.lognormvariate(3.2, 0.8)  # median about 25 minutes
    if received.weekday() < 5 and 8 <= received.hour < 18:
        return timedelta(minutes=minutes)
    morning = received.replace(hour=8, minute=0, second=0, microsecond=0)
    if received.hour >= 8:
        morning += timedelta(days=1)
    while morning.weekday() >= 5 and rng.random() < 0.7:  # someone is on call at weekends, sometimes
        morning += timedelta(days=1)
    return morning - received + timedelta(minutes=minutes)


def backfill_inbox_work(days: int = 30, now: datetime | None = None, reply_share: float = 0.25) -> dict[str, int]:
    """Demo only: the team's work on the back-filled history, so inbox and tag reports have responses to measure.

    Messages are tagged by keyword rules; about `reply_share` of mentions, replies and direct messages get a reply, and
    most are then completed. The messages and their timing are the simulator's; the team's work is a model (answers in
    minutes during office hours, the next morning otherwise). The replies are recorded here only: publishing thousands of
    past replies through the simulator took about 20 ms each. Deterministic per message id. Call it after the message
    back-fill."""
    import random

    from govsocial_app.db.models import MessageVersion, Tag
    from govsocial_app.services.textnorm import search_text

    now = now or datetime.now(timezone.utc)
    since = now - timedelta(days=days)
    with session_scope() as s:
        staff = list(s.execute(select(User.id).where(col(User.role).in_(("responder", "manager", "publisher"))).order_by(User.id)).scalars())
        tag_ids = dict(s.execute(select(Tag.name, Tag.id).where(col(Tag.deleted_at).is_(None))).all())
        rows = s.execute(
            select(Message.id, Message.profile_id, Message.kind, Message.text, Message.lang, Message.external_id, Message.received_at)
            .where(Message.direction == "in", Message.received_at >= since, Message.received_at < now, col(Message.first_response_at).is_(None),
                   col(Message.network_deleted_at).is_(None), col(Message.deleted_at).is_(None))
            .order_by(Message.received_at)
        ).all()
        profiles = {p.id: p for p in s.execute(select(SocialProfile).where(SocialProfile.network == "simulator")).scalars()}
        s.expunge_all()
    if not staff or not rows:
        return {"tagged": 0, "replied": 0, "completed": 0}
    plans = []
    for mid, pid, kind, text, lang, ext, received in rows:
        rng = random.Random(f"demo-work-{mid}")
        received = received
        tags = [tag_ids[t] for t in _demo_tags(text) if t in tag_ids]
        who = staff[rng.randrange(len(staff))]
        reply_at = received + _demo_delay(rng, received) if kind in ("mention", "dm", "reply") and rng.random() < reply_share else None
        if reply_at is not None and reply_at >= now:
            reply_at = None
        done_at = None
        if reply_at is not None and rng.random() < 0.75:
            done_at = reply_at + timedelta(minutes=rng.expovariate(1 / 120))
        elif reply_at is None and rng.random() < 0.15:
            done_at = received + _demo_delay(rng, received)  # read and closed without a reply
        if done_at is not None and done_at >= now:
            done_at = None
        plans.append((mid, pid, lang, ext, tags, who, reply_at, done_at, rng, received))

    sent = []
    for mid, pid, lang, ext, _tags, who, reply_at, _done, rng, _received in plans:
        if reply_at is not None and pid in profiles:
            choices = DEMO_REPLIES["ar" if lang == "ar" else "en"]
            sent.append((mid, f"demo-reply-{mid}", who, reply_at, choices[rng.randrange(len(choices))], ext))
    replied = {mid for mid, *_ in sent}
    with session_scope() as s:
        # Tagged when first handled: at the reply or the completion, or an hour after arrival.
        tag_rows = [{"message_id": mid, "tag_id": t, "created_at": reply_at or done_at or received + timedelta(hours=1), "created_by": who}
                    for mid, _p, _l, _e, tags, who, reply_at, done_at, _r, received in plans for t in tags]
        if tag_rows:
            s.execute(MessageTag.__table__.insert(), tag_rows)
        by_id = {r[0]: r for r in rows}
        outbound = []
        for mid, external_id, who, at, text, parent_ext in sent:
            profile = profiles[by_id[mid][1]]
            outbound.append({
                "network": "simulator", "external_id": external_id, "profile_id": profile.id, "direction": "out", "kind": "reply",
                "conversation_key": parent_ext, "in_reply_to_external_id": parent_ext, "author_handle": profile.handle,
                "author_name": profile.display_name or profile.handle, "text": text,
                "search_text": search_text(text, profile.handle, profile.display_name), "lang": by_id[mid][4], "created_at": at,
                "received_at": at, "status": "sent", "sent_by_id": who,
            })
        if outbound:
            made = s.execute(insert(Message).returning(Message.id, Message.text, Message.created_at), outbound).all()
            s.execute(insert(MessageVersion), [{"message_id": i, "version": 1, "change": "created", "text": t, "captured_at": at, "raw": {}}
                                               for i, t, at in made])
        table = Message.__table__
        updates = [
            {"mid": mid, "fr": reply_at if mid in replied else None, "rb": who if mid in replied else None,
             "st": "completed" if done_at else "open", "ca": done_at, "cb": who if done_at else None, "asg": who}
            for mid, _p, _l, _e, _t, who, reply_at, done_at, _r, _received in plans
            if mid in replied or done_at is not None
        ]
        if updates:
            s.connection().execute(
                table.update().where(table.c.id == bindparam("mid")).values(
                    first_response_at=bindparam("fr"), replied_by_id=bindparam("rb"), replied_at=bindparam("fr"), status=bindparam("st"),
                    completed_at=bindparam("ca"), completed_by=bindparam("cb"), assignee_id=bindparam("asg")),
                updates,
            )
    return {"tagged": len({r["message_id"] for r in tag_rows}), "replied": len(replied),
            "completed": sum(1 for u in updates if u["st"] == "completed")}


__all__ = [
    "CollectResult", "GroupStats", "InboxMetrics", "ResponseStats", "Scope", "backfill_metrics", "backfill_posts",
    "backfill_inbox_work", "collect_all", "collect_profile", "engagement_rate", "engagements", "inbox_metrics", "latest_snapshots",
    "period_change",
]

