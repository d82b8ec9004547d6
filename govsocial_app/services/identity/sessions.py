"""Your sessions: each signed-in browser with its device, address, first and last seen; revoke one or all of them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuthSession, SessionSignIn, User
from govsocial_app.services import audit, crypto
from govsocial_app.services.authz import Actor, PermissionDenied, can
from govsocial_app.services.identity.errors import IdentityError

# services/auth.py's lifetime until the session settings land there (GOVSOCIAL_SESSION_MAX_DAYS / _IDLE_HOURS);
# read through getattr so this module works on either side of that change.
_DEFAULT_MAX_DAYS = 14.0

METHODS = ("password", "password+totp", "password+recovery", "sso")


@dataclass(frozen=True)
class SessionInfo:
    id: int
    browser: str  # "Chrome 124"
    os: str  # "Android 14"
    device: str  # "Pixel 8", or "" for a desktop
    client_ip: str
    first_seen: datetime
    last_seen: datetime
    method: str  # one of METHODS; sessions opened before this table existed count as "password"
    provider: str  # the identity provider's display name for "sso"
    current: bool  # the session this list was asked from

    @property
    def label(self) -> str:
        """"Chrome 124 on Android 14 (Pixel 8)": one line for the list."""
        text = f"{self.browser} on {self.os}" if self.os else self.browser
        return f"{text} ({self.device})" if self.device else text


def _now() -> datetime:
    return datetime.now(timezone.utc)


def token_hash(token: str) -> str:
    # The same digest services/auth.py stores, so sessions opened here are found by auth.user_for_token.
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=512)
def describe_device(user_agent: str) -> tuple[str, str, str]:
    """(browser, OS, device) from a user agent string, by uap-python's maintained rules."""
    import ua_parser

    if not user_agent:
        return ("Unknown browser", "", "")
    r = ua_parser.parse(user_agent[:300])
    ua, os_, dev = r.user_agent, r.os, r.device

    def version(part) -> str:
        return " ".join(x for x in (part.family, part.major) if x) if part else ""

    known = ua is not None and ua.family != "Other"
    # A script keeps its own product name (curl, python-httpx), so a stolen token used from one stands out.
    browser = version(ua) if known else (user_agent.split("/", 1)[0].strip()[:40] or "Unknown browser")
    if not known and ("(" in browser or " " in browser):
        browser = "Unknown browser"
    os_name = version(os_) if os_ and os_.family != "Other" else ""
    device = dev.family if dev and dev.family not in ("Other", "Mac", "Generic Smartphone", "Generic Feature Phone") else ""
    return (browser, os_name, device)


def _is_live(sess: AuthSession, now: datetime) -> bool:
    if sess.revoked_at is not None or sess.expires_at <= now:
        return False
    settings = get_settings()
    idle_hours = getattr(settings, "session_idle_hours", None)
    if idle_hours and now - sess.last_seen_at > timedelta(hours=idle_hours):
        return False
    max_days = getattr(settings, "session_max_days", None)
    if max_days and now - sess.created_at > timedelta(days=max_days):
        return False
    return True


def open_session(
    s: Session, user: User, *, client_ip: str = "", user_agent: str = "", method: str = "password",
    provider: str = "", id_token: str = "",
) -> str:
    """Open a browser session for `user` inside the caller's transaction and return its bearer token.
    For single sign-on, `id_token` is kept (encrypted) for the provider's logout."""
    if method not in METHODS:
        raise ValueError(f"unknown sign-in method {method!r}")
    token = secrets.token_urlsafe(32)
    now = _now()
    max_days = getattr(get_settings(), "session_max_days", None) or _DEFAULT_MAX_DAYS
    row = AuthSession(
        token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + timedelta(days=max_days), client_ip=(client_ip or "")[:64], user_agent=(user_agent or "")[:300],
    )
    s.add(row)
    s.flush()
    s.add(SessionSignIn(
        auth_session_id=row.id, method=method, provider=provider[:120],
        id_token_enc=crypto.encrypt_json({"id_token": id_token}) if id_token else "",
    ))
    return token


def _may_manage(actor: Actor, user_id: int) -> None:
    if actor.user_id != user_id and not can(actor.role, "users.manage"):
        raise PermissionDenied("users.manage", actor.role)


def list_sessions(user_id: int, actor: Actor, *, current_token: str = "") -> list[SessionInfo]:
    """The user's live sessions, most recently used first. A user sees their own; an admin anyone's."""
    _may_manage(actor, user_id)
    current = token_hash(current_token) if current_token else ""
    now = _now()
    with session_scope() as s:
        rows = s.exec(
            select(AuthSession, SessionSignIn)
            .join(SessionSignIn, col(SessionSignIn.auth_session_id) == AuthSession.id, isouter=True)
            .where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None), AuthSession.expires_at > now)
            .order_by(col(AuthSession.last_seen_at).desc(), col(AuthSession.id).desc())
        ).all()
        out = []
        for sess, how in rows:
            if not _is_live(sess, now):
                continue
            browser, os_name, device = describe_device(sess.user_agent)
            out.append(SessionInfo(
                id=sess.id, browser=browser, os=os_name, device=device, client_ip=sess.client_ip,
                first_seen=sess.created_at, last_seen=sess.last_seen_at,
                method=how.method if how else "password", provider=how.provider if how else "",
                current=bool(current) and sess.token_hash == current,
            ))
        return out


def revoke_session(session_id: int, actor: Actor) -> None:
    """End one session (the user's own, or anyone's for an admin). Its tab is refused on its next event."""
    with session_scope() as s:
        sess = s.get(AuthSession, session_id)
        if sess is None:
            raise IdentityError("That session no longer exists.")
        _may_manage(actor, sess.user_id)
        if sess.revoked_at is None:
            sess.revoked_at = _now()
            audit.record(s, actor, "auth.session_revoke", "user", sess.user_id, session_id=session_id,
                         by_admin=actor.user_id != sess.user_id)


def revoke_all(user_id: int, actor: Actor, *, keep_token: str = "") -> int:
    """End every session of the user but the one holding `keep_token` (the "sign out everywhere else" button;
    an admin passes no token and ends them all). Returns how many ended."""
    _may_manage(actor, user_id)
    keep = token_hash(keep_token) if keep_token else ""
    now = _now()
    with session_scope() as s:
        if s.get(User, user_id) is None:
            raise IdentityError("No such user.")
        ended = 0
        for sess in s.exec(select(AuthSession).where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))):
            if keep and sess.token_hash == keep:
                continue
            sess.revoked_at = now
            ended += 1
        audit.record(s, actor, "auth.sessions_revoke_all", "user", user_id, ended=ended, kept_current=bool(keep),
                     by_admin=actor.user_id != user_id)
        return ended


def sso_details(token: str) -> tuple[str, str] | None:
    """(provider name, ID token) of a session opened by single sign-on, for the provider's logout; else None."""
    if not token:
        return None
    with session_scope() as s:
        row = s.exec(
            select(SessionSignIn).join(AuthSession, col(AuthSession.id) == SessionSignIn.auth_session_id)
            .where(AuthSession.token_hash == token_hash(token), SessionSignIn.method == "sso")
        ).first()
        if row is None:
            return None
        id_token = crypto.decrypt_json(row.id_token_enc).get("id_token", "") if row.id_token_enc else ""
        return (row.provider, id_token)
