"""The Arabic catalogue covers every string the pages show, and the catalogue files parse."""

from __future__ import annotations

import importlib
import pkgutil

import govsocial_app.pages as pages_pkg
from govsocial_app.i18n import catalog, translate


def _render_every_page() -> set[str]:
    import govsocial_app.govsocial_app  # noqa: F401  (the app module wires every state)
    from govsocial_app.components.i18n import USED_MSGIDS

    for info in pkgutil.iter_modules(pages_pkg.__path__):
        module = importlib.import_module(f"govsocial_app.pages.{info.name}")
        if hasattr(module, "page"):
            module.page().render()
    return set(USED_MSGIDS)


def test_every_ui_string_has_an_arabic_translation():
    used = _render_every_page()
    assert len(used) > 100, "pages should be rendering their strings through t()"
    missing = sorted(used - set(catalog("ar")))
    assert missing == [], f"{len(missing)} strings lack Arabic: {missing[:40]}"


def test_translate_falls_back_to_english_and_formats():
    assert translate("Inbox", "ar") != "Inbox"
    assert translate("No such string anywhere", "ar") == "No such string anywhere"
    assert translate("Inbox", "en") == "Inbox"


def test_what_the_connector_packages_declare_has_arabic():
    """Network names and the connect form's labels and help come from connectors/<network>/about.py, not from t()
    calls in the pages, so the page render above does not see them."""
    from connectors.registry import NETWORKS

    declared = {s for n in NETWORKS.values() for s in (n.label, *(x for f in n.fields for x in (f.label, f.help) if x))}
    assert len(declared) > 20
    missing = sorted(declared - set(catalog("ar")))
    assert missing == [], f"{len(missing)} connector strings lack Arabic: {missing}"


def test_every_string_a_state_says_has_arabic():
    """Toasts, notices and row text the states build with `self._("…")`, in every page's state module."""
    import re
    from pathlib import Path

    import govsocial_app.state as state_pkg

    said = {m for path in Path(state_pkg.__path__[0]).glob("*.py")
            for m in re.findall(r'self\._\(\s*"((?:[^"\\]|\\.)*)"', path.read_text())}
    assert len(said) > 50
    missing = sorted(said - set(catalog("ar")))
    assert missing == [], f"{len(missing)} state strings lack Arabic: {missing}"
