"""`t("English text")` for components: picks the Arabic catalogue entry on the client when the user's language is Arabic."""

from __future__ import annotations

import reflex as rx

from govsocial_app.i18n import catalog

# Every msgid the UI uses, collected at compile time so a test can prove the Arabic catalogue is complete.
USED_MSGIDS: set[str] = set()


ROLE_LABELS = {"admin": "Admin", "manager": "Manager", "publisher": "Publisher", "responder": "Responder", "records": "Records officer", "viewer": "Viewer"}


def role_label(role) -> rx.Var:
    """A role's name in the reader's language (the value stays the role's key)."""
    return rx.match(role, *[(key, t(label)) for key, label in ROLE_LABELS.items()], role)


def t(msgid: str) -> rx.Var:
    from govsocial_app.state.app_state import AppState

    USED_MSGIDS.add(msgid)
    arabic = catalog("ar").get(msgid, msgid)
    return rx.cond(AppState.lang == "ar", arabic, msgid)
