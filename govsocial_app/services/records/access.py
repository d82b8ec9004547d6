"""Who is a records officer: everyone with the `records` role, and the admins an admin has granted it to."""

from __future__ import annotations

from sqlmodel import Session, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import User
from govsocial_app.services import audit, settings_store
from govsocial_app.services.authz import Actor, PermissionDenied, require
from govsocial_app.services.errors import UserError

GRANTS = "records.officer_admins"


def granted_admins(session: Session | None = None) -> set[int]:
    return {int(x) for x in (settings_store.get(GRANTS, [], session=session) or [])}


def is_officer(actor: Actor | None, session: Session | None = None) -> bool:
    if actor is None:
        return False
    if actor.role in ("records", "system"):
        return True
    return actor.role == "admin" and actor.user_id is not None and actor.user_id in granted_admins(session)


def require_officer(actor: Actor | None, session: Session | None = None) -> Actor:
    """The server-side check every records service runs first: the role, then (for admins) the grant."""
    require(actor, "records.manage")
    if not is_officer(actor, session):
        raise PermissionDenied("records.manage", actor.role if actor else None)
    return actor  # type: ignore[return-value]


def set_grant(user_id: int, granted: bool, actor: Actor) -> None:
    """An admin grants or withdraws the records-officer permission of an admin."""
    require(actor, "records.grant")
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None or user.deleted_at is not None or user.role != "admin":
            raise UserError("Only an admin can be granted the records officer permission; others take the Records role.")
        ids = granted_admins(s)
        ids = ids | {user_id} if granted else ids - {user_id}
        settings_store.put(s, GRANTS, sorted(ids), actor, audit_action="records.officer_grant" if granted else "records.officer_revoke",
                           user_id=user_id)


def officer_admin_ids() -> list[int]:
    with session_scope() as s:
        ids = granted_admins(s)
        return sorted(u for u in s.exec(select(User.id).where(User.role == "admin")).all() if u in ids)


__all__ = ["is_officer", "require_officer", "set_grant", "granted_admins", "officer_admin_ids", "audit"]
