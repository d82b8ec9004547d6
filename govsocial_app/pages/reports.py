"""Reports and listening (issue #7)."""

import reflex as rx

from govsocial_app.components.layout import not_built, page_header, shell

ROUTE = "/reports"


def page() -> rx.Component:
    return shell(
        "reports",
        page_header("Reports"),
        not_built("Tag, post, profile and inbox reports with CSV and PDF exports, and listening, live here.", "(#7)"),
    )
