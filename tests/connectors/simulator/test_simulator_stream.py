"""The simulator's inbound stream: deterministic, paged without loss, shaped like a local government's mentions."""

from __future__ import annotations

import collections
import re
from datetime import timedelta

import pytest

from connectors.base import Connector, PermanentError
from connectors.simulator import SimulatorConnector

from tests.connectors.simulator.simulator_testkit import T0

ARABIC = re.compile("[\u0600-\u06ff]")


def key(m) -> tuple[str, str]:
    return (m.external_id, "deleted" if m.deleted else "edited" if m.edited_at else "created")


def created(messages):
    return [m for m in messages if not m.deleted and m.edited_at is None]


def test_is_a_connector(make):
    conn = make()
    assert isinstance(conn, Connector)
    assert conn.network == "simulator"
    assert conn.limits.max_chars == 500 and conn.limits.supports_idempotency


async def test_same_window_gives_same_ids_across_instances_and_state_files(make, clock, tmp_path):
    a = make()
    b = make(state_path=str(tmp_path / "other.db"))
    cursor = a.cursor_at(T0 - timedelta(hours=2))
    page_a = await a.fetch_mentions(cursor)
    page_b = await b.fetch_mentions(cursor)
    assert [key(m) for m in page_a.items] == [key(m) for m in page_b.items]
    assert [m.text for m in page_a.items] == [m.text for m in page_b.items]
    assert len(page_a.items) > 5
    assert a.history(T0 - timedelta(days=1), T0) == b.history(T0 - timedelta(days=1), T0)


async def test_profiles_get_their_own_stream(make):
    city = {m.external_id for m in make().history(T0 - timedelta(hours=6), T0)}
    ema = {m.external_id for m in make(profile_key="riverton-ema", handle="@riverton_ema").history(T0 - timedelta(hours=6), T0)}
    assert city and ema and not city & ema


async def test_empty_cursor_starts_fifteen_minutes_ago_and_never_returns_the_future(make, clock):
    conn = make()
    page = await conn.fetch_mentions("")
    for m in page.items:
        event_time = m.edited_at or m.created_at
        assert m.created_at <= clock.now
        if not m.deleted:
            assert T0 - timedelta(minutes=15) < event_time <= clock.now
    an_hour_ago = T0 - timedelta(hours=1)
    assert conn.history(an_hour_ago, T0 + timedelta(days=1)) == conn.history(an_hour_ago, T0 + timedelta(microseconds=1))
    assert all(m.created_at <= T0 for m in conn.history(T0, T0 + timedelta(days=1)))


async def test_paging_a_busy_window_neither_loses_nor_repeats(make, clock):
    conn = make(scenario="flood", scenario_started_at=(T0 - timedelta(hours=3)).isoformat())
    start = T0 - timedelta(hours=3)
    cursor, seen, sizes = conn.cursor_at(start), [], []
    for _ in range(100):
        page = await conn.fetch_mentions(cursor)
        sizes.append(len(page.items))
        seen += [key(m) for m in page.items]
        assert page.cursor
        cursor = page.cursor
        if not page.items:
            break
    assert max(sizes) == 200 and len(sizes) >= 4, sizes
    assert all(s <= 200 for s in sizes)
    assert len(seen) == len(set(seen)), "a page repeated a message event"
    expected = [key(m) for m in conn.history(start, clock.now + timedelta(seconds=1))]
    assert seen == expected, "pages and history disagree"


async def test_paging_while_time_moves_on_loses_nothing(make, clock):
    conn = make(scenario="flood", scenario_started_at=(T0 - timedelta(minutes=30)).isoformat())
    start = clock.now
    cursor, seen = conn.cursor_at(start), []
    for _ in range(40):
        clock.advance(minutes=7)
        page = await conn.fetch_mentions(cursor)
        seen += [key(m) for m in page.items]
        cursor = page.cursor
    while True:
        page = await conn.fetch_mentions(cursor)
        if not page.items:
            break
        seen += [key(m) for m in page.items]
        cursor = page.cursor
    assert len(seen) == len(set(seen))
    assert seen == [key(m) for m in conn.history(start, clock.now + timedelta(seconds=1))]
    assert len(seen) > 400


async def test_a_cursor_returned_when_caught_up_moves_to_now(make, clock):
    conn = make()
    page = await conn.fetch_mentions("")
    again = await conn.fetch_mentions(page.cursor)
    assert again.items == []
    assert again.cursor == page.cursor
    clock.advance(hours=2)
    later = await conn.fetch_mentions(page.cursor)
    assert later.items and all(m.created_at > T0 or m.edited_at or m.deleted for m in later.items)


async def test_malformed_cursor_is_a_permanent_error(make):
    conn = make()
    for bad in ("garbage", "v1:", "v1:abc", "v2:1", "v1:1:UPPER:0", "v1:1:x:9"):
        with pytest.raises(PermanentError):
            await conn.fetch_mentions(bad)


def test_flood_volume_is_at_least_ten_times_normal_in_the_same_hour(make):
    window = (T0, T0 + timedelta(hours=1))
    clock_after = lambda: T0 + timedelta(hours=2)  # noqa: E731
    normal = make(clock_=clock_after)
    flood = make(clock_=clock_after, scenario="flood", scenario_started_at=(T0 - timedelta(minutes=30)).isoformat())
    n = len(created(normal.history(*window)))
    f = len(created(flood.history(*window)))
    assert n >= 3
    assert f >= 10 * n, (n, f)


def test_flood_ramps_up_within_twenty_minutes_and_is_compressed_by_time_scale(make):
    start = T0
    late = lambda: T0 + timedelta(days=1)  # noqa: E731
    flood = make(clock_=late, scenario="flood", scenario_started_at=start.isoformat())
    fast = make(clock_=late, scenario="flood", scenario_started_at=start.isoformat(), time_scale=10)
    first = len(created(flood.history(start, start + timedelta(minutes=5))))
    later = len(created(flood.history(start + timedelta(minutes=25), start + timedelta(minutes=30))))
    assert later > 2 * first
    # At ten times speed the ramp is over in two minutes; by then the fast world is at full volume.
    fast_early = len(created(fast.history(start + timedelta(minutes=3), start + timedelta(minutes=8))))
    slow_early = len(created(flood.history(start + timedelta(minutes=3), start + timedelta(minutes=8))))
    assert fast_early > slow_early


def test_before_the_flood_starts_the_world_is_the_normal_one(make):
    start = T0 - timedelta(hours=1)
    normal = make()
    flood = make(scenario="flood", scenario_started_at=start.isoformat())
    before = (start - timedelta(hours=6), start - timedelta(hours=3))
    assert [key(m) for m in normal.history(*before)] == [key(m) for m in flood.history(*before)]
    # After the start the worlds part: only follow-ups to threads begun before the flood are shared.
    wide = (start - timedelta(hours=3), T0)
    normal_all = {m.external_id: m for m in normal.history(*wide)}
    flood_all = {m.external_id: m for m in flood.history(*wide)}
    shared_after = [i for i in normal_all.keys() & flood_all.keys() if normal_all[i].created_at >= start]
    assert len(flood_all) > 3 * len(normal_all)
    for message_id in shared_after:
        parent = normal_all.get(normal_all[message_id].in_reply_to_id)
        assert parent is not None and parent.created_at < start, message_id


def test_flood_topics_rumours_and_vips(make):
    flood = make(clock_=lambda: T0 + timedelta(hours=6), scenario="flood", scenario_started_at=T0.isoformat())
    messages = created(flood.history(T0 + timedelta(minutes=20), T0 + timedelta(hours=4)))
    texts = " ".join(m.text for m in messages).lower()
    for word in ("evacuat", "shelter", "sandbag", "dam", "closed"):
        assert word in texts, word
    categories = collections.Counter(m.raw["sim"]["category"] for m in messages)
    assert categories["flood.rumour"] > 5
    assert any("انهار" in m.text for m in messages), "an Arabic dam rumour"
    vips = {m.author.handle for m in messages if m.author.followers > 3000 and m.author.verified}
    assert {"@dana_reports", "@sampatel_ch7"} & vips
    assert sum(1 for m in messages if m.raw["sim"]["category"] == "vip.press") >= 5


def test_arabic_share_and_real_arabic(make):
    messages = created(make(clock_=lambda: T0).history(T0 - timedelta(days=2), T0))
    arabic = [m for m in messages if m.lang == "ar"]
    share = len(arabic) / len(messages)
    assert 0.12 <= share <= 0.3, share
    assert all(ARABIC.search(m.text) for m in arabic)
    assert all(m.lang in ("en", "ar") for m in messages)
    assert any(ARABIC.search(m.author.display_name) for m in arabic)


def test_kinds_threads_and_authors(make):
    messages = created(make().history(T0 - timedelta(days=1), T0))
    kinds = collections.Counter(m.kind for m in messages)
    assert {"mention", "comment", "dm", "reply"} <= set(kinds), kinds
    by_id = {m.external_id: m for m in messages}
    comments = [m for m in messages if m.kind == "comment"]
    for c in comments:
        parent = by_id.get(c.in_reply_to_id)
        if parent is not None:  # roots from before the window are not in it
            assert c.conversation_id == parent.conversation_id
            assert parent.created_at < c.created_at
    threads = collections.Counter(m.conversation_id for m in messages)
    assert sum(1 for n in threads.values() if n >= 3) >= 5
    assert len({m.author.handle for m in messages}) > 100
    dms = [m for m in messages if m.kind == "dm"]
    assert all(not m.url and "@cityofriverton" not in m.text for m in dms)
    mentions = [m for m in messages if m.kind == "mention"]
    assert all("@cityofriverton" in m.text for m in mentions)
    assert any(m.likes > 0 for m in mentions) and all(m.author.followers > 0 for m in messages)


def test_edits_and_deletions_are_reported_later_under_the_same_id(make):
    events = make().history(T0 - timedelta(days=3), T0)
    first_seen = {}
    edits, deletions = [], []
    for index, m in enumerate(events):
        if m.deleted:
            deletions.append((index, m))
        elif m.edited_at:
            edits.append((index, m))
        else:
            first_seen.setdefault(m.external_id, (index, m))
    assert len(edits) >= 5 and len(deletions) >= 5
    assert len(edits) + len(deletions) < 0.1 * len(first_seen)  # a small fraction
    for index, m in edits:
        if m.external_id in first_seen:
            original_index, original = first_seen[m.external_id]
            assert original_index < index
            assert m.text != original.text and m.text.startswith(original.text)
            assert m.edited_at > original.created_at == m.created_at
    for index, m in deletions:
        if m.external_id in first_seen:
            assert first_seen[m.external_id][0] < index


async def test_an_edit_shows_up_in_a_later_fetch(make, clock):
    conn = make()
    day = conn.history(T0 - timedelta(days=1), T0)
    edit = next(m for m in day if m.edited_at and m.created_at > T0 - timedelta(hours=20))
    clock.now = edit.created_at + timedelta(seconds=1)
    page = await conn.fetch_mentions(conn.cursor_at(edit.created_at))
    assert any(m.external_id == edit.external_id and m.edited_at is None for m in page.items)
    clock.now = edit.edited_at
    page = await conn.fetch_mentions(page.cursor)
    assert any(m.external_id == edit.external_id and m.edited_at == edit.edited_at and m.text == edit.text for m in page.items)


def test_thirty_days_of_history(make):
    conn = make(clock_=lambda: T0)
    messages = conn.history(T0 - timedelta(days=30), T0)
    assert 3_000 <= len(messages) <= 15_000, len(messages)
    times = [m.edited_at or m.created_at for m in messages if not m.deleted]
    assert times == sorted(times)
    with_public = conn.history(T0 - timedelta(days=30), T0, include_public=True)
    assert len(with_public) > 2 * len(messages)
    assert {m.kind for m in with_public[len(messages):]} == {"keyword"}


def test_bad_config_fails_on_use_not_on_construction(make):
    from connectors.base import AuthError

    with pytest.raises(AuthError):
        make(handle="").history(T0 - timedelta(hours=1), T0)
    with pytest.raises(PermanentError):
        make(scenario="volcano").history(T0 - timedelta(hours=1), T0)
    with pytest.raises(PermanentError):
        make(scenario="flood").history(T0 - timedelta(hours=1), T0)  # no start time
    with pytest.raises(PermanentError):
        make(fault_429_rate="lots").history(T0 - timedelta(hours=1), T0)


async def test_state_directory_is_created(tmp_path, clock):
    from connectors.base import Credentials

    path = tmp_path / "deep" / "er" / "sim.db"
    conn = SimulatorConnector(Credentials("simulator", {"handle": "@x", "profile_key": "k", "state_path": str(path)}), clock=clock)
    assert (await conn.check()).handle == "@x"
    assert path.exists()
