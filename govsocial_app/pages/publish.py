"""Publishing: composer, calendar and approvals (issue #5)."""

import reflex as rx

from govsocial_app.components.layout import not_built, page_header, shell

ROUTE = "/publish"


def page() -> rx.Component:
    return shell(
        "publish",
        page_header("Publish"),
        not_built("The composer, shared calendar, approvals and pause-all live here.", "(#5)"),
    )
