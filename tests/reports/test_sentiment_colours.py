"""Sentiment keeps one colour per meaning: negative red, neutral grey, positive green, on screen and on paper, in
English and Arabic, whatever the order of the series (Listening drew Negative green and Neutral red)."""

from __future__ import annotations

import pytest
import reflex as rx

from govsocial_app.i18n import translate
from govsocial_app.services import auth
from govsocial_app.services.reporting import reports
from govsocial_app.services.listening.topics import SENTIMENT_COLORS, sentiment_series

PASSWORD = "correct horse battery"
RED, GREY, GREEN = SENTIMENT_COLORS["negative"], SENTIMENT_COLORS["neutral"], SENTIMENT_COLORS["positive"]


def _hue(hex_colour: str) -> str:
    """Which of red, green or grey a colour reads as: the mapping is about meaning, not an exact hex."""
    r, g, b = (int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    if max(r, g, b) - min(r, g, b) < 30:
        return "grey"
    return "red" if r > g and r > b else "green" if g > r and g > b else "other"


def test_the_palette_itself_means_what_it_says():
    assert (_hue(RED), _hue(GREY), _hue(GREEN)) == ("red", "grey", "green")


def _listening(db, actor_factory, lang: str):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.listening import ListeningState

    actor = actor_factory("publisher")
    root = rx.State(_reflex_internal_init=True)
    app_state = root.substates[AppState.get_name()]
    app_state.auth_token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
    auth.update_preferences(actor.user_id, actor, locale=lang)
    app_state._load_user()
    state = app_state.substates[ListeningState.get_name()]
    state.create_topic({"name": "Roads", "queries": "roads"})
    return state


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_listening_sentiment_chart_colours_each_trace_by_its_meaning(db, actor_factory, lang):
    state = _listening(db, actor_factory, lang)
    assert state.lang == lang
    colours = {trace["name"]: trace["marker"]["color"] for trace in state.fig_sentiment["data"]}
    expected = {translate("Negative", lang): RED, translate("Neutral", lang): GREY, translate("Positive", lang): GREEN}
    assert colours == expected


def test_a_meaningful_colour_wins_over_the_position_in_the_palette():
    from govsocial_app.state.reports import figure

    x = ("2026-11-01", "2026-11-02")
    shuffled = tuple(reversed(sentiment_series((1, 2), (3, 4), (5, 6))))
    fig = figure(reports.Chart("s", "", "stacked", x, shuffled), lambda s: s)
    assert {t.name: _hue(t.marker.color) for t in fig.data} == {"Negative": "red", "Neutral": "grey", "Positive": "green"}
    assert fig.layout.showlegend  # the legend shows the same swatches as the bars


def test_the_pdf_bars_and_legend_use_the_same_sentiment_colours():
    from reportlab.graphics.charts.legends import Legend

    from govsocial_app.services.reporting import pdf

    x = ("2026-11-01", "2026-11-02")
    drawing = pdf.chart_drawing(reports.Chart("s", "Sentiment", "stacked", x, sentiment_series((1, 2), (3, 4), (5, 6))))
    legend = next(c for c in drawing.contents if isinstance(c, Legend))
    swatches = {name: colour.hexval()[2:] for colour, name in legend.colorNamePairs}
    assert {name: _hue("#" + hexval) for name, hexval in swatches.items()} == {
        "Positive": "green", "Neutral": "grey", "Negative": "red"}
    bars = next(c for c in drawing.contents if hasattr(c, "bars"))
    assert [_hue("#" + bars.bars[i].fillColor.hexval()[2:]) for i in range(3)] == ["green", "grey", "red"]
