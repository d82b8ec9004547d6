"""More → Your sessions: every browser signed in to this account, with device, address, first and last seen; end
one, or all but this one."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services.identity import errors as id_errors
from govsocial_app.services.identity import sessions
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires

ROUTE = "/more/sessions"
METHOD_LABELS = {
    "password": "Password", "password+totp": "Password and code", "password+recovery": "Password and recovery code",
    "sso": "Single sign-on",
}


class MySessionsState(AppState):
    rows: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""

    def _fmt(self, dt) -> str:
        from zoneinfo import ZoneInfo

        try:
            tz = ZoneInfo(self.user_tz or "UTC")
        except Exception:  # noqa: BLE001 - an unknown zone shows UTC
            tz = ZoneInfo("UTC")
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def _refresh(self) -> None:
        actor = self._require("self.edit")
        self.rows = [
            {
                "id": str(s.id), "device": s.label, "ip": s.client_ip or "—", "first": self._fmt(s.first_seen),
                "last": self._fmt(s.last_seen), "current": "yes" if s.current else "",
                "method": self._(METHOD_LABELS.get(s.method, s.method)) + (f" ({s.provider})" if s.provider else ""),
            }
            for s in sessions.list_sessions(actor.user_id, actor, current_token=self.auth_token)
        ]

    @rx.event
    @requires("self.edit", signed_out="login")
    def load(self):
        self._load_user()
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    @requires("self.edit")
    def revoke(self, session_id: str):
        actor = self._require("self.edit")
        try:
            sid = int(session_id)
        except ValueError:
            return
        if any(r["id"] == session_id and r["current"] for r in self.rows):
            return  # this tab's own session ends with "Sign out"
        try:
            sessions.revoke_session(sid, actor)
        except id_errors.IdentityError as exc:
            self.error = self._(exc.msgid, **exc.params)
        else:
            self.error, self.notice = "", self._("That session is signed out.")
        self._refresh()

    @rx.event
    @requires("self.edit")
    def revoke_others(self):
        actor = self._require("self.edit")
        ended = sessions.revoke_all(actor.user_id, actor, keep_token=self.auth_token)
        self.error, self.notice = "", self._("Signed out everywhere else ({n}).", n=ended)
        self._refresh()
