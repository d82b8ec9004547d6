"""Sign-in off the event loop (issue 20's surge): the password form's handler checks the password in a small thread
pool, still refuses a wrong password with its message, and moves an old argon2 hash to the current parameters."""

from __future__ import annotations

import asyncio
import inspect
import threading

import pytest
import reflex as rx
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import User
from govsocial_app.services import auth

PASSWORD = "correct horse battery"
# What every hash was made with before: argon2-cffi's default (64 MiB, 3 passes, 4 lanes).
OLD_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)


@pytest.fixture
def login(db):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.login import LoginState

    root = rx.State(_reflex_internal_init=True)
    app_state = root.substates[AppState.get_name()]
    return app_state, app_state.substates[LoginState.get_name()]


def _email(actor) -> str:
    return actor.label.split("<")[1].rstrip(">")


def _hash_of(email: str) -> str:
    with session_scope() as s:
        return s.exec(select(User.password_hash).where(User.email == email)).one()


def _set_hash(email: str, digest: str) -> None:
    with session_scope() as s:
        s.exec(select(User).where(User.email == email)).one().password_hash = digest


def test_the_password_is_checked_off_the_event_loop(login, actor_factory, monkeypatch):
    from govsocial_app.services.identity import signin
    from govsocial_app.state.login import LoginState

    app_state, form = login
    email = _email(actor_factory("responder", "Riley"))
    assert inspect.iscoroutinefunction(LoginState.event_handlers["submit"].fn)
    seen: list[threading.Thread] = []
    real = signin.password_sign_in

    def recording(*args):
        seen.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(signin, "password_sign_in", recording)
    lookups: list[str] = []
    real_lookup = auth.user_for_token
    monkeypatch.setattr(auth, "user_for_token", lambda token, **kw: lookups.append(token) or real_lookup(token, **kw))

    async def go():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0)
                ticks += 1

        task = asyncio.create_task(ticker())
        result = await form.submit({"email": email, "password": PASSWORD})
        task.cancel()
        return result, threading.current_thread(), ticks

    result, loop_thread, ticks = asyncio.run(go())
    assert len(seen) == 1 and seen[0] is not loop_thread and seen[0].name.startswith("gs-sign-in")
    assert ticks > 0  # the loop kept running other work while the password was checked
    assert form.error == "" and app_state.auth_token and app_state.user_name == "Riley"
    assert app_state.user_role == "responder" and app_state.user_id > 0
    assert lookups == []  # the sign-in's own answer fills the user fields: no second lookup on the loop
    assert "/inbox" in str(result)


def test_a_wrong_password_is_still_refused_with_the_message(login, actor_factory):
    app_state, form = login
    email = _email(actor_factory("responder"))
    before = _hash_of(email)
    asyncio.run(form.submit({"email": email, "password": "wrong password!"}))
    assert form.error == "That email and password do not match an active account."
    assert app_state.auth_token == "" and app_state.user_id == 0
    assert _hash_of(email) == before
    asyncio.run(form.submit({"email": "nobody@test.gov", "password": PASSWORD}))
    assert "do not match" in form.error and app_state.auth_token == ""


def test_an_old_parameter_hash_is_rehashed_on_the_next_sign_in(login, actor_factory):
    app_state, form = login
    email = _email(actor_factory("responder"))
    old = OLD_HASHER.hash(PASSWORD)
    _set_hash(email, old)
    assert auth._hasher.check_needs_rehash(old)

    asyncio.run(form.submit({"email": email, "password": "wrong password!"}))
    assert _hash_of(email) == old  # a failed attempt never rewrites the hash

    asyncio.run(form.submit({"email": email, "password": PASSWORD}))
    assert form.error == "" and app_state.auth_token
    new = _hash_of(email)
    assert new != old and new.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not auth._hasher.check_needs_rehash(new)
    assert auth._hasher.verify(new, PASSWORD)
    with pytest.raises(VerifyMismatchError):
        auth._hasher.verify(new, "wrong password!")
    # and the next sign-in goes through with the new hash, which it leaves alone
    token, _ = auth.sign_in(email, PASSWORD)
    assert token and _hash_of(email) == new


def test_new_hashes_use_the_owasp_parameters():
    digest = auth.hash_password(PASSWORD)
    assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
