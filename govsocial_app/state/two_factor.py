"""More → Two-factor authentication: turn it on (QR code and a typed code), see the ten recovery codes once,
make new ones, or turn it off (refused where the role requires it)."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services.identity import errors as id_errors
from govsocial_app.services.identity import totp
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires

ROUTE = "/more/two-factor"


class TwoFactorState(AppState):
    enrolled: bool = False
    required: bool = False
    codes_left: int = 0
    step: str = ""  # "" (the status), "enrol" (QR shown), "codes" (new recovery codes shown once)
    qr_data_uri: str = ""
    recovery_codes: list[str] = []
    error: str = ""
    notice: str = ""

    def _refresh(self, user_id: int) -> None:
        st = totp.status(user_id)
        self.enrolled, self.required, self.codes_left = st.enrolled, st.required, st.recovery_codes_left

    def _fail(self, exc: id_errors.IdentityError) -> None:
        self.error, self.notice = self._(exc.msgid, **exc.params), ""

    @rx.event
    @requires("self.edit", signed_out="login")
    def load(self):
        actor = self._require("self.edit")
        self._load_user()
        self.step, self.qr_data_uri, self.recovery_codes, self.error, self.notice = "", "", [], "", ""
        self._refresh(actor.user_id)

    @rx.event
    @requires("self.edit")
    def begin(self):
        actor = self._require("self.edit")
        try:
            self.qr_data_uri = totp.begin_enrolment(actor).qr_data_uri
        except id_errors.IdentityError as exc:
            self._fail(exc)
            return
        self.step, self.error, self.notice = "enrol", "", ""

    @rx.event
    @requires("self.edit")
    def confirm(self, form: dict):
        actor = self._require("self.edit")
        try:
            codes = totp.confirm_enrolment(actor, form.get("code", ""))
        except id_errors.IdentityError as exc:
            self._fail(exc)
            return
        self.recovery_codes, self.step, self.qr_data_uri, self.error = codes, "codes", "", ""
        self.notice = self._("Two-factor sign-in is on. From now on you will be asked for a code after your password.")
        self._refresh(actor.user_id)

    @rx.event
    @requires("self.edit")
    def regenerate(self, form: dict):
        actor = self._require("self.edit")
        try:
            codes = totp.regenerate_recovery_codes(actor, form.get("code", ""))
        except id_errors.IdentityError as exc:
            self._fail(exc)
            return
        self.recovery_codes, self.step, self.error = codes, "codes", ""
        self.notice = self._("New recovery codes are ready. The old ones no longer work.")
        self._refresh(actor.user_id)

    @rx.event
    @requires("self.edit")
    def disable(self, form: dict):
        actor = self._require("self.edit")
        try:
            totp.remove_own(actor, form.get("code", ""))
        except id_errors.IdentityError as exc:
            self._fail(exc)
            return
        self.step, self.recovery_codes, self.error = "", [], ""
        self.notice = self._("Two-factor sign-in is off.")
        self._refresh(actor.user_id)

    @rx.event
    @requires("self.edit")
    def done(self):
        self.step, self.recovery_codes, self.qr_data_uri = "", [], ""
