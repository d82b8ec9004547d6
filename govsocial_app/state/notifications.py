"""More → Notifications: this device's push subscription, the user's devices, the test alert and the install hint."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reflex as rx

from govsocial_app.services.alerting import webpush
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState

# What window.govsocialPush.subscribe() answers when it cannot subscribe (assets/pwa.js), and what to tell the user.
SUBSCRIBE_ERRORS = {
    "unsupported": "This browser cannot receive push alerts.",
    "ios-home-screen": "On iPhone and iPad, add GovSocial to the Home Screen first (Share, then Add to Home Screen) and open it from there.",
    "denied": "Notifications are blocked for this site. Allow them in the browser's site settings, then try again.",
    "dismissed": "You closed the permission prompt without allowing notifications.",
    "failed": "The browser could not subscribe to push alerts. Try again.",
}


@dataclasses.dataclass
class DeviceView:
    id: int = 0
    label: str = ""
    service: str = ""
    added: str = ""
    last_ok: str = ""


class NotificationsState(AppState):
    vapid_key: str = ""
    devices: list[DeviceView] = []
    label: str = ""
    error: str = ""
    notice: str = ""
    # From assets/pwa.js on this device
    push_supported: bool = True
    permission: str = ""
    standalone: bool = False
    ios: bool = False
    installable: bool = False

    @rx.var
    def ios_needs_home_screen(self) -> bool:
        return self.ios and not self.standalone

    def _when(self, dt) -> str:
        if dt is None:
            return ""
        try:
            zone = ZoneInfo(self.user_tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def _refresh(self) -> None:
        self._require("self.edit")  # a helper that reads data checks for itself
        self.devices = [
            DeviceView(d.id, d.label, d.service, self._when(d.created_at), self._when(d.last_success_at)) for d in webpush.devices(self.user_id)
        ]

    @rx.event
    @requires("self.edit", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("self.edit")
        self.vapid_key = webpush.vapid_keys().public_key
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    @requires("self.edit")
    def set_label(self, value: str):
        self.label = value[:120]

    @rx.event
    @requires("self.edit")
    def set_device_info(self, info: dict):
        info = info or {}
        self.push_supported = bool(info.get("supported"))
        self.permission = str(info.get("permission") or "")
        self.standalone, self.ios, self.installable = bool(info.get("standalone")), bool(info.get("ios")), bool(info.get("installable"))

    @rx.event
    @requires("self.edit")
    def save_subscription(self, result: dict):
        """The answer of window.govsocialPush.subscribe(), run on the tap so the browser may ask for permission."""
        actor = self._require("self.edit")
        result = result or {}
        if not result.get("ok"):
            self.notice, self.error = "", self._(SUBSCRIBE_ERRORS.get(str(result.get("error")), SUBSCRIBE_ERRORS["failed"]))
            return
        webpush.subscribe(actor, result.get("subscription") or {}, self.label or self._("This device"))
        self.error, self.notice, self.permission = "", self._("Alerts are on for this device."), "granted"
        self._refresh()

    @rx.event
    @requires("self.edit")
    def remove(self, device_id: int):
        actor = self._require("self.edit")
        webpush.unsubscribe(actor, device_id)
        self._refresh()

    @rx.event
    @requires("self.edit")
    def install_result(self, outcome: str):
        self.installable = False
        if outcome == "accepted":
            self.notice = self._("GovSocial is being installed.")

    @rx.event(background=True)
    @requires("self.edit")
    async def send_test(self):
        async with self:
            actor = self._require("self.edit")
            title, body = self._(webpush.TEST_TITLE), self._(webpush.TEST_BODY)
        delivered, failed = await webpush.send_test(actor, title=title, body=body)
        async with self:
            self.error = self._("{failed} device(s) did not accept the test alert.", failed=failed) if failed else ""
            self.notice = self._("Test alert sent to {delivered} device(s).", delivered=delivered) if delivered else ""
            self._refresh()
