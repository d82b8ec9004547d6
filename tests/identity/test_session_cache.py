"""Each worker remembers the sessions its events resolve (services/auth.py `SESSION_CACHE_S`), and forgets them all as
soon as a session or a person changes: in its own process when that change commits, in every other web worker when
SessionsChanged arrives on the bus (state/relay.py `_forget_sessions`). Expiry and the idle timeout are checked on every
call, remembered or not."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import select

from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import AuthSession, User
from govsocial_app.services import auth, bus
from govsocial_app.services.authz import Actor
from govsocial_app.services.events import SessionsChanged
from tests.bus_helpers import drop_subscription
from tests.statements import sent_statements

PASSWORD = "correct horse battery"


@pytest.fixture
def signed_in(db):
    """(token, user id) of a responder who has just signed in."""
    auth.forget_sessions()
    uid = auth.create_user("ana@agency.gov", "Ana Lopez", PASSWORD, "responder", Actor.system("test"))
    token, _ = auth.sign_in("ana@agency.gov", PASSWORD)
    return token, uid


def _behind_our_back(**values) -> None:
    """Change the session row the way another process's change looks to this one: in the database, with no ORM
    session of this process seeing it (so only the bus can tell this process)."""
    with get_engine().begin() as conn:
        conn.execute(update(AuthSession).values(**values))


def _reads(fn) -> int:
    with sent_statements() as seen:
        fn()
    return sum(1 for s in seen if s.startswith("select"))


def test_a_second_event_within_the_window_reads_nothing(signed_in):
    token, _ = signed_in
    assert _reads(lambda: auth.user_for_token(token)) == 1
    assert _reads(lambda: auth.user_for_token(token)) == 0
    assert auth.user_for_token(token).email == "ana@agency.gov"


def test_a_sign_out_in_this_process_ends_the_session_at_once(signed_in):
    token, uid = signed_in
    assert auth.user_for_token(token) is not None  # remembered
    auth.sign_out(token, auth.user_for_token(token).actor("", ""))
    assert auth.user_for_token(token) is None


@pytest.mark.parametrize("change", ["role", "deactivate", "password", "revoke_bulk"])
def test_every_kind_of_change_is_seen_by_the_next_event(signed_in, change):
    token, uid = signed_in
    admin = Actor.system("test")
    assert auth.user_for_token(token).role == "responder"
    if change == "role":
        auth.set_role(uid, "manager", admin)
        assert auth.user_for_token(token).role == "manager"
        return
    if change == "deactivate":
        auth.set_active(uid, False, admin)
    elif change == "password":  # a new password set elsewhere ends this session
        other, _ = auth.sign_in("ana@agency.gov", PASSWORD)
        auth.change_password(auth.user_for_token(other).actor("", ""), other, PASSWORD, "a quite different passphrase 42",
                             "a quite different passphrase 42")
    else:  # a bulk UPDATE through an ORM session (as identity/signin.py ends sessions)
        with session_scope() as s:
            s.exec(update(AuthSession).where(AuthSession.user_id == uid).values(revoked_at=datetime.now(timezone.utc)))
    assert auth.user_for_token(token) is None


def test_a_renamed_person_shows_the_new_name_at_once(signed_in):
    token, uid = signed_in
    assert auth.user_for_token(token).display_name == "Ana Lopez"
    with session_scope() as s:
        s.get(User, uid).display_name = "Ana López-Ruiz"
    assert auth.user_for_token(token).display_name == "Ana López-Ruiz"


def test_a_rolled_back_change_forgets_nothing(signed_in):
    token, uid = signed_in
    auth.user_for_token(token)
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            s.get(User, uid).role = "admin"
            s.flush()
            raise RuntimeError("changed my mind")
    assert _reads(lambda: auth.user_for_token(token)) == 0
    assert auth.user_for_token(token).role == "responder"


def test_a_change_in_another_process_arrives_on_the_bus(signed_in):
    """Another worker revokes the session: this process still remembers it until SessionsChanged arrives, which the
    relay's subscription turns into a forget; and the window bounds a message that never arrives."""
    from govsocial_app.state import relay

    token, _ = signed_in

    from govsocial_app.state import watchers

    async def scenario():
        listening = asyncio.create_task(relay._forget_sessions(None))
        await asyncio.sleep(0.05)  # subscribed (and, starting, it forgot everything)
        assert auth.user_for_token(token) is not None
        assert await watchers.session_actor(token) is not None  # the relay's own check before a push
        _behind_our_back(revoked_at=datetime.now(timezone.utc))
        assert auth.user_for_token(token) is not None  # remembered: nothing in this process saw the change
        assert await watchers.session_actor(token) is not None
        bus.publish(SessionsChanged())
        for _ in range(100):
            await asyncio.sleep(0.01)
            if auth.user_for_token(token) is None:
                break
        listening.cancel()
        return auth.user_for_token(token), await watchers.session_actor(token)

    assert asyncio.run(scenario()) == (None, None)  # the guard and the relay's pushes both stop at once


def test_a_worker_that_could_not_hear_the_bus_forgets_when_it_hears_it_again(signed_in, redis_url, monkeypatch):
    """A session is revoked while this worker's Redis subscription is down: the announcement is lost, yet the worker
    forgets its sessions as soon as the subscription is back, long before SESSION_CACHE_S."""

    from govsocial_app.state import relay, watchers

    token, _ = signed_in
    monkeypatch.setattr(bus, "_bus", bus.RedisBus(redis_url))

    async def scenario():
        listening = asyncio.create_task(relay._forget_sessions(None))
        try:
            await asyncio.sleep(0.2)  # subscribed
            assert auth.user_for_token(token) is not None
            assert await watchers.session_actor(token) is not None
            assert drop_subscription(redis_url, SessionsChanged.topic) == 1  # Redis drops this worker's subscription
            _behind_our_back(revoked_at=datetime.now(timezone.utc))  # and its announcement is never heard here
            started = asyncio.get_running_loop().time()
            while auth.user_for_token(token) is not None and asyncio.get_running_loop().time() - started < 10:
                await asyncio.sleep(0.05)
            return auth.user_for_token(token), await watchers.session_actor(token), asyncio.get_running_loop().time() - started
        finally:
            listening.cancel()

    user, actor, waited = asyncio.run(scenario())
    assert (user, actor) == (None, None)
    assert waited < auth.SESSION_CACHE_S / 2, waited


def test_without_the_bus_the_window_ends_it(signed_in, monkeypatch):
    token, _ = signed_in
    assert auth.user_for_token(token) is not None
    _behind_our_back(revoked_at=datetime.now(timezone.utc))
    clock = [auth.time.monotonic()]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    assert auth.user_for_token(token) is not None
    clock[0] += auth.SESSION_CACHE_S + 0.1
    assert auth.user_for_token(token) is None


def test_the_idle_timeout_and_lifetime_are_checked_on_every_call(signed_in, monkeypatch):
    token, _ = signed_in
    assert auth.user_for_token(token) is not None
    later = datetime.now(timezone.utc) + timedelta(hours=12, minutes=1)  # past the 12 h idle timeout
    monkeypatch.setattr(auth, "_now", lambda: later)
    assert _reads(lambda: auth.user_for_token(token)) == 0  # still remembered ...
    assert auth.user_for_token(token) is None  # ... and ended by the clock


def test_a_read_that_raced_a_change_is_not_remembered(signed_in, monkeypatch):
    """A change is announced while the row is being read: that answer is used once and not kept."""
    token, _ = signed_in
    original_connect = get_engine().connect
    calls = []

    def connect(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            auth.forget_sessions()  # a change elsewhere is announced while this read is in flight
        return original_connect(*a, **k)

    monkeypatch.setattr(get_engine(), "connect", connect)
    assert auth.user_for_token(token) is not None
    assert _reads(lambda: auth.user_for_token(token)) == 1  # read again: the first answer was not kept


def test_the_touch_still_moves_last_seen(signed_in, monkeypatch):
    token, _ = signed_in
    with session_scope() as s:
        row = s.exec(select(AuthSession)).one()
        row.last_seen_at = datetime.now(timezone.utc) - timedelta(hours=2)
    assert auth.user_for_token(token) is not None
    with session_scope() as s:
        seen = s.exec(select(AuthSession)).one().last_seen_at
    seen = seen if seen.tzinfo else seen.replace(tzinfo=timezone.utc)
    assert datetime.now(timezone.utc) - seen < timedelta(minutes=1)
