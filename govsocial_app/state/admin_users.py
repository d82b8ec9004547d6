"""State for user management (/admin/users): create users, change roles, (de)activate, grant records access."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services import auth as auth_service
from govsocial_app.services.authz import ROLES
from govsocial_app.services.records import access as records_access
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState


class UsersState(AppState):
    users: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""
    roles: list[str] = list(ROLES)

    def _refresh(self) -> None:
        self._require("users.manage")  # a helper that reads data checks for itself
        officers = set(records_access.officer_admin_ids())
        self.users = [
            {"id": str(u.id), "email": u.email, "name": u.display_name, "role": u.role, "active": "yes" if u.is_active else "no",
             "records": "yes" if u.id in officers else "no"}
            for u in auth_service.list_users(include_inactive=True)
        ]

    @rx.event
    @requires("users.manage", signed_out="login", refused="page")  # the page shows no_access() for this role
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("users.manage")
        self._refresh()

    @rx.event
    @requires("users.manage")
    def create(self, form: dict):
        actor = self._require("users.manage")
        try:
            auth_service.create_user(form.get("email", ""), form.get("name", ""), form.get("password", ""), form.get("role", "viewer"), actor)
        except ValueError as exc:
            self.error, self.notice = self._(str(exc)), ""
            return
        self.error, self.notice = "", self._("User created.")
        self._refresh()

    @rx.event
    @requires("users.manage")
    def change_role(self, user_id: str, role: str):
        actor = self._require("users.manage")
        try:
            auth_service.set_role(int(user_id), role, actor)
        except ValueError as exc:
            self.error = self._(str(exc))
        self._refresh()

    @rx.event
    @requires("records.grant")
    def set_records_grant(self, user_id: str, granted: bool | str):
        # Issue 16: an admin is a records officer only once another admin grants it here.
        actor = self._require("records.grant")
        records_access.set_grant(int(user_id), granted in (True, "yes", "true"), actor)
        self._refresh()

    @rx.event
    @requires("users.manage")
    def toggle_active(self, user_id: str, active: str):
        actor = self._require("users.manage")
        try:
            auth_service.set_active(int(user_id), active != "yes", actor)
        except ValueError as exc:
            self.error = self._(str(exc))
        self._refresh()
