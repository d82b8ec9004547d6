"""Roles and permissions: the one place that says who may do what. Every handler and route asks here."""

from __future__ import annotations

from dataclasses import dataclass

# "records": the records officer (issue 16) — holds, retention, disposal approval, public-records requests.
ROLES = ("admin", "manager", "publisher", "responder", "records", "viewer")

_ALL = set(ROLES)
_STAFF = {"admin", "manager", "publisher", "responder"}

PERMISSIONS: dict[str, set[str]] = {
    "inbox.view": _ALL,
    "inbox.act": _STAFF,  # tag, assign, complete, notes
    "inbox.reply": _STAFF,
    "vip.edit": {"admin", "manager"},
    "views.save": _ALL,
    "publish.view": _ALL,
    "publish.compose": {"admin", "manager", "publisher"},
    "publish.approve": {"admin", "manager"},
    "publish.bypass": {"admin"},
    "publish.pause": {"admin", "manager", "publisher", "responder"},  # narrowed by the pause-roles setting
    "campaigns.edit": {"admin", "manager", "publisher"},
    "alerts.view": _ALL,
    "alerts.ack": _STAFF,
    "alerts.configure": {"admin", "manager"},
    "keywords.edit": {"admin", "manager"},
    "reports.view": _ALL,
    "reports.schedule": {"admin", "manager", "publisher"},
    "listening.edit": {"admin", "manager", "publisher"},
    "audit.view": {"admin"},
    "users.manage": {"admin"},
    "profiles.manage": {"admin"},
    "settings.manage": {"admin"},
    "workflows.manage": {"admin"},
    "self.edit": _ALL,  # own language, theme, devices
    # The records officer. Admins hold it only once granted (services/records/access.py checks the grant).
    "records.manage": {"admin", "records"},
    "records.grant": {"admin"},
    # The comment policy and moderation (issue 16 items 1-4). Every role reads the policy; records officers and
    # admins write it. Staff moderate; a second person (admin or manager) confirms delete and block when required.
    "policy.view": _ALL,
    "policy.edit": {"admin", "records"},
    "moderation.act": _STAFF,
    "moderation.confirm": {"admin", "manager"},
    "moderation.configure": {"admin"},
    # Inbox automation (issue 17): managers curate saved replies, teams, rules and response-time targets;
    # anyone on staff uses saved replies and assigns.
    "replies.use": _STAFF,
    "replies.curate": {"admin", "manager"},
    "teams.manage": {"admin", "manager"},
    "rules.manage": {"admin", "manager"},
    "targets.manage": {"admin", "manager"},
}


class PermissionDenied(Exception):
    MSGID = "Your role ({role}) may not do this ({permission})."

    def __init__(self, permission: str, role: str | None, lang: str = "en"):
        super().__init__(self.MSGID.format(role=role or "signed out", permission=permission))
        self.permission = permission
        self.role = role
        self.lang = lang  # the reader's language, so the app's error handler can say it in their words


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from which client: carried into every service call that changes data."""

    user_id: int | None
    label: str
    role: str | None
    client_ip: str = ""
    user_agent: str = ""

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(user_id=None, label=label, role="system")


def can(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return role == "system" or (role is not None and role in PERMISSIONS[permission])


def require(actor: Actor | None, permission: str) -> Actor:
    """Raise PermissionDenied unless `actor` holds `permission`; return the actor for chaining."""
    role = actor.role if actor else None
    if actor is None or not can(role, permission):
        raise PermissionDenied(permission, role)
    return actor
