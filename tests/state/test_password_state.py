"""More → Change password, at the state level: signed out it does nothing, errors are translated, success keeps this
session and ends the others."""

from __future__ import annotations

import pytest
import reflex as rx

from govsocial_app.services import auth
from govsocial_app.services.errors import NotSignedIn

PASSWORD = "correct horse battery"
NEW = "copper meadow sailing north"


@pytest.fixture
def password_state(db, actor_factory):
    from govsocial_app.state.account import PasswordState
    from govsocial_app.state.app_state import AppState

    def make(token: str = ""):
        root = rx.State(_reflex_internal_init=True)
        app_state = root.substates[AppState.get_name()]
        app_state.auth_token = token
        return app_state.substates[PasswordState.get_name()]

    return make


def test_signed_out_nothing_changes(password_state):
    st = password_state("")
    with pytest.raises(NotSignedIn):
        st.submit({"current": PASSWORD, "new": NEW, "confirm": NEW})


def test_errors_in_the_users_language_and_success(password_state, actor_factory):
    actor = actor_factory("viewer")
    email = actor.label.split("<")[1].rstrip(">")
    token, _ = auth.sign_in(email, PASSWORD)
    other, _ = auth.sign_in(email, PASSWORD, "192.0.2.5")
    st = password_state(token)
    st.lang = "ar"
    st.submit({"current": PASSWORD, "new": NEW, "confirm": NEW + "x"})
    assert st.error == "كلمتا المرور الجديدتان غير متطابقتين." and st.notice == ""
    st.lang = "en"
    st.submit({"current": PASSWORD, "new": NEW, "confirm": NEW})
    assert st.error == "" and "(1)" in st.notice
    assert auth.user_for_token(token) and auth.user_for_token(other) is None
