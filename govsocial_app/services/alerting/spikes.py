"""Spike detection: the maths as pure functions, and the evaluator that counts incoming messages and raises spike alerts."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, func, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, SocialProfile, SpikeRule, User
from govsocial_app.services import audit, links, textnorm
from govsocial_app.services.alerting import alerts
from govsocial_app.services.authz import ROLES, Actor, require
from govsocial_app.services.errors import UserError

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=60)
HISTORY_DAYS = 7
SHORT_SPAN = timedelta(hours=24)
TERMS_SAMPLE = 500  # newest messages of the surge read for its top terms
TOP_TERMS = 5

HOUR_OF_DAY = "hour-of-day"
TRAILING_24H = "trailing-24h"
NO_HISTORY = "none"

TITLE = "Spike on {stream}: {count} messages in the last hour"
TITLE_DOUBLED = "Spike on {stream} has doubled: {count} messages in the last hour"
BODY = "Usual for this hour: {baseline}. Alert threshold: {threshold}. Top terms: {terms}."
TOTAL_STREAM = "all profiles"
MSGIDS = (TITLE, TITLE_DOUBLED, BODY, TOTAL_STREAM)


# ---------------------------------------------------------------- the maths (pure)


@dataclass(frozen=True)
class SpikeSettings:
    sensitivity: float = 2.0
    min_count: int = 20
    cooldown_min: int = 60


@dataclass(frozen=True)
class RuleState:
    """What a rule remembers between evaluations."""

    last_alert_at: datetime | None = None
    last_alert_count: int = 0
    surge_active: bool = False  # above the threshold at every evaluation since the last alert


@dataclass(frozen=True)
class Decision:
    alert: bool
    reason: str  # "surge" (a new one), "doubled" (a surge that never ended has doubled), or ""
    crossing: bool
    state: RuleState


def same_time_on_previous_days(now: datetime, tz: tzinfo, days: int = HISTORY_DAYS) -> list[datetime]:
    """The same local wall-clock time on each of the `days` previous days, as UTC instants.

    People keep local hours, so across a daylight-saving change "the same hour yesterday" is 23 or
    25 hours back, not 24. A wall time that falls in a spring-forward gap is read the way zoneinfo
    reads it (with the offset before the change)."""
    wall = now.astimezone(tz).replace(tzinfo=None)
    return [(wall - timedelta(days=d)).replace(tzinfo=tz).astimezone(timezone.utc) for d in range(1, days + 1)]


def has_full_history(earliest: datetime | None, now: datetime, tz: tzinfo) -> bool:
    """True when the stream's first message is at least as old as the oldest window the 7-day baseline reads."""
    return earliest is not None and earliest <= same_time_on_previous_days(now, tz)[-1] - WINDOW


def hour_of_day_baseline(day_counts: Sequence[int]) -> float:
    """The average of the counts in the same 60-minute window of each previous day."""
    return sum(day_counts) / len(day_counts) if day_counts else 0.0


def short_history_span(earliest: datetime | None, now: datetime) -> tuple[datetime, datetime] | None:
    """The part of the 24 hours before the current window that has data, or None when there is none."""
    end = now - WINDOW
    if earliest is None or earliest >= end:
        return None
    return max(earliest, end - SHORT_SPAN), end


def trailing_baseline(count: int, span: tuple[datetime, datetime]) -> float:
    """Messages per hour over the span; a span under an hour counts as one hour, so a few minutes of
    history cannot make a tiny baseline look like a surge."""
    hours = (span[1] - span[0]).total_seconds() / 3600
    return count / min(24.0, max(1.0, hours))


def is_crossing(count: int, baseline: float, settings: SpikeSettings) -> bool:
    return count >= settings.min_count and count > baseline * settings.sensitivity


def threshold(baseline: float, settings: SpikeSettings) -> int:
    """The smallest count in the last 60 minutes that crosses: above baseline × sensitivity and at least the minimum."""
    return max(settings.min_count, math.floor(baseline * settings.sensitivity) + 1)


def decide(count: int, baseline: float, settings: SpikeSettings, state: RuleState, now: datetime) -> Decision:
    """Whether to alert now, and what the rule remembers afterwards.

    A surge alerts once. Inside the cool-down nothing alerts. After it, a surge that has stayed
    above the threshold alerts again only once it has doubled since the last alert; a surge that
    ended (the stream dropped back within the threshold) lets the next crossing alert as new."""
    if not is_crossing(count, baseline, settings):
        return Decision(False, "", False, replace(state, surge_active=False))
    cooled = state.last_alert_at is None or now >= state.last_alert_at + timedelta(minutes=settings.cooldown_min)
    if cooled and not state.surge_active:
        reason = "surge"
    elif cooled and count >= 2 * state.last_alert_count:
        reason = "doubled"
    else:
        return Decision(False, "", True, replace(state, surge_active=True))
    return Decision(True, reason, True, RuleState(now, count, True))


# ---------------------------------------------------------------- top terms (pure)

_EN_STOP = """a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him
himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most mustn't my
myself no nor not now of off on once only or other ought our ours ourselves out over own same shan't she she'd
she'll she's should shouldn't so some such than that that's the their theirs them themselves then there there's
these they they'd they'll they're they've this those through to too under until up very was wasn't we we'd we'll
we're we've were weren't what what's when when's where where's which while who who's whom why why's will with
won't would wouldn't you you'd you'll you're you've your yours yourself yourselves also get got just like still
really anyone anything someone something us im dont cant its ok yes via amp rt http https www com org gov net"""
# Arabic function words (prepositions, pronouns, particles, demonstratives, common auxiliaries), folded below
# the same way messages are, so "إلى" here meets "الى" in a message.
_AR_STOP = """في من إلى الى على عن مع هذا هذه ذلك تلك هناك هنا الذي التي الذين اللذين اللتين ما ماذا متى أين اين كيف
لماذا هل لا لم لن ليس ليست إن ان أن أو او ثم بل لكن قد كان كانت يكون تكون كل بعض أي اي كما حتى إذا اذا لو عند
عندما بين بعد قبل أمام خلال حول دون غير منذ نحن أنا انا أنت انت هو هي هم هن أنتم انتم كنت كانوا وقد وهو وهي وفي
ومن وعلى يا و ف ب ل به بها لها له لهم فيه فيها منه منها عليه عليها إليه اليه الآن الان جدا فقط أيضا ايضا"""
STOPWORDS = frozenset(
    {w.lower() for w in _EN_STOP.split()}
    | {w.replace("'", "") for w in _EN_STOP.split()}
    | {textnorm.normalize(w) for w in _AR_STOP.split()}
)


def _terms(text: str) -> set[str]:
    """One term per word of `text`: hashtags by their body, Arabic words by their stem, mentions and stopwords left out.

    textnorm.tokens() lists every form a word matches (#tag and tag, والفيضان and الفيضان and
    فيضان), which would count one word up to four times; its positions keep the forms of each word
    together, so the shortest is taken as the word."""
    out = set()
    for forms in textnorm.analyse(text).positions:
        if any(f.startswith("@") for f in forms) or forms & STOPWORDS:
            continue
        term = min((f for f in forms if not f.startswith("#")), key=lambda f: (len(f), f), default="")
        if len(term) >= 2 and not term.isdigit():
            out.add(term)
    return out


def top_terms(texts: Iterable[str], limit: int = TOP_TERMS) -> list[tuple[str, int]]:
    """The terms found in the most messages (each message counts a term once), most frequent first."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_terms(text))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def inbox_link(profile_id: int | None, since: datetime, q: str = "") -> str:
    """The inbox filtered to a surge: its profile, from the start of its window (to the minute, rounded down)."""
    start = since.astimezone(timezone.utc).replace(second=0, microsecond=0, tzinfo=timezone.utc)
    return links.inbox_link(profile_id=profile_id, since=start, q=q)


# ---------------------------------------------------------------- counting (database)


@dataclass(frozen=True)
class Measurement:
    count: int
    baseline: float
    method: str  # HOUR_OF_DAY, TRAILING_24H or NO_HISTORY
    window_start: datetime
    window_end: datetime


def _incoming(profile_id: int | None):
    conds = [Message.direction == "in"]
    if profile_id is not None:
        conds.append(Message.profile_id == profile_id)
    return conds


def _count(s: Session, profile_id: int | None, start: datetime, end: datetime) -> int:
    """Incoming messages received in (start, end]."""
    return s.exec(
        select(func.count()).select_from(Message).where(
            *_incoming(profile_id), Message.received_at > start.astimezone(timezone.utc), Message.received_at <= end.astimezone(timezone.utc)
        )
    ).one()


def _earliest(s: Session, profile_id: int | None) -> datetime | None:
    return s.exec(select(func.min(Message.received_at)).where(*_incoming(profile_id))).one()


def measure(s: Session, profile_id: int | None, now: datetime, tz: tzinfo) -> Measurement:
    """The last 60 minutes of one stream (a profile, or all of them for None) against its baseline."""
    count = _count(s, profile_id, now - WINDOW, now)
    earliest = _earliest(s, profile_id)
    if has_full_history(earliest, now, tz):
        days = [_count(s, profile_id, end - WINDOW, end) for end in same_time_on_previous_days(now, tz)]
        baseline, method = hour_of_day_baseline(days), HOUR_OF_DAY
    elif (span := short_history_span(earliest, now)) is not None:
        baseline, method = trailing_baseline(_count(s, profile_id, *span), span), TRAILING_24H
    else:
        baseline, method = 0.0, NO_HISTORY
    return Measurement(count, baseline, method, now - WINDOW, now)


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class RuleView:
    """A rule with where its stream stands now: what the settings page shows."""

    rule_id: int
    profile_id: int | None
    label: str
    enabled: bool
    sensitivity: float
    min_count: int
    cooldown_min: int
    audience_roles: tuple[str, ...]
    audience_user_ids: tuple[int, ...]
    timezone: str
    count: int
    baseline: float
    method: str
    threshold: int
    last_alert_at: datetime | None


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _profiles(s: Session) -> dict[int, SocialProfile]:
    rows = s.exec(select(SocialProfile).where(col(SocialProfile.deleted_at).is_(None), SocialProfile.status != "disconnected")).all()
    return {p.id: p for p in rows}


def _total_zone(profiles: dict[int, SocialProfile]) -> str:
    """The total stream keeps the hours most profiles keep."""
    zones = Counter(p.timezone or "UTC" for p in profiles.values())
    return zones.most_common(1)[0][0] if zones else "UTC"


def _ensure_rules(s: Session, profiles: dict[int, SocialProfile]) -> list[SpikeRule]:
    """Every stream has a rule: the total stream alerts by default; a profile's rule starts switched
    off so one flood does not page the team twice, and an admin switches it on where it helps."""
    rules = list(s.exec(select(SpikeRule).order_by(col(SpikeRule.id))).all())
    have = {r.profile_id for r in rules}
    missing = ([None] if None not in have else []) + [pid for pid in profiles if pid not in have]
    for pid in missing:
        rule = SpikeRule(profile_id=pid, enabled=pid is None)
        s.add(rule)
        rules.append(rule)
    if missing:
        s.flush()
    return [r for r in rules if r.profile_id is None or r.profile_id in profiles]


def _rule_zone(rule: SpikeRule, profiles: dict[int, SocialProfile], total_zone: str) -> str:
    return total_zone if rule.profile_id is None else profiles[rule.profile_id].timezone or "UTC"


def _label(rule: SpikeRule, profiles: dict[int, SocialProfile]) -> str:
    if rule.profile_id is None:
        return TOTAL_STREAM
    p = profiles[rule.profile_id]
    return p.display_name or p.handle


def _settings(rule: SpikeRule) -> SpikeSettings:
    return SpikeSettings(rule.sensitivity, rule.min_count, rule.cooldown_min)


def _state(rule: SpikeRule) -> RuleState:
    return RuleState(rule.last_alert_at, rule.last_alert_count, rule.surge_active)


def rules(now: datetime | None = None) -> list[RuleView]:
    """Every stream's rule with its current count, baseline and threshold (for the settings page and its chart)."""
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        profiles = _profiles(s)
        total_zone = _total_zone(profiles)
        out = []
        for rule in _ensure_rules(s, profiles):
            zone = _rule_zone(rule, profiles, total_zone)
            m = measure(s, rule.profile_id, now, _zone(zone))
            out.append(
                RuleView(
                    rule.id, rule.profile_id, _label(rule, profiles), rule.enabled, rule.sensitivity, rule.min_count,
                    rule.cooldown_min, tuple(rule.audience_roles or ()), tuple(rule.audience_user_ids or ()), zone,
                    m.count, m.baseline, m.method, threshold(m.baseline, _settings(rule)), rule.last_alert_at,
                )
            )
        return out


def update_rule(
    rule_id: int,
    actor: Actor,
    *,
    enabled: bool,
    sensitivity: float,
    min_count: int,
    cooldown_min: int,
    audience_roles: Sequence[str],
    audience_user_ids: Sequence[int] = (),
) -> None:
    require(actor, "alerts.configure")
    if not 1.1 <= sensitivity <= 20:
        raise UserError("Sensitivity must be between 1.1× and 20×.")
    if not 1 <= min_count <= 100_000:
        raise UserError("The minimum count must be between 1 and 100000.")
    if not 5 <= cooldown_min <= 24 * 60:
        raise UserError("The cool-down must be between 5 minutes and 24 hours.")
    roles = sorted(set(audience_roles))
    if unknown := [r for r in roles if r not in ROLES]:
        raise UserError(f"Unknown role: {', '.join(unknown)}.")
    with session_scope() as s:
        rule = s.get(SpikeRule, rule_id)
        if rule is None:
            raise UserError("That spike rule no longer exists.")
        user_ids = sorted(set(audience_user_ids))
        if user_ids and len(s.exec(select(User.id).where(col(User.id).in_(user_ids))).all()) != len(user_ids):
            raise UserError("One of the chosen people no longer exists.")
        if not roles and not user_ids:
            raise UserError("Choose at least one role or person to alert.")
        new = {"enabled": enabled, "sensitivity": round(sensitivity, 2), "min_count": min_count, "cooldown_min": cooldown_min,
               "audience_roles": roles, "audience_user_ids": user_ids}
        changes = {k: v for k, v in new.items() if getattr(rule, k) != v}
        for key, value in changes.items():
            setattr(rule, key, value)
        if changes:
            audit.record(s, actor, "alerts.rule_update", "spike_rule", rule.id, profile_id=rule.profile_id, **changes)


# ---------------------------------------------------------------- the evaluator


def _raise(s: Session, rule: SpikeRule, label: str, m: Measurement, d: Decision, now: datetime) -> int:
    texts = s.exec(
        select(Message.text)
        .where(*_incoming(rule.profile_id), Message.received_at > m.window_start.astimezone(timezone.utc),
               Message.received_at <= m.window_end.astimezone(timezone.utc))
        .order_by(col(Message.id).desc())
        .limit(TERMS_SAMPLE)
    ).all()
    terms = top_terms(texts)
    limit = threshold(m.baseline, _settings(rule))
    spec = alerts.AlertSpec(
        kind="spike",
        severity="critical" if d.reason == "doubled" or m.count >= 2 * limit else "warning",
        title=TITLE_DOUBLED if d.reason == "doubled" else TITLE,
        body=BODY,
        params={"stream": label, "count": m.count, "baseline": f"{m.baseline:.1f}", "threshold": limit,
                "terms": ", ".join(t for t, _ in terms) or "—"},
        translate_params=("stream",) if rule.profile_id is None else (),
        link=inbox_link(rule.profile_id, m.window_start),
        profile_id=rule.profile_id,
        data={"rule_id": rule.id, "count": m.count, "baseline": round(m.baseline, 2), "threshold": limit,
              "sensitivity": rule.sensitivity, "min_count": rule.min_count, "method": m.method, "reason": d.reason,
              "window_start": m.window_start.isoformat(), "terms": [[t, n] for t, n in terms],
              "term_links": {t: inbox_link(rule.profile_id, m.window_start, q=t) for t, _ in terms}},
    )
    audience = alerts.Audience(tuple(rule.audience_roles or ()), tuple(rule.audience_user_ids or ()))
    return alerts.create_alert(s, spec, audience, now).id


def evaluate(now: datetime | None = None) -> list[int]:
    """Evaluate every enabled rule once; return the ids of the alerts raised. Each rule commits on its own,
    so one stream's failure cannot hold back another's alert."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with session_scope() as s:
        profiles = _profiles(s)
        ids = [r.id for r in _ensure_rules(s, profiles) if r.enabled]
        total_zone = _total_zone(profiles)
    raised: list[int] = []
    for rule_id in ids:
        try:
            with session_scope() as s:
                rule = s.get(SpikeRule, rule_id)
                m = measure(s, rule.profile_id, now, _zone(_rule_zone(rule, profiles, total_zone)))
                d = decide(m.count, m.baseline, _settings(rule), _state(rule), now)
                if d.state != _state(rule):
                    rule.last_alert_at, rule.last_alert_count, rule.surge_active = d.state.last_alert_at, d.state.last_alert_count, d.state.surge_active
                if d.alert:
                    raised.append(_raise(s, rule, _label(rule, profiles), m, d, now))
        except Exception:  # noqa: BLE001 - one stream's bug must not silence the others
            log.exception("spike rule %s could not be evaluated", rule_id)
    alerts.announce(raised)
    return raised


async def evaluate_and_deliver(now: datetime | None = None) -> list[int]:
    """What the job runs: evaluate in a thread (the database calls block), then deliver what was raised."""
    raised = await asyncio.to_thread(evaluate, now)
    if raised:
        await alerts.deliver(raised, now=now)
    return raised
