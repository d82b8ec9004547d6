"""Crisis-keyword alerts: a match on a priority or crisis keyword alerts at once, then that keyword cools down."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, update
from sqlmodel import col, func, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import KeywordSearch, Message, Tag
from govsocial_app.services import audit
from govsocial_app.services.alerting import alerts
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.links import inbox_link
from govsocial_app.services.alerting.spikes import TERMS_SAMPLE, top_terms

ALERTING_PRIORITIES = ("priority", "crisis")
TITLE = "{priority} keyword “{name}”: {count} new matches"
BODY = "Top terms: {terms}."
PRIORITY_NAMES = ("Crisis", "Priority")
MSGIDS = (TITLE, BODY, *PRIORITY_NAMES)


def _take_cooldown(s, keyword_id: int, now: datetime) -> bool:
    """Stamp last_alert_at = now unless the keyword is still cooling down. A single conditional UPDATE,
    so two searches finishing together cannot both alert."""
    kw = s.get(KeywordSearch, keyword_id)
    cutoff = now - timedelta(minutes=max(0, kw.alert_cooldown_min))
    return bool(
        s.execute(
            update(KeywordSearch)
            .where(KeywordSearch.id == keyword_id, or_(col(KeywordSearch.last_alert_at).is_(None), col(KeywordSearch.last_alert_at) <= cutoff))
            .values(last_alert_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def record_matches(keyword_id: int, message_ids: Sequence[int], now: datetime | None = None) -> int | None:
    """Raise the keyword's alert for these newly stored matches, unless it is cooling down or not a
    priority/crisis keyword. Returns the alert id, or None."""
    with session_scope() as s:
        alert_id = record_matches_in(s, keyword_id, message_ids, now)
    if alert_id is not None:
        alerts.announce([alert_id])
    return alert_id


def record_matches_in(s, keyword_id: int, message_ids: Sequence[int], now: datetime | None = None) -> int | None:
    """record_matches inside the caller's transaction, so the alert (and its pending deliveries) commit with the
    messages that raised it: a failure after the ingest commit can no longer lose a crisis alert. The caller
    announces after its commit; the alert delivery job sends what is pending."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return None
    kw = s.get(KeywordSearch, keyword_id)
    if kw is None or kw.deleted_at is not None or not kw.is_active or kw.priority not in ALERTING_PRIORITIES:
        return None
    if not _take_cooldown(s, keyword_id, now):
        return None
    texts = s.exec(select(Message.text).where(col(Message.id).in_(ids[:TERMS_SAMPLE]))).all()
    first = s.exec(select(func.min(Message.received_at)).where(col(Message.id).in_(ids))).one() or now
    terms = top_terms(texts)
    since = first.astimezone(timezone.utc).replace(second=0, microsecond=0)
    # Matches carry the keyword's name as a tag (services/intake/pipeline.py), wherever they were found.
    tag_id = s.exec(
        select(Tag.id).where(func.lower(Tag.name) == " ".join(kw.name.split()).lower(), col(Tag.deleted_at).is_(None))
    ).first()
    scope = {"tag_id": tag_id} if tag_id else {"kind": "keyword"}
    spec = alerts.AlertSpec(
        kind="keyword",
        severity="critical" if kw.priority == "crisis" else "warning",
        title=TITLE,
        body=BODY,
        params={"priority": "Crisis" if kw.priority == "crisis" else "Priority", "name": kw.name, "count": len(ids),
                "terms": ", ".join(t for t, _ in terms) or "—"},
        translate_params=("priority",),
        link=inbox_link(since=since, **scope),
        keyword_id=kw.id,
        data={"count": len(ids), "terms": [[t, n] for t, n in terms], "priority": kw.priority, "query": kw.query,
              "term_links": {t: inbox_link(since=since, q=t, **scope) for t, _ in terms}},
    )
    return alerts.create_alert(s, spec, alerts.audience_for("keyword", s), now).id


async def on_keyword_matches(keyword_id: int, message_ids: Sequence[int], now: datetime | None = None) -> int | None:
    """Called by the keyword-search job with the ids of messages it has just stored for `keyword_id`."""
    alert_id = await asyncio.to_thread(record_matches, keyword_id, list(message_ids), now)
    if alert_id is not None:
        await alerts.deliver([alert_id], now=now)
    return alert_id


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class KeywordAlertView:
    id: int
    name: str
    priority: str
    cooldown_min: int
    last_alert_at: datetime | None


def alerting_keywords() -> list[KeywordAlertView]:
    with session_scope() as s:
        rows = s.exec(
            select(KeywordSearch)
            .where(col(KeywordSearch.deleted_at).is_(None), col(KeywordSearch.priority).in_(ALERTING_PRIORITIES))
            .order_by(col(KeywordSearch.name))
        ).all()
        return [KeywordAlertView(k.id, k.name, k.priority, k.alert_cooldown_min, k.last_alert_at) for k in rows]


def set_cooldown(keyword_id: int, minutes: int, actor: Actor) -> None:
    require(actor, "alerts.configure")
    if not 0 <= minutes <= 24 * 60:
        raise UserError("The cool-down must be between 0 minutes and 24 hours.")
    with session_scope() as s:
        kw = s.get(KeywordSearch, keyword_id)
        if kw is None or kw.deleted_at is not None:
            raise UserError("That keyword no longer exists.")
        if kw.alert_cooldown_min != minutes:
            old, kw.alert_cooldown_min = kw.alert_cooldown_min, minutes
            audit.record(s, actor, "alerts.keyword_cooldown", "keyword", kw.id, old=old, new=minutes)
