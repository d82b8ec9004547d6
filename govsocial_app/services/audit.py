"""The append-only audit log: who did what, when, and from which client."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Generic, Iterable, TypeVar

from sqlalchemy import event
from sqlmodel import Session, col, func, select

from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import AuditLog
from govsocial_app.services import csv_export
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.records import chain

T = TypeVar("T")


def _changes_first(session: Session) -> None:
    """Write the change's own rows before the audit chain's lock is taken, so every transaction takes its row locks
    in one order: the changed rows, then the chain. Left to the commit, a tag's insert (a key-share lock on its
    message) came after the chain lock, while a reply holds its message's row lock and then waits for the chain:
    PostgreSQL found the deadlock and failed the tag (bench-load, 300 people on one inbox page)."""
    if session.new or session.dirty or session.deleted:
        session.flush()


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    **detail: Any,
) -> AuditLog:
    """Add an audit row inside the caller's transaction, so the change and its record commit together."""
    row = AuditLog(
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id not in (None, "") else "",
        detail=_jsonable(detail),
        client_ip=(actor.client_ip or "")[:64],
        user_agent=(actor.user_agent or "")[:300],
    )
    _changes_first(session)
    chain.seal_audit(session, row)  # takes the chain's lock: it is held until this transaction ends
    session.add(row)
    _mark(session, (action,))
    return row


def record_many(session: Session, actor: Actor, entries: list[tuple[str, str, Any, dict[str, Any]]]) -> None:
    """`record` for many rows in one go (action, object type, object id, detail): sealed with one advance of the
    chain and written with one bulk insert, for batch work such as inbox rules applied to a page of messages."""
    if not entries:
        return
    from sqlalchemy import insert

    _changes_first(session)
    now = datetime.now(timezone.utc)
    rows = [{"at": now, "actor_id": actor.user_id, "actor_label": actor.label, "action": action, "object_type": object_type,
             "object_id": str(object_id) if object_id not in (None, "") else "", "detail": _jsonable(detail),
             "client_ip": (actor.client_ip or "")[:64], "user_agent": (actor.user_agent or "")[:300]}
            for action, object_type, object_id, detail in entries]
    chain.seal_audit_many(session, rows)
    session.execute(insert(AuditLog.__table__), rows)
    _mark(session, (action for action, *_ in entries))


def _mark(session: Session, actions: Iterable[str]) -> None:
    """Note which domains ("tag" of "tag.create") this transaction audits, for generation() after it commits."""
    session.info["audited"] = True
    session.info.setdefault("audited_domains", set()).update(a.split(".", 1)[0] for a in actions)


_generation = 0
_domain_generation: dict[str, int] = {}


def generation(*domains: str) -> int:
    """Bumped after every committed audited change in this process: caches of slow-changing lists key on it.
    With `domains` ("tag", "user", …, the part of the action before its dot), only changes audited in those count:
    a cache of the tag list need not be dropped for every reply and tag applied to a message (issue 20: during a
    surge, every sign-in and every message action did so)."""
    if not domains:
        return _generation
    return sum(_domain_generation.get(d, 0) for d in domains)


class KeptUntilAudited(Generic[T]):
    """A slow-changing value read from the database (a menu every page load shows), kept per process until this
    process audits a change in one of `domains` (or points at another database), or for `ttl_s`, within which a
    change made in another process shows. The generation is taken before the read, so a change committed while it
    reads is not hidden."""

    def __init__(self, domains: tuple[str, ...], ttl_s: float, read: Callable[[], T]) -> None:
        self.domains, self.ttl_s, self._read = domains, ttl_s, read
        self._kept: tuple[tuple[int, int], float, T] | None = None

    def get(self) -> T:
        key = (id(get_engine()), generation(*self.domains))
        kept = self._kept
        if kept is not None and kept[0] == key and kept[1] > time.monotonic():
            return kept[2]
        value = self._read()
        self._kept = (key, time.monotonic() + self.ttl_s, value)
        return value


@event.listens_for(Session, "after_commit")
def _bump_generation(session: Session) -> None:
    global _generation
    domains = session.info.pop("audited_domains", set())
    if session.info.pop("audited", False):
        _generation += 1
        for d in domains:
            _domain_generation[d] = _domain_generation.get(d, 0) + 1


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON: the C encoder and decoder round trip (a rules page's detail names thousands of message
    ids, which a walk in Python cost more than sealing them), and the walk below for what the encoder refuses."""
    try:
        return json.loads(json.dumps(value, default=_json_default))
    except (TypeError, ValueError):
        return _jsonable_walk(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


def _jsonable_walk(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable_walk(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable_walk(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""  # matches the actor label
    object_type: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    detail: str
    client: str


def _query(f: AuditFilter):
    q = select(AuditLog)
    if f.action:
        q = q.where(col(AuditLog.action).startswith(f.action))
    if f.actor:
        q = q.where(func.lower(AuditLog.actor_label).contains(f.actor.lower()))
    if f.object_type:
        q = q.where(AuditLog.object_type == f.object_type)
    if f.since:
        q = q.where(AuditLog.at >= f.since)
    if f.until:
        q = q.where(AuditLog.at < f.until)
    return q


def _row(r: AuditLog) -> AuditRow:
    detail = ", ".join(f"{k}={v}" for k, v in (r.detail or {}).items())
    client = " · ".join(x for x in (r.client_ip, r.user_agent) if x)
    return AuditRow(r.id, r.at, r.actor_label, r.action, r.object_type, r.object_id, detail, client)


def search(f: AuditFilter, *, before_id: int | None = None, limit: int = 50) -> list[AuditRow]:
    """Newest first, keyset-paged by id."""
    with session_scope() as s:
        q = _query(f)
        if before_id:
            q = q.where(AuditLog.id < before_id)
        rows = s.exec(q.order_by(col(AuditLog.id).desc()).limit(limit)).all()
        return [_row(r) for r in rows]


def actions() -> list[str]:
    with session_scope() as s:
        return sorted(s.exec(select(AuditLog.action).distinct()).all())


def _write_csv(f: AuditFilter) -> tuple[str, int]:
    out = io.StringIO()
    w = csv_export.writer(out)  # the actor label can be whatever someone typed on the sign-in form
    w.writerow(["id", "at_utc", "actor", "action", "object_type", "object_id", "detail", "client"])
    n = 0
    with session_scope() as s:
        for r in s.exec(_query(f).order_by(col(AuditLog.id))).all():
            row = _row(r)
            w.writerow([row.id, row.at.isoformat(), row.actor_label, row.action, row.object_type, row.object_id, row.detail, row.client])
            n += 1
    return out.getvalue(), n


def export_csv(f: AuditFilter) -> str:
    return _write_csv(f)[0]


def export_for(actor: Actor, f: AuditFilter) -> str:
    """The audit-log CSV a person downloads (the audit page's export): checked, and the export itself audited."""
    require(actor, "audit.view")
    data, rows = _write_csv(f)
    with session_scope() as s:
        record(s, actor, "audit.export", "audit_log", "", rows=rows)
    return data


def count(actions_: Iterable[str] = ()) -> int:
    with session_scope() as s:
        q = select(func.count()).select_from(AuditLog)
        acts = list(actions_)
        if acts:
            q = q.where(col(AuditLog.action).in_(acts))
        return s.exec(q).one()
