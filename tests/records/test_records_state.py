"""The Records page's handlers check the role on the server: only records officers (the records role, or an admin
granted the permission) get through; every other role is refused by each handler."""

from __future__ import annotations

import pytest
import reflex as rx

from govsocial_app.services import auth
from govsocial_app.services.authz import PermissionDenied

PASSWORD = "correct horse battery"


@pytest.fixture
def app_state(db):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    return root.substates[AppState.get_name()]


@pytest.fixture
def records_state(app_state, actor_factory):
    from govsocial_app.state.records import RecordsState

    def signed_in(role: str):
        actor = actor_factory(role)
        token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
        app_state.auth_token = token
        return app_state.substates[RecordsState.get_name()], actor

    return signed_in


HANDLERS = [
    ("load", ()),
    ("place_hold", ({"matter": "M", "authors": "x"},)),
    ("release_hold", ({"hold_id": "1", "reason": "r"},)),
    ("set_schedule", ({"record_type": "inbound_message", "years": "3", "year_end": "on"},)),
    ("propose", ()),
    ("approve", ("1",)),
    ("reject", ("1",)),
    ("download_certificate", ("1",)),
    ("create_request", ({"requester": "X", "received": "2026-12-01"},)),
    ("open_request", ("1",)),
    ("add_redaction", ({"kind": "emails", "reason": "personal_privacy"},)),
    ("remove_redaction", ("1",)),
    ("download_export", ()),
]


@pytest.mark.parametrize("role", ["manager", "publisher", "responder", "viewer", "admin"])
def test_every_handler_refuses_other_roles_and_ungranted_admins(records_state, role):
    state, _ = records_state(role)
    state.selected = "1"
    for name, args in HANDLERS:
        with pytest.raises(PermissionDenied):
            getattr(state, name)(*args)


def test_records_officer_works_the_page(records_state):
    state, officer = records_state("records")
    state.load()
    state.place_hold({"matter": "Smith v. City", "authors": "troll, @other", "since": "2025-01-01", "until": "2026-01-01"})
    assert state.hold_rows[0]["matter"] == "Smith v. City" and "troll" in state.hold_rows[0]["scope"]
    state.set_schedule({"record_type": "inbound_message", "years": "3", "year_end": "on"})
    assert [r["years"] for r in state.schedule_rows if r["type"] == "inbound_message"] == ["3"]
    state.propose()
    assert state.notice == "Nothing has passed its schedule."
    state.create_request({"requester": "Jane Reporter", "received": "2026-12-01", "view": "none"})
    assert state.request_rows[0]["requester"] == "Jane Reporter" and state.selected
    state.add_redaction({"kind": "emails", "reason": "personal_privacy"})
    assert state.redactions[0]["kind"] == "emails"
    state.release_hold({"hold_id": state.hold_rows[0]["id"], "reason": "settled"})
    assert state.hold_rows[0]["released"]


def test_granted_admin_is_a_records_officer(records_state, actor_factory):
    from govsocial_app.services.records import access

    state, admin = records_state("admin")
    with pytest.raises(PermissionDenied):
        state.load()
    access.set_grant(admin.user_id, True, actor_factory("admin", "Granting Admin"))
    state.load()
    assert len(state.schedule_rows) >= 4


def test_admins_grant_the_records_permission_on_the_users_page(app_state, actor_factory):
    from govsocial_app.state.admin_users import UsersState
    from govsocial_app.services.records import access

    granting = actor_factory("admin", "Granting Admin")
    other = actor_factory("admin", "Other Admin")
    token, _ = auth.sign_in(granting.label.split("<")[1].rstrip(">"), PASSWORD)
    app_state.auth_token = token
    users = app_state.substates[UsersState.get_name()]
    users.load()
    users.set_records_grant(str(other.user_id), True)
    assert other.user_id in access.granted_admins()
    assert [u["records"] for u in users.users if u["id"] == str(other.user_id)] == ["yes"]
    users.set_records_grant(str(other.user_id), False)
    assert other.user_id not in access.granted_admins()

    manager = actor_factory("manager")
    token, _ = auth.sign_in(manager.label.split("<")[1].rstrip(">"), PASSWORD)
    app_state.auth_token = token
    with pytest.raises(PermissionDenied):
        users.set_records_grant(str(other.user_id), True)
