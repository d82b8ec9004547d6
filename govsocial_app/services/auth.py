"""Sign-in with argon2 passwords, rate-limited attempts, and revocable browser sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, func, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuthSession, LoginAttempt, User
from govsocial_app.services import audit
from govsocial_app.services.authz import ROLES, Actor

SESSION_DAYS = 14
MAX_FAILS_PER_EMAIL = 5
MAX_FAILS_PER_IP = 30
FAIL_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Verifying against a dummy hash when the email is unknown keeps timing the same,
# so response time does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AuthFailed(Exception):
    """A sign-in failure with a message safe to show the user."""


@dataclass(frozen=True)
class SignedInUser:
    id: int
    email: str
    display_name: str
    role: str
    locale: str
    theme: str
    timezone: str

    def actor(self, client_ip: str = "", user_agent: str = "") -> Actor:
        return Actor(self.id, f"{self.display_name} <{self.email}>", self.role, client_ip, user_agent)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(dt: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone=True columns; they are UTC.
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValueError(f"The password must be at least {MIN_PASSWORD} characters long.")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signed_in(u: User) -> SignedInUser:
    return SignedInUser(u.id, u.email, u.display_name, u.role, u.locale, u.theme, u.timezone)


def _recent_failures(s: Session, email: str, ip: str) -> tuple[int, int]:
    since = _now() - FAIL_WINDOW
    by_email = s.exec(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.email == email, LoginAttempt.at >= since, col(LoginAttempt.success).is_(False)
        )
    ).one()
    by_ip = 0
    if ip:
        by_ip = s.exec(
            select(func.count()).select_from(LoginAttempt).where(
                LoginAttempt.client_ip == ip, LoginAttempt.at >= since, col(LoginAttempt.success).is_(False)
            )
        ).one()
    return by_email, by_ip


def sign_in(email: str, password: str, client_ip: str = "", user_agent: str = "") -> tuple[str, SignedInUser]:
    """Check the password and open a session. Returns (bearer token, user)."""
    email = normalize_email(email)
    if not email or not password:
        raise AuthFailed("Enter your email and password.")
    with session_scope() as s:
        by_email, by_ip = _recent_failures(s, email, client_ip)
        if by_email >= MAX_FAILS_PER_EMAIL or by_ip >= MAX_FAILS_PER_IP:
            raise AuthFailed("Too many failed sign-in attempts. Wait 15 minutes and try again.")
        user = s.exec(select(User).where(User.email == email, col(User.deleted_at).is_(None))).first()
        ok = False
        try:
            ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and not user.is_active:
            ok = False
        s.add(LoginAttempt(email=email, client_ip=client_ip[:64], success=ok))
        if not ok:
            audit.record(s, Actor(None, email, None, client_ip, user_agent), "auth.sign_in_failed", "user", "")
            failed = True
        else:
            failed = False
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            token = secrets.token_urlsafe(32)
            s.add(
                AuthSession(
                    token_hash=_token_hash(token),
                    user_id=user.id,
                    expires_at=_now() + timedelta(days=SESSION_DAYS),
                    client_ip=client_ip[:64],
                    user_agent=user_agent[:300],
                )
            )
            audit.record(s, _signed_in(user).actor(client_ip, user_agent), "auth.sign_in", "user", user.id)
            result = (token, _signed_in(user))
    if failed:
        raise AuthFailed("That email and password do not match an active account.")
    return result


def user_for_token(token: str) -> SignedInUser | None:
    """The user behind a bearer token, or None when it is unknown, expired, revoked or the user is gone."""
    if not token:
        return None
    with session_scope() as s:
        row = s.exec(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == _token_hash(token))
        ).first()
        if row is None:
            return None
        sess, user = row
        now = _now()
        if sess.revoked_at or _aware(sess.expires_at) <= now or not user.is_active or user.deleted_at:
            return None
        # Touch at most once a minute to keep writes off the hot path.
        if now - _aware(sess.last_seen_at) > timedelta(minutes=1):
            sess.last_seen_at = now
        return _signed_in(user)


def sign_out(token: str, actor: Actor) -> None:
    with session_scope() as s:
        sess = s.exec(select(AuthSession).where(AuthSession.token_hash == _token_hash(token))).first()
        if sess and not sess.revoked_at:
            sess.revoked_at = _now()
            audit.record(s, actor, "auth.sign_out", "user", sess.user_id)


def create_user(
    email: str, display_name: str, password: str, role: str, actor: Actor, *, locale: str = "en", check_password: bool = True
) -> int:
    email = normalize_email(email)
    if "@" not in email or len(email) > 320:
        raise ValueError("Enter a valid email address.")
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    display_name = (display_name or "").strip()
    if not display_name:
        raise ValueError("Enter a display name.")
    if check_password:
        validate_password(password)
    with session_scope() as s:
        if s.exec(select(User).where(User.email == email)).first():
            raise ValueError(f"A user with the email {email} already exists.")
        user = User(
            email=email,
            display_name=display_name[:120],
            password_hash=hash_password(password),
            role=role,
            locale=locale,
            ical_token=secrets.token_urlsafe(24),
        )
        s.add(user)
        s.flush()
        audit.record(s, actor, "user.create", "user", user.id, email=email, role=role)
        return user.id


def update_preferences(user_id: int, actor: Actor, **prefs: str) -> None:
    allowed = {"locale": ("en", "ar"), "theme": ("light", "dark"), "timezone": None}
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            raise ValueError("No such user.")
        changes = {}
        for key, value in prefs.items():
            if key not in allowed:
                raise ValueError(f"Unknown preference {key!r}")
            choices = allowed[key]
            if choices and value not in choices:
                raise ValueError(f"{key} must be one of {', '.join(choices)}")
            if key == "timezone":
                from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

                try:
                    ZoneInfo(value)
                except (ZoneInfoNotFoundError, ValueError) as exc:
                    raise ValueError(f"Unknown time zone {value!r}") from exc
            if getattr(user, key) != value:
                changes[key] = value
                setattr(user, key, value)
        if changes:
            audit.record(s, actor, "user.preferences", "user", user_id, **changes)


@dataclass(frozen=True)
class UserSummary:
    id: int
    email: str
    display_name: str
    role: str
    is_active: bool


def list_users(include_inactive: bool = False) -> list[UserSummary]:
    with session_scope() as s:
        q = select(User).where(col(User.deleted_at).is_(None)).order_by(User.display_name)
        if not include_inactive:
            q = q.where(col(User.is_active).is_(True))
        return [UserSummary(u.id, u.email, u.display_name, u.role, u.is_active) for u in s.exec(q).all()]


def set_role(user_id: int, role: str, actor: Actor) -> None:
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}")
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            raise ValueError("No such user.")
        if user.id == actor.user_id and role != "admin":
            raise ValueError("You cannot remove your own admin role.")
        old, user.role = user.role, role
        audit.record(s, actor, "user.role", "user", user_id, old=old, new=role)


def set_active(user_id: int, active: bool, actor: Actor) -> None:
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            raise ValueError("No such user.")
        if user.id == actor.user_id and not active:
            raise ValueError("You cannot deactivate yourself.")
        user.is_active = active
        if not active:
            for sess in s.exec(select(AuthSession).where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))):
                sess.revoked_at = _now()
        audit.record(s, actor, "user.activate" if active else "user.deactivate", "user", user_id)
