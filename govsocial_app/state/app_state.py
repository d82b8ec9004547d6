"""The root app state: who is signed in (re-checked on the server for every handler), language and theme."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import reflex as rx

from govsocial_app.config import get_settings
from govsocial_app.i18n import is_rtl, translate
from govsocial_app.services import auth as auth_service
from govsocial_app.services.authz import Actor, PermissionDenied, can
from govsocial_app.services.errors import NotSignedIn, UserError
from govsocial_app.state import guard, watchers
from govsocial_app.state.guard import public, requires

LOGIN_ROUTE = "/login"
HOME_ROUTE = "/inbox"


@guard.root_state
class AppState(rx.State):
    # The bearer token lives in LocalStorage so a reload or a new tab stays signed in;
    # the server resolves it to a user on every handler, so a revoked session stops at once.
    auth_token: str = rx.LocalStorage("", name="gs_session", sync=True)
    # The language survives sign-out on this device, so the login page stays in the user's language.
    device_lang: str = rx.LocalStorage("en", name="gs_lang", sync=True)

    user_id: int = 0
    user_name: str = ""
    user_email: str = ""
    user_role: str = ""
    user_tz: str = "UTC"
    lang: str = "en"
    checked: bool = False

    @rx.var
    def signed_in(self) -> bool:
        return self.user_id > 0

    @rx.var
    def dir(self) -> str:
        return "rtl" if is_rtl(self.lang) else "ltr"

    # What the signed-in role may do, to show or hide controls (every handler checks again on the server). Each flag is
    # one permission of services/authz.py, so a role's rights are written once, there.
    # These live here, never on a page's own state: a computed var in a substate that reads `user_role` or `lang`
    # makes Reflex load that whole substate (plotly figures and all) for every event on every page.
    @rx.var
    def can_records(self) -> bool:
        # Admins see the link too; the server refuses them until an admin grants them the records permission.
        return can(self.user_role, "records.manage")

    @rx.var
    def can_act(self) -> bool:
        return can(self.user_role, "inbox.act")

    @rx.var
    def can_compose(self) -> bool:
        return can(self.user_role, "publish.compose")

    @rx.var
    def can_edit_vips(self) -> bool:
        return can(self.user_role, "vip.edit")

    @rx.var
    def can_edit_keywords(self) -> bool:
        return can(self.user_role, "keywords.edit")

    @rx.var
    def can_bypass(self) -> bool:
        """Publish past an approval workflow, and see every post awaiting approval."""
        return can(self.user_role, "publish.bypass")

    @rx.var
    def can_ack(self) -> bool:
        return can(self.user_role, "alerts.ack")

    @rx.var
    def can_configure_alerts(self) -> bool:
        return can(self.user_role, "alerts.configure")

    @rx.var
    def can_manage_settings(self) -> bool:
        """Server-wide settings: email (SMTP), report recipient domains, official-alert feeds."""
        return can(self.user_role, "settings.manage")

    @rx.var
    def can_manage_profiles(self) -> bool:
        return can(self.user_role, "profiles.manage")

    @rx.var
    def can_manage_users(self) -> bool:
        return can(self.user_role, "users.manage")

    @rx.var
    def can_moderate(self) -> bool:
        return can(self.user_role, "moderation.act")

    @rx.var
    def can_confirm_moderation(self) -> bool:
        return can(self.user_role, "moderation.confirm")

    @rx.var
    def can_view_audit(self) -> bool:
        return can(self.user_role, "audit.view")

    @rx.var
    def user_initials(self) -> str:
        parts = self.user_name.split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    @rx.var
    def demo_mode(self) -> bool:
        return get_settings().demo

    # ---- server-side checks used by every handler

    def _client(self) -> tuple[str, str]:
        return self.router.session.client_ip or "", self.router.headers.user_agent or ""

    def _current_actor(self) -> Actor:
        """Resolve the token to a user now (never trust fields the browser could have kept). Within one event the
        guard (state/guard.py) has just resolved it, and that answer is reused."""
        if (actor := guard.cached_actor(self.auth_token)) is not None:
            return actor
        user = auth_service.user_for_token(self.auth_token)
        if user is None:
            raise NotSignedIn()
        guard.remember_user(self.auth_token, user)
        ip, ua = self._client()
        return user.actor(ip, ua)

    def _require(self, permission: str) -> Actor:
        actor = self._current_actor()
        if not can(actor.role, permission):
            raise PermissionDenied(permission, actor.role, self.lang)
        return actor

    def _(self, msgid: str, **params) -> str:
        return translate(msgid, self.lang, **params)

    def _load_user(self, just_signed_in: auth_service.SignedInUser | None = None) -> bool:
        if not (self.router.url.path or "").startswith("/inbox"):
            # Every page's load comes here: a client that left the inbox is no longer on its open message.
            watchers.leave_inbox(self.router.session.client_token)
        # Within a guarded handler the guard has just resolved this token: its answer is as fresh as a second query.
        # `just_signed_in`: the sign-in that opened this very session moments ago, in this handler.
        user = just_signed_in or guard.cached_user(self.auth_token) or auth_service.user_for_token(self.auth_token)
        self.checked = True
        if user is None:
            self.user_id, self.user_name, self.user_email, self.user_role = 0, "", "", ""
            self.lang = self.device_lang if self.device_lang in ("en", "ar") else "en"
            return False
        self.user_id, self.user_name, self.user_email = user.id, user.display_name, user.email
        self.user_role, self.user_tz, self.lang = user.role, user.timezone, user.locale
        self.device_lang = user.locale
        return True

    def _to_login(self):
        """Send a signed-out person to sign in, and back to this exact address afterwards (path and query,
        URL-encoded so `/inbox?tag=Roads&message=5` survives as one `next`). The root address needs no `next`.
        It replaces the history entry, so Back does not return to a page that bounces to sign-in again."""
        url = self.router.url
        here = (url.path or "/") + (f"?{url.query}" if url.query else "")
        if here == "/":
            return rx.redirect(LOGIN_ROUTE, replace=True)
        return rx.redirect(f"{LOGIN_ROUTE}?{urlencode({'next': here})}", replace=True)

    # ---- events

    @rx.event
    @public("the root address and signed-in pages send a signed-out visitor to sign in")
    def check_login(self):
        """on_load of the root address and of pages that need only a signed-in person.

        The root address shows nothing of its own: it sends a signed-out person to sign in and a signed-in one to
        the inbox. It used to do only the first, and that was the "first sign-in from / hangs" bug (issue 14): `/`
        redirected to `/login?next=/`, sign-in redirected back to `next` = `/`, and Reflex's frontend treats a
        `_redirect` as a client-side `navigate()` whose only follow-up is the new page's on_load
        (`on_load_internal` from the location effect in `.web/utils/state.js`); this handler found the person
        signed in and returned nothing, so no further event ever came and the root's spinner stayed up for good.
        The only websocket frame after that is Engine.IO's ping, 25 s after the socket opened.
        """
        if not self._load_user():
            return self._to_login()
        if (self.router.url.path or "/") == "/":
            return rx.redirect(HOME_ROUTE, replace=True)

    @rx.event
    @public("the sign-in page itself")
    def check_login_page(self):
        """on_load of the login page: go straight in when already signed in."""
        self.lang = self.device_lang if self.device_lang in ("en", "ar") else "en"
        if self._load_user():
            return rx.redirect(HOME_ROUTE)

    async def _provider_logout(self) -> str | None:
        """Where to send the browser so a single sign-on session also ends at the provider (RP-initiated logout), or
        None. Asked after the GovSocial session has ended (the ID token hint is kept with it); best effort: a provider
        that is down or answers oddly never stops the sign-out."""
        from govsocial_app.services.identity import oidc, signin

        if (cfg := signin.sso_config()) is None:
            return None
        try:
            return await oidc.logout_url(self.auth_token, cfg)
        except Exception:  # noqa: BLE001
            logging.getLogger(__name__).warning("provider logout address unavailable", exc_info=True)
            return None

    @rx.event
    @public("signing out must work with a session that already ended; it revokes only the token it holds")
    async def sign_out(self):
        provider_logout = None
        try:
            actor = self._current_actor()
            auth_service.sign_out(self.auth_token, actor)
            watchers.forget_session(self.auth_token)
            provider_logout = await self._provider_logout()
        except NotSignedIn:
            pass
        self.auth_token = ""
        self.user_id, self.user_name, self.user_email, self.user_role = 0, "", "", ""
        return rx.redirect(provider_logout or LOGIN_ROUTE)

    @rx.event
    @public("the language toggle on the sign-in page; a signed-in person's choice is saved only after self.edit")
    def set_language(self, lang: str):
        if lang not in ("en", "ar"):
            raise UserError("Unknown language.")
        self.device_lang = lang
        if self.auth_token:
            actor = self._require("self.edit")
            auth_service.update_preferences(actor.user_id, actor, locale=lang)
        self.lang = lang

    @rx.event
    @requires("self.edit")
    def set_theme(self, theme: str):
        if theme not in ("light", "dark"):
            raise UserError("Unknown theme.")
        actor = self._require("self.edit")
        auth_service.update_preferences(actor.user_id, actor, theme=theme)
