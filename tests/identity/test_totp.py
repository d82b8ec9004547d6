"""TOTP two-factor: enrolment, the ±1 step window, replay protection, single-use recovery codes, the rate limit,
the second sign-in step (including enrolment that a role requires), and an admin's audited, emailed reset."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import RecoveryCode, SecondFactorAttempt, SignInChallenge, UserTotp
from govsocial_app.services import auth, settings_store
from govsocial_app.services.authz import Actor, PermissionDenied
from govsocial_app.services.identity import errors, policy, totp
from tests.identity.helpers import PASSWORD, audit_rows


def _actor(uid: int, role: str = "responder") -> Actor:
    return Actor(uid, f"user {uid}", role, "198.51.100.7", "pytest")


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


@pytest.fixture
def enrolled(person):
    """A responder with two-factor on: (user id, secret, recovery codes, the time it was confirmed at)."""
    uid = person("ana@riverton.gov", "responder")
    e = totp.begin_enrolment(_actor(uid))
    t0 = time.time() - 600  # confirmed a while ago, so "now" codes are new steps
    codes = totp.confirm_enrolment(_actor(uid), _code(e.secret, t0), at=t0)
    return uid, e.secret, codes, t0


def test_enrolment_gives_a_scannable_uri_and_stores_the_secret_encrypted(person):
    uid = person("ana@riverton.gov")
    e = totp.begin_enrolment(_actor(uid))
    parsed = pyotp.parse_uri(e.provisioning_uri)
    assert parsed.secret == e.secret and parsed.name == "ana@riverton.gov" and parsed.issuer.startswith("GovSocial")
    assert len(e.secret) == 32  # 160 bits
    assert e.qr_data_uri.startswith("data:image/svg+xml") and "<svg" in __import__("urllib.parse").parse.unquote(e.qr_data_uri)
    with session_scope() as s:
        row = s.get(UserTotp, uid)
    assert e.secret not in row.secret_enc and row.confirmed_at is None
    assert totp.status(uid).pending and not totp.status(uid).enrolled
    assert totp.start_challenge(uid) is None  # not confirmed yet: sign-in is unchanged


def test_confirmation_needs_the_right_code_then_gives_ten_hashed_recovery_codes(person):
    uid = person("ana@riverton.gov")
    e = totp.begin_enrolment(_actor(uid))
    with pytest.raises(errors.WrongCode):
        totp.confirm_enrolment(_actor(uid), "000000" if _code(e.secret, time.time()) != "000000" else "111111")
    assert not totp.status(uid).enrolled
    codes = totp.confirm_enrolment(_actor(uid), _code(e.secret, time.time()))
    assert len(codes) == 10 and len(set(codes)) == 10
    with session_scope() as s:
        hashes = [r.code_hash for r in s.exec(select(RecoveryCode).where(RecoveryCode.user_id == uid))]
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)
    st = totp.status(uid)
    assert st.enrolled and st.recovery_codes_left == 10
    [row] = audit_rows("auth.2fa_enrolled")
    assert row.object_id == str(uid)
    with pytest.raises(errors.AlreadyEnrolled):
        totp.begin_enrolment(_actor(uid))


def test_codes_one_step_either_side_are_accepted_two_steps_are_not(enrolled):
    uid, secret, _, _ = enrolled
    now = time.time()
    assert totp.verify(uid, _code(secret, now - 30), at=now) == "totp"
    assert totp.verify(uid, _code(secret, now + 30), at=now) == "totp"
    with pytest.raises(errors.WrongCode):
        totp.verify(uid, _code(secret, now + 90), at=now)


def test_a_code_is_accepted_once_and_never_an_older_one_after_it(enrolled):
    uid, secret, _, _ = enrolled
    now = time.time()
    code = _code(secret, now)
    assert totp.verify(uid, f"{code[:3]} {code[3:]}", at=now) == "totp"  # spaces as apps show them are fine
    with pytest.raises(errors.CodeAlreadyUsed):
        totp.verify(uid, code, at=now)
    with pytest.raises(errors.CodeAlreadyUsed):
        totp.verify(uid, _code(secret, now - 30), at=now)  # the previous step's code is spent too
    assert totp.verify(uid, _code(secret, now + 30), at=now + 30) == "totp"


def test_a_recovery_code_works_once(enrolled):
    uid, _, codes, _ = enrolled
    assert totp.verify(uid, codes[3].upper()) == "recovery"
    assert totp.status(uid).recovery_codes_left == 9
    with pytest.raises(errors.WrongCode, match="recovery code"):
        totp.verify(uid, codes[3])
    assert totp.verify(uid, codes[4]) == "recovery"
    [first, second] = audit_rows("auth.2fa_recovery_used")
    assert (first.detail["codes_left"], second.detail["codes_left"]) == (9, 8)


def test_wrong_codes_are_rate_limited_per_user(enrolled):
    uid, secret, codes, _ = enrolled
    now = time.time()
    wrong = "123456" if _code(secret, now) != "123456" else "654321"
    for _ in range(totp.MAX_FAILURES):
        with pytest.raises(errors.WrongCode):
            totp.verify(uid, wrong, at=now)
    with pytest.raises(errors.TooManyAttempts, match="Try again in 15 minutes") as caught:
        totp.verify(uid, _code(secret, now), at=now)  # even the right code waits
    assert 800 < caught.value.retry_after <= 900
    with pytest.raises(errors.TooManyAttempts):
        totp.verify(uid, codes[0])  # and so do recovery codes
    assert len(audit_rows("auth.2fa_failed")) == totp.MAX_FAILURES
    with session_scope() as s:  # the window passes
        for row in s.exec(select(SecondFactorAttempt)):
            row.at = row.at - timedelta(minutes=16)
    assert totp.verify(uid, _code(secret, now), at=now) == "totp"


def test_a_success_clears_earlier_failures(enrolled):
    uid, secret, _, _ = enrolled
    now = time.time()
    wrong = "123456" if _code(secret, now) != "123456" else "654321"
    for _ in range(totp.MAX_FAILURES - 1):
        with pytest.raises(errors.WrongCode):
            totp.verify(uid, wrong, at=now)
    totp.verify(uid, _code(secret, now), at=now)
    with pytest.raises(errors.WrongCode):  # a fresh allowance, not an instant lock-out
        totp.verify(uid, wrong, at=now)


def test_sign_in_challenge_opens_a_session_only_with_the_code(enrolled):
    uid, secret, codes, _ = enrolled
    ch = totp.start_challenge(uid, client_ip="198.51.100.7", user_agent="pytest")
    assert ch.purpose == "verify"
    with session_scope() as s:
        assert ch.token not in s.exec(select(SignInChallenge.token_hash)).one()
    with pytest.raises(errors.WrongCode):
        # One character off (the code may already end in "x": change it to something else).
        totp.complete_challenge(ch.token, codes[0][:-1] + ("y" if codes[0].endswith("x") else "x"))
    result = totp.complete_challenge(ch.token, _code(secret, time.time()), client_ip="198.51.100.7")
    assert result.method == "password+totp" and auth.user_for_token(result.token).id == uid
    with pytest.raises(errors.ChallengeExpired):
        totp.complete_challenge(ch.token, codes[0])  # a challenge is used once
    ch2 = totp.start_challenge(uid)
    by_recovery = totp.complete_challenge(ch2.token, codes[0])
    assert by_recovery.method == "password+recovery" and by_recovery.recovery_codes_left == 9
    methods = [r.detail.get("method") for r in audit_rows("auth.sign_in")]
    assert methods == ["password+totp", "password+recovery"]


def test_an_expired_challenge_must_start_again(enrolled):
    uid, secret, _, _ = enrolled
    ch = totp.start_challenge(uid)
    with session_scope() as s:
        row = s.exec(select(SignInChallenge)).one()
        row.expires_at = row.created_at - timedelta(seconds=1)
    with pytest.raises(errors.ChallengeExpired):
        totp.complete_challenge(ch.token, _code(secret, time.time()))
    with pytest.raises(errors.ChallengeExpired):
        totp.complete_challenge("forged-token", _code(secret, time.time()))


def test_a_role_that_requires_two_factor_must_enrol_at_sign_in(person):
    admin = person("root@riverton.gov", "admin")
    viewer = person("vic@riverton.gov", "viewer")
    policy.set_policy(policy.SignInPolicy(two_factor_roles=("admin", "manager")), _actor(admin, "admin"), sso_enabled=False)
    assert totp.start_challenge(viewer) is None
    ch = totp.start_challenge(admin)
    assert ch.purpose == "enrol" and totp.status(admin).required
    e = totp.challenge_enrolment(ch.token)
    with pytest.raises(errors.WrongCode):
        totp.complete_challenge(ch.token, "12345x")
    result = totp.complete_challenge(ch.token, _code(e.secret, time.time()))
    assert len(result.recovery_codes) == 10 and auth.user_for_token(result.token).role == "admin"
    assert totp.status(admin).enrolled
    assert totp.start_challenge(admin).purpose == "verify"
    with pytest.raises(errors.TwoFactorError, match="must use two-factor"):
        totp.remove_own(_actor(admin, "admin"), result.recovery_codes[0])


def test_users_may_regenerate_codes_and_remove_their_own_second_factor(enrolled):
    uid, secret, old, _ = enrolled
    now = time.time()
    with pytest.raises(errors.WrongCode):
        totp.regenerate_recovery_codes(_actor(uid), old[0])  # a recovery code cannot mint new ones
    new = totp.regenerate_recovery_codes(_actor(uid), _code(secret, now))
    assert set(new).isdisjoint(old)
    with pytest.raises(errors.WrongCode):
        totp.verify(uid, old[1])
    totp.remove_own(_actor(uid), new[0])
    assert not totp.status(uid).enrolled and totp.start_challenge(uid) is None


async def test_admin_reset_is_audited_ends_sessions_and_emails_the_user(enrolled, smtp_configured, person):
    uid, secret, codes, _ = enrolled
    admin = person("root@riverton.gov", "admin")
    token, _ = auth.sign_in("ana@riverton.gov", PASSWORD)
    with pytest.raises(PermissionDenied):
        await totp.admin_reset(uid, _actor(uid))
    result = await totp.admin_reset(uid, Actor(admin, "Root Admin <root@riverton.gov>", "admin"))
    assert result.emailed and result.sessions_ended == 1
    assert auth.user_for_token(token) is None
    assert not totp.status(uid).enrolled
    with pytest.raises(errors.NotEnrolled):
        totp.verify(uid, codes[0])
    [mail] = smtp_configured.wait_for(1)
    assert mail.rcpt_tos == ["ana@riverton.gov"] and "two-factor" in mail.message["Subject"]
    body = mail.message.get_content()
    assert "Root Admin" in body and "ana@riverton.gov" in body
    [row] = audit_rows("auth.2fa_reset")
    assert row.actor_id == admin and row.object_id == str(uid) and row.detail["sessions_ended"] == 1
    [sent] = audit_rows("auth.2fa_reset_email")
    assert sent.detail == {"sent": True, "error": ""}


async def test_admin_reset_still_happens_when_email_fails(enrolled, person):
    uid = enrolled[0]
    admin = person("root@riverton.gov", "admin")
    settings_store.set_value("mail.smtp", {"host": "127.0.0.1", "port": 1, "starttls": False}, Actor.system("t"))
    result = await totp.admin_reset(uid, Actor(admin, "Root", "admin"))
    assert not result.emailed and result.email_error
    assert not totp.status(uid).enrolled
    [sent] = audit_rows("auth.2fa_reset_email")
    assert sent.detail["sent"] is False


def test_arabic_reset_email_is_translated():
    from govsocial_app.i18n import translate

    assert translate(totp.RESET_SUBJECT, "ar") != totp.RESET_SUBJECT
    body = translate(totp.RESET_BODY, "ar", name="ن", admin="م", email="a@b.gov", when="2026-01-01 10:00")
    assert "a@b.gov" in body and body != totp.RESET_BODY
