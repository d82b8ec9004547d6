"""The in-app banner for new unacknowledged critical alerts, and the unacknowledged-count badge for the Alerts nav entry."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.state.alerts import AlertBannerState, AlertsLive
from govsocial_app.state.app_state import AppState

TAP = "44px"


def _item(alert: rx.Var) -> rx.Component:
    return rx.flex(
        rx.icon("siren", size=18, aria_hidden="true", flex_shrink="0"),
        rx.text(rx.cond(AppState.lang == "ar", alert["title_ar"], alert["title_en"]), weight="medium", size="2", dir="auto",
                class_name="gs-text", flex="1", min_width="0"),
        rx.link(t("Open"), href=alert["link"], min_height=TAP, display="inline-flex", align_items="center", padding_x="8px",
                color="inherit", weight="bold"),
        rx.button(t("Acknowledge"), size="2", variant="solid", color_scheme="red", min_height=TAP,
                  on_click=AlertBannerState.acknowledge(alert["id"])),
        gap="2",
        align="center",
        wrap="wrap",
        padding="8px 12px",
    )


def alert_banner() -> rx.Component:
    """Put at the top of the signed-in shell: it joins the live alerts when it mounts. (Joining first in every page's
    load chain instead removed a layout shift, but cost two more events on every navigation and message opened:
    bench-load's steady p95 went from about 0.35 s to 1-2 s on 2 cores.)"""
    return rx.box(
        rx.foreach(AlertsLive.critical, _item),
        role="alert",
        aria_live="assertive",
        background=rx.color("red", 4),
        color=rx.color("red", 12),
        border_bottom=rx.cond(AlertsLive.critical.length() > 0, f"1px solid {rx.color('red', 7)}", "none"),
        on_mount=AlertsLive.join,
        position="sticky",
        top="0",
        z_index="25",
    )


def alerts_badge() -> rx.Component:
    """The unacknowledged count, for the Alerts nav entry."""
    return rx.cond(
        AlertsLive.unacked > 0,
        rx.badge(
            rx.cond(AlertsLive.unacked > 99, "99+", AlertsLive.unacked.to_string()),
            color_scheme="red", variant="solid", radius="full", size="1",
            aria_label=AlertsLive.unacked.to_string() + " " + t("unacknowledged alerts"),
        ),
    )
