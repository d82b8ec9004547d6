"""Drafts from a raised alert: a draft per language, each network's text within its limit as that network counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import textcount
from connectors.base import Limits
from connectors.registry import NETWORKS, limits_for
from govsocial_app.services.cap.drafts import build_drafts, fit_text
from govsocial_app.services.cap.parse import parse_alert
from tests.cap.helpers import fixture


def test_a_draft_per_language_with_the_expiry():
    alert = parse_alert(fixture("flood_alert"))
    draft = build_drafts(alert)
    assert [d.base_language for d in draft.languages] == ["en", "ar"]
    en, ar = draft.languages
    assert (en.direction, ar.direction) == ("ltr", "rtl")
    assert draft.expires == datetime(2026, 11, 25, 5, 0, tzinfo=timezone.utc)
    assert en.full_text.startswith("Flood Warning for the Riverton riverside until 9 PM\n\nMove to higher ground now.")
    assert en.full_text.endswith("https://www.weather.gov/sto/")
    assert set(en.per_network) == set(NETWORKS)
    assert draft.language("ar") is ar and draft.language("fr") is None


def test_every_network_text_fits_as_that_network_counts():
    for name in ("flood_alert", "a2_thunderstorm", "a4_amber_alert", "a1_homeland_security"):
        draft = build_drafts(parse_alert(fixture(name)))
        for language in draft.languages:
            for network, text in language.per_network.items():
                limits = limits_for(network)
                assert textcount.count(text.text, limits) == text.length <= limits.max_chars, (name, network)


def test_short_networks_keep_headline_instruction_and_link_and_cut_the_details():
    draft = build_drafts(parse_alert(fixture("flood_alert")))
    x = draft.language("en").per_network["x"]
    assert not x.complete
    assert x.text.startswith("Flood Warning for the Riverton riverside until 9 PM\n\nMove to higher ground now.")
    assert x.text.endswith("https://www.weather.gov/sto/")
    assert "…" in x.text
    facebook = draft.language("en").per_network["facebook"]
    assert facebook.complete and facebook.text == draft.language("en").full_text


def test_only_the_qualifying_blocks_become_drafts():
    alert = parse_alert(fixture("flood_alert"))
    assert [d.base_language for d in build_drafts(alert, info_indexes=(1,)).languages] == ["ar"]


def test_networks_can_be_given_with_their_own_limits():
    alert = parse_alert(fixture("flood_alert"))
    tiny = Limits(max_chars=60, counting="graphemes")
    draft = build_drafts(alert, networks={"tiny": tiny})
    text = draft.languages[0].per_network["tiny"]
    assert text.length <= 60 and text.text.startswith("Flood Warning")
    assert "web" in text.omitted  # no room for the link after the headline


def test_hard_wrapped_cap_text_flows():
    alert = parse_alert(fixture("a2_thunderstorm"))
    wrapped = replace(alert, infos=(replace(alert.infos[0], description="LINE ONE\n      CONTINUES\n\nPARAGRAPH TWO"),))
    assert build_drafts(wrapped).languages[0].description == "LINE ONE CONTINUES\n\nPARAGRAPH TWO"


def test_event_stands_in_for_a_missing_headline():
    alert = parse_alert(fixture("a2_thunderstorm"))
    no_headline = replace(alert, infos=(replace(alert.infos[0], headline=""),))
    assert build_drafts(no_headline).languages[0].headline == "SEVERE THUNDERSTORM"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=600), st.sampled_from(sorted(NETWORKS)))
def test_fit_text_always_fits(text, network):
    limits = Limits(max_chars=40, counting=limits_for(network).counting, url_length=limits_for(network).url_length)
    cut = fit_text(text, lambda t: t, limits)
    assert textcount.count(cut, limits) <= 40
