"""A refusal is said in the reader's language: an Arabic manager who opens an admin page reads Arabic, role included
(the toast was English, built from the exception's English text, whatever the reader's language)."""

from __future__ import annotations

import reflex as rx

from govsocial_app.services import auth
from govsocial_app.services.authz import PermissionDenied

PASSWORD = "correct horse battery"


async def test_a_refused_page_load_is_told_in_arabic_to_an_arabic_reader(db, actor_factory):
    import govsocial_app.govsocial_app as app_module
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.admin_cap import CapAdminState

    manager = actor_factory("manager")
    root = rx.State(_reflex_internal_init=True)
    app = root.substates[AppState.get_name()]
    app.auth_token, _ = auth.sign_in(manager.label.split("<")[1].rstrip(">"), PASSWORD)
    app.lang = "ar"
    page = app.substates[CapAdminState.get_name()]
    try:
        CapAdminState.add_source.fn(page, {"name": "x", "url": "https://example.org/cap.xml"})
    except PermissionDenied as exc:
        refusal = exc
    else:  # pragma: no cover - the test fails below
        refusal = None
    assert refusal is not None and refusal.lang == "ar"
    toast = str(app_module.handle_backend_exception(refusal))
    from govsocial_app.i18n import translate

    assert "لا يسمح دورك" in toast and translate("Manager", "ar") in toast
    assert "Your role" not in toast and "manager)" not in toast
