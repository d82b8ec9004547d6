"""Key/value settings stored in the database, each change audited."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Setting, utcnow
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor


def get(key: str, default: Any = None, session: Session | None = None) -> Any:
    if session is not None:
        row = session.get(Setting, key)
        return default if row is None else row.value
    with session_scope() as s:
        row = s.get(Setting, key)
        return default if row is None else row.value


def get_many(keys: tuple[str, ...], session: Session | None = None) -> dict[str, Any]:
    """The stored values of these keys in one query; a key never set is absent."""
    if session is None:
        with session_scope() as s:
            return get_many(keys, s)
    return {row.key: row.value for row in session.exec(select(Setting).where(col(Setting.key).in_(keys)))}


def put(session: Session, key: str, value: Any, actor: Actor, *, audit_action: str = "setting.update", **detail) -> None:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value, updated_by=actor.user_id)
        session.add(row)
    else:
        row.value = value
        row.updated_at = utcnow()
        row.updated_by = actor.user_id
    audit.record(session, actor, audit_action, "setting", key, **(detail or {"value": value}))


def set_value(key: str, value: Any, actor: Actor, **detail) -> None:
    with session_scope() as s:
        put(s, key, value, actor, **detail)
