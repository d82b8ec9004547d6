"""The live relay decides per client what a bus event means for it, and pushes only that: recount the "N new"
pill with one query per distinct filter, re-read a page only when a message on it changed, and send presence only
for the messages a client shows. Real services and database; only the Reflex app around the states is a stand-in."""

from __future__ import annotations

import contextlib
from collections import Counter
from types import SimpleNamespace

import pytest

from govsocial_app.services import inbox, presence
from govsocial_app.state import live
from tests.inbox.conftest import msg


class FakeInbox:
    """The parts of InboxState the relay touches."""

    def __init__(self, user_id: int, ids: list[int], top_id: int, path: str = "/inbox") -> None:
        self.user_id, self.ids, self.top_id, self.new_count, self.presence = user_id, ids, top_id, 0, {}
        self.router = SimpleNamespace(url=SimpleNamespace(path=path))
        self.refreshed: list[list[int]] = []
        self.patched: list[tuple[set[int], set[int]]] = []

    def visible_ids(self) -> list[int]:
        return list(self.ids)

    def refresh_from_feed(self, changed: list[int]) -> None:
        self.refreshed.append(changed)

    def patch_from_feed(self, cards: dict, details: dict) -> None:
        self.patched.append((set(cards) & set(self.ids), set(details) & {getattr(self, "open_id", 0)}))


class FakeApp:
    def __init__(self, states: dict[str, FakeInbox], remote: tuple[str, ...] = ()) -> None:
        self.states, self.pushes = states, Counter()
        sockets = {t: SimpleNamespace(instance_id="here") for t in states}
        sockets.update({t: SimpleNamespace(instance_id="elsewhere") for t in remote})
        self.event_namespace = SimpleNamespace(_token_manager=SimpleNamespace(instance_id="here", token_to_socket=sockets))

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        self.pushes[token.ident] += 1
        state = self.states[token.ident]

        async def get_state(_cls):
            return state

        yield SimpleNamespace(get_state=get_state)


@pytest.fixture(autouse=True)
def _clean_watches():
    live._watches.clear()
    yield
    live._watches.clear()


def _watch(token: str, s: FakeInbox, params: dict | None = None) -> None:
    live.watch(token, user_id=s.user_id, params=params or {}, top_id=s.top_id, new_count=s.new_count, ids=s.ids,
               presence_slice=live.presence_slice(live.projection(), s.ids))


async def test_arrivals_recount_each_client_from_one_query_per_filter(store, monkeypatch):
    first = store([msg(n) for n in range(1, 11)])  # ten messages; people loaded their page at different times
    a, b, c = FakeInbox(1, first[:3], first[4]), FakeInbox(2, first[:3], first[7]), FakeInbox(3, first[:3], first[4])
    app = FakeApp({"a": a, "b": b, "c": c})
    for token, s in (("a", a), ("b", b)):
        _watch(token, s)
    _watch("c", c, {"network": "mastodon"})  # nothing arrives on this filter
    queries = []
    real = inbox.newer_ids
    monkeypatch.setattr(inbox, "newer_ids", lambda *args, **kw: queries.append(args) or real(*args, **kw))

    assert await live._relay_feed(app, [{"new": 10, "head_id": first[-1]}]) == {"refreshed": 0, "patched": 0, "recounted": 2}
    assert (a.new_count, b.new_count, c.new_count) == (5, 2, 0)
    assert len(queries) == 2, "one query per distinct filter, not one per client"
    assert app.pushes == Counter({"a": 1, "b": 1}), "the Mastodon reader's count did not move: no push"
    assert a.refreshed == b.refreshed == [], "arrivals never re-read a pinned page"

    store([msg(11)])
    await live._relay_feed(app, [{"new": 1}])
    assert (a.new_count, b.new_count) == (6, 3)
    await live._relay_feed(app, [{"new": 1}])  # nothing new since: counts unchanged, nobody pushed
    assert app.pushes == Counter({"a": 2, "b": 2})


async def test_a_change_on_screen_patches_only_the_clients_showing_it(store, monkeypatch):
    ids = store([msg(n) for n in range(1, 7)])
    a, b, c = FakeInbox(1, ids[:2], ids[-1]), FakeInbox(2, ids[2:5], ids[-1]), FakeInbox(3, ids[:2], ids[-1])
    app = FakeApp({"a": a, "b": b, "c": c})
    _watch("a", a)
    _watch("b", b)
    c.open_id = ids[0]
    live.watch("c", user_id=3, params={}, top_id=ids[-1], new_count=0, ids=ids[:2], presence_slice={}, open_id=ids[0])
    reads, details = [], []
    real, real_detail = inbox.cards_by_id, inbox.detail
    monkeypatch.setattr(inbox, "cards_by_id", lambda wanted: reads.append(sorted(wanted)) or real(wanted))
    monkeypatch.setattr(inbox, "detail", lambda mid: details.append(mid) or real_detail(mid))
    out = await live._relay_feed(app, [{"changed": [ids[0]]}, {"changed": [ids[5]]}])  # nobody shows ids[5]
    assert out == {"refreshed": 0, "patched": 2, "recounted": 0}
    assert reads == [[ids[0]]], "the changed card is read once for every client showing it; unseen changes are not read"
    assert details == [ids[0]], "the open message's detail is read once, and only for a message someone has open"
    assert a.patched == [({ids[0]}, set())], "a shows it but has nothing open"
    assert c.patched == [({ids[0]}, {ids[0]})], "c has it open: the detail comes too"
    assert b.patched == [] and app.pushes["b"] == 0
    assert a.refreshed == b.refreshed == c.refreshed == [], "no page is re-read for a change on it"

    await live._relay_feed(app, [{"changed": [], "all": True}])  # a VIP list changed: every page re-reads
    assert a.refreshed == b.refreshed == c.refreshed == [[]]


async def test_clients_that_left_the_inbox_or_this_worker_are_forgotten(store):
    ids = store([msg(1), msg(2)])
    away = FakeInbox(1, ids, ids[0], path="/publish")
    app = FakeApp({"away": away}, remote=("moved",))
    _watch("away", away)
    _watch("moved", FakeInbox(2, ids, ids[0]))
    await live._relay_feed(app, [{"new": 1}])
    assert "moved" not in live.watching() and app.pushes["moved"] == 0, "another worker owns that socket now"
    assert app.pushes["away"] == 1 and "away" not in live.watching() and away.new_count == 0


async def test_presence_goes_only_to_clients_showing_that_message(store):
    ids = store([msg(n) for n in range(1, 5)])
    a, b = FakeInbox(1, ids[:2], ids[-1]), FakeInbox(2, ids[2:], ids[-1])
    app = FakeApp({"a": a, "b": b})
    _watch("a", a)
    _watch("b", b)
    presence.get_store().touch(ids[0], 9, "Dana Duty", presence.REPLYING)
    try:
        assert await live._relay_presence(app, live.projection(), live.asyncio.Semaphore(4)) == 1
        assert set(a.presence) == {str(ids[0])} and a.presence[str(ids[0])][0]["status"] == "replying"
        assert b.presence == {} and app.pushes["b"] == 0
        assert await live._relay_presence(app, live.projection(), live.asyncio.Semaphore(4)) == 0, "unchanged: no push"
    finally:
        presence.get_store().leave(9)
    assert await live._relay_presence(app, live.projection(), live.asyncio.Semaphore(4)) == 1
    assert a.presence == {}
