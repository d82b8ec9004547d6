"""More → Change password: the signed-in person's own password."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services import auth as auth_service
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState

ROUTE = "/more/password"


class PasswordState(AppState):
    error: str = ""
    notice: str = ""

    @rx.event
    @requires("self.edit", signed_out="login")
    def load(self):
        if not self._load_user():
            return rx.redirect(f"/login?next={ROUTE}")
        self._require("self.edit")
        self.error = self.notice = ""

    @rx.event
    @requires("self.edit")
    def submit(self, form: dict):
        actor = self._require("self.edit")
        try:
            ended = auth_service.change_password(
                actor, self.auth_token, form.get("current", ""), form.get("new", ""), form.get("confirm", "")
            )
        except auth_service.AuthFailed as exc:
            self.error, self.notice = self._(str(exc), **exc.params), ""
            return
        self.error = ""
        self.notice = self._("Your password is changed. Any other device where you were signed in is now signed out ({n}).", n=ended)
