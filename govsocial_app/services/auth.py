"""Sign-in with argon2 passwords, rate-limited attempts, and revocable browser sessions."""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, event, update
from sqlalchemy import select as core_select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, func, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import AuthSession, LoginAttempt, User
from govsocial_app.services import audit, bus
from govsocial_app.services.events import SessionsChanged
from govsocial_app.services.authz import ROLES, Actor

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything, but a megabyte "password" is only a way to burn CPU
MIN_STRENGTH = 3  # zxcvbn's score, 0-4: 3 is "safely unguessable" against an online attack with throttling

# Backoff instead of lockouts. Each (address, email) pair gets FREE_PER_PAIR tries, then waits PAIR_BASE_S after its
# last failure, doubling with each further failure up to PAIR_MAX_S. A success from that address clears it. Nothing
# here depends on the email alone, so nobody can lock a named person out from another address; and one address
# spraying many emails slows down only itself.
FREE_PER_PAIR = 3
PAIR_BASE_S = 15
PAIR_MAX_S = 3600
PAIR_WINDOW = timedelta(hours=24)
FREE_PER_ADDRESS = 20
ADDRESS_BASE_S = 5
ADDRESS_MAX_S = 900
ADDRESS_WINDOW = timedelta(minutes=15)

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane), the same as the recovery codes
# (identity/totp.py). argon2-cffi's default (64 MiB, 3 passes, 4 lanes) costs ~110 ms of CPU per check here against
# ~27 ms: when the whole team signs in within ten seconds (issue 20's surge), 200 checks at the default are ~22 s of
# CPU on a 2-core server, and the surge queues behind itself. Hashes made with the old parameters still verify, and
# are rehashed with these on the person's next successful sign-in (check_needs_rehash, in sign_in).
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against a dummy hash when the email is unknown keeps timing the same,
# so response time does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
log = logging.getLogger(__name__)


class AuthFailed(Exception):
    """A sign-in failure with a message safe to show the user: `str(exc)` is the English msgid, `params` fill it."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.params = params


class PasswordRejected(ValueError):
    """A new password that breaks the rules. `str(exc)` is the English sentence; `msgid` and `params` translate it."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid, self.params = msgid, params


class TryLater(AuthFailed):
    """Too many recent failures from this address: `retry_after` seconds until the next try is accepted."""

    def __init__(self, retry_after: float):
        seconds = max(1, math.ceil(retry_after))
        if seconds < 120:
            super().__init__("Too many failed attempts. Try again in {seconds} seconds.", seconds=seconds)
        else:
            super().__init__("Too many failed attempts. Try again in {minutes} minutes.", minutes=math.ceil(seconds / 60))
        self.retry_after = seconds


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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_password(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """At least MIN_PASSWORD characters, and not easy to guess (zxcvbn: common passwords, names, dates,
    keyboard patterns, repeats, and the person's own email and name)."""
    from zxcvbn import zxcvbn

    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise PasswordRejected("The password must be at least {n} characters long.", n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected("The password must be at most {n} characters long.", n=MAX_PASSWORD)
    inputs = [x for x in user_inputs if x] + ["govsocial", get_settings().agency_name]
    for x in user_inputs:
        if "@" in x:
            inputs.extend(part for part in re.split(r"[@.\-_+]", x) if len(part) > 2)
    if zxcvbn(password[:100], user_inputs=inputs)["score"] < MIN_STRENGTH:
        raise PasswordRejected("This password is too easy to guess. Use a longer phrase of several unrelated words.")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signed_in(u: User) -> SignedInUser:
    return SignedInUser(u.id, u.email, u.display_name, u.role, u.locale, u.theme, u.timezone)


def _delay(failures: int, free: int, base: float, cap: float) -> float:
    return 0.0 if failures < free else min(cap, base * 2 ** (failures - free))


# The backoff's three counts as prepared Core statements on the transaction's connection: built through the ORM on
# every sign-in they were 8% of the web workers' Python time in bench-load's surge (py-spy, GIL holders only).
_LAST_OK = core_select(func.max(LoginAttempt.at)).where(
    LoginAttempt.email == bindparam("email"), LoginAttempt.client_ip == bindparam("ip"), col(LoginAttempt.success).is_(True))
_PAIR_FAILURES = core_select(func.count(), func.max(LoginAttempt.at)).where(
    LoginAttempt.email == bindparam("email"), LoginAttempt.client_ip == bindparam("ip"), LoginAttempt.at > bindparam("since"),
    col(LoginAttempt.success).is_(False))
_ADDRESS_FAILURES = core_select(func.count(), func.max(LoginAttempt.at)).where(
    LoginAttempt.client_ip == bindparam("ip"), LoginAttempt.at > bindparam("since"), col(LoginAttempt.success).is_(False))


def retry_after(s: Session, email: str, ip: str, now: datetime | None = None) -> float:
    """Seconds this address must still wait before trying this email again (0: go ahead)."""
    now = now or _now()
    conn = s.connection()
    last_ok = conn.execute(_LAST_OK, {"email": email, "ip": ip}).scalar()
    since = max(now - PAIR_WINDOW, last_ok) if last_ok else now - PAIR_WINDOW
    pair_n, pair_last = conn.execute(_PAIR_FAILURES, {"email": email, "ip": ip, "since": since}).one()
    addr_n, addr_last = conn.execute(_ADDRESS_FAILURES, {"ip": ip, "since": now - ADDRESS_WINDOW}).one()
    wait = 0.0
    if pair_last is not None:
        wait = max(wait, (pair_last - now).total_seconds() + _delay(pair_n, FREE_PER_PAIR, PAIR_BASE_S, PAIR_MAX_S))
    if addr_last is not None:
        wait = max(wait, (addr_last - now).total_seconds() + _delay(addr_n, FREE_PER_ADDRESS, ADDRESS_BASE_S, ADDRESS_MAX_S))
    return max(0.0, wait)


def _check_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def _demo_refused(user: User) -> bool:
    """Demo accounts share a published password: production mode never lets them in."""
    return bool(user.is_demo) and not get_settings().demo


def sign_in(email: str, password: str, client_ip: str = "", user_agent: str = "", *, open_session: bool = True) -> tuple[str, SignedInUser]:
    """Check the password and open a session. Returns (bearer token, user). With `open_session=False` only the
    password is checked (rate limit, attempt and failure audit as usual) and the token is "": the caller
    (services/identity/signin.py) applies the sign-in policy and the second factor before a session opens."""
    email = normalize_email(email)
    client_ip = (client_ip or "")[:64]
    if not email or not password:
        raise AuthFailed("Enter your email and password.")
    failure: AuthFailed | None = None
    with session_scope() as s:
        wait = retry_after(s, email, client_ip)
        if wait > 0:
            # Not verified, not recorded: trying again early neither costs us a hash nor extends anyone's wait.
            log.info("sign-in for %s from %s refused: %.0f s of backoff left", email, client_ip or "?", wait)
            raise TryLater(wait)
        user = s.exec(select(User).where(User.email == email, col(User.deleted_at).is_(None))).first()
        ok = _check_password(user, password) and user.is_active
        if ok and _demo_refused(user):
            s.add(LoginAttempt(email=email, client_ip=client_ip, success=False))
            audit.record(s, Actor(None, email, None, client_ip, user_agent), "auth.sign_in_refused", "user", user.id, reason="demo account")
            failure = AuthFailed("Demo accounts are turned off in production mode.")
        elif not ok:
            s.add(LoginAttempt(email=email, client_ip=client_ip, success=False))
            audit.record(s, Actor(None, email, None, client_ip, user_agent), "auth.sign_in_failed", "user", "")
            failure = AuthFailed("That email and password do not match an active account.")
        else:
            s.add(LoginAttempt(email=email, client_ip=client_ip, success=True))
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            if not open_session:
                return "", _signed_in(user)
            token = secrets.token_urlsafe(32)
            now = _now()
            s.add(
                AuthSession(
                    token_hash=_token_hash(token),
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(days=get_settings().session_max_days),
                    client_ip=client_ip,
                    user_agent=user_agent[:300],
                )
            )
            audit.record(s, _signed_in(user).actor(client_ip, user_agent), "auth.sign_in", "user", user.id)
            result = (token, _signed_in(user))
    if failure is not None:
        raise failure
    return result


def _touch_every(idle: timedelta) -> timedelta:
    # Rarely enough to keep writes off the hot path (every handler resolves the token), often enough that the idle
    # timeout is exact to within a few minutes.
    return min(timedelta(minutes=5), idle / 10)


_SESSION_BY_TOKEN = (
    select(AuthSession.id, AuthSession.revoked_at, AuthSession.expires_at, AuthSession.created_at, AuthSession.last_seen_at,
           User.id, User.email, User.display_name, User.role, User.locale, User.theme, User.timezone,
           User.is_active, User.deleted_at, User.is_demo)
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)
_TOUCH_SESSION = update(AuthSession).where(col(AuthSession.id) == bindparam("sess_id")).values(last_seen_at=bindparam("now"))


# ---- the sessions every event resolves, remembered per worker
#
# Every event of every signed-in person resolves its token (the guard, state/guard.py). Each worker remembers the
# rows it read for SESSION_CACHE_S and forgets all of them whenever a session or a person changes anywhere: a
# transaction that changes an AuthSession or a User (a sign-out, a revoked session, a new role, a deactivated person,
# a new password, a changed name or language) forgets them in its own process when it commits, and announces
# SessionsChanged on the bus, on which every web worker forgets them too (state/relay.py). A worker also forgets them
# whenever its subscription to that announcement (re)starts, since pub/sub keeps nothing for a subscriber that was
# away. SESSION_CACHE_S therefore only bounds a change this worker could not hear: one made while its Redis
# connection is down, or one made in the database by hand. At 10 s, a third of all events under bench-load re-read
# their session (300 people, one event each about every 3 s); at 60 s, one in twenty.
# Expiry and the idle timeout are checked against the clock on every call, remembered or not.
SESSION_CACHE_S = 60.0
_SESSION_CACHE_MAX = 20_000
_sessions: dict[tuple[object, str], tuple[float, tuple]] = {}
_sessions_lock = threading.Lock()
_sessions_gen = 0  # moves on every forget: a read that raced a change is not remembered


def forget_sessions() -> None:
    """Forget every remembered session of this process (a session or a person changed)."""
    global _sessions_gen
    with _sessions_lock:
        _sessions_gen += 1
        _sessions.clear()


def _session_row(token: str, touch: bool) -> tuple | None:
    engine = get_engine()
    key = (engine, _token_hash(token))
    hit = _sessions.get(key)
    if hit is not None and time.monotonic() - hit[0] < SESSION_CACHE_S:
        return hit[1]
    gen, read_at = _sessions_gen, time.monotonic()
    # One prepared statement on a plain connection (no ORM session, columns not whole rows), and a write only when
    # the session's last activity is due a refresh.
    with engine.connect() as conn:
        row = conn.execute(_SESSION_BY_TOKEN, {"token_hash": key[1]}).first()
        if row is None:
            return None
        row, now = tuple(row), _now()
        if touch and now - row[4] > _touch_every(_idle()) and _person_of(row, now):  # an ended session is not touched
            conn.execute(_TOUCH_SESSION, {"sess_id": row[0], "now": now})
            conn.commit()
            row = (*row[:4], now, *row[5:])
    with _sessions_lock:
        if gen == _sessions_gen:  # nothing changed while it was read
            if len(_sessions) >= _SESSION_CACHE_MAX:
                _sessions.clear()
            _sessions[key] = (read_at, row)
    return row


def user_for_token(token: str, *, touch: bool = True) -> SignedInUser | None:
    """The user behind a bearer token, or None when it is unknown, expired, revoked or the user is gone.
    `touch=False` (the live relay re-checking a session before a push) does not count as activity, so an open tab
    that only receives updates still reaches the idle timeout."""
    if not token:
        return None
    row = _session_row(token, touch)
    return _person_of(row, _now()) if row is not None else None


def _idle() -> timedelta:
    return timedelta(hours=get_settings().session_idle_hours)


def _person_of(row: tuple, now: datetime) -> SignedInUser | None:
    """The person of a session row read by _SESSION_BY_TOKEN, or None when the session or the person has ended."""
    (_sess_id, revoked_at, expires_at, created_at, last_seen_at,
     uid, email, name, role, locale, theme, tz, is_active, deleted_at, is_demo) = row
    settings = get_settings()
    ends = min(expires_at, created_at + timedelta(days=settings.session_max_days))
    if revoked_at or ends <= now or now - last_seen_at > _idle():
        return None
    if not is_active or deleted_at or (is_demo and not settings.demo):
        return None
    return SignedInUser(uid, email, name, role, locale, theme, tz)


_CHANGED = "govsocial_sessions_changed"


@event.listens_for(OrmSession, "after_flush")
def _note_changed_people(session, _flush_context) -> None:
    if any(isinstance(o, (AuthSession, User)) for o in (*session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _note_bulk_changes(state) -> None:
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) in (AuthSession.__tablename__, User.__tablename__):
        state.session.info[_CHANGED] = True


@event.listens_for(OrmSession, "after_commit")
def _announce_changed_people(session) -> None:
    if session.info.pop(_CHANGED, False):
        forget_sessions()
        bus.publish(SessionsChanged())


@event.listens_for(OrmSession, "after_rollback")
def _drop_changed_people(session) -> None:
    session.info.pop(_CHANGED, None)


def sign_out(token: str, actor: Actor) -> None:
    with session_scope() as s:
        sess = s.exec(select(AuthSession).where(AuthSession.token_hash == _token_hash(token))).first()
        if sess and not sess.revoked_at:
            sess.revoked_at = _now()
            audit.record(s, actor, "auth.sign_out", "user", sess.user_id)


def change_password(actor: Actor, current_token: str, current: str, new: str, confirm: str) -> int:
    """The signed-in person sets a new password. Every other session of theirs ends; this one stays signed in.
    Returns how many other sessions were signed out. Wrong current passwords count towards the sign-in backoff.
    Refusals raise AuthFailed (a msgid and its params, for the page to translate)."""
    ip = (actor.client_ip or "")[:64]
    if not current or not new:
        raise AuthFailed("Enter your current password and a new one.")
    if new != confirm:
        raise AuthFailed("The two new passwords are not the same.")
    with session_scope() as s:
        user = s.get(User, actor.user_id)
        if user is None or not user.is_active or user.deleted_at:
            raise AuthFailed("No such user.")
        email, name = user.email, user.display_name
        wait = retry_after(s, email, ip)
        if wait > 0:
            raise TryLater(wait)
        if not _check_password(user, current):
            s.add(LoginAttempt(email=email, client_ip=ip, success=False))
            audit.record(s, actor, "auth.password_change_failed", "user", user.id)
            wrong = True
        else:
            wrong = False
    if wrong:
        raise AuthFailed("Your current password is not right.")
    if new == current:
        raise AuthFailed("Choose a password you have not been using.")
    try:
        validate_password(new, (email, name))
    except PasswordRejected as exc:
        raise AuthFailed(exc.msgid, **exc.params) from None
    keep = _token_hash(current_token)
    with session_scope() as s:
        user = s.get(User, actor.user_id)
        user.password_hash = hash_password(new)
        now = _now()
        others = s.exec(
            select(AuthSession).where(AuthSession.user_id == user.id, col(AuthSession.revoked_at).is_(None), AuthSession.token_hash != keep)
        ).all()
        for other in others:
            other.revoked_at = now
        audit.record(s, actor, "auth.password_change", "user", user.id, other_sessions_ended=len(others))
        return len(others)


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
        validate_password(password, (email, display_name))
    with session_scope() as s:
        if s.exec(select(User).where(User.email == email)).first():
            raise ValueError(f"A user with the email {email} already exists.")
        user = User(
            email=email,
            display_name=display_name[:120],
            password_hash=hash_password(password),
            role=role,
            locale=locale,
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
