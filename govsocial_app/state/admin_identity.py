"""Admin → Users, the sign-in part: reset a user's second factor (audited, the user emailed), end all of a user's
sessions, and the sign-in policy (roles that must use two-factor; password sign-in for everyone or only break-glass
admins when single sign-on is on)."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services import auth as auth_service
from govsocial_app.services.authz import ROLES
from govsocial_app.services.identity import errors as id_errors
from govsocial_app.services.identity import policy, sessions, signin, totp
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires


class AdminIdentityState(AppState):
    error: str = ""
    notice: str = ""
    sso_name: str = ""
    two_factor_roles: list[str] = []
    password_mode: str = "everyone"
    break_glass_ids: list[str] = []
    admins: list[dict[str, str]] = []  # active admins: the break-glass candidates

    def _refresh(self) -> None:
        self._require("users.manage")
        p = policy.get_policy()
        cfg = signin.sso_config()
        self.sso_name = cfg.provider_name if cfg else ""
        self.two_factor_roles = list(p.two_factor_roles)
        self.password_mode = p.password_sign_in
        self.break_glass_ids = [str(i) for i in p.break_glass_user_ids]
        self.admins = [{"id": str(u.id), "name": u.display_name} for u in auth_service.list_users() if u.role == "admin"]

    @rx.event
    @requires("users.manage", signed_out="login", refused="page")  # the page shows no_access() for this role
    def load(self):
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    @requires("users.manage")
    async def reset_two_factor(self, user_id: str):
        actor = self._require("users.manage")
        try:
            done = await totp.admin_reset(int(user_id), actor)
        except id_errors.IdentityError as exc:
            self.error, self.notice = self._(exc.msgid, **exc.params), ""
            return
        self.error = ""
        self.notice = (self._("Two-factor sign-in is reset and the user is signed out everywhere ({n}). They were told by email.", n=done.sessions_ended)
                       if done.emailed else
                       self._("Two-factor sign-in is reset and the user is signed out everywhere ({n}). The email to them failed: tell them yourself.",
                              n=done.sessions_ended))

    @rx.event
    @requires("users.manage")
    def revoke_sessions(self, user_id: str):
        actor = self._require("users.manage")
        try:
            ended = sessions.revoke_all(int(user_id), actor)
        except id_errors.IdentityError as exc:
            self.error, self.notice = self._(exc.msgid, **exc.params), ""
            return
        self.error, self.notice = "", self._("The user is signed out everywhere ({n}).", n=ended)

    @rx.event
    @requires("settings.manage")
    def save_policy(self, form: dict):
        actor = self._require("settings.manage")
        roles = tuple(r for r in ROLES if form.get(f"2fa_{r}") in ("on", True, "true"))
        ids = tuple(int(a["id"]) for a in self.admins if form.get(f"bg_{a['id']}") in ("on", True, "true"))
        mode = form.get("password_mode", "everyone")
        try:
            policy.set_policy(policy.SignInPolicy(roles, mode, ids), actor, sso_enabled=signin.sso_config() is not None)
        except id_errors.IdentityError as exc:
            self.error, self.notice = self._(exc.msgid, **exc.params), ""
            return
        self.error, self.notice = "", self._("Sign-in policy saved.")
        self._refresh()
