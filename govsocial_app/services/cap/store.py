"""Persistence for CAP: alert sources and their status, received alerts with their decision, the jurisdiction,
and the translation memory. Admin changes are role-checked and audited in the same transaction."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import CapAlert, CapInfo, CapJurisdiction, CapSource, TranslationPair
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.cap.drafts import AlertDraft, build_drafts
from govsocial_app.services.cap.errors import InvalidBoundary
from govsocial_app.services.cap.feeds import FetchedAlert, PollResult, PollState, policy_for
from govsocial_app.services.cap.jurisdiction import Decision, EarlierState, Jurisdiction, Thresholds, decide, load_boundary
from govsocial_app.services.cap.model import Alert, Reference
from govsocial_app.services.cap.parse import parse_alert
from govsocial_app.services.cap.translation_memory import TMEntry, TranslationMemory
from govsocial_app.services.errors import UserError
from govsocial_app.services.textnorm import normalize

__all__ = [
    "IngestReport",
    "SourceView",
    "create_source",
    "current_jurisdiction",
    "delete_source",
    "drafts_for",
    "due_sources",
    "earlier_states",
    "ingest_poll",
    "list_sources",
    "load_translation_memory",
    "record_poll",
    "remember_translation",
    "save_jurisdiction",
    "store_alert",
    "update_source",
]

log = logging.getLogger(__name__)

ADMIN_PERMISSION = "settings.manage"  # sources and the jurisdiction are agency-wide settings (admins)
APPROVE_PERMISSION = "publish.approve"  # a translation enters the memory when someone who approves posts says so
MIN_INTERVAL_S, MAX_INTERVAL_S = 5, 3600


@dataclass(frozen=True)
class SourceView:
    id: int
    name: str
    url: str
    interval_s: int
    enabled: bool
    status: str
    status_code: str
    status_message: str
    feed_kind: str
    failures: int
    last_polled_at: datetime | None
    last_ok_at: datetime | None
    next_poll_at: datetime | None
    allowed_hosts: tuple[str, ...]
    validate_schema: bool
    poll_state: PollState


def _view(row: CapSource) -> SourceView:
    return SourceView(row.id or 0, row.name, row.url, row.interval_s, row.enabled, row.status, row.status_code,
                      row.status_message, row.feed_kind, row.failures, row.last_polled_at, row.last_ok_at,
                      row.next_poll_at, tuple(row.allowed_hosts or ()), row.validate_schema,
                      PollState.from_dict(row.poll_state))


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError("The source address must be a full http:// or https:// address.")
    if len(url) > 1000:
        raise UserError("The source address is too long.")
    return url


def _check_hosts(hosts: Iterable[str]) -> list[str]:
    clean = []
    for host in hosts:
        host = (host or "").strip().lower().rstrip(".")
        if not host:
            continue
        if "/" in host or ":" in host or " " in host:
            raise UserError(f"{host!r} is not a host name (write it without https:// or a path).")
        clean.append(host)
    return clean


def _check_interval(interval_s: int) -> int:
    if not MIN_INTERVAL_S <= int(interval_s) <= MAX_INTERVAL_S:
        raise UserError(f"The polling interval must be between {MIN_INTERVAL_S} and {MAX_INTERVAL_S} seconds.")
    return int(interval_s)


def create_source(actor: Actor, name: str, url: str, *, interval_s: int = 60, allowed_hosts: Sequence[str] = (),
                  validate_schema: bool = True, now: datetime | None = None) -> int:
    require(actor, ADMIN_PERMISSION)
    name = (name or "").strip()[:120]
    if not name:
        raise UserError("Give the source a name.")
    url = _check_url(url)
    # The host's own rule (IPAWS: 2 minutes) wins over a shorter setting.
    interval = max(_check_interval(interval_s), int(policy_for(url).min_interval_s))
    with session_scope() as session:
        row = CapSource(name=name, url=url, interval_s=interval, allowed_hosts=_check_hosts(allowed_hosts),
                        validate_schema=validate_schema, created_by=actor.user_id, next_poll_at=now)
        session.add(row)
        session.flush()
        audit.record(session, actor, "cap.source.create", "capsource", row.id, name=name, url=url, interval_s=interval)
        return row.id  # type: ignore[return-value]


_EDITABLE = {"name", "url", "interval_s", "allowed_hosts", "validate_schema", "enabled"}


def update_source(actor: Actor, source_id: int, **changes: Any) -> SourceView:
    require(actor, ADMIN_PERMISSION)
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    with session_scope() as session:
        row = session.get(CapSource, source_id)
        if row is None or row.deleted_at is not None:
            raise UserError("That alert source no longer exists.")
        if "url" in changes:
            changes["url"] = _check_url(changes["url"])
            row.poll_state = {}  # a new address starts afresh
        if "interval_s" in changes:
            changes["interval_s"] = max(_check_interval(changes["interval_s"]), int(policy_for(changes.get("url", row.url)).min_interval_s))
        if "allowed_hosts" in changes:
            changes["allowed_hosts"] = _check_hosts(changes["allowed_hosts"])
        before = {k: getattr(row, k) for k in changes}
        for key, value in changes.items():
            setattr(row, key, value)
        session.add(row)
        audit.record(session, actor, "cap.source.update", "capsource", source_id, before=before, after=changes)
        session.flush()
        return _view(row)


def delete_source(actor: Actor, source_id: int, *, now: datetime) -> None:
    require(actor, ADMIN_PERMISSION)
    with session_scope() as session:
        row = session.get(CapSource, source_id)
        if row is None or row.deleted_at is not None:
            return
        row.deleted_at, row.enabled = now, False
        session.add(row)
        audit.record(session, actor, "cap.source.delete", "capsource", source_id, name=row.name)


def list_sources(include_disabled: bool = True) -> list[SourceView]:
    with session_scope() as session:
        query = select(CapSource).where(col(CapSource.deleted_at).is_(None))
        if not include_disabled:
            query = query.where(CapSource.enabled == True)  # noqa: E712
        return [_view(row) for row in session.exec(query.order_by(CapSource.id))]


def due_sources(now: datetime) -> list[SourceView]:
    """Enabled sources whose next poll time has come (or that were never polled)."""
    with session_scope() as session:
        query = select(CapSource).where(
            col(CapSource.deleted_at).is_(None), CapSource.enabled == True,  # noqa: E712
            (col(CapSource.next_poll_at).is_(None)) | (col(CapSource.next_poll_at) <= now),
        ).order_by(CapSource.id)
        return [_view(row) for row in session.exec(query)]


def record_poll(source_id: int, result: PollResult, *, now: datetime, kind: str = "") -> None:
    """Store a poll's outcome as the source's visible status and its state for the next conditional GET."""
    with session_scope() as session:
        row = session.get(CapSource, source_id)
        if row is None:
            return
        row.poll_state = result.state.to_dict()
        row.failures = result.state.failures
        row.last_polled_at = now
        row.next_poll_at = now + timedelta(seconds=result.next_poll_in_s)
        if result.status == "error":
            row.status, row.status_code = "error", result.error_code or "error"
            row.status_message = result.error[:2000]
            log.warning("CAP source %s (%s): %s", row.name, row.url, result.error)
        else:
            row.status, row.status_code, row.last_ok_at = result.status, "", now
            problems = [f"{f.entry.link or f.entry.id}: {f.error.message}" for f in result.alerts if f.error is not None]
            row.status_message = ("\n".join(problems))[:2000]
            if problems:
                row.status_code = result.alerts[[f.error is not None for f in result.alerts].index(True)].error.code  # type: ignore[union-attr]
                for problem in problems:
                    log.warning("CAP source %s: %s", row.name, problem)
            if kind or result.feed_kind:
                row.feed_kind = kind or result.feed_kind
        session.add(row)


# ---------------------------------------------------------------- received alerts


def earlier_states(session: Session, references: Iterable[Reference]) -> dict[tuple[str, str], EarlierState]:
    """What became of referenced messages we received: "raised" or "stored" (absent: never received)."""
    refs = list(references)
    if not refs:
        return {}
    out: dict[tuple[str, str], EarlierState] = {}
    identifiers = {ref.identifier for ref in refs}
    rows = session.exec(select(CapAlert).where(col(CapAlert.identifier).in_(identifiers))).all()
    wanted = {ref.key for ref in refs}
    for row in rows:
        key = (row.sender, row.identifier)
        if key in wanted:
            # An Update that was itself raised makes the chain raised; follow_up keeps the original too.
            out[key] = "raised" if row.decision == "raise" else "stored"
    return out


def _areas_json(info) -> list[dict[str, Any]]:
    return [{
        "description": area.description,
        "polygons": [[list(p) for p in ring] for ring in area.polygons],
        "circles": [[c.lat, c.lon, c.radius_km] for c in area.circles],
        "geocodes": [[g.name, g.value] for g in area.geocodes],
    } for area in info.areas]


@dataclass(frozen=True)
class StoredAlert:
    id: int
    decision: Decision
    duplicate: bool = False


def store_alert(session: Session, alert: Alert, raw: bytes, decision: Decision, *, source_id: int | None,
                now: datetime) -> StoredAlert:
    """Insert the alert and its info blocks once: the same (sender, identifier) again is a duplicate, not a copy."""
    existing = session.exec(select(CapAlert).where(CapAlert.sender == alert.sender, CapAlert.identifier == alert.identifier)).first()
    if existing is not None:
        return StoredAlert(existing.id or 0, decision, duplicate=True)
    row = CapAlert(
        source_id=source_id, sender=alert.sender, identifier=alert.identifier, sent=alert.sent, status=alert.status,
        msg_type=alert.msg_type, scope=alert.scope, references=[str(r) for r in alert.references],
        incidents=list(alert.incidents), note=alert.note, expires=alert.expires, decision=decision.action,
        decision_kind=decision.kind, reasons=[{"code": r.code, "params": dict(r.params)} for r in decision.reasons],
        info_indexes=list(decision.info_indexes), follow_up=[str(r) for r in decision.follow_up],
        raw_xml=raw.decode("utf-8", errors="replace"), received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # another worker stored it between our check and insert
        existing = session.exec(select(CapAlert).where(CapAlert.sender == alert.sender, CapAlert.identifier == alert.identifier)).one()
        return StoredAlert(existing.id or 0, decision, duplicate=True)
    for position, info in enumerate(alert.infos):
        session.add(CapInfo(
            alert_id=row.id, position=position, language=info.language, categories=list(info.categories),
            event=info.event, urgency=info.urgency, severity=info.severity, certainty=info.certainty,
            response_types=list(info.response_types), sender_name=info.sender_name, headline=info.headline,
            description=info.description, instruction=info.instruction, web=info.web, contact=info.contact,
            effective=info.effective, onset=info.onset, expires=info.expires,
            parameters=[[p.name, p.value] for p in info.parameters], areas=_areas_json(info),
        ))
    if alert.references:
        keys = {r.key for r in alert.references}
        earlier = session.exec(select(CapAlert).where(col(CapAlert.identifier).in_({k[1] for k in keys}))).all()
        for old in earlier:
            if (old.sender, old.identifier) in keys and old.superseded_by_id is None:
                old.superseded_by_id = row.id
                session.add(old)
    return StoredAlert(row.id or 0, decision)


@dataclass(frozen=True)
class IngestReport:
    raised: tuple[int, ...] = ()  # CapAlert ids to announce (Alerts card, push, email) after commit
    stored: tuple[int, ...] = ()
    duplicates: int = 0
    invalid: tuple[str, ...] = ()  # "link: reason" of documents that could not be read
    follow_up: tuple[str, ...] = field(default=())  # references of earlier raised alerts to flag posts for


def ingest_poll(source_id: int | None, fetched: Sequence[FetchedAlert], *, now: datetime,
                jurisdiction: Jurisdiction | None = None, thresholds: Thresholds | None = None) -> IngestReport:
    """Decide and store every alert of one poll in one transaction. Returns what to announce; the caller
    announces after this returns (committed), never before."""
    if jurisdiction is None and thresholds is None:
        jurisdiction, thresholds = current_jurisdiction()
    thresholds = thresholds or Thresholds()
    raised, stored, invalid, follow = [], [], [], []
    duplicates = 0
    # Oldest first, so an Alert is stored before the Update that refers to it in the same poll.
    ordered = sorted((f for f in fetched if f.alert is not None), key=lambda f: f.alert.sent)  # type: ignore[union-attr]
    invalid = [f"{f.entry.link or f.entry.id}: {f.error.message}" for f in fetched if f.error is not None]
    with session_scope() as session:
        for item in ordered:
            alert = item.alert
            assert alert is not None
            states = earlier_states(session, alert.references)
            decision = decide(alert, jurisdiction, thresholds, now=now, earlier=states)
            result = store_alert(session, alert, item.raw, decision, source_id=source_id, now=now)
            if result.duplicate:
                duplicates += 1
                continue
            session.flush()
            (raised if decision.raised else stored).append(result.id)
            follow.extend(str(r) for r in decision.follow_up)
    return IngestReport(tuple(raised), tuple(stored), duplicates, tuple(invalid), tuple(follow))


def drafts_for(cap_alert_id: int, *, networks=None) -> AlertDraft:
    """The composer's drafts for a stored alert (one per language of the blocks that qualified), re-read from the
    kept XML so they match what was received exactly. UserError when the alert does not exist."""
    with session_scope() as session:
        row = session.get(CapAlert, cap_alert_id)
        if row is None:
            raise UserError("That official alert no longer exists.")
        raw, indexes = row.raw_xml, list(row.info_indexes or [])
    alert = parse_alert(raw.encode("utf-8"), validate_schema=False)  # it passed validation when it arrived
    return build_drafts(alert, info_indexes=indexes or None, networks=networks)


# ---------------------------------------------------------------- jurisdiction


def save_jurisdiction(actor: Actor, geojson: str | bytes | dict, *, name: str = "", geocodes: Iterable[Sequence[str]] = (),
                      thresholds: Thresholds | None = None, now: datetime | None = None) -> int:
    """Validate and store a new boundary (InvalidBoundary, shown to the admin, if it is unusable); the previous
    one is kept, soft-deleted."""
    require(actor, ADMIN_PERMISSION)
    pairs = [(str(p[0]).strip(), str(p[1]).strip()) for p in geocodes if len(p) == 2 and str(p[0]).strip() and str(p[1]).strip()]
    jurisdiction = load_boundary(geojson, name=name, geocodes=pairs)
    thresholds = thresholds or Thresholds()
    with session_scope() as session:
        for old in session.exec(select(CapJurisdiction).where(col(CapJurisdiction.deleted_at).is_(None))):
            old.deleted_at = now or old.created_at
            session.add(old)
        row = CapJurisdiction(name=jurisdiction.name[:200], boundary=jurisdiction.to_geojson(),
                              geocodes=[list(p) for p in sorted(jurisdiction.geocodes)], thresholds=thresholds.to_dict(),
                              created_by=actor.user_id)
        if now is not None:
            row.created_at = now
        session.add(row)
        session.flush()
        audit.record(session, actor, "cap.jurisdiction.update", "capjurisdiction", row.id, name=row.name,
                     geocodes=len(pairs), thresholds=thresholds.to_dict())
        return row.id  # type: ignore[return-value]


def current_jurisdiction() -> tuple[Jurisdiction | None, Thresholds]:
    with session_scope() as session:
        row = session.exec(select(CapJurisdiction).where(col(CapJurisdiction.deleted_at).is_(None))
                           .order_by(col(CapJurisdiction.id).desc())).first()
        if row is None:
            return None, Thresholds()
        try:
            jurisdiction = load_boundary(row.boundary, name=row.name, geocodes=[tuple(p) for p in row.geocodes])
        except InvalidBoundary:  # validated on save; only a hand-edited row could get here
            log.exception("stored jurisdiction %s is unusable", row.id)
            return None, Thresholds.from_dict(row.thresholds)
        return jurisdiction, Thresholds.from_dict(row.thresholds)


# ---------------------------------------------------------------- translation memory


def _pair_key(source: str, target: str) -> str:
    return hashlib.sha256(f"{normalize(source)}\x1f{normalize(target)}".encode()).hexdigest()


def remember_translation(actor: Actor, source_lang: str, target_lang: str, source: str, target: str, *,
                         post_id: int | None = None, now: datetime | None = None) -> int | None:
    """Add an approved pair; None when it was already known (in either direction)."""
    require(actor, APPROVE_PERMISSION)
    source, target = source.strip(), target.strip()
    if not source or not target:
        raise UserError("Both sentences of a translation are needed.")
    if source_lang.split("-")[0].lower() == target_lang.split("-")[0].lower():
        raise UserError("A translation pair needs two different languages.")
    key, mirror = _pair_key(source, target), _pair_key(target, source)
    with session_scope() as session:
        exists = session.exec(select(TranslationPair.id).where(
            ((TranslationPair.source_lang == source_lang) & (TranslationPair.target_lang == target_lang) & (TranslationPair.pair_key == key))
            | ((TranslationPair.source_lang == target_lang) & (TranslationPair.target_lang == source_lang) & (TranslationPair.pair_key == mirror))
        )).first()
        if exists is not None:
            return None
        row = TranslationPair(source_lang=source_lang, target_lang=target_lang, source_text=source, target_text=target,
                              pair_key=key, post_id=post_id, approved_by=actor.user_id)
        if now is not None:
            row.approved_at = now
        session.add(row)
        session.flush()
        audit.record(session, actor, "translation.remember", "translationpair", row.id,
                     source_lang=source_lang, target_lang=target_lang)
        return row.id


def load_translation_memory() -> TranslationMemory:
    """Every live pair, oldest first (so newer approvals win ties)."""
    with session_scope() as session:
        rows = session.exec(select(TranslationPair).where(col(TranslationPair.deleted_at).is_(None)).order_by(TranslationPair.id)).all()
        return TranslationMemory(
            TMEntry(r.source_lang, r.target_lang, r.source_text, r.target_text, r.id, str(r.approved_by or ""), r.approved_at)
            for r in rows
        )
