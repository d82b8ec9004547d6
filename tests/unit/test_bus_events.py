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
