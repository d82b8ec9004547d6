"""Public-records requests: requester, dates (statutory due date in business days), scope (a saved search), status,
preview and redactions. Redactions apply to the export copy only; the archive is never altered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, Redaction, RecordsRequest, SavedView, utcnow
from govsocial_app.services import audit, settings_store
from govsocial_app.services.authz import Actor
from govsocial_app.services.errors import UserError
from govsocial_app.services.records.access import require_officer

DUE_DAYS_SETTING = "records.due_business_days"
HOLIDAYS_SETTING = "records.holidays"  # ["2026-12-25", ...]
DEFAULT_DUE_DAYS = 10
STATUSES = ("open", "in_review", "produced", "closed")
REDACTION_KINDS = ("emails", "phones", "text")
REASON_CODES = ("personal_privacy", "law_enforcement", "legal_privilege", "security", "statutory_other")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# International or local phone numbers: 7+ digits with spaces, dots, dashes or brackets between them.
PHONE = re.compile(r"(?<![\w])\+?\(?\d[\d\s().\-]{5,}\d(?![\w])")


def business_days_after(start: date, days: int, holidays: set[date] = frozenset()) -> date:
    """The date `days` business days after `start` (Monday to Friday, holidays skipped); day 0 is `start` itself."""
    d, left = start, days
    while left > 0:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            left -= 1
    return d


def due_date(received: date, session: Session | None = None) -> date:
    days = int(settings_store.get(DUE_DAYS_SETTING, DEFAULT_DUE_DAYS, session=session) or DEFAULT_DUE_DAYS)
    hol = {date.fromisoformat(x) for x in settings_store.get(HOLIDAYS_SETTING, [], session=session) or []}
    return business_days_after(received, days, hol)


def set_due_rule(days: int, holidays: list[str], actor: Actor) -> None:
    if not 1 <= days <= 365:
        raise UserError("The statutory period must be 1 to 365 business days.")
    try:
        parsed = sorted({date.fromisoformat(h.strip()).isoformat() for h in holidays if h.strip()})
    except ValueError as exc:
        raise UserError("Holidays must look like 2026-12-25.") from exc
    with session_scope() as s:
        require_officer(actor, s)
        settings_store.put(s, DUE_DAYS_SETTING, days, actor, audit_action="records.due_rule")
        settings_store.put(s, HOLIDAYS_SETTING, parsed, actor, audit_action="records.due_rule")


@dataclass(frozen=True)
class RequestItem:
    id: int
    requester: str
    received_on: date
    due_on: date
    status: str
    scope_query: str
    exported_at: datetime | None
    export_sha256: str


def _item(r: RecordsRequest) -> RequestItem:
    return RequestItem(r.id, r.requester, r.received_on, r.due_on, r.status, r.scope_query, r.exported_at, r.export_sha256)


def create(requester: str, received_on: date, actor: Actor, *, saved_view_id: int | None = None, scope_query: str = "",
           contact: str = "") -> int:
    requester = (requester or "").strip()
    if not requester:
        raise UserError("Say who made the request.")
    if received_on > date.today() + timedelta(days=1):
        raise UserError("The date received cannot be in the future.")
    with session_scope() as s:
        require_officer(actor, s)
        if saved_view_id:
            view = s.get(SavedView, saved_view_id)
            if view is None or view.deleted_at is not None:
                raise UserError("That saved search no longer exists.")
            scope_query = view.query
        _scope_condition(s, scope_query, actor.user_id)  # refuses a scope that does not parse
        r = RecordsRequest(requester=requester[:300], requester_contact=contact.strip()[:320], received_on=received_on,
                           due_on=due_date(received_on, s), scope_query=scope_query[:1000], saved_view_id=saved_view_id,
                           created_by=actor.user_id)
        s.add(r)
        s.flush()
        audit.record(s, actor, "records.request_create", "records_request", r.id, requester=r.requester,
                     received_on=r.received_on.isoformat(), due_on=r.due_on.isoformat(), scope=r.scope_query)
        return r.id


def set_status(request_id: int, status: str, actor: Actor) -> None:
    if status not in STATUSES:
        raise UserError("Unknown request status.")
    with session_scope() as s:
        require_officer(actor, s)
        r = _get(s, request_id)
        old, r.status = r.status, status
        audit.record(s, actor, "records.request_status", "records_request", r.id, status=status, previous=old)


def list_requests(actor: Actor, limit: int = 50) -> list[RequestItem]:
    with session_scope() as s:
        require_officer(actor, s)
        return [_item(r) for r in s.exec(select(RecordsRequest).order_by(col(RecordsRequest.id).desc()).limit(limit)).all()]


def get(request_id: int, actor: Actor) -> RequestItem:
    with session_scope() as s:
        require_officer(actor, s)
        return _item(_get(s, request_id))


def _get(s: Session, request_id: int) -> RecordsRequest:
    r = s.get(RecordsRequest, request_id)
    if r is None:
        raise UserError("That request does not exist.")
    return r


def _scope_condition(s: Session, query: str, user_id: int | None):
    """The saved search's conditions, over every message: the public record includes completed, outbound and
    deleted-in-GovSocial messages too."""
    from govsocial_app.services.inbox import stream

    f = stream.filter_from_params(dict(parse_qsl(query or "")))
    conds = stream._conditions(f, user_id or 0, s.get_bind().dialect.name)[2:]
    return and_(*conds) if conds else True


def scope_ids_query(s: Session, r: RecordsRequest):
    return select(Message.id).where(_scope_condition(s, r.scope_query, r.created_by)).order_by(Message.id)


@dataclass(frozen=True)
class PreviewRow:
    id: int
    when: datetime
    network: str
    author: str
    text: str  # as it will be exported: redactions applied
    versions: int


def preview(request_id: int, actor: Actor, *, after_id: int = 0, limit: int = 20) -> tuple[int, list[PreviewRow]]:
    """(total matching, one page of records with the export's redactions applied)."""
    with session_scope() as s:
        require_officer(actor, s)
        r = _get(s, request_id)
        cond = _scope_condition(s, r.scope_query, r.created_by)
        total = s.exec(select(func.count()).select_from(Message).where(cond)).one()
        rows = s.exec(select(Message).where(cond, Message.id > after_id).order_by(Message.id).limit(limit)).all()
        red = Redactor(active_redactions(s, request_id))
        return total, [PreviewRow(m.id, m.created_at, m.network, m.author_handle, red.apply(m.id, m.text), m.version) for m in rows]


# ---------------------------------------------------------------- redactions


@dataclass(frozen=True)
class RedactionItem:
    id: int
    kind: str
    message_id: int | None
    selection: str
    reason_code: str


def active_redactions(s: Session, request_id: int) -> list[RedactionItem]:
    rows = s.exec(select(Redaction).where(Redaction.request_id == request_id, col(Redaction.removed_at).is_(None)).order_by(Redaction.id)).all()
    return [RedactionItem(x.id, x.kind, x.message_id, x.selection, x.reason_code) for x in rows]


def redactions(request_id: int, actor: Actor) -> list[RedactionItem]:
    with session_scope() as s:
        require_officer(actor, s)
        return active_redactions(s, request_id)


def add_redaction(request_id: int, kind: str, reason_code: str, actor: Actor, *, message_id: int | None = None,
                  selection: str = "") -> int:
    if kind not in REDACTION_KINDS:
        raise UserError("Redact emails, phone numbers or a selected text.")
    if reason_code not in REASON_CODES:
        raise UserError("Every redaction needs a reason code.")
    selection = selection or ""
    if kind == "text" and not selection.strip():
        raise UserError("Select the text to redact.")
    with session_scope() as s:
        require_officer(actor, s)
        _get(s, request_id)
        if message_id is not None and s.get(Message, message_id) is None:
            raise UserError("That record does not exist.")
        x = Redaction(request_id=request_id, kind=kind, message_id=message_id, selection=selection[:1000],
                      reason_code=reason_code, created_by=actor.user_id)
        s.add(x)
        s.flush()
        audit.record(s, actor, "records.redaction_add", "records_request", request_id, redaction=x.id, kind=kind,
                     message_id=message_id, reason=reason_code, chars=len(selection))
        return x.id


def remove_redaction(redaction_id: int, actor: Actor) -> None:
    with session_scope() as s:
        require_officer(actor, s)
        x = s.get(Redaction, redaction_id)
        if x is None or x.removed_at is not None:
            raise UserError("That redaction does not exist.")
        x.removed_at = utcnow()
        audit.record(s, actor, "records.redaction_remove", "records_request", x.request_id, redaction=x.id)


class Redactor:
    """Applies a request's redactions to a copy of a text, marking each with its reason code."""

    def __init__(self, items: list[RedactionItem]):
        self.items = items

    def apply(self, message_id: int, value: str) -> str:
        out = value or ""
        for x in self.items:
            if x.message_id not in (None, message_id):
                continue
            mark = f"[REDACTED: {x.reason_code}]"
            if x.kind == "emails":
                out = EMAIL.sub(mark, out)
            elif x.kind == "phones":
                out = PHONE.sub(mark, out)
            elif x.selection:
                out = out.replace(x.selection, mark)
        return out

    @property
    def codes(self) -> list[dict]:
        return [{"id": x.id, "kind": x.kind, "message_id": x.message_id, "reason_code": x.reason_code} for x in self.items]
