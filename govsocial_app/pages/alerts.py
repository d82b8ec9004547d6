"""The alert centre: spike and keyword alerts (issue #6)."""

import reflex as rx

from govsocial_app.components.layout import not_built, page_header, shell

ROUTE = "/alerts"


def page() -> rx.Component:
    return shell(
        "alerts",
        page_header("Alerts"),
        not_built("Spike and crisis-keyword alerts, with acknowledgement and snooze, live here.", "(#6)"),
    )
