"""When a post goes out: each profile's weekly queue slots, and "suggest a time" from our own past engagement."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import PostTarget, SocialProfile, utcnow
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing.lifecycle import load_profiles
from govsocial_app.services.timefmt import zone


DEFAULT_QUEUE_SLOTS = tuple(f"{d} {t}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri") for t in ("09:00", "12:30", "16:00"))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ---------------------------------------------------------------- the queue


def parse_slot(raw: str) -> tuple[int, time] | None:
    """"Mon 09:00" → (0, 09:00); anything else → None."""
    try:
        day, hhmm = raw.split()
        return WEEKDAYS.index(day[:3].title()), time.fromisoformat(hhmm)
    except (ValueError, AttributeError):
        return None


def queue_slots(profile: SocialProfile) -> list[tuple[int, time]]:
    slots = [x for x in (parse_slot(r) for r in (profile.queue_slots or [])) if x]
    return slots or [x for x in (parse_slot(r) for r in DEFAULT_QUEUE_SLOTS) if x]


def next_free_slot(s: Session, profile: SocialProfile, after: datetime, *, exclude_post: int | None = None, weeks: int = 8) -> datetime:
    """The first of the profile's weekly slots after `after` that no other post on this profile takes."""
    tz = zone(profile.timezone)
    horizon = after + timedelta(weeks=weeks)
    taken_q = select(PostTarget.due_at).where(
        PostTarget.profile_id == profile.id, col(PostTarget.status).in_(("pending", "due", "claimed", "published", "unknown", "check")),
        col(PostTarget.due_at) > after, col(PostTarget.due_at) <= horizon,
    )
    if exclude_post:
        taken_q = taken_q.where(PostTarget.post_id != exclude_post)
    taken = {d.replace(second=0, microsecond=0) for d in s.exec(taken_q).all() if d}
    slots = queue_slots(profile)
    local_start = after.astimezone(tz).date()
    for offset in range(weeks * 7 + 1):
        day = local_start + timedelta(days=offset)
        for weekday, at in sorted(slots, key=lambda x: x[1]):
            if weekday != day.weekday():
                continue
            moment = datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)
            if moment > after and moment not in taken:
                return moment
    raise UserError("The queue is full for the next eight weeks. Add time slots or pick a time.")


def set_queue_slots(actor: Actor, profile_id: int, slots: list[str]) -> list[str]:
    require(actor, "profiles.manage")
    clean = []
    for raw in slots:
        parsed = parse_slot(raw)
        if parsed is None:
            raise UserError("Write time slots like “Mon 09:00”.")
        clean.append(f"{WEEKDAYS[parsed[0]]} {parsed[1].strftime('%H:%M')}")
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        if p is None:
            raise UserError("This profile no longer exists.")
        p.queue_slots = sorted(set(clean), key=lambda x: (WEEKDAYS.index(x[:3]), x[4:]))
        audit.record(s, actor, "profile.queue_slots", "profile", profile_id, slots=p.queue_slots)
        return list(p.queue_slots)


# ---------------------------------------------------------------- suggest a time

# Without history: public-sector audiences read most on weekday mornings and at lunchtime, less in the
# evening, little at night. Relative weights, 1.0 = an ordinary hour.
def _default_weight(weekday: int, hour: int) -> float:
    if hour < 6 or hour >= 23:
        return 0.2
    weekend = weekday >= 5
    if 8 <= hour <= 10:
        base = 1.4
    elif 11 <= hour <= 13:
        base = 1.3
    elif 17 <= hour <= 19:
        base = 1.1
    elif 14 <= hour <= 16:
        base = 1.0
    else:
        base = 0.7
    return base * (0.75 if weekend else 1.0)


MIN_HISTORY = 8  # posts with engagement numbers before our own history is trusted
SHRINK = 3.0  # how many posts' worth of weight the default keeps in each weekday × hour cell
HISTORY_DAYS = 180


@dataclass(frozen=True)
class Suggestion:
    times: tuple[datetime, ...]
    basis: str  # "history" or "defaults"
    msgid: str
    params: dict[str, str]

    @property
    def explanation(self) -> str:
        return self.msgid.format(**self.params)


def _engagement_history(s: Session, profile_ids: list[int], since: datetime) -> list[tuple[int, datetime, int]]:
    """(profile id, published at, engagement) for our own published posts, from each post's latest metrics."""
    from govsocial_app.services.reporting import metrics

    latest = metrics.latest_snapshots()
    rows = s.execute(
        select(PostTarget.profile_id, PostTarget.published_at, metrics.engagement_sql(latest))
        .join(latest, latest.c.target_id == PostTarget.id)
        .where(col(PostTarget.profile_id).in_(profile_ids or [-1]), PostTarget.status == "published", col(PostTarget.published_at) >= since)
    ).all()
    return [(pid, at, int(e or 0)) for pid, at, e in rows]


def _score_grid(history: list[tuple[datetime, int]], tz: ZoneInfo) -> dict[tuple[int, int], float]:
    grid = {(d, h): _default_weight(d, h) for d in range(7) for h in range(24)}
    if not history:
        return grid
    mean = sum(e for _, e in history) / len(history) or 1.0
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for at, engagement in history:
        local = at.astimezone(tz)
        cells[(local.weekday(), local.hour)].append(engagement / mean)
    for key, ratios in cells.items():
        n = len(ratios)
        grid[key] = (sum(ratios) + SHRINK * grid[key]) / (n + SHRINK)
    return grid


def suggest_times(profile_ids: list[int], *, now: datetime | None = None, count: int = 3, user_tz: str = "UTC") -> Suggestion:
    """The best upcoming hours for these profiles, scored weekday × hour from our own past engagement
    (shrunk towards sensible defaults where a cell has few posts), with a sentence saying why."""
    now = now or utcnow()
    with session_scope() as s:
        profiles = load_profiles(s, profile_ids) if profile_ids else []
        history = _engagement_history(s, [p.id for p in profiles], now - timedelta(days=HISTORY_DAYS))
    by_profile: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for pid, at, e in history:
        by_profile[pid].append((at, e))
    use_history = len(history) >= MIN_HISTORY
    grids = [(zone(p.timezone), _score_grid(by_profile[p.id] if use_history else [], zone(p.timezone))) for p in profiles]
    if not grids:
        grids = [(zone(user_tz), _score_grid([], zone(user_tz)))]
    start = (now + timedelta(minutes=30)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    scored = []
    for h in range(7 * 24):
        at = start + timedelta(hours=h)
        score = sum(grid[(at.astimezone(tz).weekday(), at.astimezone(tz).hour)] for tz, grid in grids) / len(grids)
        scored.append((score, at))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[datetime] = []
    for _score, at in scored:
        if all(abs((at - c).total_seconds()) >= 3 * 3600 for c in chosen):  # spread them out
            chosen.append(at)
        if len(chosen) == count:
            break
    chosen.sort()
    if use_history:
        best_score, best_at = scored[0]
        local = best_at.astimezone(zone(user_tz))
        return Suggestion(tuple(chosen), "history",
                          "Based on the engagement of {n} of your published posts on these profiles in the last {days} days: "
                          "{weekday}s around {hour}:00 have done best, about {ratio}× your usual engagement.",
                          {"n": str(len(history)), "days": str(HISTORY_DAYS), "weekday": local.strftime("%A"),
                           "hour": f"{local.hour:02d}", "ratio": f"{best_score:.1f}"})
    return Suggestion(tuple(chosen), "defaults",
                      "Not enough history yet ({n} published posts with engagement numbers; {min} needed), so these are "
                      "common good times for public agencies: weekday mornings and lunchtime. Suggestions learn from your "
                      "own posts as they are published.",
                      {"n": str(len(history)), "min": str(MIN_HISTORY)})
