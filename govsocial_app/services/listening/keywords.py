"""Brand keywords: saved boolean searches that run on every network with a search API and feed the inbox."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, col, select

from connectors.base import AuthError, ConnectorError, RateLimited
from connectors.registry import limits_for, network_choices
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import KeywordSearch, Message, MessageTag, SocialProfile
from govsocial_app.services import audit, bus, profiles
from govsocial_app.services.inbox import ingest
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.inbox.stream import find_or_create_tag
from govsocial_app.services.listening.keyword_query import QuerySyntaxError, network_searches, parse

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

def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=timezone.utc)


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
            notices = _notices(k, _aware(last_match), now)
            line = "; ".join([k.last_error] * bool(k.last_error) + [msg.format(**params) for msg, params in notices
                                                                   if msg.format(**params) not in k.last_error])
            views.append(KeywordView(k.id, k.name, k.query, tuple(k.networks), k.priority, k.interval_s, k.is_active,
                                     _aware(k.last_run_at), line, count, notices, _aware(last_match)))
        return views


def _notices(k: KeywordSearch, last_match: datetime | None, now: datetime) -> tuple[tuple[str, dict], ...]:
    notices: list[tuple[str, dict]] = []
    if HASHTAGS_ONLY in (k.last_error or ""):
        notices.append((HASHTAGS_ONLY, {}))
    since = last_match or _aware(k.created_at)
    if k.is_active and k.last_run_at is not None and since is not None and now - since >= QUIET_AFTER:
        notices.append((NOTHING_FOUND, {"days": (now - since).days}))
    return tuple(notices)


# ---------------------------------------------------------------- running


def due_keyword_ids(now: datetime | None = None) -> list[int]:
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        rows = s.exec(select(KeywordSearch).where(col(KeywordSearch.is_active).is_(True), col(KeywordSearch.deleted_at).is_(None))).all()
        return [k.id for k in rows if k.last_run_at is None or _aware(k.last_run_at) + timedelta(seconds=k.interval_s) <= now]


def _search_profile(s: Session, network: str) -> SocialProfile | None:
    """Searches run with the credentials of one healthy connected profile on that network."""
    return s.exec(
        select(SocialProfile)
        .where(SocialProfile.network == network, SocialProfile.status == "active", col(SocialProfile.deleted_at).is_(None))
        .order_by(SocialProfile.id)
    ).first()


def tag_matches(s: Session, keyword: KeywordSearch, message_ids: list[int]) -> None:
    """Matches carry the keyword's name as a tag, whether they came from the search or from a profile's mentions."""
    if not message_ids:
        return
    tag = find_or_create_tag(s, keyword.name, SYSTEM)
    present = set(s.exec(select(MessageTag.message_id).where(MessageTag.tag_id == tag.id, col(MessageTag.message_id).in_(message_ids))).all())
    for mid in message_ids:
        if mid not in present:
            s.add(MessageTag(message_id=mid, tag_id=tag.id))


async def run_keyword(keyword_id: int, *, now: datetime | None = None) -> list[int]:
    """Run one saved search on each of its networks; returns the ids of messages newly matched."""
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        kw = s.get(KeywordSearch, keyword_id)
        if kw is None or not kw.is_active or kw.deleted_at:
            return []
        query = parse(kw.query)
        plan = [(network, _search_profile(s, network)) for network in kw.networks]
        cursors, priority = dict(kw.cursors), kw.priority
    from govsocial_app.services.alerting import keyword_alerts

    matched: list[int] = []
    alert_ids: list[int] = []
    errors: list[str] = []
    for network, profile in plan:
        if profile is None:
            errors.append(f"no connected {network} profile to search with")
            continue
        connector = profiles.connector_for(profile)
        try:
            for i, sq in enumerate(network_searches(query, network)):
                key = f"{network}:{i}:{sq.terms}:{sq.lang}"
                page = await connector.search(sq, cursors.get(key, ""))
                hits = [m for m in page.items if query.matches(m.text, m.lang, m.author.handle)]
                # A new search's first page is backlog (a day of recent posts): store it at the times it was
                # written, so it is not mistaken for a surge arriving now.
                backlog = not cursors.get(key)
                with session_scope() as s:
                    result = ingest.store(s, hits, profile_id=profile.id, keyword_id=keyword_id, now=now, backfill=backlog)
                    existing = [] if not hits else list(s.exec(
                        select(Message.id).where(Message.network == network, col(Message.external_id).in_([h.external_id for h in hits]))
                    ).all())
                    tag_matches(s, s.get(KeywordSearch, keyword_id), existing)
                    row = s.get(KeywordSearch, keyword_id)
                    row.cursors = {**row.cursors, key: page.cursor or cursors.get(key, "")}
                    if result.new_ids and priority in ("priority", "crisis"):
                        # The alert commits with the matches (and the cursor) or not at all (issue 13).
                        s.flush()
                        alert_id = keyword_alerts.record_matches_in(s, keyword_id, result.new_ids, now)
                        alert_ids += [alert_id] if alert_id is not None else []
                matched += result.new_ids
        except RateLimited as exc:
            errors.append(f"{network}: rate limited for {int(exc.retry_after)} s")
        except AuthError as exc:
            errors.append(f"{network}: the network refused the credentials of {profile.handle}: {exc}")
            from govsocial_app.services.inbox import polling

            # Refused when searching is refused everywhere: the profile needs reconnecting, admins are alerted.
            await polling.mark_needs_reconnect(profile.id, str(exc) or "credentials refused", source="keyword search", now=now)
        except ConnectorError as exc:
            errors.append(f"{network}: {exc}")
        finally:
            await connector.aclose()
    with session_scope() as s:
        row = s.get(KeywordSearch, keyword_id)
        row.last_run_at, row.last_error = now, "; ".join(errors)[:1000]
    if matched:
        from govsocial_app.services.listening import topics

        await asyncio.to_thread(topics.match_new_messages, matched)
        bus.publish("inbox", {"new": len(matched), "head_id": max(matched)})
    if alert_ids:
        try:
            await announce_alerts(alert_ids, now)
        except Exception:  # noqa: BLE001 - stored and pending: the alert job delivers them
            log.exception("keyword %s: delivering alerts failed; the alert job will retry", keyword_id)
    return matched


def match_in_session(s: Session, message_ids: list[int], now: datetime) -> list[int]:
    """Tag newly stored messages with every active keyword they match and raise priority/crisis alerts, inside
    the ingest transaction: the matches and alerts commit with the messages or not at all (issue 13: alerts
    were lost when matching failed after the ingest commit). Returns the alert ids to announce after commit."""
    from govsocial_app.services.alerting import keyword_alerts

    if not message_ids:
        return []
    keywords = s.exec(select(KeywordSearch).where(col(KeywordSearch.is_active).is_(True), col(KeywordSearch.deleted_at).is_(None))).all()
    if not keywords:
        return []
    messages = s.exec(select(Message).where(col(Message.id).in_(message_ids))).all()
    alert_ids = []
    for kw in keywords:
        try:
            query = parse(kw.query)
        except QuerySyntaxError:
            continue
        hits = [m.id for m in messages if query.matches(m.text, m.lang, m.author_handle)]
        tag_matches(s, kw, hits)
        if hits and kw.priority in ("priority", "crisis"):
            s.flush()
            alert_id = keyword_alerts.record_matches_in(s, kw.id, hits, now)
            if alert_id is not None:
                alert_ids.append(alert_id)
    return alert_ids


async def announce_alerts(alert_ids: list[int], now: datetime | None = None) -> None:
    """After the commit: tell the web workers, then try delivering at once (the alert job retries what is left)."""
    from govsocial_app.services.alerting import alerts

    if alert_ids:
        alerts.announce(alert_ids)
        await alerts.deliver(alert_ids, now=now)


async def match_on_ingest(message_ids: list[int], *, now: datetime | None = None) -> None:
    """Messages stored outside a poll's own transaction (the demo seed, a webhook) are matched the same way:
    tags and alerts in one transaction, then one announcement after the commit."""
    if not message_ids:
        return
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        alert_ids = match_in_session(s, message_ids, now)
    await announce_alerts(alert_ids, now)

