"""The root address: nothing of its own. Its on_load (AppState.check_login) sends a person to the inbox or to sign in;
until then, a named spinner, and the connection banner: in a surge the first thing a person may see is "Busy —
reconnecting in a moment" (govsocial_app/loadshed.py)."""

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import connection_banner
from govsocial_app.state.app_state import AppState

ROUTE = "/"
TITLE = "GovSocial"
ON_LOAD = AppState.check_login


def page() -> rx.Component:
    return rx.box(
        connection_banner(),
        rx.el.main(rx.center(rx.spinner(size="3"), role="status", aria_label=t("Loading"), height="100vh")),
        dir=AppState.dir,
        lang=AppState.lang,
    )
