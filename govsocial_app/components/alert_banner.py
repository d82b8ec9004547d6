"""The in-app banner for new unacknowledged critical alerts, and the unacknowledged-count badge for the Alerts nav entry."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.state.alerts import AlertBannerState, AlertsLive
from govsocial_app.state.app_state import AppState

TAP = "44px"
ALERT_ROOM_PX = 104  # one docked alert on a 360 px phone: its title, then Open and Acknowledge on a second line


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
    """In the shell's bottom dock (components/layout.py `shell`), above the phone's navigation: it joins the live
    alerts when it mounts. It is fixed, so a critical alert that arrives a round trip after the messages moves
    nothing on the page. (At the top of the page it pushed the list down then: Lighthouse's layout shift 0.07, and
    a tap aimed at a message landed on the one that slid under the finger. Joining first in every page's load chain
    instead cost two more events on every navigation and message opened.)"""
    return rx.box(
        rx.foreach(AlertsLive.critical, _item),
        role="alert",
        aria_live="assertive",
        background=rx.color("red", 4),
        color=rx.color("red", 12),
        border_top=rx.cond(AlertsLive.critical.length() > 0, f"2px solid {rx.color('red', 8)}", "none"),
        box_shadow=rx.cond(AlertsLive.critical.length() > 0, "0 -4px 12px rgba(0, 0, 0, 0.18)", "none"),
        on_mount=AlertsLive.join,
    )


def alert_space() -> rx.Component:
    """Room at the foot of the page for the docked alerts, so the last message can scroll above them. It grows at
    the very end of the page, where it moves nothing."""
    return rx.box(height="calc(" + AlertsLive.critical.length().to_string() + f" * {ALERT_ROOM_PX}px)", aria_hidden="true")


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
