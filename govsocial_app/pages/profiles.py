"""Settings → Profiles: connect accounts per network, check them, see their health, disconnect."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.profiles import FormField, ProfileRow, ProfilesState

ROUTE = "/more/profiles"
TITLE = "Profiles · GovSocial"
ON_LOAD = ProfilesState.load
TAP = "44px"


def _status(status) -> rx.Component:
    return rx.match(
        status,
        ("active", rx.badge(t("Healthy"), color_scheme="green")),
        ("needs_reconnect", rx.badge(t("Needs reconnecting"), color_scheme="red")),
        rx.badge(status, color_scheme="gray"),
    )


def _row(p: ProfileRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.box(
                rx.flex(rx.text(p.name, weight="bold"), _status(p.status), gap="2", align="center", wrap="wrap"),
                rx.text(p.network, " · ", p.handle, size="1", color=rx.color("gray", 11), dir="ltr"),
                rx.text(t("Last successful poll"), ": ", p.last_success, size="1"),
                rx.cond(p.rate != "", rx.text(t("Rate limit"), ": ", p.rate, size="1")),
                rx.cond(p.last_error != "", rx.text(t("Last error"), ": ", p.last_error, size="1", color=rx.color("red", 11))),
                flex="1", min_width="220px",  # on a phone the buttons wrap below instead of squeezing the text
            ),
            rx.flex(
                rx.button(t("Check connection"), variant="soft", on_click=ProfilesState.check(p.id), min_height=TAP),
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.button(t("Disconnect"), color_scheme="red", variant="soft", min_height=TAP)),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title(t("Disconnect this profile?")),
                        rx.alert_dialog.description(t("GovSocial stops reading and publishing for it and forgets its credentials. Its messages stay in the record.")),
                        rx.flex(
                            rx.alert_dialog.cancel(rx.button(t("Cancel"), variant="soft", min_height=TAP)),
                            rx.alert_dialog.action(rx.button(t("Disconnect"), color_scheme="red", on_click=ProfilesState.disconnect(p.id), min_height=TAP)),
                            gap="2", justify="end", margin_top="12px",
                        ),
                    ),
                ),
                gap="2", wrap="wrap",
            ),
            gap="3", wrap="wrap", align="center",
        ),
    )


def _field(f: FormField) -> rx.Component:
    return rx.el.label(
        rx.text(f.label, size="2", weight="medium"),
        rx.input(name=f.name, type=rx.cond(f.secret, "password", "text"), required=f.required, auto_complete="off", min_height=TAP, dir="ltr"),
        rx.cond(f.help != "", rx.text(f.help, size="1", color=rx.color("gray", 11))),
        display="flex", flex_direction="column", gap="4px",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Profiles"),
        rx.flex(rx.foreach(ProfilesState.rows, _row), direction="column", gap="2"),
        rx.card(
            rx.heading(t("Connect a profile"), as_="h2", size="4", margin_bottom="8px"),
            rx.el.label(
                rx.text(t("Network"), size="2", weight="medium"),
                rx.select.root(
                    rx.select.trigger(aria_label=t("Network"), min_height=TAP),
                    rx.select.content(rx.foreach(ProfilesState.networks, lambda n: rx.select.item(n[1], value=n[0]))),
                    value=ProfilesState.network,
                    on_change=ProfilesState.choose_network,
                ),
                display="flex", flex_direction="column", gap="4px",
            ),
            rx.form(
                rx.flex(
                    rx.foreach(ProfilesState.fields, _field),
                    rx.text(t("Secrets are encrypted on this server and never sent back to the browser."), size="1", color=rx.color("gray", 11)),
                    rx.button(t("Check and connect"), type="submit", min_height=TAP),
                    direction="column", gap="3", margin_top="12px",
                ),
                on_submit=ProfilesState.connect,
                reset_on_submit=False,
            ),
            margin_top="16px",
        ),
        allowed=AppState.can_manage_profiles,
    )
