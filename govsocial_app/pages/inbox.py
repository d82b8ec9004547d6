"""The smart inbox (issue #3 builds it out)."""

import reflex as rx

from govsocial_app.components.layout import page_header, shell

ROUTE = "/inbox"


def page() -> rx.Component:
    return shell("inbox", page_header("Inbox"), rx.text("…"))
