"""Passwords (argon2), sign-in rate limits, session revocation, and connector secrets encrypted at rest."""

from __future__ import annotations

import os
import stat

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, SocialProfile, User
from govsocial_app.services import auth, crypto
from govsocial_app.services.authz import Actor


def _user(email="ana@agency.gov", password="correct horse battery"):
    auth.create_user(email, "Ana", password, "responder", Actor.system("test"))
    return email, password


def test_passwords_are_stored_as_argon2(db):
    _user()
    with session_scope() as s:
        h = s.exec(select(User.password_hash)).one()
    assert h.startswith("$argon2id$") and "correct horse" not in h


def test_short_passwords_and_duplicate_emails_are_refused(db):
    with pytest.raises(ValueError, match="at least 10"):
        auth.create_user("a@b.gov", "A", "short", "viewer", Actor.system("t"))
    _user()
    with pytest.raises(ValueError, match="already exists"):
        _user("ANA@agency.gov")


def test_sign_in_backs_off_per_address_and_email(db):
    email, password = _user()
    for _ in range(auth.FREE_PER_PAIR):
        with pytest.raises(auth.AuthFailed, match="do not match"):
            auth.sign_in(email, "wrong password", "10.0.0.1")
    with pytest.raises(auth.AuthFailed, match="Too many"):
        auth.sign_in(email, password, "10.0.0.1")  # even the right password waits, from that address
    assert auth.sign_in(email, password, "10.0.0.2")  # another address is not held up (tests/unit/test_sign_in_security.py)
    with session_scope() as s:
        assert len(s.exec(select(AuditLog).where(AuditLog.action == "auth.sign_in_failed")).all()) == auth.FREE_PER_PAIR


def test_unknown_email_gets_the_same_answer(db):
    with pytest.raises(auth.AuthFailed, match="do not match"):
        auth.sign_in("nobody@agency.gov", "whatever password")


def test_deactivated_user_loses_sessions_at_once(db):
    email, password = _user()
    token, user = auth.sign_in(email, password)
    assert auth.user_for_token(token).id == user.id
    admin_id = auth.create_user("root@agency.gov", "Root", "another long password", "admin", Actor.system("t"))
    auth.set_active(user.id, False, Actor(admin_id, "Root", "admin"))
    assert auth.user_for_token(token) is None
    with pytest.raises(auth.AuthFailed):
        auth.sign_in(email, password)


def test_connector_secrets_are_encrypted_at_rest(db, tmp_path):
    token = crypto.encrypt_json({"access_token": "super-secret-token"})
    with session_scope() as s:
        s.add(SocialProfile(network="mastodon", handle="@city", secrets_enc=token))
    with session_scope() as s:
        stored = s.exec(select(SocialProfile.secrets_enc)).one()
    assert "super-secret-token" not in stored
    assert crypto.decrypt_json(stored) == {"access_token": "super-secret-token"}


def test_generated_key_file_is_private(db):
    path = crypto.get_settings().key_file
    crypto.encrypt_json({"x": 1})
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_audit_log_refuses_updates_and_deletes(db):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    _user()
    with pytest.raises(DatabaseError, match="append-only"):
        with session_scope() as s:
            s.connection().execute(text("UPDATE audit_log SET action = 'tampered'"))
    with pytest.raises(DatabaseError, match="append-only"):
        with session_scope() as s:
            s.connection().execute(text("DELETE FROM audit_log"))


def test_migrations_run_from_empty_to_head_and_back_on_postgresql(pg_url):
    from sqlalchemy import create_engine, inspect

    from govsocial_app.db.migrate import downgrade, upgrade

    upgrade(pg_url)
    engine = create_engine(pg_url)
    tables = set(inspect(engine).get_table_names())
    assert {"message", "audit_log", "posttarget", "alert", "vipmember"} <= tables
    engine.dispose()
    downgrade(pg_url, "base")
    upgrade(pg_url)


def test_migrations_run_from_empty_to_head_and_back_on_sqlite(tmp_path):
    from govsocial_app.db.migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    downgrade(url, "base")
    upgrade(url)


def test_actor_factory_creates_users_in_the_tests_own_postgresql_database(pg_db, actor_factory):
    """A test asking for pg_db and actor_factory runs on PostgreSQL, not on a SQLite file swapped in behind it."""
    from sqlmodel import select

    from govsocial_app.db.engine import get_engine, session_scope
    from govsocial_app.db.models import User

    actor = actor_factory("manager")
    assert get_engine().dialect.name == "postgresql"
    with session_scope() as s:
        assert s.exec(select(User.role).where(User.id == actor.user_id)).one() == "manager"


def test_audit_details_are_stored_as_plain_json_whatever_they_hold():
    """Audit details go through the C JSON round trip, or the walk for what it refuses: the same plain JSON either way."""
    from datetime import date, datetime, timezone
    from decimal import Decimal

    from govsocial_app.services import audit

    at = datetime(2026, 12, 5, 9, 30, tzinfo=timezone.utc)
    detail = {"ids": (3, 1, 2), "at": at, "day": date(2026, 12, 5), "amount": Decimal("1.50"), "nested": {"tags": {"Roads"}},
              "none": None, "flag": True, "n": 2.5, 7: "int key"}
    expected = {"ids": [3, 1, 2], "at": at.isoformat(), "day": "2026-12-05", "amount": "1.50", "nested": {"tags": ["Roads"]},
                "none": None, "flag": True, "n": 2.5, "7": "int key"}
    assert audit._jsonable(detail) == expected == audit._jsonable_walk(detail)
    # A key the encoder refuses (a tuple) takes the walk: still stored, as its text.
    assert audit._jsonable({(1, 2): "pair"}) == {"(1, 2)": "pair"}
