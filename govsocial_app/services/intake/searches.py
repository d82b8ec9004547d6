"""Brand-keyword searches: each due saved search runs on its networks with one healthy profile's credentials, and
every page found goes through the intake pipeline (pipeline.take_in) with the search's cursor, in one transaction.
The keywords themselves (create, edit, list, health) are listening/keywords.py."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlmodel import Session, col, select

from connectors.base import AuthError, ConnectorError, RateLimited
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import KeywordSearch, SocialProfile
from govsocial_app.services import profiles
from govsocial_app.services.alerting import reconnect
from govsocial_app.services.intake import pipeline as intake
from govsocial_app.services.listening.keyword_query import network_searches, parse

log = logging.getLogger(__name__)


def due_keyword_ids(now: datetime | None = None) -> list[int]:
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        rows = s.exec(select(KeywordSearch).where(col(KeywordSearch.is_active).is_(True), col(KeywordSearch.deleted_at).is_(None))).all()
        return [k.id for k in rows if k.last_run_at is None or k.last_run_at + timedelta(seconds=k.interval_s) <= now]


def _search_profile(s: Session, network: str) -> SocialProfile | None:
    """Searches run with the credentials of one healthy connected profile on that network."""
    return s.exec(
        select(SocialProfile)
        .where(SocialProfile.network == network, SocialProfile.status == "active", col(SocialProfile.deleted_at).is_(None))
        .order_by(SocialProfile.id)
    ).first()


async def run_keyword(keyword_id: int, *, now: datetime | None = None) -> list[int]:
    """Run one saved search on each of its networks; returns the ids of messages newly matched."""
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        kw = s.get(KeywordSearch, keyword_id)
        if kw is None or not kw.is_active or kw.deleted_at:
            return []
        query = parse(kw.query)
        plan = [(network, _search_profile(s, network)) for network in kw.networks]
        cursors = dict(kw.cursors)
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
                source = intake.Source(profile.id, keyword_id=keyword_id, backfill=not cursors.get(key))
                with session_scope() as s:
                    # The page (messages, tags, listening, alerts) commits with the cursor or not at all.
                    result = intake.take_in(s, hits, source, now=now)
                    row = s.get(KeywordSearch, keyword_id)
                    row.cursors = {**row.cursors, key: page.cursor or cursors.get(key, "")}
                matched += result.new_ids
                alert_ids += result.alert_ids
        except RateLimited as exc:
            errors.append(f"{network}: rate limited for {int(exc.retry_after)} s")
        except AuthError as exc:
            errors.append(f"{network}: the network refused the credentials of {profile.handle}: {exc}")
            # Refused when searching is refused everywhere: the profile needs reconnecting, admins are alerted.
            await reconnect.mark_needs_reconnect(profile.id, str(exc) or "credentials refused", source="keyword search", now=now)
        except ConnectorError as exc:
            errors.append(f"{network}: {exc}")
        finally:
            await connector.aclose()
    with session_scope() as s:
        row = s.get(KeywordSearch, keyword_id)
        row.last_run_at, row.last_error = now, "; ".join(errors)[:1000]
    await intake.deliver_alerts(alert_ids, now=now)
    return matched
