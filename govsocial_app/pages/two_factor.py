"""More → Two-factor authentication."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import TAP, page_header, shell
from govsocial_app.pages.login import recovery_codes_list
from govsocial_app.state.two_factor import ROUTE, TwoFactorState

TITLE = "Two-factor authentication · GovSocial"
ON_LOAD = TwoFactorState.load

__all__ = ["ON_LOAD", "ROUTE", "TITLE", "page"]


def _code_form(label: str, button: str, handler, *, color: str = "indigo", hint: str = "") -> rx.Component:
    return rx.form(
        rx.flex(
            rx.el.label(
                rx.text(t(label), size="2", weight="medium"),
                rx.input(name="code", required=True, auto_complete="one-time-code", size="3", width="100%", dir="ltr", max_length=20),
                display="flex",
                flex_direction="column",
                gap="4px",
            ),
            rx.text(t(hint), size="1", color=rx.color("gray", 11)) if hint else rx.fragment(),
            rx.button(t(button), type="submit", size="3", min_height=TAP, color_scheme=color),
            direction="column",
            gap="2",
        ),
        on_submit=handler,
        reset_on_submit=True,
    )


def _status() -> rx.Component:
    return rx.cond(
        TwoFactorState.enrolled,
        rx.flex(
            rx.callout(t("Two-factor sign-in is on."), icon="shield-check", color_scheme="green"),
            rx.text(t("Recovery codes left"), ": ", TwoFactorState.codes_left, size="2"),
            rx.card(rx.heading(t("New recovery codes"), as_="h2", size="3", margin_bottom="8px"),
                    _code_form("Code from your authenticator app", "Make new recovery codes", TwoFactorState.regenerate)),
            rx.cond(
                TwoFactorState.required,
                rx.text(t("Your role must use two-factor sign-in, so it cannot be turned off."), size="2", color=rx.color("gray", 11)),
                rx.card(rx.heading(t("Turn off two-factor sign-in"), as_="h2", size="3", margin_bottom="8px"),
                        _code_form("Code from your authenticator app", "Turn off", TwoFactorState.disable, color="red")),
            ),
            direction="column",
            gap="3",
        ),
        rx.flex(
            rx.text(t("After your password, GovSocial will also ask for a 6-digit code from an authenticator app on your phone."), size="2"),
            rx.cond(TwoFactorState.required,
                    rx.callout(t("Your role must use two-factor sign-in."), icon="info", color_scheme="amber")),
            rx.button(t("Set up two-factor sign-in"), size="3", min_height=TAP, on_click=TwoFactorState.begin),
            direction="column",
            gap="3",
        ),
    )


def _enrol() -> rx.Component:
    return rx.flex(
        rx.text(t("Scan this code with an authenticator app, then type the 6-digit code it shows."), size="2"),
        rx.center(rx.image(src=TwoFactorState.qr_data_uri, alt=t("QR code to scan with your authenticator app"), width="200px",
                           height="200px")),
        _code_form("Code", "Turn on", TwoFactorState.confirm, hint="The 6-digit code from your authenticator app."),
        direction="column",
        gap="3",
    )


def _codes() -> rx.Component:
    return rx.flex(
        rx.heading(t("Your recovery codes"), as_="h2", size="4"),
        rx.text(t("Keep these ten codes somewhere safe, away from your phone. Each one signs you in once if you lose your authenticator app. They are shown only now."),
                size="2"),
        recovery_codes_list(TwoFactorState.recovery_codes),
        rx.button(t("I have saved them, continue"), size="3", min_height=TAP, on_click=TwoFactorState.done),
        direction="column",
        gap="3",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Two-factor authentication"),
        rx.flex(
            rx.link(rx.icon("arrow-left", size=16, aria_hidden="true"), t("Back to More"), href="/more", min_height=TAP,
                    display="inline-flex", align_items="center", gap="4px"),
            rx.cond(TwoFactorState.error != "",
                    rx.callout(TwoFactorState.error, icon="triangle-alert", color_scheme="red", role="alert")),
            rx.cond(TwoFactorState.notice != "",
                    rx.callout(TwoFactorState.notice, icon="circle-check", color_scheme="green", role="status")),
            rx.card(rx.match(TwoFactorState.step, ("enrol", _enrol()), ("codes", _codes()), _status())),
            direction="column",
            gap="3",
            max_width="560px",
        ),
    )
