"""Sign-in backoff per (address, email) instead of lockouts, session idle timeout and absolute lifetime, changing a
password, and demo accounts in production mode (security review, issue 13)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event
from sqlmodel import select

from govsocial_app import config
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import AuditLog, AuthSession, LoginAttempt, User
from govsocial_app.services import auth
from govsocial_app.services.authz import Actor

PASSWORD = "correct horse battery"
ATTACKER, OFFICE = "203.0.113.66", "198.51.100.7"


def _user(email="ana@agency.gov", password=PASSWORD, role="responder") -> tuple[str, str]:
    auth.create_user(email, "Ana Lopez", password, role, Actor.system("test"))
    return email, password


def _fail(email: str, ip: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(auth.AuthFailed):
            auth.sign_in(email, "not the password", ip)


def _age_attempts(seconds: float) -> None:
    """Move every recorded attempt `seconds` into the past, as if that much time had gone by."""
    with session_scope() as s:
        for row in s.exec(select(LoginAttempt)).all():
            at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
            row.at = at - timedelta(seconds=seconds)


@pytest.fixture
def env(monkeypatch):
    def set_env(**values: str):
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        config.reset_settings_cache()

    yield set_env
    config.reset_settings_cache()


# ---------------------------------------------------------------- backoff, never a lockout


def test_failures_from_one_address_never_lock_out_the_person_elsewhere(db):
    email, password = _user()
    _fail(email, ATTACKER, 12)  # the old rules locked this account for everyone after 5
    token, user = auth.sign_in(email, password, OFFICE)
    assert user.email == email and auth.user_for_token(token)


def test_many_failures_from_one_address_do_not_lock_out_everyone(db):
    email, password = _user()
    for i in range(auth.FREE_PER_ADDRESS + 15):  # the old rules locked every account behind one address after 30
        with pytest.raises(auth.AuthFailed):
            auth.sign_in(f"guess{i}@agency.gov", "password123", ATTACKER)
    assert auth.sign_in(email, password, OFFICE)[1].email == email


def test_the_wait_after_repeated_failures_says_when_to_try_again(db):
    email, password = _user()
    _fail(email, ATTACKER, auth.FREE_PER_PAIR)
    with pytest.raises(auth.TryLater) as caught:
        auth.sign_in(email, password, ATTACKER)  # even the right password waits: it is not even checked
    assert caught.value.retry_after == auth.PAIR_BASE_S
    assert str(caught.value) == "Too many failed attempts. Try again in {seconds} seconds."
    assert caught.value.params == {"seconds": auth.PAIR_BASE_S}
    from govsocial_app.i18n import translate

    assert "15" in translate(str(caught.value), "ar", **caught.value.params)
    with session_scope() as s:  # the refused try is neither recorded nor audited: retrying early extends nothing
        assert len(s.exec(select(LoginAttempt)).all()) == auth.FREE_PER_PAIR


def test_the_wait_doubles_with_each_further_failure_and_is_capped(db):
    email, _ = _user()
    waits = []
    for _ in range(12):
        with session_scope() as s:
            s.add(LoginAttempt(email=email, client_ip=ATTACKER, success=False))
        with session_scope() as s:
            waits.append(round(auth.retry_after(s, email, ATTACKER)))
    assert waits[: auth.FREE_PER_PAIR - 1] == [0, 0]
    assert waits[2:7] == [15, 30, 60, 120, 240]
    assert max(waits) <= auth.PAIR_MAX_S and waits[-1] == auth.PAIR_MAX_S
    with pytest.raises(auth.TryLater, match=r"\{minutes\}"):
        auth.sign_in(email, PASSWORD, ATTACKER)


def test_after_the_wait_the_right_password_works_and_clears_the_backoff(db):
    email, password = _user()
    _fail(email, ATTACKER, auth.FREE_PER_PAIR + 1)  # 30 s
    _age_attempts(31)
    assert auth.sign_in(email, password, ATTACKER)[1].email == email
    with session_scope() as s:
        assert auth.retry_after(s, email, ATTACKER) == 0
    _fail(email, ATTACKER, auth.FREE_PER_PAIR - 1)  # a fresh start after the success
    assert auth.sign_in(email, password, ATTACKER)


def test_an_address_spraying_many_emails_is_slowed_down_itself(db):
    email, password = _user()
    for i in range(auth.FREE_PER_ADDRESS):
        with pytest.raises(auth.AuthFailed, match="do not match"):
            auth.sign_in(f"guess{i}@agency.gov", "password123", ATTACKER)
    with pytest.raises(auth.TryLater):
        auth.sign_in(email, password, ATTACKER)
    assert auth.sign_in(email, password, OFFICE)


# ---------------------------------------------------------------- sessions: idle timeout and absolute lifetime


def _session_row(token: str) -> AuthSession:
    with session_scope() as s:
        return s.exec(select(AuthSession).where(AuthSession.token_hash == auth._token_hash(token))).one()


def _shift_session(token: str, **ago: timedelta) -> None:
    now = datetime.now(timezone.utc)
    with session_scope() as s:
        row = s.exec(select(AuthSession).where(AuthSession.token_hash == auth._token_hash(token))).one()
        for column, delta in ago.items():
            setattr(row, column, now - delta)


def test_a_session_ends_after_the_idle_timeout(db):
    email, password = _user()
    token, _ = auth.sign_in(email, password)
    _shift_session(token, last_seen_at=timedelta(hours=11))
    assert auth.user_for_token(token) is not None  # 11 h idle: still signed in, and now seen again
    _shift_session(token, last_seen_at=timedelta(hours=12, minutes=1))
    assert auth.user_for_token(token) is None


def test_a_session_ends_after_its_absolute_lifetime_however_active(db):
    email, password = _user()
    token, _ = auth.sign_in(email, password)
    row = _session_row(token)
    assert abs((row.expires_at.replace(tzinfo=timezone.utc) - row.created_at.replace(tzinfo=timezone.utc)) - timedelta(days=14)) < timedelta(seconds=5)
    _shift_session(token, created_at=timedelta(days=14, minutes=1), last_seen_at=timedelta(minutes=1))
    assert auth.user_for_token(token) is None


def test_idle_and_absolute_limits_are_settings(db, env):
    env(GOVSOCIAL_SESSION_IDLE_HOURS="1", GOVSOCIAL_SESSION_MAX_DAYS="2")
    email, password = _user()
    token, _ = auth.sign_in(email, password)
    _shift_session(token, last_seen_at=timedelta(minutes=61))
    assert auth.user_for_token(token) is None
    token, _ = auth.sign_in(email, password)
    _shift_session(token, created_at=timedelta(days=2, minutes=1))  # also ends sessions made under a longer setting
    assert auth.user_for_token(token) is None
    with pytest.raises(ValueError, match="GOVSOCIAL_SESSION_IDLE_HOURS"):
        env(GOVSOCIAL_SESSION_IDLE_HOURS="soon")
        config.get_settings()


def test_last_seen_is_written_rarely_not_on_every_event(db):
    email, password = _user()
    token, _ = auth.sign_in(email, password)
    updates = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE AUTHSESSION"):
            updates.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        for _ in range(20):
            assert auth.user_for_token(token)
        assert updates == []
        _shift_session(token, last_seen_at=timedelta(minutes=6))
        updates.clear()
        for _ in range(20):
            assert auth.user_for_token(token)
        assert len(updates) == 1
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)


# ---------------------------------------------------------------- changing a password


def _actor(token: str, ip: str = OFFICE) -> Actor:
    return auth.user_for_token(token).actor(ip, "pytest")


def test_change_password_keeps_this_session_and_ends_the_others(db):
    email, password = _user()
    here, _ = auth.sign_in(email, password, OFFICE)
    phone, _ = auth.sign_in(email, password, "192.0.2.10")
    laptop, _ = auth.sign_in(email, password, "192.0.2.11")
    ended = auth.change_password(_actor(here), here, password, "river otter lamp forty", "river otter lamp forty")
    assert ended == 2
    assert auth.user_for_token(here) and auth.user_for_token(phone) is None and auth.user_for_token(laptop) is None
    with pytest.raises(auth.AuthFailed, match="do not match"):
        auth.sign_in(email, password, "192.0.2.12")
    assert auth.sign_in(email, "river otter lamp forty", "192.0.2.12")
    with session_scope() as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "auth.password_change")).one()
        assert row.detail == {"other_sessions_ended": 2} and row.client_ip == OFFICE
        assert "river otter" not in str(row.detail) and s.exec(select(User)).one().password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong current password", "river otter lamp forty", "river otter lamp forty", "current password is not right"),
        (PASSWORD, "river otter lamp forty", "river otter lamp fifty", "not the same"),
        (PASSWORD, "short", "short", "at least {n}"),
        (PASSWORD, "password1234", "password1234", "too easy to guess"),
        (PASSWORD, "ana@agency.gov", "ana@agency.gov", "too easy to guess"),  # her own email
        (PASSWORD, PASSWORD, PASSWORD, "not been using"),
        ("", "", "", "Enter your current password"),
    ],
)
def test_change_password_refusals(db, current, new, confirm, message):
    email, password = _user()
    token, _ = auth.sign_in(email, password)
    with pytest.raises(auth.AuthFailed, match=message.replace("{", r"\{").replace("}", r"\}")):
        auth.change_password(_actor(token), token, current, new, confirm)
    assert auth.sign_in(email, password, "192.0.2.99")  # nothing changed


def test_guessing_the_current_password_backs_off_like_sign_in(db):
    email, password = _user()
    token, _ = auth.sign_in(email, password)
    for _ in range(auth.FREE_PER_PAIR):
        with pytest.raises(auth.AuthFailed, match="not right"):
            auth.change_password(_actor(token), token, "a wrong guess", "river otter lamp forty", "river otter lamp forty")
    with pytest.raises(auth.TryLater):
        auth.change_password(_actor(token), token, password, "river otter lamp forty", "river otter lamp forty")
    with session_scope() as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "auth.password_change_failed")).all()) == auth.FREE_PER_PAIR


# ---------------------------------------------------------------- demo accounts and the mode


def test_demo_accounts_work_in_demo_mode_and_never_in_production(db, env):
    from govsocial_app.services import demo

    with session_scope() as s:
        s.add(User(email="admin@demo.gov", display_name="Avery Admin", password_hash=auth.hash_password(demo.DEMO_PASSWORD),
                   role="admin", is_demo=True))
    token, _ = auth.sign_in("admin@demo.gov", demo.DEMO_PASSWORD)
    assert auth.user_for_token(token) is not None
    env(GOVSOCIAL_MODE="production")
    assert auth.user_for_token(token) is None  # the session made in demo mode stops too
    with pytest.raises(auth.AuthFailed, match="Demo accounts are turned off"):
        auth.sign_in("admin@demo.gov", demo.DEMO_PASSWORD, "192.0.2.1")
    with pytest.raises(auth.AuthFailed, match="do not match"):  # a wrong password still says only that
        auth.sign_in("admin@demo.gov", "a wrong password", "192.0.2.2")


def test_the_demo_seed_marks_its_accounts(db):
    from govsocial_app.services import demo

    demo.seed(history_days=0)
    with session_scope() as s:
        users = s.exec(select(User)).all()
    assert users and all(u.is_demo for u in users)


def test_the_mode_is_demo_only_without_a_database_or_redis_of_its_own(monkeypatch, env):
    monkeypatch.delenv("GOVSOCIAL_MODE", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    env()
    assert config.get_settings().mode == "demo"
    env(DATABASE_URL="postgresql://app@db.internal/govsocial")
    assert config.get_settings().mode == "production"
    env(GOVSOCIAL_MODE="demo")
    assert config.get_settings().mode == "demo"
