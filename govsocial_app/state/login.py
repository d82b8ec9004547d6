"""Sign-in form state."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services import auth as auth_service
from govsocial_app.state.app_state import HOME_ROUTE, AppState


def safe_next(raw: str | None) -> str:
    """Only follow same-site paths after sign-in (no open redirect)."""
    if raw and raw.startswith("/") and not raw.startswith("//") and not raw.startswith("/login"):
        return raw
    return HOME_ROUTE


class LoginState(AppState):
    error: str = ""

    @rx.event
    def submit(self, form: dict):
        ip, ua = self._client()
        try:
            token, user = auth_service.sign_in(form.get("email", ""), form.get("password", ""), ip, ua)
        except auth_service.AuthFailed as exc:
            self.error = self._(str(exc))
            return
        self.error = ""
        self.auth_token = token
        self._load_user()
        # Replace the sign-in page in the history, so Back after signing in does not land on it again.
        return rx.redirect(safe_next(self.router.url.query_parameters.get("next")), replace=True)
