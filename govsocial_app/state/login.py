"""Sign-in form state."""

from __future__ import annotations

from urllib.parse import urlsplit

import reflex as rx

from govsocial_app.services import auth as auth_service
from govsocial_app.state.guard import public
from govsocial_app.state.app_state import HOME_ROUTE, AppState


def safe_next(raw: str | None) -> str:
    """Only follow same-site paths after sign-in (no open redirect). Browsers read a backslash as a slash, so
    `/\\evil.com` would be `//evil.com`; tabs and newlines are dropped by them too."""
    if not raw or not raw.startswith("/") or raw.startswith("/login"):
        return HOME_ROUTE
    if "\\" in raw or any(ord(ch) < 32 or ord(ch) == 127 for ch in raw) or raw.startswith("//"):
        return HOME_ROUTE
    parts = urlsplit(raw)
    return raw if not parts.scheme and not parts.netloc else HOME_ROUTE


class LoginState(AppState):
    error: str = ""

    @rx.event
    @public("signing in")
    def submit(self, form: dict):
        ip, ua = self._client()
        try:
            token, user = auth_service.sign_in(form.get("email", ""), form.get("password", ""), ip, ua)
        except auth_service.AuthFailed as exc:
            self.error = self._(str(exc), **exc.params)
            return
        self.error = ""
        self.auth_token = token
        self._load_user()
        # Replace the sign-in page in the history, so Back after signing in does not land on it again.
        return rx.redirect(safe_next(self.router.url.query_parameters.get("next")), replace=True)
