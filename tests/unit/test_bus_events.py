"""The bus carries typed events (services/events.py) and announces a transaction's events only after it commits."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Setting
from govsocial_app.services import bus, events
from govsocial_app.services.events import AlertsChanged, InboxChanged, PauseChanged, PresenceChanged
from tests.bus_helpers import drop_subscription


@pytest.mark.parametrize("event", [
    InboxChanged.of(new_ids=[3, 1], changed_ids=[2, 3]), InboxChanged(everything=True), PresenceChanged(message_id=7),
    PresenceChanged(restored=2), PauseChanged(paused=True), AlertsChanged(raised=(4,), acknowledged=(5,)),
    events.FollowUpsFlagged((9, 10)),
])
def test_every_event_survives_its_wire_form(event):
    assert events.decode(events.encode(event)) == event


def test_dicts_are_not_events():
    with pytest.raises(TypeError):
        events.encode({"changed": [1]})
    with pytest.raises(Exception):
        bus.publish({"changed": [1]})


def test_an_inbox_change_keeps_new_and_changed_apart_and_never_drops_a_change():
    e = InboxChanged.of(new_ids=[5, 4], changed_ids=[4, 2, 2])
    assert e == InboxChanged(new_ids=(4, 5), changed_ids=(2,)), "a new message is not also 'changed'"
    many = InboxChanged.of(changed_ids=range(events.MAX_IDS + 1))
    assert many.everything and many.changed_ids == (), "over the cap every page re-reads rather than losing one"
    assert not InboxChanged.of() and InboxChanged(everything=True)


async def _collect(topic: str, seen: list) -> None:
    async for event in bus.subscribe(topic):
        seen.append(event)


async def test_announce_after_commit_goes_once_merged_and_never_on_rollback(db):
    seen: list = []
    task = asyncio.create_task(_collect("inbox", seen))
    await asyncio.sleep(0.02)
    try:
        with session_scope() as s:
            bus.announce_after_commit(s, InboxChanged.of(new_ids=[1]))
            bus.announce_after_commit(s, InboxChanged.of(changed_ids=[8]))
            s.add(Setting(key="bus-test", value=1))
            s.flush()
            await asyncio.sleep(0.02)
            assert seen == [], "nothing is announced before the commit"
        with pytest.raises(RuntimeError):
            with session_scope() as s:
                bus.announce_after_commit(s, InboxChanged.of(changed_ids=[9]))
                raise RuntimeError("the change failed")
        await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert seen == [InboxChanged(new_ids=(1,), changed_ids=(8,))], "one merged event for the commit, none for the rollback"
    with session_scope() as s:
        assert s.exec(select(Setting).where(Setting.key == "bus-test")).first() is not None


async def test_the_redis_backend_carries_the_same_line(redis_url):
    """Production's backend: the event crosses Redis pub/sub as its JSON line and comes back as its class."""
    import uuid

    backend = bus.RedisBus(redis_url)
    topic = f"test-{uuid.uuid4().hex}"  # pub/sub channels are server-wide: never another session's topic
    event = InboxChanged.of(new_ids=[11], changed_ids=[12, 13])
    got: list = []

    async def listen() -> None:
        async for data in backend.subscribe(topic):
            got.append(events.decode(data))

    task = asyncio.create_task(listen())
    try:
        for _ in range(100):  # until the subscription is in place
            backend.publish(topic, events.encode(event))
            await asyncio.sleep(0.02)
            if got:
                break
    finally:
        task.cancel()
    assert got and set(got) == {event}


async def test_a_redis_subscriber_is_told_each_time_its_subscription_is_back(redis_url):
    """Pub/sub keeps nothing for a subscriber that was away: after Redis drops the connection, the subscription comes
    back by itself and says so through `on_connect` (the session caches forget what they may have missed there),
    then carries events again."""
    import uuid


    backend = bus.RedisBus(redis_url)
    topic = f"test-{uuid.uuid4().hex}"
    connects: list[float] = []
    got: list = []

    async def listen() -> None:
        async for data in backend.subscribe(topic, on_connect=lambda: connects.append(asyncio.get_running_loop().time())):
            got.append(events.decode(data))

    async def until(test, seconds: float) -> bool:
        for _ in range(int(seconds / 0.02)):
            if test():
                return True
            await asyncio.sleep(0.02)
        return test()

    task = asyncio.create_task(listen())
    try:
        assert await until(lambda: len(connects) == 1, 5), "told once subscribed"
        assert drop_subscription(redis_url, topic) == 1
        assert await until(lambda: len(connects) == 2, 10), "told again when the dropped subscription is back"
        event = InboxChanged.of(new_ids=[21], changed_ids=[])
        assert await until(lambda: backend.publish(topic, events.encode(event)) or got, 5)
    finally:
        task.cancel()
    assert set(got) == {event}


def test_redis_writes_run_off_the_callers_thread_in_the_order_they_were_queued(redis_url, monkeypatch):
    """A handler on a worker's event loop queues its Redis writes and returns: one writer thread per process runs
    them in order (a presence write before the announcement of it), and one that fails does not stop the rest."""
    import threading

    backend = bus.RedisBus(redis_url)
    ran: list[tuple[str, str]] = []
    real_publish = backend._sync.publish

    def publish(channel, data):
        ran.append(("publish", threading.current_thread().name))
        return real_publish(channel, data)

    monkeypatch.setattr(backend._sync, "publish", publish)

    def fails():
        ran.append(("fails", threading.current_thread().name))
        raise ConnectionError("redis went away")

    backend.in_order(lambda: ran.append(("touch", threading.current_thread().name)), "presence touch")
    backend.publish("test-order", events.encode(PresenceChanged(message_id=1)))
    backend.in_order(fails, "presence leave")
    backend.publish("test-order", events.encode(PresenceChanged(message_id=2)))
    assert backend.flush(5)
    assert [what for what, _ in ran] == ["touch", "publish", "fails", "publish"]
    assert {thread for _, thread in ran} == {"govsocial-bus-writer"}


async def test_a_presence_change_is_in_redis_when_its_announcement_arrives(redis_url, monkeypatch):
    """Production: the touch and its announcement are both queued; a worker hearing the announcement reads the store
    and finds the touch there (the writer runs them in order, each waiting for Redis)."""
    import uuid

    from govsocial_app.services.inbox import presence

    backend = bus.RedisBus(redis_url)
    store = presence.RedisPresence(redis_url)
    monkeypatch.setattr(bus, "_bus", backend)
    monkeypatch.setattr(presence, "_store", store)
    topic = f"test-{uuid.uuid4().hex}"
    seen: list[list[int]] = []

    async def listen() -> None:
        async for _data in backend.subscribe(topic):
            seen.append([e.user_id for e in store.snapshot() if e.message_id == 41])

    task = asyncio.create_task(listen())
    try:
        await asyncio.sleep(0.2)  # subscribed
        for user in (1, 2, 3):
            presence.touch(41, user, f"Person {user}")
            backend.publish(topic, events.encode(PresenceChanged(message_id=41)))
        for _ in range(250):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
    assert len(seen) == 3
    # Each announcement finds at least the touches queued before it (later ones may have landed too by then).
    assert all(set(range(1, i + 2)) <= set(users) for i, users in enumerate(seen)), seen
