"""Sign-in state: the password form, its second step (a two-factor code, or enrolment when the role requires it),
and the end of a single sign-on (the callback's one-time ticket, services/identity/signin.py)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import reflex as rx

from govsocial_app.services import auth as auth_service
from govsocial_app.services.identity import errors as id_errors
from govsocial_app.services.identity import policy as id_policy
from govsocial_app.services.identity import signin, totp
from govsocial_app.state.guard import SIGNED_IN, public, requires
from govsocial_app.state.app_state import HOME_ROUTE, AppState


# Password checks run here, off the worker's event loop: an argon2 check is ~30 ms of CPU (and its C code releases
# the GIL), so a surge of sign-ins run inline would stall every connected person's events behind them. Two threads:
# the machine's cores; more would only queue the same CPU work and hold more 19 MiB argon2 buffers at once.
_PASSWORD_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gs-sign-in")


async def _off_loop(fn, *args):
    """Run a blocking service call in the password pool, in a copy of this event's context."""
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    return await asyncio.get_running_loop().run_in_executor(_PASSWORD_POOL, call)


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
    # "password" → ("code" | "enrol") → ("recovery": the ten codes, shown once after enrolment) → in.
    step: str = "password"
    qr_data_uri: str = ""  # the enrolment QR code (an inline SVG data URI, drawn on the server)
    recovery_codes: list[str] = []
    sso_name: str = ""  # "Riverton ID" when single sign-on is configured
    sso_href: str = ""
    password_for_all: bool = True
    _challenge: str = ""  # the second step's token: server-side only
    _after: str = ""

    def _next(self) -> str:
        return safe_next(self.router.url.query_parameters.get("next"))

    def _reset_steps(self) -> None:
        self.step, self.qr_data_uri, self.recovery_codes, self._challenge = "password", "", [], ""

    def _signed_in(self, token: str, to: str, user: auth_service.SignedInUser | None = None):
        self.error = ""
        self._reset_steps()
        self.auth_token = token
        self._load_user(just_signed_in=user if token else None)
        # Replace the sign-in page in the history, so Back after signing in does not land on it again.
        return rx.redirect(safe_next(to), replace=True)

    @rx.event
    @public("the sign-in page itself, and the end of a single sign-on (a one-time ticket)")
    def load(self):
        """on_load of the sign-in page: finish a single sign-on, go straight in when already signed in, else
        offer the provider's button beside (or instead of) the password form."""
        self.lang = self.device_lang if self.device_lang in ("en", "ar") else "en"
        cfg = signin.sso_config()
        self.sso_name = cfg.provider_name if cfg else ""
        self.sso_href = "/auth/oidc/start?" + urlencode({"next": self._next()}) if cfg else ""
        self.password_for_all = cfg is None or id_policy.get_policy().password_sign_in == "everyone"
        ticket = self.router.url.query_parameters.get("sso", "")
        if ticket:
            outcome = signin.redeem(ticket)
            if outcome is None:
                self._load_user()
                self.error = self._("This sign-in link was already used or has expired. Start again.")
                return
            if outcome.token:
                return self._signed_in(outcome.token, outcome.next)
            self._load_user()
            self.error = self._(outcome.msgid, **outcome.params)
            return
        if self.step == "recovery" and self._load_user():
            return  # the recovery codes are still on screen: the person leaves with "Continue"
        self._reset_steps()
        if self._load_user():
            return rx.redirect(HOME_ROUTE)

    @rx.event
    @public("signing in")
    async def submit(self, form: dict):
        ip, ua = self._client()
        try:
            outcome = await _off_loop(signin.password_sign_in, form.get("email", ""), form.get("password", ""), ip, ua)
        except auth_service.AuthFailed as exc:
            self.error = self._(str(exc), **exc.params)
            return
        if outcome.challenge is None:
            return self._signed_in(outcome.token, self._next(), outcome.user)
        self.error = ""
        self._challenge = outcome.challenge.token
        self.step = "code" if outcome.challenge.purpose == "verify" else "enrol"
        if self.step == "enrol":
            self.qr_data_uri = totp.challenge_enrolment(self._challenge).qr_data_uri

    @rx.event
    @public("the second sign-in step: holds a server-side challenge from a right password, not a session")
    def submit_code(self, form: dict):
        ip, ua = self._client()
        try:
            result = totp.complete_challenge(self._challenge, form.get("code", ""), client_ip=ip, user_agent=ua)
        except id_errors.ChallengeExpired as exc:
            self._reset_steps()
            self.error = self._(exc.msgid, **exc.params)
            return
        except id_errors.IdentityError as exc:
            self.error = self._(exc.msgid, **exc.params)
            return
        if result.recovery_codes:
            # Enrolment finished at sign-in: the session is open, but the codes are shown once before going on.
            self.auth_token = result.token
            self._load_user()
            self.error, self._challenge, self.qr_data_uri = "", "", ""
            self.recovery_codes = list(result.recovery_codes)
            self.step = "recovery"
            self._after = self._next()
            return
        return self._signed_in(result.token, self._next())

    @rx.event
    @requires(SIGNED_IN, signed_out="login")
    def finish(self):
        """After the recovery codes were shown: on to where the person was going."""
        to = self._after or HOME_ROUTE
        self._after = ""
        return self._signed_in(self.auth_token, to)

    @rx.event
    @public("leaving the second sign-in step: only clears this tab's form")
    def cancel(self):
        self.error = ""
        self._reset_steps()
