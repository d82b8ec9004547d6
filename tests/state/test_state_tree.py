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


def test_a_new_clients_state_copies_no_chart_figure():
    """Every var's default is copied into each new client's state when it connects (the hydrate builds the whole
    tree). A plotly Figure's copy rebuilds and re-validates it: 7 of them were 3% of all web-worker time while 200
    people signed in (bench-load's surge). Charts are held as chart_json dicts, which copy for nothing."""
    import importlib
    import pkgutil

    import plotly.graph_objects as go

    import govsocial_app.state
    from govsocial_app.state.app_state import AppState

    for mod in pkgutil.iter_modules(govsocial_app.state.__path__):
        importlib.import_module(f"govsocial_app.state.{mod.name}")

    def tree(cls):
        yield cls
        for sub in cls.get_substates():
            yield from tree(sub)

    figures = sorted(f"{cls.__name__}.{name}" for cls in tree(AppState) for name, field in cls.get_fields().items()
                     if isinstance(field.default_value() if hasattr(field, "default_value") else None, go.Figure))
    assert figures == []
    from govsocial_app.state.alert_settings import AlertSettingsState
    from govsocial_app.state.listening import ListeningState
    from govsocial_app.state.reports import ReportsState

    for cls, name in ((ReportsState, "fig1"), (ListeningState, "fig_volume"), (AlertSettingsState, "figure")):
        assert cls.get_fields()[name].default_value() == {}, f"{cls.__name__}.{name}"


def test_a_chart_is_sent_as_reflex_would_send_its_figure():
    from reflex_base.utils.serializers import serialize

    from govsocial_app.services.reporting import reports
    from govsocial_app.state.charts import chart_json
    from govsocial_app.state.reports import figure

    fig = figure(reports.Chart("v", "", "bar", ("2026-12-01", "2026-12-02"), (reports.Series("Messages", (3, 5)),)), lambda s: s)
    sent = chart_json(fig)
    assert sent == serialize(fig)
    assert sent["data"][0]["y"] == [3, 5] and sent["layout"]["template"]  # the real figure keeps its template
