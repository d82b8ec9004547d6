"""The live relay decides per client what a bus event means for it, and pushes only that: recount the "N new"
pill with one query per distinct filter, re-read a page only when a message on it changed, and send presence only
for the messages a client shows. Real services and database; only the Reflex app around the states is a stand-in."""

from __future__ import annotations

import contextlib
from collections import Counter
from types import SimpleNamespace

import pytest

from govsocial_app.services.inbox import presence, stream
from govsocial_app.services.events import InboxChanged, PresenceChanged
from govsocial_app.state import relay, watchers
from tests.inbox.conftest import msg


class FakeInbox:
    """The parts of InboxState the relay touches."""

    def __init__(self, user_id: int, ids: list[int], top_id: int, path: str = "/inbox") -> None:
        self.user_id, self.ids, self.top_id, self.new_count, self.presence = user_id, ids, top_id, 0, {}
        self.auth_token = f"token-{user_id}"
        self.router = SimpleNamespace(url=SimpleNamespace(path=path))
        self.refreshed: list[list[int]] = []
        self.patched: list[tuple[set[int], set[int]]] = []

    def _visible_ids(self) -> list[int]:
        return list(self.ids)

    def _refresh_from_feed(self, changed: list[int]) -> None:
        self.refreshed.append(changed)

    def _patch_from_feed(self, cards: dict, details: dict) -> None:
        self.patched.append((set(cards) & set(self.ids), set(details) & {getattr(self, "open_id", 0)}))


class FakeApp:
    def __init__(self, states: dict[str, FakeInbox], remote: tuple[str, ...] = ()) -> None:
        self.states, self.pushes = states, Counter()
        self.sent: dict[str, list[dict]] = {}  # the deltas sent straight to each client's socket, no state lock
        self.emits: list[list[str]] = []  # each Socket.IO emit (encoded once) and the clients it went to
        sockets = {t: SimpleNamespace(instance_id="here", sid=f"sid-{t}") for t in states}
        sockets.update({t: SimpleNamespace(instance_id="elsewhere", sid=f"sid-{t}") for t in remote})
        self.event_namespace = SimpleNamespace(_token_manager=SimpleNamespace(instance_id="here", token_to_socket=sockets),
                                               emit_update=self._emit_update, emit=self._emit)

    async def _emit_update(self, update, token: str) -> None:
        self.emits.append([token])
        self.sent.setdefault(token, []).append(update.delta)

    async def _emit(self, event: str, update, to: list[str]) -> None:
        assert event == "event"
        self.emits.append([sid.removeprefix("sid-") for sid in to])
        for sid in to:
            self.sent.setdefault(sid.removeprefix("sid-"), []).append(update.delta)

    def shown(self, token: str) -> dict:
        """The presence the browser of `token` shows: the last presence delta it received (as Reflex applies it)."""
        from govsocial_app.state.inbox import InboxState

        for delta in reversed(self.sent.get(token, [])):
            if "presence_rx_state_" in delta.get(InboxState.get_full_name(), {}):
                return delta[InboxState.get_full_name()]["presence_rx_state_"]
        return {}

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        self.pushes[token.ident] += 1
        state = self.states[token.ident]

        async def get_state(_cls):
            return state

        yield SimpleNamespace(get_state=get_state)


@pytest.fixture(autouse=True)
def _clean_watches():
    watchers._watches.clear()
    watchers._sessions.clear()
    yield
    watchers._watches.clear()
    watchers._sessions.clear()


@pytest.fixture(autouse=True)
def _live_sessions(request, monkeypatch):
    """The stand-in clients hold live sessions ("token-<user id>"); the test of revoked sessions uses real ones."""
    if "real_sessions" in request.keywords:
        return
    from govsocial_app.services.authz import Actor

    async def session_actor(token: str):
        return Actor(int(token.split("-")[1]), "Tester", "viewer") if token.startswith("token-") else None

    monkeypatch.setattr(watchers, "session_actor", session_actor)


def _watch(token: str, s: FakeInbox, params: dict | None = None, **extra) -> None:
    watchers.watch(token, user_id=s.user_id, params=params or {}, top_id=s.top_id, new_count=s.new_count, ids=s.ids,
               presence_slice=watchers.presence_slice(watchers.projection(), s.ids), auth_token=s.auth_token, **extra)


async def test_arrivals_recount_each_client_from_one_query_per_filter(store, monkeypatch):
    first = store([msg(n) for n in range(1, 11)])  # ten messages; people loaded their page at different times
    a, b, c = FakeInbox(1, first[:3], first[4]), FakeInbox(2, first[:3], first[7]), FakeInbox(3, first[:3], first[4])
    app = FakeApp({"a": a, "b": b, "c": c})
    for token, s in (("a", a), ("b", b)):
        _watch(token, s)
    _watch("c", c, {"network": "mastodon"})  # nothing arrives on this filter
    queries = []
    real = stream.newer_ids
    monkeypatch.setattr(stream, "newer_ids", lambda *args, **kw: queries.append(args) or real(*args, **kw))

    assert await relay._relay_feed(app, [InboxChanged.of(new_ids=first)]) == {"refreshed": 0, "patched": 0, "recounted": 2}
    assert (a.new_count, b.new_count, c.new_count) == (5, 2, 0)
    assert len(queries) == 2, "one query per distinct filter, not one per client"
    assert app.pushes == Counter({"a": 1, "b": 1}), "the Mastodon reader's count did not move: no push"
    assert a.refreshed == b.refreshed == [], "arrivals never re-read a pinned page"

    store([msg(11)])
    await relay._relay_feed(app, [InboxChanged.of(new_ids=[first[-1] + 1])])
    assert (a.new_count, b.new_count) == (6, 3)
    await relay._relay_feed(app, [InboxChanged.of(new_ids=[first[-1] + 1])])  # nothing new since: counts unchanged, nobody pushed
    assert app.pushes == Counter({"a": 2, "b": 2})


async def test_a_change_on_screen_patches_only_the_clients_showing_it(store, monkeypatch):
    ids = store([msg(n) for n in range(1, 7)])
    a, b, c = FakeInbox(1, ids[:2], ids[-1]), FakeInbox(2, ids[2:5], ids[-1]), FakeInbox(3, ids[:2], ids[-1])
    app = FakeApp({"a": a, "b": b, "c": c})
    _watch("a", a)
    _watch("b", b)
    c.open_id = ids[0]
    watchers.watch("c", user_id=3, params={}, top_id=ids[-1], new_count=0, ids=ids[:2], presence_slice={}, open_id=ids[0])
    reads, details = [], []
    real, real_detail = stream.cards_by_id, stream.detail
    monkeypatch.setattr(stream, "cards_by_id", lambda wanted: reads.append(sorted(wanted)) or real(wanted))
    monkeypatch.setattr(stream, "detail", lambda mid: details.append(mid) or real_detail(mid))
    out = await relay._relay_feed(app, [InboxChanged.of(changed_ids=[ids[0]]), InboxChanged.of(changed_ids=[ids[5]])])  # nobody shows ids[5]
    assert out == {"refreshed": 0, "patched": 1, "recounted": 0}, "c has it open: at once; a only lists it"
    assert details == [ids[0]], "the open message's detail is read once, and only for a message someone has open"
    assert c.patched == [({ids[0]}, {ids[0]})], "c has it open: the card and the detail come at once"
    assert a.patched == [] and watchers.watching()["a"].pending == {ids[0]}, "a's list card waits for its turn"

    assert (await relay._relay_feed(app, []))["patched"] == 0, "not yet its turn"
    watchers._watches["a"].fed_at -= relay.LIST_EVERY_S
    watchers._watches["c"].fed_at -= relay.LIST_EVERY_S
    out = await relay._relay_feed(app, [])  # the feed loop coming back, with no new bus event
    assert out["patched"] == 1 and a.patched == [({ids[0]}, set())] and watchers.watching()["a"].pending == set()
    assert reads == [[ids[0]], [ids[0]]], "read once per pass for every client it is pushed to; unseen changes never"
    assert len(c.patched) == 1, "nothing new for c"
    assert b.patched == [] and app.pushes["b"] == 0
    assert a.refreshed == b.refreshed == c.refreshed == [], "no page is re-read for a change on it"

    await relay._relay_feed(app, [InboxChanged(everything=True)])  # a VIP list changed: every page re-reads
    assert a.refreshed == b.refreshed == c.refreshed == [[]]


async def test_clients_that_left_the_inbox_or_this_worker_are_forgotten(store):
    ids = store([msg(1), msg(2)])
    away = FakeInbox(1, ids, ids[0], path="/publish")
    app = FakeApp({"away": away}, remote=("moved",))
    _watch("away", away)
    _watch("moved", FakeInbox(2, ids, ids[0]))
    await relay._relay_feed(app, [InboxChanged.of(new_ids=[ids[-1]])])
    assert "moved" not in watchers.watching() and app.pushes["moved"] == 0, "another worker owns that socket now"
    assert app.pushes["away"] == 1 and "away" not in watchers.watching() and away.new_count == 0


async def test_presence_goes_only_to_clients_showing_that_message(store):
    ids = store([msg(n) for n in range(1, 5)])
    a, b = FakeInbox(1, ids[:2], ids[-1]), FakeInbox(2, ids[2:], ids[-1])
    app = FakeApp({"a": a, "b": b})
    _watch("a", a)
    _watch("b", b)
    presence.get_store().touch(ids[0], 9, "Dana Duty", presence.REPLYING)
    try:
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1
        assert set(app.shown("a")) == {str(ids[0])} and app.shown("a")[str(ids[0])][0]["status"] == "replying"
        assert "b" not in app.sent
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 0, "unchanged: no push"
    finally:
        presence.get_store().leave(9)
    assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1
    assert app.shown("a") == {} and len(app.sent["a"]) == 2
    assert sum(app.pushes.values()) == 0, "presence takes no client's state lock"


async def test_presence_reaches_the_list_at_once_while_card_changes_wait_their_pace(store, monkeypatch):
    """Issue 20: list changes are paced (one card push per client per LIST_EVERY_S) but presence chips are not.
    The relay loop itself runs here, with the periodic pass pushed far away, so only the bus event can deliver."""
    monkeypatch.setattr(relay, "PRUNE_EVERY_S", 60.0)
    ids = store([msg(n) for n in range(1, 5)])
    lister = FakeInbox(2, ids, ids[-1])
    app = FakeApp({"lister": lister})
    _watch("lister", lister, name="Sam Responder")  # its cards and presence were set just now
    await relay._relay_feed(app, [InboxChanged.of(changed_ids=[ids[1]])])
    assert lister.patched == [] and watchers._watches["lister"].pending == {ids[1]}, "a card change waits its turn"

    task = relay.asyncio.create_task(relay._presence_loop(app))
    try:
        await relay.asyncio.sleep(0.05)  # the loop subscribes to the bus
        presence.get_store().touch(ids[0], 9, "Riley Responder")
        relay.bus.publish(PresenceChanged(message_id=ids[0]))
        for _ in range(300):  # the card pacing is 5 s; this gives up after 3 s
            if app.shown("lister"):
                break
            await relay.asyncio.sleep(0.01)
        assert app.shown("lister") == {str(ids[0]): [{"user_id": "9", "name": "Riley Responder", "initials": "RR",
                                                       "status": "viewing"}]}
        assert lister.patched == [] and sum(app.pushes.values()) == 0, "the paced card change still waits"
        presence.get_store().leave(9, ids[0])
        relay.bus.publish(PresenceChanged(message_id=ids[0]))
        for _ in range(300):
            if not app.shown("lister"):
                break
            await relay.asyncio.sleep(0.01)
        assert app.shown("lister") == {}, "leaving reaches the list at once too"
    finally:
        task.cancel()
        presence.get_store().leave(9)


async def test_the_first_change_after_a_quiet_spell_waits_for_no_coalescing_window(store, monkeypatch):
    """Bursts are coalesced, but a change after a quiet spell is relayed at once, even right after the periodic
    prune pass: here the window is far longer than the test may wait, and prune passes run all the time."""
    monkeypatch.setattr(relay, "PRUNE_EVERY_S", 0.3)
    monkeypatch.setattr(relay, "PRESENCE_COALESCE_S", 60.0)
    ids = store([msg(1), msg(2)])
    lister = FakeInbox(2, ids, ids[-1])
    app = FakeApp({"lister": lister})
    _watch("lister", lister)
    task = relay.asyncio.create_task(relay._presence_loop(app))

    async def shown(expected: dict) -> dict:
        for _ in range(300):  # gives up after 3 s
            if app.shown("lister") == expected:
                break
            await relay.asyncio.sleep(0.01)
        return app.shown("lister")

    try:
        await relay.asyncio.sleep(0.7)  # prune passes have run
        presence.get_store().touch(ids[0], 9, "Riley Responder")
        relay.bus.publish(PresenceChanged(message_id=ids[0]))
        assert str(ids[0]) in await shown({str(ids[0]): watchers.projection()[str(ids[0])]})
        presence.get_store().leave(9)
        relay.bus.publish(PresenceChanged(message_id=ids[0]))
        await relay.asyncio.sleep(0.3)
        assert str(ids[0]) in app.shown("lister"), "a second change within the window waits for its end"
    finally:
        task.cancel()
        presence.get_store().leave(9)


async def test_presence_is_not_sent_to_a_client_whose_session_ended(store):
    ids = store([msg(1), msg(2)])
    kept, gone = FakeInbox(1, ids, ids[-1]), FakeInbox(2, ids, ids[-1])
    gone.auth_token = "revoked"  # the stand-in session check knows no such session
    app = FakeApp({"kept": kept, "gone": gone})
    _watch("kept", kept)
    _watch("gone", gone)
    presence.get_store().touch(ids[0], 9, "Dana Duty")
    try:
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1
    finally:
        presence.get_store().leave(9)
    assert str(ids[0]) in app.shown("kept") and "gone" not in app.sent and "gone" not in watchers.watching()


async def test_a_send_that_fails_stops_no_other_client_and_is_retried(store):
    ids = store([msg(1), msg(2)])
    a, b = FakeInbox(1, ids, ids[-1]), FakeInbox(2, ids[:1], ids[-1])  # a different list each: two sends
    app = FakeApp({"a": a, "b": b})
    emit, broken = app.event_namespace.emit_update, {"a"}

    async def flaky(update, token: str) -> None:
        if token in broken:
            raise ConnectionError("the socket closed under us")
        await emit(update, token)

    app.event_namespace.emit_update = flaky
    _watch("a", a)
    _watch("b", b)
    presence.get_store().touch(ids[0], 9, "Dana Duty")
    try:
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1
        assert str(ids[0]) in app.shown("b") and "a" not in app.sent
        broken.clear()
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1, "a is sent again"
        assert str(ids[0]) in app.shown("a") and len(app.sent["b"]) == 1
    finally:
        presence.get_store().leave(9)


async def test_clients_showing_the_same_messages_share_one_presence_send(store):
    """Presence slices repeat (a team works the same first page): one Socket.IO emit, encoded once, goes to every
    client of this worker that shows the same messages; a client with another list gets its own."""
    ids = store([msg(n) for n in range(1, 5)])
    same = {t: FakeInbox(n, ids[:3], ids[-1]) for n, t in enumerate(("a", "b", "c"), start=1)}
    other = FakeInbox(4, ids[1:], ids[-1])
    app = FakeApp({**same, "d": other}, remote=("e",))
    for token, s in {**same, "d": other}.items():
        _watch(token, s)
    _watch("e", FakeInbox(5, ids[:3], ids[-1]))  # its socket is on another worker: forgotten, not sent
    presence.get_store().touch(ids[1], 9, "Dana Duty", presence.REPLYING)
    try:
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 4
        assert sorted(sorted(e) for e in app.emits) == [["a", "b", "c"], ["d"]]
        for token in ("a", "b", "c", "d"):
            assert app.shown(token)[str(ids[1])][0]["status"] == "replying"
        assert "e" not in app.sent
        presence.get_store().touch(ids[1], 9, "Dana Duty", presence.VIEWING)
        app.emits.clear()
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 4
        assert sorted(sorted(e) for e in app.emits) == [["a", "b", "c"], ["d"]]
    finally:
        presence.get_store().leave(9)
    assert sum(app.pushes.values()) == 0, "presence takes no client's state lock"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_worker_keeps_its_own_visible_viewers_present_with_no_browser_heartbeat(store, monkeypatch):
    ids = store([msg(1), msg(2)])
    clock = Clock()
    monkeypatch.setattr(presence, "_store", presence.MemoryPresence(clock))
    published = []
    monkeypatch.setattr(watchers.bus, "publish", published.append)
    here, hidden = FakeInbox(1, ids, ids[0]), FakeInbox(2, ids, ids[0])
    app = FakeApp({"here": here, "hidden": hidden}, remote=("elsewhere",))
    common = dict(params={}, top_id=ids[0], new_count=0, ids=ids, presence_slice={})
    watchers.watch("here", user_id=1, open_id=ids[0], name="Riley Responder", **common)
    watchers.watch("hidden", user_id=2, open_id=ids[1], name="Sam Responder", away=True, **common)
    watchers.watch("elsewhere", user_id=3, open_id=ids[0], name="Dana Duty", **common)
    for user, mid, name in ((1, ids[0], "Riley Responder"), (2, ids[1], "Sam Responder"), (3, ids[0], "Dana Duty")):
        presence.get_store().touch(mid, user, name)

    for _ in range(6):  # 48 s of beats: more than twice the TTL
        clock.now += presence.HEARTBEAT_S
        assert watchers.keep_alive(app) == 0
    on = {e.user_id: e.message_id for e in presence.get_store().snapshot()}
    assert on == {1: ids[0]}, "only the visible client whose socket this worker holds is kept; the others lapse"
    assert "elsewhere" not in watchers.watching()

    presence.get_store().leave(1)  # lost (a restarted store): the next beat puts Riley back and says so
    assert watchers.keep_alive(app) == 1 and published == [PresenceChanged(restored=1)]

    watchers.leave_inbox("here")  # Riley went to another page: off the message now, not in 20 s
    assert presence.get_store().snapshot() == [] and published[-1] == PresenceChanged(message_id=ids[0])
    assert "here" not in watchers.watching() and watchers.keep_alive(app) == 0


async def test_app_wide_changes_go_to_every_client_of_this_worker_only_and_one_failure_stops_none():
    class Banner:
        def __init__(self, fail: bool = False) -> None:
            self.paused, self.fail = False, fail

    states = {"a": Banner(), "b": Banner(fail=True), "c": Banner()}
    app = FakeApp(states, remote=("elsewhere",))

    async def apply(banner) -> None:
        if banner.fail:
            raise RuntimeError("a stale state")
        banner.paused = True

    assert await relay.push_to_every_client(app, Banner, apply) == 3
    assert states["a"].paused and states["c"].paused and not states["b"].paused
    assert app.pushes["elsewhere"] == 0, "the worker holding that socket pushes to it"


@pytest.mark.real_sessions
@pytest.mark.parametrize("ended", ["revoked", "deactivated"])
async def test_a_revoked_or_deactivated_session_gets_no_more_live_updates(store, actor_factory, ended):
    """The relay re-checks each client's session before it pushes (issue 13): a tab whose session was revoked, or
    whose person was deactivated, stops receiving changed cards and counts, and is no longer watched."""
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    ids = store([msg(n) for n in range(1, 4)])
    kept, gone = actor_factory("viewer"), actor_factory("viewer")
    clients = {}
    for name, actor in (("kept", kept), ("gone", gone)):
        token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), "correct horse battery")
        s = FakeInbox(actor.user_id, ids, ids[-1])
        s.auth_token = token
        clients[name] = s
        _watch(name, s)
    app = FakeApp(clients)
    for token in clients:
        watchers._watches[token].fed_at = 0  # due for its list push now
    await relay._relay_feed(app, [InboxChanged.of(changed_ids=[ids[0]])])
    assert [p[0] for p in clients["kept"].patched] == [{ids[0]}] and clients["gone"].patched

    if ended == "revoked":
        auth.sign_out(clients["gone"].auth_token, gone)
    else:
        auth.set_active(gone.user_id, False, Actor.system("test"))
    watchers._sessions.clear()  # the relay re-checks a session at most every SESSION_RECHECK_S; the test does not wait
    for s in clients.values():
        s.patched.clear()
    for token in clients:
        watchers._watches[token].fed_at = 0  # due for its list push now
    await relay._relay_feed(app, [InboxChanged.of(changed_ids=[ids[1]])])
    assert [p[0] for p in clients["kept"].patched] == [{ids[1]}]
    assert clients["gone"].patched == [] and "gone" not in watchers.watching()


@pytest.mark.real_sessions
async def test_presence_re_checks_every_session_of_a_pass_in_one_batch_and_skips_an_ended_one(store, actor_factory,
                                                                                               monkeypatch):
    from govsocial_app.services import auth

    ids = store([msg(1), msg(2)])
    clients, actors = {}, {}
    for name in ("kept", "gone"):
        actor = actors[name] = actor_factory("viewer")
        token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), "correct horse battery")
        s = FakeInbox(actor.user_id, ids, ids[-1])
        s.auth_token = token
        clients[name] = s
        _watch(name, s)
    auth.sign_out(clients["gone"].auth_token, actors["gone"])
    app = FakeApp(clients)
    presence.get_store().touch(ids[0], 9, "Dana Duty")
    hops = []
    real_to_thread = relay.asyncio.to_thread

    async def counting(fn, *args, **kwargs):
        hops.append(getattr(fn, "__name__", "?"))
        return await real_to_thread(fn, *args, **kwargs)

    monkeypatch.setattr(relay.asyncio, "to_thread", counting)
    try:
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1
    finally:
        presence.get_store().leave(9)
    assert hops == ["check"], "both sessions re-checked in one thread hop"
    assert str(ids[0]) in app.shown("kept") and "gone" not in app.sent and "gone" not in watchers.watching()


async def test_app_wide_events_during_a_push_fold_into_one_more_push_after_it(monkeypatch):
    """The alert badge and pause banner re-read one summary per push: a burst of alerts during a push costs one more
    push (reading all of them), not one per alert to every client; a lone event is relayed at once."""
    import asyncio

    from govsocial_app.services import bus

    events: asyncio.Queue = asyncio.Queue()

    async def subscribe(topic):
        assert topic == "alerts"
        while True:
            yield await events.get()

    monkeypatch.setattr(bus, "subscribe", subscribe)
    seen_at_push: list[int] = []
    sent = 0
    release = asyncio.Event()

    async def push(_app):
        seen_at_push.append(sent)
        await release.wait()  # a push to many clients takes a while

    loop = asyncio.create_task(relay._on_every_event("alerts", push)(None))
    sent += 1
    events.put_nowait("first")
    for _ in range(50):
        await asyncio.sleep(0)
    assert seen_at_push == [1], "the first event is relayed at once"
    for _ in range(9):  # a burst while that push is under way
        sent += 1
        events.put_nowait("burst")
    for _ in range(50):
        await asyncio.sleep(0)
    release.set()
    for _ in range(50):
        await asyncio.sleep(0)
    assert seen_at_push == [1, 10], "one more push after the burst, which saw all of it"
    sent += 1
    events.put_nowait("later")
    for _ in range(50):
        await asyncio.sleep(0)
    assert seen_at_push == [1, 10, 11]
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop


async def test_an_app_wide_relay_whose_subscription_fails_raises_for_its_supervisor(monkeypatch):
    import asyncio

    from govsocial_app.services import bus

    async def subscribe(_topic):
        raise ConnectionError("redis went away")
        yield  # pragma: no cover

    async def push(_app):
        raise AssertionError("nothing to push")

    monkeypatch.setattr(bus, "subscribe", subscribe)
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(relay._on_every_event("pause", push)(None), 5)


async def test_a_grouped_presence_send_reaches_each_socket_once_through_real_socketio():
    """`_emit_to` on a real python-socketio server (Reflex's own JSON): one emit addressed to the group's sockets puts
    the same encoded packet on each of them, and on no other socket of the worker. Only the transport is stood in."""
    import socketio
    from reflex.app import _sio_dumps, _sio_loads
    from reflex.state import StateUpdate

    from govsocial_app.state.inbox import InboxState

    server = socketio.AsyncServer(async_mode="asgi", json=SimpleNamespace(dumps=staticmethod(_sio_dumps), loads=staticmethod(_sio_loads)))
    namespace = socketio.AsyncNamespace("/_event")
    server.register_namespace(namespace)
    sent: list[tuple[str, str]] = []

    async def transport(eio_sid, pkt) -> None:
        sent.append((eio_sid, pkt.data))

    server._send_eio_packet = transport
    sids = {t: await server.manager.connect(f"eio-{t}", "/_event") for t in ("a", "b", "other")}
    records = {t: SimpleNamespace(instance_id="here", sid=sid) for t, sid in sids.items()}
    namespace._token_manager = SimpleNamespace(instance_id="here", token_to_socket=records)
    app = SimpleNamespace(event_namespace=namespace)

    delta = {InboxState.get_full_name(): {"presence_rx_state_": {"7": [{"user_id": "9", "name": "Dana Duty", "initials": "DD", "status": "replying"}]}}}
    assert await relay._emit_to(app, ["a", "b"], StateUpdate(delta=delta)) == ["a", "b"]
    assert sorted(eio for eio, _ in sent) == ["eio-a", "eio-b"]
    assert sent[0][1] == sent[1][1] and "Dana Duty" in sent[0][1] and '"replying"' in sent[0][1]


async def test_a_session_check_that_fails_skips_that_client_and_stops_no_pass(store, monkeypatch):
    """The database away for a moment while a group's sessions are re-checked: that client is skipped (and tried
    again on the next pass), the others of its group are sent their presence, and the pass itself does not fail."""
    ids = store([msg(1), msg(2)])
    a, b = FakeInbox(1, ids, ids[-1]), FakeInbox(2, ids, ids[-1])  # one group: the same list
    app = FakeApp({"a": a, "b": b})
    _watch("a", a)
    _watch("b", b)
    real = watchers.session_actor
    down = {a.auth_token}

    async def flaky(token):
        if token in down:
            raise ConnectionError("the database went away")
        return await real(token)

    monkeypatch.setattr(watchers, "session_actor", flaky)
    monkeypatch.setattr(watchers, "recheck_sessions", lambda tokens: relay.asyncio.sleep(0))
    presence.get_store().touch(ids[0], 9, "Dana Duty")
    try:
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1
        assert str(ids[0]) in app.shown("b") and "a" not in app.sent and "a" in watchers.watching()
        down.clear()
        assert await relay._relay_presence(app, watchers.projection(), relay.asyncio.Semaphore(4)) == 1, "a, next pass"
        assert str(ids[0]) in app.shown("a")
    finally:
        presence.get_store().leave(9)
