"""The sign-in steps a person goes through, on top of oidc, totp, sessions and policy.

Password: `password_sign_in` checks the password (auth), then the admin's policy (password sign-in may be for
break-glass admins only), then whether a second factor is due (totp.start_challenge): it returns either an open
session or a challenge for the sign-in page's code step.

Single sign-on: the browser goes to /auth/oidc/start (api_identity.py), `start_url` sends it to the provider, and the
provider sends it back to /auth/oidc/callback, where `finish_callback` completes the flow. A plain HTTP route cannot
write the tab's LocalStorage (where the session token lives), so the outcome, a session token or a refusal, is stored
encrypted under a one-time ticket that lives a minute, and the browser goes to /login?sso=<ticket>; the sign-in page
redeems it with `redeem`. The ticket is single-use and the session token never appears in a URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from collections.abc import Mapping

from sqlalchemy import delete, update
from sqlmodel import col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import SignInHandoff, User
from govsocial_app.services import audit, auth, crypto
from govsocial_app.services.authz import Actor
from govsocial_app.services.identity import errors, oidc, policy, sessions, totp
from govsocial_app.services.identity.oidc_config import OidcConfig, OidcConfigError, current

log = logging.getLogger(__name__)

HANDOFF_TTL = timedelta(seconds=60)
GENERIC_MSGID = "Sign-in did not work. Try again."
PASSWORD_OFF_MSGID = "Password sign-in is turned off on this server. Use “Sign in with {provider}”."


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def sso_config() -> OidcConfig | None:
    """The configured provider, or None (not configured, or configured wrongly: that is logged, and the page then
    simply offers no single sign-on button rather than failing)."""
    try:
        return current()
    except OidcConfigError as exc:
        log.error("single sign-on is configured wrongly and is off: %s", exc)
        return None


# ---------------------------------------------------------------- password


@dataclass(frozen=True)
class PasswordOutcome:
    token: str = ""  # an open session's bearer token, when no second step is needed
    user: auth.SignedInUser | None = None
    challenge: totp.Challenge | None = None  # else: the code step ("verify") or enrolment ("enrol")


def password_sign_in(email: str, password: str, client_ip: str = "", user_agent: str = "") -> PasswordOutcome:
    """Password, then policy, then second factor. Raises auth.AuthFailed (a msgid and params) on refusal.
    After the password check, one transaction: the policy is read once for both checks, and the session opens (or
    the challenge is stored) with its audit row, so a surge of sign-ins costs two commits each, not five."""
    _token, user = auth.sign_in(email, password, client_ip, user_agent, open_session=False)
    actor = user.actor(client_ip, user_agent)
    refused = False
    with session_scope() as s:
        rules = policy.get_policy(s)
        if not rules.allows_password(user.id):
            # Checked after the password, so a refusal reveals nothing about accounts to someone without one.
            audit.record(s, actor, "auth.sign_in_refused", "user", user.id, reason="password sign-in off")
            refused = True
        else:
            challenge = totp.start_challenge(user.id, client_ip=client_ip, user_agent=user_agent, session=s, sign_in_policy=rules)
            if challenge is not None:
                audit.record(s, actor, "auth.2fa_challenge", "user", user.id, purpose=challenge.purpose)
                outcome = PasswordOutcome(user=user, challenge=challenge)
            else:
                row = s.get(User, user.id)
                token = sessions.open_session(s, row, client_ip=client_ip, user_agent=user_agent, method="password")
                audit.record(s, actor, "auth.sign_in", "user", user.id, method="password")
                outcome = PasswordOutcome(token=token, user=user)
    if refused:
        cfg = sso_config()
        raise auth.AuthFailed(PASSWORD_OFF_MSGID, provider=cfg.provider_name if cfg else "single sign-on")
    return outcome


# ---------------------------------------------------------------- single sign-on hand-off


@dataclass(frozen=True)
class Redeemed:
    token: str = ""  # the session, when the sign-in worked
    next: str = ""  # where the person was going
    msgid: str = ""  # else the refusal, to translate
    params: dict = field(default_factory=dict)


def _issue(payload: dict) -> str:
    ticket = secrets.token_urlsafe(32)
    with session_scope() as s:
        s.add(SignInHandoff(ticket_hash=_hash(ticket), payload_enc=crypto.encrypt_json(payload), expires_at=_now() + HANDOFF_TTL))
    return ticket


def refusal_ticket(exc: errors.IdentityError) -> str:
    return _issue({"msgid": exc.msgid, "params": {k: str(v) for k, v in exc.params.items()}})


def redeem(ticket: str) -> Redeemed | None:
    """The outcome behind a ticket, once; None for an unknown, used or expired ticket."""
    if not ticket or len(ticket) > 100:
        return None
    now = _now()
    with session_scope() as s:
        taken = s.exec(update(SignInHandoff).where(col(SignInHandoff.ticket_hash) == _hash(ticket), col(SignInHandoff.used_at).is_(None))
                       .values(used_at=now)).rowcount
        row = s.exec(select(SignInHandoff).where(SignInHandoff.ticket_hash == _hash(ticket))).first()
        if not taken or row is None or row.expires_at <= now:
            return None
        data = crypto.decrypt_json(row.payload_enc)
        s.exec(delete(SignInHandoff).where(col(SignInHandoff.expires_at) < now - timedelta(hours=1))  # housekeeping
               .execution_options(synchronize_session=False))
    return Redeemed(token=data.get("token", ""), next=data.get("next", ""), msgid=data.get("msgid", ""), params=data.get("params", {}))


async def start_url(return_to: str, client_ip: str = "", user_agent: str = "") -> str:
    """Where to send the browser to begin: the provider's authorization URL, or /login?sso=<ticket> with the
    refusal (not configured, provider down) to show on the sign-in page."""
    try:
        req = await oidc.begin_sign_in(sso_config(), return_to=return_to, client_ip=client_ip, user_agent=user_agent)
    except errors.IdentityError as exc:
        return "/login?sso=" + await asyncio.to_thread(refusal_ticket, exc)
    return req.url


async def finish_callback(params: Mapping[str, str], client_ip: str = "", user_agent: str = "") -> str:
    """Complete the provider's redirect back; returns the relative address to send the browser to (always
    /login?sso=<ticket>: the sign-in page stores the session in the tab, then goes on to `next`)."""
    cfg = sso_config()
    try:
        if cfg is None:
            raise errors.SsoNotConfigured()
        done = await oidc.complete_sign_in(params, cfg, client_ip=client_ip, user_agent=user_agent)
    except errors.IdentityError as exc:
        if isinstance(exc, errors.SsoNotConfigured):
            def note() -> None:
                with session_scope() as s:
                    audit.record(s, Actor(None, "single sign-on", None, client_ip, user_agent), "auth.sso_failed", "user", "",
                                 reason=exc.code)
            await asyncio.to_thread(note)
        ticket = await asyncio.to_thread(refusal_ticket, exc)
    except Exception:  # noqa: BLE001 - never a trace for the person: log it, audit it, say it plainly
        log.exception("single sign-on callback failed unexpectedly")

        def note_unexpected() -> None:
            with session_scope() as s:
                audit.record(s, Actor(None, "single sign-on", None, client_ip, user_agent), "auth.sso_failed", "user", "",
                             reason="unexpected", issuer=cfg.issuer if cfg else "")
        await asyncio.to_thread(note_unexpected)
        ticket = await asyncio.to_thread(refusal_ticket, errors.IdentityError())
    else:
        ticket = await asyncio.to_thread(_issue, {"token": done.token, "next": done.return_to})
    return "/login?sso=" + ticket


def purge(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete finished or abandoned sign-in leftovers: provider round trips, hand-off tickets and second-step
    challenges (the hourly identity job). They hold nothing worth keeping; an unanswered /auth/oidc/start leaves one."""
    from govsocial_app.db.models import SignInChallenge

    cutoff = _now() - older_than
    removed = oidc.purge_login_states(older_than)
    end_unclaimed_sessions()
    with session_scope() as s:
        removed += s.exec(delete(SignInHandoff).where(col(SignInHandoff.expires_at) < cutoff)).rowcount
        removed += s.exec(delete(SignInChallenge).where(col(SignInChallenge.expires_at) < cutoff)).rowcount
    return removed


def end_unclaimed_sessions() -> int:
    """End the sessions that single sign-on opened for a browser that never came back for them (its hand-off ticket
    expired unused: the tab was closed, or the redirect lost). Nobody holds such a session; it should not linger."""
    from govsocial_app.db.models import AuthSession

    now = _now()
    ended = 0
    with session_scope() as s:
        rows = s.exec(select(SignInHandoff).where(col(SignInHandoff.used_at).is_(None), col(SignInHandoff.expires_at) <= now)).all()
        for row in rows:
            token = crypto.decrypt_json(row.payload_enc).get("token", "")
            if token:
                ended += s.exec(update(AuthSession).where(col(AuthSession.token_hash) == sessions.token_hash(token),
                                                          col(AuthSession.revoked_at).is_(None)).values(revoked_at=now)).rowcount
            row.used_at = now  # dealt with
    return ended
