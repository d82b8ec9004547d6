"""The one intake pipeline: every page of inbound items (a profile's poll and its re-check, a brand-keyword
search, the demo seed, a webhook) goes through `take_in`, in one order, in the caller's transaction:

  store with dedupe (and inbox rules) → brand-keyword tags → listening (sentiment, topics, claims) → the inbox rules
  left for after listening → keyword alerts,

Inbox rules (services/intake/rules.py) are decided on the new rows before their insert (`rules.Plan`, handed to
`ingest.store`): tag, assign, priority and complete go in with the row instead of updating it a moment later. A rule
that reads listening's results (sentiment, matched claims) or that matched with an action needing the stored message
(alert, automatic reply, moderation, round-robin) is left, with every rule after it for that message, to
`apply_rules` after listening. Either way each message meets the rules in position order, on what is new only, and
never fails the page (a rule that throws is skipped for that message and counted on the rule). Their changes commit
with the page and are announced with it. History (backfill, or a page without alerts) gets the quiet actions only:
no alerts, automatic replies or moderation.

Then, one announcement after the commit (`bus.announce_after_commit`): what arrived, and what changed (network-side
edits and deletions, messages that gained a tag or a claim flag). Alert delivery (push, email) is slow network
work and runs after the commit (`deliver_alerts`); the alert job retries whatever it could not send."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlmodel import Session, col, select

from connectors.base import InboundMessage
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import KeywordSearch, Message, MessageTag
from govsocial_app.services import bus
from govsocial_app.services.alerting import alerts as alerting, keyword_alerts
from govsocial_app.services.inbox import ingest
from govsocial_app.services.intake import rules
from govsocial_app.services.listening import topics
from govsocial_app.services.authz import Actor
from govsocial_app.services.events import AlertsChanged, InboxChanged
from govsocial_app.services.inbox.stream import find_or_create_tag
from govsocial_app.services.listening.keyword_query import QuerySyntaxError, parse

log = logging.getLogger(__name__)
SYSTEM = Actor.system("keyword search")


@dataclass(frozen=True)
class Source:
    """Where a page came from, which decides how it is stored."""

    profile_id: int | None
    keyword_id: int | None = None  # the brand keyword whose search found the page: every item is its match
    backfill: bool = False  # history: stored as if it arrived when it was written (received_at = created_at)
    alerts: bool = True  # raise keyword alerts; off for the demo's month of history, which is not news now


@dataclass
class IntakeResult:
    new_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)  # edited or deleted on the network, or newly tagged
    alert_ids: list[int] = field(default_factory=list)  # committed with the page; deliver after the commit
    skipped: int = 0

    @property
    def versioned_ids(self) -> list[int]:
        return self.changed_ids


def take_in(s: Session, items: Sequence[InboundMessage], source: Source, *, now: datetime | None = None) -> IntakeResult:
    """Run the pipeline on one page inside the caller's transaction (which may also hold the page's cursor): the
    messages, their tags, listening rows and alerts commit together or not at all, so a failure part-way leaves
    the page to be fetched again, deduplicated. Announced once, after that commit."""
    now = now or datetime.now(timezone.utc)
    plan = rules.Plan(s, now, live=source.alerts and not source.backfill)  # most rules decide on the rows before their insert
    stored = ingest.store(s, list(items), profile_id=source.profile_id, keyword_id=source.keyword_id, now=now,
                          backfill=source.backfill, hook=plan)
    out = IntakeResult(new_ids=list(stored.new_ids), changed_ids=list(stored.versioned_ids), skipped=stored.skipped)
    # Brand-keyword tags: every active keyword on what is new, and the searched keyword on every hit it found
    # (also messages stored before, say from a profile's mentions: they change on screen, so they are announced).
    plan.tagged = set()  # the (message, tag) pairs the brand keywords add: the rules' tags must not repeat them
    matches = tag_with_keywords(s, out.new_ids, plan.tagged)
    if source.keyword_id is not None and items:
        kw = s.get(KeywordSearch, source.keyword_id)
        if kw is not None:
            new = set(out.new_ids)
            out.changed_ids += [i for i in tag_matches(s, kw, _stored_ids(s, items), plan.tagged) if i not in new]
    if out.new_ids:
        _listen(s, out.new_ids)
        out.alert_ids += rules.apply_rules(s, out.new_ids, now, plan=plan).alert_ids
    if source.alerts:
        out.alert_ids += raise_keyword_alerts(s, matches, now)
    bus.announce_after_commit(s, InboxChanged.of(out.new_ids, out.changed_ids))
    if out.alert_ids:
        bus.announce_after_commit(s, AlertsChanged(raised=tuple(out.alert_ids)))
    return out


async def receive(items: Sequence[InboundMessage], source: Source, *, now: datetime | None = None) -> IntakeResult:
    """A page with no cursor of its own (a webhook delivery): the pipeline in its own transaction, then delivery."""
    import asyncio

    now = now or datetime.now(timezone.utc)

    def run() -> IntakeResult:
        with session_scope() as s:
            return take_in(s, items, source, now=now)

    result = await asyncio.to_thread(run)
    await deliver_alerts(result.alert_ids, now=now)
    return result


def _listen(s: Session, new_ids: list[int]) -> None:
    """Sentiment, topics and claims, in a savepoint: a failure here must never lose the messages. They commit
    without it, and the listening catch-up job (services/listening.catch_up) matches them a little later."""
    try:
        with s.begin_nested():
            topics.match_in_session(s, new_ids)
    except Exception:  # noqa: BLE001 - logged; the catch-up job owns the retry
        log.exception("intake: listening failed for %d new messages; the catch-up job will match them", len(new_ids))


def _stored_ids(s: Session, items: Sequence[InboundMessage]) -> list[int]:
    ids: list[int] = []
    for network in {m.network for m in items if m.network}:
        external = [m.external_id[:300] for m in items if m.network == network and m.external_id]
        for start in range(0, len(external), 500):
            ids += s.exec(select(Message.id).where(Message.network == network,
                                                   col(Message.external_id).in_(external[start : start + 500]))).all()
    return ids


def tag_matches(s: Session, keyword: KeywordSearch, message_ids: list[int], pairs: set[tuple[int, int]] | None = None) -> list[int]:
    """Matches carry the keyword's name as a tag, whether they came from the search or from a profile's mentions.
    Returns the ids that were not tagged before; `pairs` gathers the (message id, tag id) of every match."""
    if not message_ids:
        return []
    tag = find_or_create_tag(s, keyword.name, SYSTEM)
    present = set(s.exec(select(MessageTag.message_id).where(MessageTag.tag_id == tag.id, col(MessageTag.message_id).in_(message_ids))).all())
    added = []
    for mid in dict.fromkeys(message_ids):
        if pairs is not None:
            pairs.add((mid, tag.id))
        if mid not in present:
            s.add(MessageTag(message_id=mid, tag_id=tag.id))
            added.append(mid)
    return added


def tag_with_keywords(s: Session, message_ids: list[int], pairs: set[tuple[int, int]] | None = None) -> dict[int, list[int]]:
    """Tag newly stored messages with every active brand keyword they match; returns keyword id → its matches.
    `pairs` gathers the (message id, tag id) of every match."""
    if not message_ids:
        return {}
    keywords = s.exec(select(KeywordSearch).where(col(KeywordSearch.is_active).is_(True), col(KeywordSearch.deleted_at).is_(None))).all()
    if not keywords:
        return {}
    messages = s.exec(select(Message.id, Message.text, Message.lang, Message.author_handle).where(col(Message.id).in_(message_ids))).all()
    matches: dict[int, list[int]] = {}
    for kw in keywords:
        try:
            query = parse(kw.query)
        except QuerySyntaxError:
            continue
        hits = [mid for mid, text, lang, handle in messages if query.matches(text, lang, handle)]
        if hits:
            tag_matches(s, kw, hits, pairs)
            matches[kw.id] = hits
    return matches


def raise_keyword_alerts(s: Session, matches: dict[int, list[int]], now: datetime) -> list[int]:
    """Priority and crisis keywords raise an alert for their new matches, in the page's transaction (issue 13:
    alerts were lost when matching failed after the ingest commit). Returns the alert ids to deliver."""
    alert_ids = []
    for keyword_id, hits in matches.items():
        s.flush()
        alert_id = keyword_alerts.record_matches_in(s, keyword_id, hits, now)
        if alert_id is not None:
            alert_ids.append(alert_id)
    return alert_ids


async def deliver_alerts(alert_ids: list[int], *, now: datetime | None = None) -> None:
    """After the commit: try delivering at once. Never fails the intake: stored and pending, the alert job
    delivers what is left."""
    if not alert_ids:
        return
    try:
        await alerting.deliver(alert_ids, now=now)
    except Exception:  # noqa: BLE001
        log.exception("intake: delivering alerts %s failed; the alert job will retry", alert_ids)
