"""Search on the simulated network: its query syntax, language filter, paging, and our own posts in it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from connectors.base import OutboundPost, PermanentError, SearchQuery
from connectors.simulator.query import compile_query, words

from tests.connectors.simulator.simulator_testkit import T0


def matches(query: str, text: str) -> bool:
    return compile_query(query)(words(text))


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("pothole", "The POTHOLE on Elm Street", True),
        ("pothole", "Potholes everywhere", False),  # whole words only
        ("pothole OR potholes", "Potholes everywhere", True),
        ('"flash flood"', "Flash flood in Riverton", True),
        ('"flash flood"', "a flood, in a flash", False),
        ("flood -recipe", "flooding recipe for disaster", False),
        ("(flood OR flooding) -recipe", "flooding recipe for disaster", False),
        ("(flood OR flooding) -recipe", "The flooding on Mill Road", True),
        ("(dam OR السد) (failed OR انهار)", "The Halden Dam has failed!!!", True),
        ("(dam OR السد) (failed OR انهار)", "سمعت أن السد انهار، هل يمكن لأحد التأكيد؟", True),
        ("(dam OR السد) (failed OR انهار)", "The dam is fine", False),
        ("السد", "والسد ممتلئ", True),  # an attached conjunction still matches
        ("فيضان", "فَيَضان كبير", True),  # diacritics are folded away
        ("riverton OR #rivertoncity", "Great day out #Riverton", True),
        ("#RivertonFlood", "Water everywhere #rivertonflood", True),
        ("#RivertonFlood", "rivertonflood without the tag", False),
        ("bins AND collection", "bin collection", False),
        ("bins NOT collection", "bins everywhere", True),
        ("-(a OR b) bins", "bins a", False),
    ],
)
def test_query_syntax(query, text, expected):
    assert matches(query, text) is expected


@pytest.mark.parametrize("bad", ["", "   ", "(flood", "flood)", "OR", "flood OR", '"unterminated', "-", "()"])
def test_invalid_queries_are_permanent_errors(bad):
    with pytest.raises(PermanentError):
        compile_query(bad)


async def test_search_matches_case_insensitively_and_reports_keyword_kind(make):
    conn = make()
    page = await conn.search(SearchQuery("Pothole OR POTHOLES", limit=200), conn.cursor_at(T0 - timedelta(days=1)))
    assert len(page.items) >= 5
    for m in page.items:
        assert m.kind == "keyword"
        assert re.search(r"(?i)\bpotholes?\b", m.text)
    # Chatter that never mentions the account is in the wider public stream, and DMs never are.
    assert any("@cityofriverton" not in m.text for m in page.items)
    everything = await conn.search(SearchQuery("the OR في", limit=200), conn.cursor_at(T0 - timedelta(hours=3)))
    mention_ids = {m.external_id for m in conn.history(T0 - timedelta(hours=3), T0) if m.kind == "dm"}
    assert not mention_ids & {m.external_id for m in everything.items}


async def test_search_honours_language(make):
    conn = make()
    cursor = conn.cursor_at(T0 - timedelta(days=1))
    arabic = await conn.search(SearchQuery("في OR the OR من", lang="ar", limit=200), cursor)
    assert arabic.items and all(m.lang == "ar" for m in arabic.items)
    english = await conn.search(SearchQuery("في OR the OR من", lang="en", limit=200), cursor)
    assert english.items and all(m.lang == "en" for m in english.items)


async def test_flood_search_finds_rumours_in_both_languages(make, clock):
    conn = make(scenario="flood", scenario_started_at=(T0 - timedelta(hours=3)).isoformat())
    query = SearchQuery("(dam OR السد) (fail OR failed OR burst OR collapse OR انهار)", limit=200)
    cursor, found = conn.cursor_at(T0 - timedelta(hours=3)), []
    while True:
        page = await conn.search(query, cursor)
        found += page.items
        if not page.items:
            break
        cursor = page.cursor
    assert {m.lang for m in found} == {"en", "ar"}
    ids = [(m.external_id, m.deleted, m.edited_at) for m in found]
    assert len(ids) == len(set(ids))


async def test_search_pages_by_limit_without_loss(make):
    conn = make()
    query = SearchQuery("the OR في OR is", limit=25)
    start = conn.cursor_at(T0 - timedelta(hours=24))
    cursor, paged = start, []
    for _ in range(200):
        page = await conn.search(query, cursor)
        assert len(page.items) <= 25
        paged += [(m.external_id, m.deleted, m.edited_at) for m in page.items]
        if not page.items:
            break
        cursor = page.cursor
    whole = await conn.search(SearchQuery("the OR في OR is", limit=200), start)
    assert len(paged) > 100
    assert paged[: len(whole.items)] == [(m.external_id, m.deleted, m.edited_at) for m in whole.items]
    assert len(paged) == len(set(paged))


async def test_our_published_posts_are_searchable(make, clock):
    conn = make()
    result = await conn.publish(OutboundPost("Sandbags are available at the Mill Road depot from 6pm.", "sandbags-1"))
    clock.advance(minutes=1)
    page = await conn.search(SearchQuery("sandbags depot"), conn.cursor_at(T0 - timedelta(minutes=1)))
    ours = [m for m in page.items if m.external_id == result.external_id]
    assert ours and ours[0].author.handle == "@cityofriverton"


async def test_empty_search_is_a_permanent_error(make):
    with pytest.raises(PermanentError):
        await make().search(SearchQuery("  "))
