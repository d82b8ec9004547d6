"""Tests for post-length counting: graphemes, X's weighted units and code points."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import Limits
from connectors.textcount import count, fits, remaining, url_spans, x_weight

X = Limits(max_chars=280, counting="x-weighted", url_length=23)
MASTODON = Limits(max_chars=500, counting="graphemes", url_length=23)
BLUESKY = Limits(max_chars=300, counting="graphemes")
CODEPOINTS = Limits(max_chars=63206, counting="codepoints")


@pytest.mark.parametrize(
    "text, limits, expected",
    [
        ("hello", X, 5),
        ("日本語", X, 6),
        ("日本語", BLUESKY, 3),
        ("👨\u200d👩\u200d👧\u200d👦", X, 2),  # a family is one emoji sequence
        ("👨\u200d👩\u200d👧\u200d👦", BLUESKY, 1),
        ("👨\u200d👩\u200d👧\u200d👦", CODEPOINTS, 7),
        ("🇦🇪", X, 2),
        ("👍🏽", X, 2),
        ("e\u0301", X, 1),  # NFC makes it one light character
        ("e\u0301", BLUESKY, 1),
        ("e\u0301", CODEPOINTS, 2),
        ("مرحبا", X, 5),  # Arabic is in the light range
        ("\u2014", X, 1),  # em dash, 8212
        ("\u2026", X, 2),  # ellipsis, 8230, outside every light range
        ("see https://example.com/a/very/long/path?utm=1", X, 4 + 23),
        ("see https://example.com/a/very/long/path?utm=1", MASTODON, 4 + 23),
        ("see https://example.com/a/very/long/path?utm=1", BLUESKY, 46),
        ("a.co", X, 23),
        ("www.gov.uk/alerts", X, 23),
        ("www.gov.uk", X, 23),
        ("file.py", X, 7),
        ("mail me at press@example.gov", X, 28),
        ("Floods: see https://gov.example/floods.", X, len("Floods: see ") + 23 + 1),
    ],
)
def test_known_counts(text, limits, expected):
    assert count(text, limits) == expected


def test_x_limit_is_280_latin_or_140_cjk():
    assert fits("a" * 280, X) and not fits("a" * 281, X)
    assert fits("字" * 140, X) and not fits("字" * 141, X)
    assert remaining("字" * 141, X) == -2


def test_unknown_counting_rule():
    with pytest.raises(ValueError):
        count("x", Limits(max_chars=1, counting="bytes"))


@pytest.mark.parametrize("cp, weight", [(0, 1), (4351, 1), (4352, 2), (8192, 1), (8205, 1), (8206, 2), (8208, 1),
                                        (8223, 1), (8224, 2), (8242, 1), (8247, 1), (8248, 2), (0x1F600, 2)])
def test_x_weight_boundaries(cp, weight):
    assert x_weight(cp) == weight


_LIMITS = st.sampled_from([X, MASTODON, BLUESKY, CODEPOINTS])
_WORD = st.text(alphabet=st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=12)
_URL = st.builds(lambda host, path: f"https://{host}.example/{path}", _WORD, _WORD)


@settings(max_examples=1000, deadline=None)
@given(st.text(), _LIMITS)
def test_count_never_raises_and_is_bounded(text, limits):
    n = count(text, limits)
    assert n >= 0
    assert remaining(text, limits) == limits.max_chars - n


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(lambda c: c not in "./:@")))
def test_plain_ascii_counts_one_per_character_everywhere(text):
    for limits in (X, MASTODON, BLUESKY, CODEPOINTS):
        assert count(text, limits) == len(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)))
def test_cjk_weighs_double_on_x(text):
    assert count(text, X) == 2 * len(text)
    assert count(text, BLUESKY) == len(text)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["😀", "👍🏽", "🇬🇧", "👩\u200d🚒", "1\ufe0f\u20e3", "❤\ufe0f"]), max_size=30))
def test_each_emoji_sequence_weighs_two_on_x(emojis):
    assert count("".join(emojis), X) == 2 * len(emojis)


@settings(max_examples=1000, deadline=None)
@given(_WORD, _URL, _LIMITS)
def test_any_url_weighs_url_length(prefix, url, limits):
    base = count(prefix + " ", limits)
    with_url = count(f"{prefix} {url}", limits)
    if limits.url_length is None:
        assert with_url == base + len(url)
    else:
        assert with_url == base + limits.url_length


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_graphemes_never_exceed_codepoints(text):
    assert count(text, BLUESKY) <= count(text, CODEPOINTS)


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_url_spans_are_ordered_and_disjoint(text):
    spans = url_spans(text, bare_domains=True)
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert s1 < e1 <= s2 < e2
