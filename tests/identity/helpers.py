"""Small helpers shared by the sign-in tests."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

# zxcvbn-strong, so these users survive a stricter password policy too.
PASSWORD = "plum-kettle-harbour-vivid-71"


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def audit_rows(action: str) -> list:
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import AuditLog

    with session_scope() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all())
