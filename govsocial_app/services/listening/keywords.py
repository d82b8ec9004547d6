"""Brand keywords: saved boolean searches that run on every network with a search API and feed the inbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlmodel import col, select

from connectors.registry import limits_for, network_choices
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import KeywordSearch, Message
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.listening.keyword_query import parse

log = logging.getLogger(__name__)
PRIORITIES = ("normal", "priority", "crisis")
SYSTEM = Actor.system("keyword search")


@dataclass(frozen=True)
class KeywordView:
    id: int
    name: str
    query: str
    networks: tuple[str, ...]
    priority: str
    interval_s: int
    is_active: bool
    last_run_at: datetime | None
    last_error: str  # the health line: the last run's errors, then the notices below
    matches: int
    # Health notices as (English msgid, params), for a translated display: "this server searches hashtags only",
    # "Nothing found for {days} days".
    notices: tuple[tuple[str, dict], ...] = ()
    last_match_at: datetime | None = None


HASHTAGS_ONLY = "this server searches hashtags only"
NOTHING_FOUND = "Nothing found for {days} days"
QUIET_AFTER = timedelta(days=3)  # a keyword silent this long says so: a search that cannot work looks the same


def validate(name: str, query: str, networks: list[str], priority: str, interval_s: int) -> tuple[str, str, list[str]]:
    name = " ".join((name or "").split())
    if not name:
        raise UserError("Give the keyword a name; matches are tagged with it.")
    if len(name) > 60:
        raise UserError("Keyword names are at most 60 characters.")
    parse(query)  # raises QuerySyntaxError (a UserError) with the position of the problem
    known = {n for n, _ in network_choices()}
    networks = [n for n in dict.fromkeys(networks) if n]
    if not networks:
        raise UserError("Choose at least one network to search.")
    for n in networks:
        if n not in known:
            raise UserError(f"Unknown network {n!r}.")
        if not limits_for(n).supports_search:
            raise UserError(f"{n.title()} has no public search API; its mentions still reach the inbox.")
    if priority not in PRIORITIES:
        raise UserError("Priority must be normal, priority or crisis.")
    if not 30 <= interval_s <= 86400:
        raise UserError("Run every 30 seconds at the most often, and at least once a day.")
    return name, query.strip(), networks


def create(name: str, query: str, networks: list[str], priority: str, interval_s: int, actor: Actor) -> int:
    require(actor, "keywords.edit")
    name, query, networks = validate(name, query, networks, priority, interval_s)
    with session_scope() as s:
        row = KeywordSearch(name=name, query=query, networks=networks, priority=priority, interval_s=interval_s, created_by=actor.user_id)
        s.add(row)
        s.flush()
        audit.record(s, actor, "keyword.create", "keyword", row.id, name=name, query=query, networks=networks, priority=priority)
        return row.id


def update(keyword_id: int, actor: Actor, **changes) -> None:
    require(actor, "keywords.edit")
    with session_scope() as s:
        row = s.get(KeywordSearch, keyword_id)
        if row is None or row.deleted_at:
            raise UserError("That keyword does not exist.")
        merged = {"name": row.name, "query": row.query, "networks": row.networks, "priority": row.priority, "interval_s": row.interval_s, **changes}
        name, query, networks = validate(merged["name"], merged["query"], merged["networks"], merged["priority"], int(merged["interval_s"]))
        if query != row.query or networks != row.networks:
            row.cursors = {}  # a new search starts fresh
        row.name, row.query, row.networks, row.priority, row.interval_s = name, query, networks, merged["priority"], int(merged["interval_s"])
        if "is_active" in changes:
            row.is_active = bool(changes["is_active"])
        audit.record(s, actor, "keyword.update", "keyword", keyword_id, **{k: v for k, v in changes.items()})


def delete(keyword_id: int, actor: Actor) -> None:
    require(actor, "keywords.edit")
    with session_scope() as s:
        row = s.get(KeywordSearch, keyword_id)
        if row is None or row.deleted_at:
            raise UserError("That keyword does not exist.")
        row.deleted_at, row.is_active = datetime.now(timezone.utc), False
        audit.record(s, actor, "keyword.delete", "keyword", keyword_id, name=row.name)


def listing(*, now: datetime | None = None) -> list[KeywordView]:
    from sqlalchemy import func

    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        stats = {kid: (n, last) for kid, n, last in s.exec(
            select(Message.keyword_id, func.count(), func.max(Message.received_at)).where(col(Message.keyword_id).is_not(None))
            .group_by(Message.keyword_id)
        ).all()}
        rows = s.exec(select(KeywordSearch).where(col(KeywordSearch.deleted_at).is_(None)).order_by(KeywordSearch.name)).all()
        views = []
        for k in rows:
            count, last_match = stats.get(k.id, (0, None))
            notices = _notices(k, last_match, now)
            line = "; ".join([k.last_error] * bool(k.last_error) + [msg.format(**params) for msg, params in notices
                                                                   if msg.format(**params) not in k.last_error])
            views.append(KeywordView(k.id, k.name, k.query, tuple(k.networks), k.priority, k.interval_s, k.is_active,
                                     k.last_run_at, line, count, notices, last_match))
        return views


def _notices(k: KeywordSearch, last_match: datetime | None, now: datetime) -> tuple[tuple[str, dict], ...]:
    notices: list[tuple[str, dict]] = []
    if HASHTAGS_ONLY in (k.last_error or ""):
        notices.append((HASHTAGS_ONLY, {}))
    since = last_match or k.created_at
    if k.is_active and k.last_run_at is not None and since is not None and now - since >= QUIET_AFTER:
        notices.append((NOTHING_FOUND, {"days": (now - since).days}))
    return tuple(notices)


# ---------------------------------------------------------------- running


