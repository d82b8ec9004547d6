"""Retention schedules and disposal: a job proposes what has passed its schedule and is not on hold; a records
officer approves; only then are the records destroyed, with a certificate of exactly what was removed.

A record type is one entry in RECORD_TYPES. Moderation actions (issue 16 items 1-4) become one more entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import delete, text, update
from sqlmodel import Session, SQLModel, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import (
    AuditLog, DisposalCertificate, DisposalProposal, DisposedLink, Message, MessageModeration, MessageNote, MessageTag,
    MessageVersion, ModerationAction, RetentionSchedule, utcnow,
)
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor
from govsocial_app.services.errors import UserError
from govsocial_app.services.records import canonical, holds
from govsocial_app.services.records.access import require_officer

MAX_ITEMS = 50_000


def _row_dict(obj: SQLModel) -> dict:
    return {c.name: getattr(obj, c.name) for c in obj.__table__.columns}


@dataclass(frozen=True)
class RecordType:
    key: str
    label: str
    # (session, cutoff) -> ids past the cutoff and not held
    due: Callable[[Session, datetime], list[int]]
    # (session, ids) -> {id: (date, canonical form)}; ids no longer present are left out
    forms: Callable[[Session, list[int]], dict[int, tuple[datetime, dict]]]
    # (session, ids) -> ids of these that a hold now covers
    held: Callable[[Session, list[int]], set[int]]
    # (session, ids, certificate id) -> destroy them (dependants included), writing chain links first
    destroy: Callable[[Session, list[int], int], None]


# ---------------------------------------------------------------- messages (inbound, outbound)


def _messages_due(direction: str):
    def due(s: Session, cutoff: datetime) -> list[int]:
        q = select(Message.id).where(Message.direction == direction, Message.created_at < cutoff,
                                     ~holds.held_messages_condition(s)).order_by(Message.id).limit(MAX_ITEMS)
        return list(s.exec(q).all())
    return due


def _message_forms(s: Session, ids: list[int]) -> dict[int, tuple[datetime, dict]]:
    out: dict[int, tuple[datetime, dict]] = {}
    for m in s.exec(select(Message).where(col(Message.id).in_(ids))).all():
        versions = s.exec(select(MessageVersion).where(MessageVersion.message_id == m.id).order_by(MessageVersion.version)).all()
        notes = s.exec(select(MessageNote).where(MessageNote.message_id == m.id).order_by(MessageNote.id)).all()
        tags = s.exec(select(MessageTag).where(MessageTag.message_id == m.id).order_by(MessageTag.id)).all()
        form = {"message": _row_dict(m), "versions": [_row_dict(v) for v in versions],
                "notes": [_row_dict(n) for n in notes], "tags": [_row_dict(t) for t in tags]}
        out[m.id] = (m.created_at, form)
    return out


def _messages_held(s: Session, ids: list[int]) -> set[int]:
    return set(s.exec(select(Message.id).where(col(Message.id).in_(ids), holds.held_messages_condition(s))).all())


def _link_versions(s: Session, ids: list[int], certificate_id: int, by_message: bool = True) -> None:
    where = col(MessageVersion.message_id).in_(ids) if by_message else col(MessageVersion.id).in_(ids)
    for seq, prev, h in s.exec(select(MessageVersion.chain_seq, MessageVersion.prev_hash, MessageVersion.row_hash)
                               .where(where, col(MessageVersion.chain_seq).is_not(None))).all():
        s.add(DisposedLink(chain="archive", seq=seq, prev_hash=prev, row_hash=h, certificate_id=certificate_id))


def _destroy_messages(s: Session, ids: list[int], certificate_id: int) -> None:
    _link_versions(s, ids, certificate_id)
    s.flush()
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "message" and table.name != "message":
                if fk.parent.nullable:
                    s.execute(update(table).where(fk.parent.in_(ids)).values({fk.parent.name: None}))
                else:
                    s.execute(delete(table).where(fk.parent.in_(ids)))
    s.execute(delete(Message).where(col(Message.id).in_(ids)))


# ---------------------------------------------------------------- internal notes


def _notes_due(s: Session, cutoff: datetime) -> list[int]:
    held = select(Message.id).where(holds.held_messages_condition(s))
    q = select(MessageNote.id).where(MessageNote.created_at < cutoff, col(MessageNote.message_id).not_in(held)).order_by(MessageNote.id)
    return list(s.exec(q.limit(MAX_ITEMS)).all())


def _note_forms(s: Session, ids: list[int]) -> dict[int, tuple[datetime, dict]]:
    return {n.id: (n.created_at, {"note": _row_dict(n)}) for n in s.exec(select(MessageNote).where(col(MessageNote.id).in_(ids))).all()}


def _notes_held(s: Session, ids: list[int]) -> set[int]:
    held = select(Message.id).where(holds.held_messages_condition(s))
    return set(s.exec(select(MessageNote.id).where(col(MessageNote.id).in_(ids), col(MessageNote.message_id).in_(held))).all())


def _destroy_notes(s: Session, ids: list[int], _certificate_id: int) -> None:
    s.execute(delete(MessageNote).where(col(MessageNote.id).in_(ids)))


# ---------------------------------------------------------------- the audit log itself


def _audit_due(s: Session, cutoff: datetime) -> list[int]:
    rows = s.exec(select(AuditLog.id, AuditLog.at).where(AuditLog.at < cutoff).order_by(AuditLog.id).limit(MAX_ITEMS)).all()
    return [i for i, at in rows if not holds.holds_date(s, at)]


def _audit_forms(s: Session, ids: list[int]) -> dict[int, tuple[datetime, dict]]:
    return {a.id: (a.at, {"audit": _row_dict(a)}) for a in s.exec(select(AuditLog).where(col(AuditLog.id).in_(ids))).all()}


def _audit_held(s: Session, ids: list[int]) -> set[int]:
    return {a.id for a in s.exec(select(AuditLog).where(col(AuditLog.id).in_(ids))).all() if holds.holds_date(s, a.at)}


def _destroy_audit(s: Session, ids: list[int], certificate_id: int) -> None:
    # The append-only trigger lets a DELETE through only for rows certified here first (migration 0007_records).
    for seq, prev, h in s.exec(select(AuditLog.chain_seq, AuditLog.prev_hash, AuditLog.row_hash)
                               .where(col(AuditLog.id).in_(ids), col(AuditLog.chain_seq).is_not(None))).all():
        s.add(DisposedLink(chain="audit", seq=seq, prev_hash=prev, row_hash=h, certificate_id=certificate_id))
    s.flush()
    s.execute(delete(AuditLog).where(col(AuditLog.id).in_(ids)))


# ---------------------------------------------------------------- moderation actions (issue 16 items 1-4)
# An action's archive version stays with its message (the message's own record type disposes of it); this type is
# the action rows the moderation report reads. An action on a held message is held.


def _moderation_due(s: Session, cutoff: datetime) -> list[int]:
    held = select(Message.id).where(holds.held_messages_condition(s))
    q = select(ModerationAction.id).where(ModerationAction.requested_at < cutoff, col(ModerationAction.message_id).not_in(held),
                                          col(ModerationAction.status).in_(("done", "failed", "declined")))
    return list(s.exec(q.order_by(ModerationAction.id).limit(MAX_ITEMS)).all())


def _moderation_forms(s: Session, ids: list[int]) -> dict[int, tuple[datetime, dict]]:
    return {a.id: (a.requested_at, {"moderation_action": _row_dict(a)})
            for a in s.exec(select(ModerationAction).where(col(ModerationAction.id).in_(ids))).all()}


def _moderation_held(s: Session, ids: list[int]) -> set[int]:
    held = select(Message.id).where(holds.held_messages_condition(s))
    return set(s.exec(select(ModerationAction.id).where(col(ModerationAction.id).in_(ids),
                                                         col(ModerationAction.message_id).in_(held))).all())


def _destroy_moderation(s: Session, ids: list[int], _certificate_id: int) -> None:
    s.execute(update(MessageModeration).where(col(MessageModeration.action_id).in_(ids)).values(action_id=None))
    s.execute(delete(ModerationAction).where(col(ModerationAction.id).in_(ids)))


RECORD_TYPES: dict[str, RecordType] = {
    t.key: t for t in (
        RecordType("inbound_message", "Inbound messages", _messages_due("in"), _message_forms, _messages_held, _destroy_messages),
        RecordType("outbound_message", "Outbound posts and replies", _messages_due("out"), _message_forms, _messages_held, _destroy_messages),
        RecordType("internal_note", "Internal notes", _notes_due, _note_forms, _notes_held, _destroy_notes),
        RecordType("audit_log", "Audit log", _audit_due, _audit_forms, _audit_held, _destroy_audit),
        RecordType("moderation_action", "Moderation actions", _moderation_due, _moderation_forms, _moderation_held, _destroy_moderation),
    )
}


# ---------------------------------------------------------------- schedules


def cutoff(keep_years: int, after_year_end: bool, now: datetime) -> datetime:
    """Records dated before this are past their schedule. "After the end of the calendar year": a record from 2019
    kept 3 years goes at the start of 2023, not in the middle of 2022."""
    if after_year_end:
        return datetime(now.year - keep_years, 1, 1, tzinfo=timezone.utc)
    try:
        return now.replace(year=now.year - keep_years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - keep_years, day=28)


@dataclass(frozen=True)
class ScheduleItem:
    record_type: str
    label: str
    keep_years: int | None
    after_year_end: bool


def schedules(actor: Actor) -> list[ScheduleItem]:
    with session_scope() as s:
        require_officer(actor, s)
        rows = {r.record_type: r for r in s.exec(select(RetentionSchedule)).all()}
        return [ScheduleItem(k, t.label, rows[k].keep_years if k in rows else None, rows[k].after_year_end if k in rows else True)
                for k, t in RECORD_TYPES.items()]


def set_schedule(record_type: str, keep_years: int, after_year_end: bool, actor: Actor) -> None:
    if record_type not in RECORD_TYPES:
        raise UserError("Unknown record type.")
    if not isinstance(keep_years, int) or not 1 <= keep_years <= 100:
        raise UserError("Keep records for 1 to 100 years.")
    with session_scope() as s:
        require_officer(actor, s)
        row = s.get(RetentionSchedule, record_type)
        if row is None:
            row = RetentionSchedule(record_type=record_type)
            s.add(row)
        old = (row.keep_years, row.after_year_end) if row.updated_by is not None else None
        row.keep_years, row.after_year_end, row.updated_by, row.updated_at = keep_years, bool(after_year_end), actor.user_id, utcnow()
        audit.record(s, actor, "records.schedule_set", "retention_schedule", record_type, keep_years=keep_years,
                     after_year_end=bool(after_year_end), previous=old)


# ---------------------------------------------------------------- proposals, approval, disposal


@dataclass(frozen=True)
class ProposalItem:
    id: int
    status: str
    counts: dict[str, int]
    created_at: datetime
    certificate_id: int | None


def propose(actor: Actor, now: datetime | None = None) -> int | None:
    """The disposal job: one proposal of everything past its schedule and not on hold, or None when nothing is.
    It destroys nothing."""
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        if actor.role != "system":
            require_officer(actor, s)
        items: list[dict[str, Any]] = []
        cutoffs: dict[str, str] = {}
        pending = {(i["type"], i["id"]) for p in s.exec(select(DisposalProposal).where(DisposalProposal.status == "proposed")).all()
                   for i in p.items}
        for sched in s.exec(select(RetentionSchedule)).all():
            rtype = RECORD_TYPES.get(sched.record_type)
            if rtype is None:
                continue
            c = cutoff(sched.keep_years, sched.after_year_end, now)
            cutoffs[rtype.key] = c.isoformat()
            items += [{"type": rtype.key, "id": i} for i in rtype.due(s, c) if (rtype.key, i) not in pending]
        if not items:
            return None
        p = DisposalProposal(items=items[:MAX_ITEMS], cutoffs=cutoffs, proposed_by=actor.label)
        s.add(p)
        s.flush()
        audit.record(s, actor, "records.disposal_propose", "disposal_proposal", p.id, count=len(p.items), cutoffs=cutoffs)
        return p.id


def proposals(actor: Actor, limit: int = 50) -> list[ProposalItem]:
    with session_scope() as s:
        require_officer(actor, s)
        rows = s.exec(select(DisposalProposal).order_by(col(DisposalProposal.id).desc()).limit(limit)).all()
        out = []
        for p in rows:
            counts: dict[str, int] = {}
            for i in p.items:
                counts[i["type"]] = counts.get(i["type"], 0) + 1
            out.append(ProposalItem(p.id, p.status, counts, p.created_at, p.certificate_id))
        return out


def reject(proposal_id: int, actor: Actor) -> None:
    with session_scope() as s:
        require_officer(actor, s)
        p = _locked_proposal(s, proposal_id)
        if p.status != "proposed":
            raise UserError("Only a proposal waiting for approval can be rejected.")
        p.status = "rejected"
        audit.record(s, actor, "records.disposal_reject", "disposal_proposal", p.id)


def _locked_proposal(s: Session, proposal_id: int) -> DisposalProposal:
    if s.get_bind().dialect.name == "postgresql":
        p = s.exec(select(DisposalProposal).where(DisposalProposal.id == proposal_id).with_for_update()).first()
    else:
        p = s.get(DisposalProposal, proposal_id)
    if p is None:
        raise UserError("That disposal proposal does not exist.")
    return p


def approve(proposal_id: int, actor: Actor) -> int:
    """A records officer approves; the records are destroyed in the same transaction. Returns the certificate id."""
    if actor.user_id is None:
        raise UserError("Only a records officer, signed in as a person, can approve a disposal.")
    with session_scope() as s:
        require_officer(actor, s)
        p = _locked_proposal(s, proposal_id)
        if p.status != "proposed":
            raise UserError("This proposal is not waiting for approval.")
        p.status, p.approved_by, p.approved_at = "approved", actor.user_id, utcnow()
        audit.record(s, actor, "records.disposal_approve", "disposal_proposal", p.id, count=len(p.items))
        return _dispose(s, p, actor)


def dispose_approved(proposal_id: int, actor: Actor) -> int:
    """Carry out a proposal that an officer approved but that was not yet carried out (the CLI's path). A proposal
    nobody approved is refused: there is no way to destroy records without an approval."""
    with session_scope() as s:
        p = _locked_proposal(s, proposal_id)
        if p.status != "approved" or p.approved_by is None:
            raise UserError("Nothing is destroyed without a records officer's approval: this proposal is not approved.")
        return _dispose(s, p, actor)


def _dispose(s: Session, p: DisposalProposal, actor: Actor) -> int:
    by_type: dict[str, list[int]] = {}
    for i in p.items:
        by_type.setdefault(i["type"], []).append(int(i["id"]))
    cert = DisposalCertificate(proposal_id=p.id, entries=[], certificate_hash="", approved_by=p.approved_by)
    s.add(cert)
    s.flush()
    entries, kept = [], []
    for key, ids in by_type.items():
        rtype = RECORD_TYPES[key]
        held = rtype.held(s, ids)  # re-checked now, inside the transaction that destroys
        kept += [{"type": key, "id": i, "why": "on hold"} for i in ids if i in held]
        forms = rtype.forms(s, [i for i in ids if i not in held])
        for rid, (dated, form) in sorted(forms.items()):
            entries.append({"type": key, "id": rid, "dated": canonical.ts(dated), "sha256": canonical.sha256(form)})
        gone = sorted(forms)
        if gone:
            rtype.destroy(s, gone, cert.id)
    cert.entries = entries
    cert.certificate_hash = canonical.sha256({"proposal": p.id, "entries": entries})
    p.status, p.disposed_at, p.certificate_id = "disposed", utcnow(), cert.id
    audit.record(s, actor, "records.dispose", "disposal_certificate", cert.id, proposal=p.id, count=len(entries),
                 kept_on_hold=len(kept), certificate_sha256=cert.certificate_hash)
    return cert.id


def certificate(certificate_id: int, actor: Actor) -> dict:
    with session_scope() as s:
        if actor.role != "system":
            require_officer(actor, s)
        c = s.get(DisposalCertificate, certificate_id)
        if c is None:
            raise UserError("That certificate does not exist.")
        return {"id": c.id, "proposal": c.proposal_id, "created_at": canonical.ts(c.created_at), "entries": list(c.entries),
                "certificate_sha256": c.certificate_hash}


__all__ = ["RECORD_TYPES", "approve", "certificate", "cutoff", "dispose_approved", "propose", "proposals", "reject",
           "schedules", "set_schedule", "text"]
