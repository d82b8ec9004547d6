"""Sign-in policy set by an admin: which roles must use two-factor, and whether password sign-in is for everyone or
only for break-glass admins (for when single sign-on is down). Stored in the audited settings store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import User
from govsocial_app.services import settings_store
from govsocial_app.services.authz import ROLES, Actor, require
from govsocial_app.services.identity.errors import IdentityError

TWO_FACTOR_ROLES = "identity.two_factor_roles"
PASSWORD_SIGN_IN = "identity.password_sign_in"  # "everyone" or "break_glass"
BREAK_GLASS_USERS = "identity.break_glass_user_ids"
PASSWORD_MODES = ("everyone", "break_glass")


@dataclass(frozen=True)
class SignInPolicy:
    two_factor_roles: tuple[str, ...] = ()
    password_sign_in: str = "everyone"
    break_glass_user_ids: tuple[int, ...] = ()

    def allows_password(self, user_id: int) -> bool:
        return self.password_sign_in == "everyone" or user_id in self.break_glass_user_ids


def get_policy(session: Session | None = None) -> SignInPolicy:
    # One query for the three settings: every password sign-in reads the policy (a surge of sign-ins is a surge of these).
    values = settings_store.get_many((TWO_FACTOR_ROLES, PASSWORD_SIGN_IN, BREAK_GLASS_USERS), session=session)
    roles = values.get(TWO_FACTOR_ROLES) or []
    mode = values.get(PASSWORD_SIGN_IN) or "everyone"
    ids = values.get(BREAK_GLASS_USERS) or []
    return SignInPolicy(
        tuple(r for r in ROLES if r in roles),
        mode if mode in PASSWORD_MODES else "everyone",
        tuple(int(i) for i in ids),
    )


def set_policy(policy: SignInPolicy, actor: Actor, *, sso_enabled: bool) -> None:
    """Save the policy (admins only, audited). Password sign-in can be limited to break-glass admins only while
    single sign-on is configured, and only with at least one active break-glass admin, so nobody is locked out."""
    require(actor, "settings.manage")
    unknown = [r for r in policy.two_factor_roles if r not in ROLES]
    if unknown:
        raise IdentityError("Unknown role {role}.", role=unknown[0])
    if policy.password_sign_in not in PASSWORD_MODES:
        raise IdentityError("Choose whether everyone or only break-glass admins may sign in with a password.")
    with session_scope() as s:
        admins = set(s.exec(select(User.id).where(
            col(User.id).in_(policy.break_glass_user_ids or [-1]), User.role == "admin", col(User.is_active).is_(True),
            col(User.deleted_at).is_(None),
        )).all())
        if set(policy.break_glass_user_ids) - admins:
            raise IdentityError("Break-glass accounts must be active admins.")
        if policy.password_sign_in == "break_glass":
            if not sso_enabled:
                raise IdentityError("Set up single sign-on before turning password sign-in off.")
            if not admins:
                raise IdentityError("Choose at least one break-glass admin, or nobody could sign in while single sign-on is down.")
        old = get_policy(s)
        if old.two_factor_roles != policy.two_factor_roles:
            settings_store.put(s, TWO_FACTOR_ROLES, list(policy.two_factor_roles), actor, audit_action="identity.two_factor_roles",
                               old=list(old.two_factor_roles), new=list(policy.two_factor_roles))
        if old.password_sign_in != policy.password_sign_in:
            settings_store.put(s, PASSWORD_SIGN_IN, policy.password_sign_in, actor, audit_action="identity.password_sign_in",
                               old=old.password_sign_in, new=policy.password_sign_in)
        if old.break_glass_user_ids != policy.break_glass_user_ids:
            settings_store.put(s, BREAK_GLASS_USERS, list(policy.break_glass_user_ids), actor, audit_action="identity.break_glass",
                               old=list(old.break_glass_user_ids), new=list(policy.break_glass_user_ids))


def is_break_glass(user_id: int, session: Session | None = None) -> bool:
    return user_id in get_policy(session).break_glass_user_ids


def password_allowed(user_id: int, session: Session | None = None) -> bool:
    """May this user sign in with a password? (Checked after the password, so the answer reveals nothing.)"""
    return get_policy(session).allows_password(user_id)


def two_factor_required(role: str, session: Session | None = None) -> bool:
    return role in get_policy(session).two_factor_roles
