"""Every signed-in page's load chain fills the banners above its content (pause, critical alerts) before the page's
own load signs the client in and shows the shell, so they appear with the content instead of a round trip after it,
when they pushed the content down (components/layout.py SHELL_ON_LOAD; make bench-paint's layout shift)."""

from __future__ import annotations

import inspect


def _names(events) -> list[str]:
    out = []
    for e in events:
        handler = getattr(e, "fn", None) or getattr(getattr(e, "handler", None), "fn", None)
        out.append(handler.__qualname__ if handler else repr(e))
    return out


def test_every_shell_page_loads_its_banners_before_its_own_load():
    from govsocial_app import govsocial_app as main
    from govsocial_app.components.layout import SHELL_ON_LOAD

    banners = _names(SHELL_ON_LOAD)
    assert banners == ["PauseBanner.join", "AlertsLive.join"]
    for page in main.PAGES:
        uses_shell = "shell(" in inspect.getsource(page)
        assert uses_shell == (page not in main.NO_SHELL), page.__name__
        route = page.ROUTE.strip("/") or "index"
        loads = _names(main.app._load_events[route])
        if uses_shell:
            assert loads[:2] == banners, (page.__name__, loads)
            assert len(loads) > 2, (page.__name__, loads)  # then the page's own load, which signs the client in
        else:
            assert not set(banners) & set(loads), (page.__name__, loads)
