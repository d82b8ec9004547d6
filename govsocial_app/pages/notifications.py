"""More → Notifications: enable alerts on this device (permission asked on the tap), label it, send a test, list and remove devices."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.notifications import DeviceView, NotificationsState

ROUTE = "/more/notifications"
TITLE = "Notifications · GovSocial"
ON_LOAD = NotificationsState.load
TAP = "44px"

# pwa.js loads after hydration; give it a moment before reading what this device can do.
DEVICE_INFO_JS = (
    "new Promise((resolve) => { let n = 0; const tick = () => window.govsocialPush ? resolve(window.govsocialPush.info())"
    " : (n++ < 40 ? setTimeout(tick, 100) : resolve({supported: false})); tick(); })"
)


def _device(d: DeviceView) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.icon("smartphone", size=18, aria_hidden="true"),
            rx.box(
                rx.text(d.label, weight="medium", dir="auto"),
                rx.text(d.service, " · ", t("added"), " ", d.added,
                        rx.cond(d.last_ok != "", rx.fragment(" · ", t("last alert delivered"), " ", d.last_ok)),
                        size="1", color=rx.color("gray", 11)),
                flex="1", min_width="0",
            ),
            rx.button(rx.icon("trash-2", size=16, aria_hidden="true"), t("Remove"), variant="soft", color_scheme="red", min_height=TAP,
                      on_click=NotificationsState.remove(d.id), aria_label=t("Remove device") + " " + d.label),
            gap="3", align="center",
        ),
        list_style="none",
        padding="8px 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _this_device() -> rx.Component:
    subscribe_js = "window.govsocialPush.subscribe('" + NotificationsState.vapid_key + "')"
    return rx.card(
        rx.heading(t("This device"), as_="h2", size="3", margin_bottom="8px"),
        rx.cond(
            NotificationsState.ios_needs_home_screen,
            rx.callout(
                t("On iPhone and iPad, push alerts need GovSocial on the Home Screen: tap Share, then Add to Home Screen, and open it from there."),
                icon="info", role="note", margin_bottom="8px",
            ),
        ),
        rx.cond(
            ~NotificationsState.push_supported & ~NotificationsState.ios,
            rx.callout(t("This browser cannot receive push alerts."), icon="triangle-alert", color_scheme="amber", role="note", margin_bottom="8px"),
        ),
        rx.el.label(
            rx.text(t("Device name"), size="1", color=rx.color("gray", 11)),
            rx.input(value=NotificationsState.label, on_change=NotificationsState.set_label, placeholder=t("e.g. Duty phone"),
                     max_length=120, min_height=TAP),
            display="flex", flex_direction="column", gap="2px", margin_bottom="8px",
        ),
        rx.flex(
            rx.button(
                rx.icon("bell-ring", size=16, aria_hidden="true"), t("Enable alerts on this device"),
                # Runs in the browser on the tap itself, so the permission prompt counts as a user gesture.
                on_click=rx.call_script(subscribe_js, callback=NotificationsState.save_subscription),
                min_height=TAP, size="3",
            ),
            rx.button(rx.icon("send", size=16, aria_hidden="true"), t("Send test alert"), variant="soft", min_height=TAP, size="3",
                      on_click=NotificationsState.send_test, disabled=NotificationsState.devices.length() == 0),
            gap="2", wrap="wrap",
        ),
        rx.cond(NotificationsState.error != "", rx.callout(NotificationsState.error, icon="triangle-alert", color_scheme="red", role="alert", margin_top="8px")),
        rx.cond(NotificationsState.notice != "", rx.callout(NotificationsState.notice, icon="check", color_scheme="green", role="status", margin_top="8px")),
    )


def _install() -> rx.Component:
    return rx.card(
        rx.heading(t("Install GovSocial"), as_="h2", size="3", margin_bottom="8px"),
        rx.cond(
            NotificationsState.standalone,
            rx.text(t("GovSocial is installed on this device."), size="2"),
            rx.cond(
                NotificationsState.installable,
                rx.button(rx.icon("download", size=16, aria_hidden="true"), t("Install GovSocial"), min_height=TAP,
                          on_click=rx.call_script("window.govsocialPush.install()", callback=NotificationsState.install_result)),
                rx.text(t("To install, use your browser's menu: Install app, or Add to Home Screen."), size="2"),
            ),
        ),
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Notifications"),
        rx.box(on_mount=rx.call_script(DEVICE_INFO_JS, callback=NotificationsState.set_device_info), display="none"),
        rx.flex(
            _this_device(),
            rx.card(
                rx.heading(t("Your devices"), as_="h2", size="3", margin_bottom="4px"),
                rx.cond(
                    NotificationsState.devices.length() > 0,
                    rx.el.ul(rx.foreach(NotificationsState.devices, _device), padding="0", margin="0", aria_label=t("Your devices")),
                    rx.text(t("No device receives alerts yet."), size="2", color=rx.color("gray", 11)),
                ),
            ),
            _install(),
            direction="column",
            gap="3",
            max_width="640px",
        ),
    )
