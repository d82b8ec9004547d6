"""More → Your sessions."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import TAP, page_header, shell
from govsocial_app.state.my_sessions import ROUTE, MySessionsState

TITLE = "Your sessions · GovSocial"
ON_LOAD = MySessionsState.load

__all__ = ["ON_LOAD", "ROUTE", "TITLE", "page"]


def _row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.flex(
                rx.text(row["device"], weight="bold"),
                rx.cond(row["current"] != "", rx.badge(t("This device"), color_scheme="green")),
                gap="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(row["method"], size="2"),
            rx.text(t("Address"), ": ", rx.el.span(row["ip"], dir="ltr"), size="2", color=rx.color("gray", 11)),
            rx.text(t("First seen"), ": ", rx.el.span(row["first"], dir="ltr"), size="2", color=rx.color("gray", 11)),
            rx.text(t("Last seen"), ": ", rx.el.span(row["last"], dir="ltr"), size="2", color=rx.color("gray", 11)),
            rx.cond(
                row["current"] == "",
                rx.button(rx.icon("log-out", size=16, aria_hidden="true"), t("Sign out this session"), variant="soft",
                          color_scheme="red", min_height=TAP, on_click=MySessionsState.revoke(row["id"]), align_self="start"),
            ),
            direction="column",
            gap="1",
        ),
        role="listitem",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Your sessions"),
        rx.flex(
            rx.link(rx.icon("arrow-left", size=16, aria_hidden="true"), t("Back to More"), href="/more", min_height=TAP,
                    display="inline-flex", align_items="center", gap="4px"),
            rx.cond(MySessionsState.error != "",
                    rx.callout(MySessionsState.error, icon="triangle-alert", color_scheme="red", role="alert")),
            rx.cond(MySessionsState.notice != "",
                    rx.callout(MySessionsState.notice, icon="circle-check", color_scheme="green", role="status")),
            rx.box(rx.foreach(MySessionsState.rows, _row), role="list", display="flex", flex_direction="column", gap="8px"),
            rx.button(t("Sign out everywhere else"), color_scheme="red", variant="soft", size="3", min_height=TAP,
                      on_click=MySessionsState.revoke_others),
            direction="column",
            gap="3",
            max_width="560px",
        ),
    )
