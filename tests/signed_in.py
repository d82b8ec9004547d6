"""One signed-in Reflex state tree for state tests: a user of a role, signed in with the real auth service, its
token on AppState, the reader's language set, and the page states asked for taken from that one tree (so
`get_state` between them works as in the app).

Use the `signed_in` fixture (import it into the test module: `from tests.signed_in import signed_in  # noqa: F401`):

    page = signed_in("manager", RulesState, lang="ar")
    inbox, picker = signed_in("responder", InboxState, ReplyPickerState, load_user=True)
"""

from __future__ import annotations

import pytest
import reflex as rx

PASSWORD = "correct horse battery"  # what tests/conftest.py's actor_factory gives every user


def email_of(actor) -> str:
    return actor.label.split("<")[1].rstrip(">")


def app_state_for(actor, lang: str = "en", *, load_user: bool = False):
    """A fresh state tree signed in as `actor`; returns its AppState. `load_user` reads the role and the person's
    saved language as a page's load does (the `lang` given is set after it)."""
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state in the main context)
    from govsocial_app.services import auth
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    app_state = root.substates[AppState.get_name()]
    app_state.auth_token, _ = auth.sign_in(email_of(actor), PASSWORD)
    if load_user:
        app_state._load_user()
    app_state.lang = lang
    return app_state


@pytest.fixture
def signed_in(db, actor_factory):
    """`signed_in(role, StateClass, ..., lang="en", load_user=False, with_actor=False)`: a new user of that role,
    signed in; returns the page state (or a tuple of them, one per class given), and with `with_actor` the pair
    (that, the user's Actor)."""

    def make(role: str, *classes, lang: str = "en", load_user: bool = False, with_actor: bool = False):
        actor = actor_factory(role)
        app_state = app_state_for(actor, lang, load_user=load_user)
        states = tuple(app_state.substates[c.get_name()] for c in classes)
        found = states[0] if len(states) == 1 else states
        return (found, actor) if with_actor else found

    return make
