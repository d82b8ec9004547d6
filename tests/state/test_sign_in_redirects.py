"""Where sign-in sends a person: the root address, deep links that survive sign-in, and no redirect loop."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest
import reflex as rx
from reflex.istate.data import ReflexURL, RouterData

from govsocial_app.services import auth

PASSWORD = "correct horse battery"


@pytest.fixture
def states(db):
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    return root, root.substates[AppState.get_name()]


def at(root, address: str) -> None:
    """Put the client at `address`, the way Reflex fills the router from an event's router_data."""
    root.router = RouterData(url=ReflexURL("http://127.0.0.1:3000" + address))


def redirect_of(result) -> dict:
    specs = result if isinstance(result, list) else [result]
    (spec,) = [s for s in specs if s is not None]
    assert spec.handler.fn.__qualname__ == "_redirect", spec
    return {name._js_expr: value._var_value for name, value in spec.args}


def signed_in(app_state, actor_factory, role: str = "responder") -> None:
    actor = actor_factory(role)
    email = actor.label.split("<")[1].rstrip(">")
    app_state.auth_token, _ = auth.sign_in(email, PASSWORD)


def test_the_root_sends_a_signed_out_person_to_sign_in_without_a_pointless_next(states):
    root, app_state = states
    at(root, "/")
    target = redirect_of(app_state.check_login())
    assert target["path"] == "/login"
    assert target["replace"] is True


def test_the_root_takes_a_signed_in_person_to_the_inbox(states, actor_factory):
    """The bug of issue 14: `/` did nothing for a signed-in person, so sign-in from the root ended on a spinner."""
    root, app_state = states
    signed_in(app_state, actor_factory)
    at(root, "/")
    target = redirect_of(app_state.check_login())
    assert target["path"] == "/inbox"


def test_a_signed_in_person_on_another_page_is_left_where_they_are(states, actor_factory):
    root, app_state = states
    signed_in(app_state, actor_factory)
    at(root, "/more")
    assert app_state.check_login() is None


@pytest.mark.parametrize("address", ["/reports", "/inbox?tag=Roads", "/inbox?tag=3&status=open&message=17", "/more"])
def test_a_deep_link_is_kept_whole_in_next(states, address):
    """The query too, URL-encoded as one value: `&message=17` must not become a parameter of /login."""
    from govsocial_app.state.login import safe_next

    root, app_state = states
    at(root, address)
    target = redirect_of(app_state._to_login())
    parts = urlsplit(target["path"])
    assert parts.path == "/login"
    assert parse_qs(parts.query) == {"next": [address]}
    assert safe_next(parse_qs(parts.query)["next"][0]) == address


def test_the_inbox_page_keeps_its_filters_through_sign_in(states):
    from govsocial_app.state.inbox import InboxState

    root, app_state = states
    at(root, "/inbox?tag=Roads&status=open")
    target = redirect_of(app_state.substates[InboxState.get_name()].load())
    assert parse_qs(urlsplit(target["path"]).query) == {"next": ["/inbox?tag=Roads&status=open"]}


def test_sign_in_goes_to_next_or_the_inbox_and_never_back_to_the_root_spinner(states, actor_factory):
    from govsocial_app.state.login import LoginState

    root, app_state = states
    login = app_state.substates[LoginState.get_name()]
    actor = actor_factory("viewer")
    email = actor.label.split("<")[1].rstrip(">")
    at(root, "/login?next=%2Freports%3Fkind%3Dtags")
    assert redirect_of(asyncio.run(login.submit({"email": email, "password": PASSWORD})))["path"] == "/reports?kind=tags"
    at(root, "/login")
    assert redirect_of(asyncio.run(login.submit({"email": email, "password": PASSWORD})))["path"] == "/inbox"
