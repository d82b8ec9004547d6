"""VIP lists (reporters, elected officials, partner agencies): lists, members, and CSV import."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session, col, func, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import VipList, VipMember
from govsocial_app.services import audit, bus
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import InboxChanged

MAX_IMPORT_ROWS = 5000


def normalize_handle(handle: str) -> str:
    return (handle or "").strip().lstrip("@").lower()


@dataclass(frozen=True)
class VipListSummary:
    id: int
    name: str
    members: int


def lists() -> list[VipListSummary]:
    with session_scope() as s:
        rows = s.exec(
            select(VipList.id, VipList.name, func.count(VipMember.id))
            .join(VipMember, (VipMember.list_id == VipList.id) & col(VipMember.deleted_at).is_(None), isouter=True)
            .where(col(VipList.deleted_at).is_(None))
            .group_by(VipList.id, VipList.name)
            .order_by(VipList.name)
        ).all()
        return [VipListSummary(i, n, c) for i, n, c in rows]


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise UserError("A VIP list needs a name.")
    if len(name) > 80:
        raise UserError("VIP list names are at most 80 characters.")
    return name


def _live_list(s: Session, list_id: int) -> VipList:
    row = s.get(VipList, list_id)
    if row is None or row.deleted_at is not None:
        raise UserError("That VIP list does not exist.")
    return row


def create_list(name: str, actor: Actor) -> int:
    require(actor, "vip.edit")
    name = _name(name)
    with session_scope() as s:
        if s.exec(select(VipList).where(func.lower(VipList.name) == name.lower(), col(VipList.deleted_at).is_(None))).first():
            raise UserError(f"There is already a VIP list called {name}.")
        row = VipList(name=name)
        s.add(row)
        s.flush()
        audit.record(s, actor, "vip.list_create", "vip_list", row.id, name=name)
        return row.id


def rename_list(list_id: int, name: str, actor: Actor) -> None:
    require(actor, "vip.edit")
    name = _name(name)
    with session_scope() as s:
        row = _live_list(s, list_id)
        old, row.name = row.name, name
        audit.record(s, actor, "vip.list_rename", "vip_list", list_id, old=old, new=name)
    bus.publish(InboxChanged(everything=True))


def delete_list(list_id: int, actor: Actor) -> None:
    """Soft delete: the list and its members stay in the database for the record."""
    require(actor, "vip.edit")
    with session_scope() as s:
        row = _live_list(s, list_id)
        row.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "vip.list_delete", "vip_list", list_id, name=row.name)
    bus.publish(InboxChanged(everything=True))


def _add(s: Session, list_id: int, network: str, handle: str, display_name: str, actor: Actor) -> bool:
    handle = normalize_handle(handle)
    exists = s.exec(
        select(VipMember).where(VipMember.list_id == list_id, VipMember.network == network, VipMember.handle == handle, col(VipMember.deleted_at).is_(None))
    ).first()
    if exists:
        return False
    s.add(VipMember(list_id=list_id, network=network, handle=handle, display_name=display_name[:200], added_by=actor.user_id))
    return True


def add_member(list_id: int, network: str, handle: str, display_name: str, actor: Actor) -> bool:
    require(actor, "vip.edit")
    if not normalize_handle(handle) or not network:
        raise UserError("A VIP needs a network and a handle.")
    with session_scope() as s:
        row = _live_list(s, list_id)
        added = _add(s, list_id, network, handle, display_name, actor)
        if added:
            audit.record(s, actor, "vip.member_add", "vip_list", list_id, list=row.name, network=network, handle=normalize_handle(handle))
    bus.publish(InboxChanged(everything=True))
    return added


@dataclass(frozen=True)
class ImportResult:
    added: int
    already: int
    errors: list[str]


def import_csv(list_id: int, data: str, actor: Actor, networks: tuple[str, ...]) -> ImportResult:
    """Import `network,handle[,name]` rows. Any bad row rejects the whole file, with a message per row,
    so nothing is ever half-imported."""
    require(actor, "vip.edit")
    reader = csv.reader(io.StringIO(data or ""))
    rows, errors = [], []
    for lineno, row in enumerate(reader, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if lineno == 1 and [c.strip().lower() for c in row[:2]] == ["network", "handle"]:
            continue
        if len(row) < 2:
            errors.append(f"Row {lineno}: expected network and handle, found {len(row)} column.")
            continue
        network, handle = row[0].strip().lower(), normalize_handle(row[1])
        name = row[2].strip() if len(row) > 2 else ""
        if network not in networks:
            errors.append(f"Row {lineno}: unknown network '{row[0].strip()}' (use one of {', '.join(networks)}).")
        elif not handle or len(handle) > 200 or any(ch.isspace() for ch in handle):
            errors.append(f"Row {lineno}: '{row[1].strip()}' is not a valid handle.")
        else:
            rows.append((network, handle, name))
        if len(rows) + len(errors) > MAX_IMPORT_ROWS:
            raise UserError(f"Import at most {MAX_IMPORT_ROWS} rows at a time.")
    if errors:
        return ImportResult(0, 0, errors)
    if not rows:
        raise UserError("The file has no rows to import.")
    added = already = 0
    with session_scope() as s:
        row = _live_list(s, list_id)
        for network, handle, name in dict.fromkeys(rows):
            if _add(s, list_id, network, handle, name, actor):
                added += 1
            else:
                already += 1
        audit.record(s, actor, "vip.import", "vip_list", list_id, list=row.name, added=added, already=already)
    bus.publish(InboxChanged(everything=True))
    return ImportResult(added, already, [])
