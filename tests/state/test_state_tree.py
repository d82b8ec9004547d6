"""An event on one page loads only that page's state. A computed var in a page state that reads a parent var
(`user_role`, `lang`) would make Reflex fetch, deserialise and save that page's state (plotly figures and all) for
every event of every client: the cause of multi-second round trips under load (bench-load)."""

from __future__ import annotations


def test_each_page_state_is_loaded_alone():
    import importlib
    import pkgutil

    from reflex.istate.manager.redis import StateManagerRedis

    import govsocial_app.state

    for mod in pkgutil.iter_modules(govsocial_app.state.__path__):
        importlib.import_module(f"govsocial_app.state.{mod.name}")  # every page state, as the app registers them

    from govsocial_app.state.app_state import AppState

    class Probe:
        def _get_required_state_classes(self, *args, **kwargs):
            return StateManagerRedis._get_required_state_classes(self, *args, **kwargs)

    pages = set(AppState.get_substates())
    assert len(pages) >= 10
    for page in pages:
        required = Probe()._get_required_state_classes(page, subclasses=True)
        others = sorted(c.__name__ for c in required & pages if c is not page and not issubclass(c, page))
        assert others == [], f"an event on {page.__name__} also loads {others}"
