"""keyword_query.required_words: the words a message must have for a query to match it, which inbox rules use to
skip queries a message cannot match. It must never skip a query that would match (a lost rule application)."""

from __future__ import annotations

import itertools

import pytest

from govsocial_app.services.listening.keyword_query import And, Lang, Not, Or, Term, parse, prepare, required_words, words_of

QUERIES = [
    "pothole", "pothole OR حفرة", "flood OR flooding OR sandbags OR فيضان", "bridge -closed", "river AND (rising OR level)",
    '"free followers"', "#FloodWatch", "@mayor", "water lang:en", "spam -eggs", "(road OR roads) AND #closure",
    '"flood watch"', "covid-19", "الفيضان", "anyone AND (know OR confirm)", "@reporter OR press",
]
TEXTS = [
    ("Huge pothole on Main St", "en", "@citizen"), ("حفرة كبيرة في الشارع", "ar", "@a"), ("بالفيضان في الحي", "ar", "@b"),
    ("The bridge is closed", "en", "@c"), ("The bridge is open", "en", "@d"), ("River level rising fast", "en", "@e"),
    ("Get FREE followers now", "en", "@f"), ("Stay safe #FloodWatch", "en", "@g"), ("#flood_watch tonight", "en", "@h"),
    ("hello", "en", "@mayor"), ("thanks @Mayor", "en", "@i"), ("Roads shut #closure", "en", "@j"), ("COVID-19 clinic", "en", "@k"),
    ("does anyone know when", "en", "@l"), ("flood watch issued", "en", "@m"), ("spam spam", "en", "@n"), ("", "", "@reporter"),
    ("water main burst", "en", "@o"), ("water main burst", "fr", "@p"),
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_message_the_query_matches_always_has_one_of_its_words(query):
    q = parse(query)
    words = required_words(q)
    for text, lang, handle in TEXTS:
        msg = prepare(text, lang, handle)
        if q.matches_prepared(msg) and words is not None:
            assert words & words_of(msg), (query, text)


def test_the_words_are_the_ones_a_person_would_expect_and_none_when_any_message_may_match():
    assert required_words(parse("pothole OR حفرة")) == {"pothole", "حفره"}  # normalised: ة → ه
    assert required_words(parse("river AND (rising OR level)")) == {"river"}
    assert required_words(parse("#FloodWatch")) == {"#floodwatch"}
    assert required_words(parse("@mayor")) == {"@mayor"}
    # The parser refuses a query with nothing to search for, but the engine must not skip one if it ever gets one.
    assert required_words(Not(Term("spam"))) is None and required_words(Lang(("ar",))) is None
    assert required_words(Or((Term("water"), Not(Term("spam"))))) is None
    assert required_words(And((Lang(("ar",)), Term("water")))) == {"water"}
    assert required_words(parse("water lang:en")) == {"water"}


def test_words_let_most_messages_skip_most_queries():
    """What the rules engine gains: of these message/query pairs, most are skipped without running the query."""
    pairs = list(itertools.product(QUERIES, TEXTS))
    skipped = sum(1 for query, (text, lang, handle) in pairs
                  if (w := required_words(parse(query))) is not None and not w & words_of(prepare(text, lang, handle)))
    assert skipped > len(pairs) * 0.6
