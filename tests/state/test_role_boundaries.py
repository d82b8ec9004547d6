"""Every handler checks the role on the server: each role boundary, exercised on the real state classes."""

from __future__ import annotations

import asyncio

import pytest
import reflex as rx

from govsocial_app.services import auth
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import NotSignedIn

PASSWORD = "correct horse battery"


@pytest.fixture
def app_states(db):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    return root, root.substates[AppState.get_name()]


def sub(app_state, cls):
    return app_state.substates[cls.get_name()]


@pytest.fixture
def as_role(app_states, actor_factory):
    root, app_state = app_states

    def signed_in(role: str):
        actor = actor_factory(role)
        email = actor.label.split("<")[1].rstrip(">")
        token, _ = auth.sign_in(email, PASSWORD)
        app_state.auth_token = token
        return app_state

    return signed_in


ROLES = ("admin", "manager", "publisher", "responder", "viewer")


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_manage_users(as_role, role):
    from govsocial_app.state.admin_users import UsersState

    users = sub(as_role(role), UsersState)
    if role == "admin":
        users.load()
        assert any(u["role"] == "admin" for u in users.users)
        users.create({"email": "new@agency.gov", "name": "New Person", "password": "a long password", "role": "viewer"})
        assert users.error == "" and any(u["email"] == "new@agency.gov" for u in users.users)
    else:
        # The page's load refuses quietly: nothing is read, and the page shows its "no access" notice from the same
        # permission flag (one plain notice, not one toast per on_load handler).
        assert users.load() is None and users.users == []
        with pytest.raises(PermissionDenied):
            users.create({"email": "x@agency.gov", "name": "X", "password": "a long password", "role": "admin"})


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_read_and_export_the_audit_log(as_role, role):
    from govsocial_app.state.admin_audit import AuditState

    audit_state = sub(as_role(role), AuditState)
    if role == "admin":
        audit_state.load()
        assert any(r["action"] == "auth.sign_in" for r in audit_state.rows)
        assert audit_state.export_csv() is not None
    else:
        assert audit_state.load() is None and audit_state.rows == []
        with pytest.raises(PermissionDenied):
            audit_state.export_csv()


@pytest.mark.parametrize("role", ROLES)
def test_inbox_actions_need_a_staff_role(as_role, role, store):
    from govsocial_app.state.inbox import InboxState
    from tests.inbox.conftest import msg

    (mid,) = store([msg(1)])
    inbox_state = sub(as_role(role), InboxState)
    inbox_state.open_id = mid
    if role == "viewer":
        with pytest.raises(PermissionDenied):
            inbox_state.add_tag({"tag": "Roads"})
        with pytest.raises(PermissionDenied):
            inbox_state.set_status("completed")
        with pytest.raises(PermissionDenied):
            inbox_state.add_note({"note": "x"})
    else:
        inbox_state.add_tag({"tag": "Roads"})
        inbox_state.set_status("completed")
        assert inbox_state.d_card.status == "completed" and inbox_state.d_card.tags == ["Roads"]


@pytest.mark.parametrize("role", ROLES)
def test_only_managers_and_admins_add_vips_from_a_message(as_role, role, store, actor_factory):
    from govsocial_app.services.inbox import vip
    from govsocial_app.state.inbox import InboxState
    from tests.inbox.conftest import msg

    list_id = vip.create_list("Reporters", actor_factory("admin"))
    (mid,) = store([msg(1, handle="@dana")])
    inbox_state = sub(as_role(role), InboxState)
    inbox_state.open_id = mid
    inbox_state._load_detail()
    if role in ("admin", "manager"):
        inbox_state.add_to_vip(str(list_id))
        assert inbox_state.d_card.vips == ["Reporters"]
    else:
        with pytest.raises(PermissionDenied):
            inbox_state.add_to_vip(str(list_id))


def test_signed_out_and_revoked_sessions_are_refused(app_states, actor_factory, store):
    from govsocial_app.state.inbox import InboxState
    from tests.inbox.conftest import msg

    _root, app_state = app_states
    inbox_state = sub(app_state, InboxState)
    app_state.auth_token = "not-a-real-token"
    with pytest.raises(NotSignedIn):
        inbox_state.set_status("completed")
    # A real session stops working the moment it is signed out.
    actor = actor_factory("responder")
    token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
    app_state.auth_token = token
    (inbox_state.open_id,) = store([msg(1)])
    inbox_state.set_status("completed")
    auth.sign_out(token, actor)
    with pytest.raises(NotSignedIn):
        inbox_state.set_status("open")


def test_inbox_load_redirects_when_signed_out(app_states):
    from govsocial_app.state.inbox import InboxState

    _root, app_state = app_states
    app_state.auth_token = ""
    result = sub(app_state, InboxState).load()
    assert "/login" in str(result)


def test_login_sets_session_and_rejects_wrong_password(app_states, actor_factory):
    from govsocial_app.state.login import LoginState

    _root, app_state = app_states
    actor = actor_factory("responder", "Riley")
    email = actor.label.split("<")[1].rstrip(">")
    login = sub(app_state, LoginState)
    asyncio.run(login.submit({"email": email, "password": "wrong password!"}))
    assert "do not match" in login.error and app_state.auth_token == ""
    asyncio.run(login.submit({"email": email, "password": PASSWORD}))
    assert login.error == "" and app_state.auth_token and app_state.user_name == "Riley"


def test_language_preference_is_stored_per_user(as_role):
    from govsocial_app.services.auth import user_for_token

    app_state = as_role("responder")
    app_state.set_language("ar")
    assert app_state.lang == "ar" and user_for_token(app_state.auth_token).locale == "ar"
    with pytest.raises(Exception):
        app_state.set_language("fr")
