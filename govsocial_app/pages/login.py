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
ON_LOAD = LoginState.load  # finishes a single sign-on (?sso=<ticket>) before anything else


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


def _password_form() -> rx.Component:
    form = rx.form(
        rx.flex(
            _field("Email", "email", "email", "username"),
            _field("Password", "password", "password", "current-password"),
            # Disabled until the app has started and the server has answered: the page paints before its scripts
            # load, and a form submitted natively then would put the password in the address (a GET to this page).
            # With its only submit button disabled, Enter in a field submits nothing either.
            rx.button(t("Sign in"), type="submit", size="3", width="100%", min_height="44px", disabled=~rx.State.is_hydrated),
            direction="column",
            gap="3",
        ),
        on_submit=LoginState.submit,
        reset_on_submit=False,
        width="100%",
    )
    # With password sign-in limited to break-glass admins, the form stays (single sign-on may be down) but says so.
    return rx.cond(
        LoginState.password_for_all,
        form,
        rx.el.details(
            rx.el.summary(t("Break-glass administrator sign-in"), min_height="44px", display="flex", align_items="center",
                          cursor="pointer"),
            form,
            width="100%",
        ),
    )


def _sso_button() -> rx.Component:
    # A document navigation, not the client-side router: the browser must really go to the server's /auth/oidc/start.
    return rx.cond(
        LoginState.sso_name != "",
        rx.flex(
            rx.link(
                rx.button(rx.icon("log-in", size=16, aria_hidden="true"),
                          rx.cond(AppState.lang == "ar", "الدخول عبر " + LoginState.sso_name, "Sign in with " + LoginState.sso_name),
                          size="3", width="100%", min_height="44px", tab_index=-1, as_="span"),
                href=LoginState.sso_href,
                reload_document=True,  # react-router would otherwise route it inside the page and never ask the server
                underline="none",
                width="100%",
                display="block",
            ),
            rx.cond(LoginState.password_for_all,
                    rx.text(t("or with your GovSocial password"), size="2", color=rx.color("gray", 11), align="center")),
            direction="column",
            gap="2",
            width="100%",
        ),
    )


def _code_field(label: str, hint: str) -> rx.Component:
    return rx.flex(
        rx.el.label(
            rx.text(t(label), size="2", weight="medium"),
            rx.input(name="code", required=True, auto_complete="one-time-code", input_mode="text", size="3", width="100%",
                     dir="ltr", max_length=20, auto_focus=True, aria_describedby="code-hint"),
            display="flex",
            flex_direction="column",
            gap="4px",
        ),
        rx.text(t(hint), id="code-hint", size="1", color=rx.color("gray", 11)),
        direction="column",
        gap="4px",
    )


def _cancel() -> rx.Component:
    return rx.button(t("Back"), type="button", variant="soft", size="3", min_height="44px", on_click=LoginState.cancel)


def _code_step() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.heading(t("Two-factor sign-in"), as_="h2", size="4"),
            _code_field("Code", "Type the 6-digit code your authenticator app shows, or one of your recovery codes."),
            rx.flex(_cancel(), rx.button(t("Verify"), type="submit", size="3", min_height="44px", flex="1"), gap="2"),
            direction="column",
            gap="3",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
        width="100%",
    )


def _enrol_step() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.heading(t("Set up two-factor sign-in"), as_="h2", size="4"),
            rx.text(t("Your role must use two-factor sign-in. Scan this code with an authenticator app, then type the 6-digit code it shows."),
                    size="2"),
            rx.center(rx.image(src=LoginState.qr_data_uri, alt=t("QR code to scan with your authenticator app"), width="200px",
                               height="200px")),
            _code_field("Code", "The 6-digit code from your authenticator app."),
            rx.flex(_cancel(), rx.button(t("Turn on"), type="submit", size="3", min_height="44px", flex="1"), gap="2"),
            direction="column",
            gap="3",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
        width="100%",
    )


def recovery_codes_list(codes) -> rx.Component:
    return rx.el.ol(
        rx.foreach(codes, lambda c: rx.el.li(rx.code(c, size="3"), padding_y="2px")),
        dir="ltr",
        aria_label=t("Recovery codes"),
        style={"columns": "2", "paddingInlineStart": "1.5em", "margin": "0"},
    )


def _recovery_step() -> rx.Component:
    return rx.flex(
        rx.heading(t("Your recovery codes"), as_="h2", size="4"),
        rx.text(t("Keep these ten codes somewhere safe, away from your phone. Each one signs you in once if you lose your authenticator app. They are shown only now."),
                size="2"),
        recovery_codes_list(LoginState.recovery_codes),
        rx.button(t("I have saved them, continue"), size="3", min_height="44px", on_click=LoginState.finish),
        direction="column",
        gap="3",
        width="100%",
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
                rx.cond(LoginState.error != "",
                        rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red", role="alert", width="100%")),
                rx.match(
                    LoginState.step,
                    ("code", _code_step()),
                    ("enrol", _enrol_step()),
                    ("recovery", _recovery_step()),
                    rx.flex(_sso_button(), _password_form(), direction="column", gap="4", width="100%"),
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
