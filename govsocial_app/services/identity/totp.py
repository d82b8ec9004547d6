"""TOTP two-factor for password accounts (pyotp): enrolment with a QR code, single-use recovery codes, verification
with replay protection and a rate limit, the second sign-in step, and an admin's reset (audited, the user emailed)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuthSession, RecoveryCode, SecondFactorAttempt, SignInChallenge, User, UserTotp
from govsocial_app.i18n import translate
from govsocial_app.services import audit, auth, crypto, mailer
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.identity import errors, policy, sessions

log = logging.getLogger(__name__)

STEP_S = 30
DIGITS = 6
VALID_WINDOW = 1  # accept the code of the previous and the next 30-second step too (phone clocks drift)
RECOVERY_CODE_COUNT = 10
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
CHALLENGE_TTL = timedelta(minutes=5)

# Recovery codes are 50 random bits, so they need less stretching than a chosen password, and checking one may
# try all ten hashes: argon2id at OWASP's second recommended setting (19 MiB, 2 passes) keeps that near one
# password check.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper and typed by hand


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an app by hand ("can't scan?")
    provisioning_uri: str  # otpauth://totp/...
    qr_data_uri: str  # data:image/svg+xml,... — an <img src> for the page


@dataclass(frozen=True)
class TwoFactorStatus:
    enrolled: bool  # confirmed with a code
    pending: bool  # a secret was made but not yet confirmed
    recovery_codes_left: int
    required: bool  # the user's role must use two-factor


@dataclass(frozen=True)
class Challenge:
    token: str  # give to the browser; it comes back with the code
    purpose: str  # "verify": type a code; "enrol": the role requires two-factor and the user must set it up now
    expires_at: datetime


@dataclass(frozen=True)
class ChallengeResult:
    token: str  # the new session's bearer token
    user: auth.SignedInUser
    method: str  # "password+totp" or "password+recovery"
    recovery_codes: tuple[str, ...]  # shown once, when this step also completed enrolment
    recovery_codes_left: int


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _secret(row: UserTotp) -> str:
    return crypto.decrypt_json(row.secret_enc)["secret"]


def _normalise(code: str) -> str:
    return re.sub(r"[\s\-]", "", code or "").lower()


def _qr_data_uri(uri: str) -> str:
    # segno draws the SVG itself (no Pillow); dark modules on white with a quiet zone, as scanners expect.
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


# ---------------------------------------------------------------- rate limit


def _retry_after(s: Session, user_id: int, now: datetime) -> float:
    last_ok = s.exec(select(func.max(SecondFactorAttempt.at)).where(
        SecondFactorAttempt.user_id == user_id, col(SecondFactorAttempt.success).is_(True))).one()
    since = now - FAILURE_WINDOW
    if last_ok is not None:
        since = max(since, last_ok)
    fails = s.exec(
        select(SecondFactorAttempt.at).where(
            SecondFactorAttempt.user_id == user_id, col(SecondFactorAttempt.success).is_(False), SecondFactorAttempt.at > since)
        .order_by(col(SecondFactorAttempt.at).desc()).limit(MAX_FAILURES)
    ).all()
    if len(fails) < MAX_FAILURES:
        return 0.0
    # Locked until the oldest of the last MAX_FAILURES failures leaves the window.
    return max(0.0, (fails[-1] + FAILURE_WINDOW - now).total_seconds())


def _check_rate(user_id: int) -> None:
    with session_scope() as s:
        wait = _retry_after(s, user_id, _now())
    if wait > 0:
        raise errors.TooManyAttempts(wait)


def _record_attempt(s: Session, user_id: int, ok: bool, client_ip: str) -> None:
    s.add(SecondFactorAttempt(user_id=user_id, success=ok, client_ip=(client_ip or "")[:64]))


# ---------------------------------------------------------------- status and enrolment


def status(user_id: int) -> TwoFactorStatus:
    with session_scope() as s:
        user = s.get(User, user_id)
        if user is None:
            raise errors.NotEnrolled()
        row = s.get(UserTotp, user_id)
        left = s.exec(select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))).one()
        return TwoFactorStatus(
            enrolled=bool(row and row.confirmed_at), pending=bool(row and not row.confirmed_at),
            recovery_codes_left=left if row and row.confirmed_at else 0, required=policy.two_factor_required(user.role, s),
        )


def _begin(s: Session, user: User, actor: Actor) -> Enrolment:
    row = s.get(UserTotp, user.id)
    if row is not None and row.confirmed_at is not None:
        raise errors.AlreadyEnrolled()
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    if row is None:
        row = UserTotp(user_id=user.id, secret_enc="")
        s.add(row)
    row.secret_enc = crypto.encrypt_json({"secret": secret})
    row.last_step = 0
    row.created_at = _now()
    audit.record(s, actor, "auth.2fa_enrol_start", "user", user.id)
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(name=user.email, issuer_name=_issuer_name())
    return Enrolment(secret, uri, _qr_data_uri(uri))


def _issuer_name() -> str:
    # Shown in the authenticator app above the code; ":" would break the otpauth label.
    return f"GovSocial ({get_settings().agency_name})".replace(":", " ")


def begin_enrolment(actor: Actor) -> Enrolment:
    """A new secret for the signed-in user (replacing an unconfirmed one). Nothing changes at sign-in until
    `confirm_enrolment` proves their app shows the right codes."""
    require(actor, "self.edit")
    with session_scope() as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise errors.NotEnrolled()
        return _begin(s, user, actor)


def _new_recovery_codes(s: Session, user_id: int) -> list[str]:
    s.exec(update(RecoveryCode).where(col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None)).values(used_at=_now()))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        s.add(RecoveryCode(user_id=user_id, code_hash=_hasher.hash(raw)))
    return codes


def _match_step(secret: str, code: str, at: float) -> int | None:
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    now_step = int(at // STEP_S)
    for step in sorted(range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1), key=lambda x: abs(x - now_step)):
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def _use_step(s: Session, user_id: int, step: int) -> bool:
    """Record that a code for `step` was accepted; False when that step (or a later one) already was: a replay."""
    return s.exec(
        update(UserTotp).where(col(UserTotp.user_id) == user_id, col(UserTotp.last_step) < step).values(last_step=step)
    ).rowcount == 1


def _confirm(s: Session, user_id: int, code: str, actor: Actor, at: float) -> list[str]:
    row = s.get(UserTotp, user_id)
    if row is None:
        raise errors.NotEnrolled()
    if row.confirmed_at is not None:
        raise errors.AlreadyEnrolled()
    step = _match_step(_secret(row), code, at) if re.fullmatch(r"\d{6}", code) else None
    if step is None or not _use_step(s, user_id, step):
        return []
    row.confirmed_at = _now()
    codes = _new_recovery_codes(s, user_id)
    audit.record(s, actor, "auth.2fa_enrolled", "user", user_id)
    return codes


def confirm_enrolment(actor: Actor, code: str, *, at: float | None = None) -> list[str]:
    """Check the first code from the user's app and turn two-factor on. Returns the ten recovery codes, which
    are shown once and stored only as argon2 hashes."""
    require(actor, "self.edit")
    code = _normalise(code)
    _check_rate(actor.user_id)
    with session_scope() as s:
        codes = _confirm(s, actor.user_id, code, actor, time.time() if at is None else at)
        _record_attempt(s, actor.user_id, bool(codes), actor.client_ip)
        if not codes:
            audit.record(s, actor, "auth.2fa_failed", "user", actor.user_id, step="enrol")
    if not codes:
        raise errors.WrongCode()
    return codes


def regenerate_recovery_codes(actor: Actor, code: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working), after a current code proves it is the user."""
    require(actor, "self.edit")
    verify(actor.user_id, code, client_ip=actor.client_ip, user_agent=actor.user_agent, allow_recovery=False)
    with session_scope() as s:
        codes = _new_recovery_codes(s, actor.user_id)
        audit.record(s, actor, "auth.2fa_recovery_regenerated", "user", actor.user_id)
    return codes


def remove_own(actor: Actor, code: str) -> None:
    """The user turns two-factor off for themselves: refused when their role requires it."""
    require(actor, "self.edit")
    if policy.two_factor_required(actor.role or ""):
        raise errors.TwoFactorError("Your role must use two-factor sign-in, so it cannot be turned off.")
    verify(actor.user_id, code, client_ip=actor.client_ip, user_agent=actor.user_agent)
    with session_scope() as s:
        _remove(s, actor.user_id)
        audit.record(s, actor, "auth.2fa_removed", "user", actor.user_id)


def _remove(s: Session, user_id: int) -> None:
    s.exec(delete(UserTotp).where(col(UserTotp.user_id) == user_id))
    s.exec(update(RecoveryCode).where(col(RecoveryCode.user_id) == user_id, col(RecoveryCode.used_at).is_(None)).values(used_at=_now()))


# ---------------------------------------------------------------- verification


def verify(user_id: int, code: str, *, client_ip: str = "", user_agent: str = "", allow_recovery: bool = True,
           at: float | None = None) -> str:
    """Check a 6-digit code (±1 step, each step accepted once) or, if allowed, a recovery code (each once).
    Returns "totp" or "recovery". Wrong codes count towards a per-user limit of MAX_FAILURES in FAILURE_WINDOW."""
    code = _normalise(code)
    _check_rate(user_id)
    failure: errors.TwoFactorError | None = None
    method = ""
    with session_scope() as s:
        row = s.get(UserTotp, user_id)
        if row is None or row.confirmed_at is None:
            raise errors.NotEnrolled()
        actor = Actor(user_id, f"user {user_id}", None, client_ip, user_agent)
        if re.fullmatch(r"\d{6}", code):
            step = _match_step(_secret(row), code, time.time() if at is None else at)
            if step is None:
                failure = errors.WrongCode()
            elif not _use_step(s, user_id, step):
                failure = errors.CodeAlreadyUsed()
            else:
                method = "totp"
        elif allow_recovery and re.fullmatch(r"[a-z0-9]{10}", code):
            left = _use_recovery_code(s, user_id, code)
            if left is None:
                failure = errors.WrongCode("That recovery code is not right, or was used before.")
            else:
                method = "recovery"
                audit.record(s, actor, "auth.2fa_recovery_used", "user", user_id, codes_left=left)
        else:
            failure = errors.WrongCode()
        _record_attempt(s, user_id, failure is None, client_ip)
        if failure is not None:
            audit.record(s, actor, "auth.2fa_failed", "user", user_id, reason=failure.code)
    if failure is not None:
        raise failure
    return method


def _use_recovery_code(s: Session, user_id: int, raw: str) -> int | None:
    """Spend a matching unused code; return how many are left, or None when none matched."""
    rows = s.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))).all()
    for row in rows:
        try:
            ok = _hasher.verify(row.code_hash, raw)
        except (VerificationError, InvalidHashError):
            ok = False
        if ok:
            spent = s.exec(update(RecoveryCode).where(col(RecoveryCode.id) == row.id, col(RecoveryCode.used_at).is_(None))
                           .values(used_at=_now())).rowcount
            return len(rows) - 1 if spent == 1 else None
    return None


# ---------------------------------------------------------------- the second sign-in step


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_challenge(user_id: int, *, client_ip: str = "", user_agent: str = "", session: Session | None = None,
                    sign_in_policy: policy.SignInPolicy | None = None) -> Challenge | None:
    """After a right password: None when no second factor is needed (open the session as today); else a
    challenge to finish with `complete_challenge` ("verify"), or to enrol first ("enrol", the role requires it).
    Inside the caller's transaction when given one (password sign-in reads the policy once for both checks)."""
    if session is None:
        with session_scope() as s:
            return start_challenge(user_id, client_ip=client_ip, user_agent=user_agent, session=s, sign_in_policy=sign_in_policy)
    s = session
    user = s.get(User, user_id)
    if user is None:
        raise errors.ChallengeExpired()
    row = s.get(UserTotp, user_id)
    if row is not None and row.confirmed_at is not None:
        purpose = "verify"
    elif user.role in (sign_in_policy or policy.get_policy(s)).two_factor_roles:
        purpose = "enrol"
    else:
        return None
    token = secrets.token_urlsafe(32)
    expires = _now() + CHALLENGE_TTL
    s.add(SignInChallenge(token_hash=_token_hash(token), user_id=user_id, purpose=purpose, client_ip=(client_ip or "")[:64],
                          user_agent=(user_agent or "")[:300], expires_at=expires))
    return Challenge(token, purpose, expires)


def _live_challenge(s: Session, token: str) -> SignInChallenge:
    row = s.exec(select(SignInChallenge).where(SignInChallenge.token_hash == _token_hash(token or ""))).first()
    if row is None or row.used_at is not None or row.expires_at <= _now():
        raise errors.ChallengeExpired()
    return row


def challenge_enrolment(token: str) -> Enrolment:
    """For an "enrol" challenge: the secret and QR code the user scans before typing their first code."""
    with session_scope() as s:
        ch = _live_challenge(s, token)
        if ch.purpose != "enrol":
            raise errors.AlreadyEnrolled()
        user = s.get(User, ch.user_id)
        return _begin(s, user, Actor(user.id, f"{user.display_name} <{user.email}>", user.role, ch.client_ip, ch.user_agent))


def complete_challenge(token: str, code: str, *, client_ip: str = "", user_agent: str = "", at: float | None = None) -> ChallengeResult:
    """Finish a password sign-in with a code (or a recovery code); opens the session. A wrong code leaves the
    challenge open for another try, within the rate limit; a used or expired challenge means start again."""
    with session_scope() as s:
        ch = _live_challenge(s, token)
        user_id, purpose = ch.user_id, ch.purpose
    recovery: list[str] = []
    if purpose == "enrol":
        _check_rate(user_id)
        with session_scope() as s:
            user = s.get(User, user_id)
            actor = auth._signed_in(user).actor(client_ip, user_agent)
            recovery = _confirm(s, user_id, _normalise(code), actor, time.time() if at is None else at)
            _record_attempt(s, user_id, bool(recovery), client_ip)
            if not recovery:
                audit.record(s, actor, "auth.2fa_failed", "user", user_id, step="enrol")
        if not recovery:
            raise errors.WrongCode()
        method = "password+totp"
    else:
        how = verify(user_id, code, client_ip=client_ip, user_agent=user_agent, at=at)
        method = "password+totp" if how == "totp" else "password+recovery"
    with session_scope() as s:
        # Claim the challenge once, even if two tabs submit together.
        claimed = s.exec(update(SignInChallenge).where(col(SignInChallenge.token_hash) == _token_hash(token),
                                                       col(SignInChallenge.used_at).is_(None)).values(used_at=_now())).rowcount
        if claimed != 1:
            raise errors.ChallengeExpired()
        user = s.get(User, user_id)
        if not user.is_active or user.deleted_at is not None:
            raise errors.ChallengeExpired()
        session_token = sessions.open_session(s, user, client_ip=client_ip, user_agent=user_agent, method=method)
        signed_in = auth._signed_in(user)
        audit.record(s, signed_in.actor(client_ip, user_agent), "auth.sign_in", "user", user_id, method=method)
        left = s.exec(select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == user_id, col(RecoveryCode.used_at).is_(None))).one()
    return ChallengeResult(session_token, signed_in, method, tuple(recovery), left)


# ---------------------------------------------------------------- admin reset


RESET_SUBJECT = "Your GovSocial two-factor sign-in was reset"
RESET_BODY = (
    "Hello {name},\n\n"
    "{admin} reset the two-factor sign-in of your GovSocial account ({email}) on {when} UTC. "
    "Your authenticator app's codes and your recovery codes no longer work, and you were signed out everywhere.\n\n"
    "Next time you sign in with your password you will be asked to set up two-factor sign-in again.\n\n"
    "If you did not ask for this, tell your administrator at once."
)


@dataclass(frozen=True)
class ResetResult:
    sessions_ended: int
    emailed: bool
    email_error: str


async def admin_reset(user_id: int, actor: Actor) -> ResetResult:
    """An admin removes a user's second factor (lost phone): the secret and recovery codes stop working, the
    user's sessions end, the change is audited, and the user is emailed (the outcome is audited too)."""
    require(actor, "users.manage")

    def reset() -> tuple[int, str, str, str]:
        with session_scope() as s:
            user = s.get(User, user_id)
            if user is None or user.deleted_at is not None:
                raise errors.NotEnrolled()
            if s.get(UserTotp, user_id) is None:
                raise errors.NotEnrolled()
            _remove(s, user_id)
            ended = 0
            for sess in s.exec(select(AuthSession).where(AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))):
                sess.revoked_at = _now()
                ended += 1
            audit.record(s, actor, "auth.2fa_reset", "user", user_id, sessions_ended=ended)
            return ended, user.email, user.display_name, user.locale

    ended, email, name, locale = await asyncio.to_thread(reset)
    lang = locale if locale in ("en", "ar") else "en"
    body = translate(RESET_BODY, lang, name=name, admin=actor.label.split(" <")[0], email=email,
                     when=_now().strftime("%Y-%m-%d %H:%M"))
    error = ""
    try:
        await mailer.send_mail([email], translate(RESET_SUBJECT, lang), body)
    except mailer.MailError as exc:
        error = str(exc)[:300]
        log.warning("two-factor reset email to user %s failed: %s", user_id, error)

    def note() -> None:
        with session_scope() as s:
            audit.record(s, actor, "auth.2fa_reset_email", "user", user_id, sent=not error, error=error)

    await asyncio.to_thread(note)
    return ResetResult(ended, not error, error)
