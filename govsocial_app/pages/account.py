"""More → Change password: current password, a new one twice; every other session ends."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import TAP, page_header, shell
from govsocial_app.state.account import ROUTE, PasswordState

TITLE = "Change password · GovSocial"
ON_LOAD = PasswordState.load

__all__ = ["ROUTE", "TITLE", "ON_LOAD", "page"]


def _field(label: str, name: str, autocomplete: str, hint: str = "") -> rx.Component:
    # The hint sits outside the label, so the field's accessible name is just its label.
    return rx.flex(
        rx.el.label(
            rx.text(t(label), size="2", weight="medium"),
            rx.input(name=name, type="password", required=True, auto_complete=autocomplete, size="3", width="100%", dir="ltr",
                     max_length=1024, aria_describedby=f"{name}-hint" if hint else None),
            display="flex",
            flex_direction="column",
            gap="4px",
        ),
        rx.text(t(hint), id=f"{name}-hint", size="1", color=rx.color("gray", 11)) if hint else rx.fragment(),
        direction="column",
        gap="4px",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Change password"),
        rx.flex(
            rx.link(rx.icon("arrow-left", size=16, aria_hidden="true"), t("Back to More"), href="/more", min_height=TAP,
                    display="inline-flex", align_items="center", gap="4px"),
            rx.card(
                rx.form(
                    rx.flex(
                        _field("Current password", "current", "current-password"),
                        _field("New password", "new", "new-password",
                               "At least 10 characters. A phrase of several unrelated words is easy to remember and hard to guess."),
                        _field("Repeat the new password", "confirm", "new-password"),
                        rx.cond(PasswordState.error != "",
                                rx.callout(PasswordState.error, icon="triangle-alert", color_scheme="red", role="alert")),
                        rx.cond(PasswordState.notice != "",
                                rx.callout(PasswordState.notice, icon="circle-check", color_scheme="green", role="status")),
                        rx.button(t("Change password"), type="submit", size="3", min_height=TAP),
                        direction="column",
                        gap="3",
                    ),
                    on_submit=PasswordState.submit,
                    reset_on_submit=True,
                ),
            ),
            rx.text(t("Changing your password signs you out on every other device. This device stays signed in."), size="2",
                    color=rx.color("gray", 11)),
            direction="column",
            gap="3",
            max_width="560px",
        ),
    )
