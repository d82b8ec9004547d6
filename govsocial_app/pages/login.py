"""The sign-in page, with the demo accounts listed when demo mode is on."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import connection_banner
from govsocial_app.components.prefetch import prefetch_page
from govsocial_app.services.demo import DEMO_PASSWORD, DEMO_USERS
from govsocial_app.state.app_state import AppState
from govsocial_app.state.login import LoginState

ROUTE = "/login"
TITLE = "Sign in · GovSocial"
ON_LOAD = AppState.check_login_page


def _field(label: str, name: str, type_: str, autocomplete: str) -> rx.Component:
    return rx.el.label(
        rx.text(t(label), size="2", weight="medium"),
        rx.input(
            name=name,
            type=type_,
            required=True,
            auto_complete=autocomplete,
            size="3",
            width="100%",
            dir="ltr",
        ),
        display="flex",
        flex_direction="column",
        gap="4px",
    )


def _demo_accounts() -> rx.Component:
    return rx.cond(
        AppState.demo_mode,
        rx.card(
            rx.heading(t("Demo accounts"), as_="h2", size="3"),
            rx.text(t("Every demo account uses the password"), " ", rx.code(DEMO_PASSWORD), size="2"),
            rx.el.ul(
                *[
                    rx.el.li(
                        rx.text(rx.text.strong(name), " · ", t(role.capitalize()), size="2"),
                        rx.text(email, size="1", color=rx.color("gray", 11), dir="ltr"),
                        padding_y="4px",
                    )
                    for email, name, role in DEMO_USERS
                ],
                list_style="none",
                padding="0",
                margin="0",
            ),
            width="100%",
        ),
    )


def language_switch() -> rx.Component:
    return rx.flex(
        rx.button("English", variant=rx.cond(AppState.lang == "en", "solid", "soft"), on_click=AppState.set_language("en"), lang="en", min_height="44px"),
        rx.button("العربية", variant=rx.cond(AppState.lang == "ar", "solid", "soft"), on_click=AppState.set_language("ar"), lang="ar", min_height="44px"),
        gap="2",
        role="group",
        aria_label="Language",
    )


def page() -> rx.Component:
    return rx.box(
        connection_banner(),
        prefetch_page(page="/inbox"),
        rx.el.main(rx.center(
            rx.flex(
                rx.flex(
                    rx.icon("megaphone", size=28, aria_hidden="true", color=rx.color("accent", 10)),
                    rx.heading("GovSocial", as_="h1", size="7"),
                    align="center",
                    gap="2",
                ),
                rx.text(t("Social media command centre for public agencies"), color=rx.color("gray", 11)),
                rx.form(
                    rx.flex(
                        _field("Email", "email", "email", "username"),
                        _field("Password", "password", "password", "current-password"),
                        rx.cond(
                            LoginState.error != "",
                            rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red", role="alert"),
                        ),
                        rx.button(t("Sign in"), type="submit", size="3", width="100%", min_height="44px"),
                        direction="column",
                        gap="3",
                    ),
                    on_submit=LoginState.submit,
                    reset_on_submit=False,
                    width="100%",
                ),
                language_switch(),
                _demo_accounts(),
                direction="column",
                gap="4",
                width="100%",
                max_width="400px",
                padding="24px 16px",
            ),
            min_height="100dvh",
        )),
        dir=AppState.dir,
        lang=AppState.lang,
    )
