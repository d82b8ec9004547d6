"""Reflex's Redis state lock on real Redis: events that start waiting just as the lock is released are not left asleep.

The race, as bench-load caught it (reflex_lock_wakeup.py): two of a client's events try the lock while a worker's hold
is still writing the state back, fail, and register as waiters only after the release, which therefore woke nobody.
Here a gate holds both waiters at that point while the lock is released; unpatched Reflex 0.10.1 then sleeps until the
lock expiry (3 s in this test, 30 s in production)."""

import asyncio
import contextlib
import time
import uuid

import pytest

from govsocial_app import reflex_lock_wakeup

LOCK_EXPIRATION_MS = 3000


@pytest.fixture
async def manager(redis_url):
    import redis.asyncio as aioredis
    from reflex.istate.manager.redis import StateManagerRedis

    assert reflex_lock_wakeup.apply()
    state_manager = StateManagerRedis(redis=aioredis.Redis.from_url(redis_url), token_expiration=60,
                                      lock_expiration=LOCK_EXPIRATION_MS, lock_warning_threshold=1000)
    yield state_manager
    await state_manager.close()


def _token():
    import reflex as rx

    return rx.BaseStateToken(ident=f"t{uuid.uuid4().hex}", cls=rx.State)


async def test_two_events_that_register_after_the_release_get_the_lock_at_once(manager):
    token = _token()
    lock_key = manager._lock_key(token)
    await manager.redis.set(lock_key, b"a hold being written back", px=LOCK_EXPIRATION_MS)

    # Hold each event between its failed try of the lock and its registration as a waiter, and then again until both
    # are registered, so that neither looks at its wake-up before the other is in line (as the two were under load).
    real_subscribed, real_request = manager._ensure_lock_task_subscribed, manager._request_lock_release
    gate, both_failed, both_registered, failed, registered = (asyncio.Event(), asyncio.Event(), asyncio.Event(), [], [])

    async def gated_subscribed(timeout=None):
        await real_subscribed(timeout)
        failed.append(1)
        if len(failed) == 2:
            both_failed.set()
        await gate.wait()

    @contextlib.asynccontextmanager
    async def gated_request(key, lock_id):
        async with real_request(key, lock_id):
            registered.append(1)
            if len(registered) == 2:
                both_registered.set()
            await both_registered.wait()
            yield

    manager._ensure_lock_task_subscribed, manager._request_lock_release = gated_subscribed, gated_request
    got: list[tuple[str, float]] = []

    async def event(name: str) -> None:
        async with manager._lock(token, event_name=name):
            got.append((name, time.monotonic()))
            await asyncio.sleep(0.05)

    started = time.monotonic()
    tasks = [asyncio.create_task(event("open message")), asyncio.create_task(event("relay push"))]
    await asyncio.wait_for(both_failed.wait(), 5)
    assert got == []
    await manager.redis.delete(lock_key)  # the hold ends before either event is registered
    await asyncio.sleep(0.2)  # its keyspace notification arrives and finds no waiter to wake
    gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 4 * LOCK_EXPIRATION_MS / 1000)

    assert sorted(name for name, _ in got) == ["open message", "relay push"]
    waited = max(at for _, at in got) - started
    assert waited < 1.5, f"the events slept until the lock's expiry ({waited:.1f} s): a lost wake-up"


async def test_an_event_still_waits_while_the_lock_is_held(manager):
    token = _token()
    lock_key = manager._lock_key(token)
    await manager.redis.set(lock_key, b"another event", px=LOCK_EXPIRATION_MS)
    got: list[float] = []

    async def event() -> None:
        async with manager._lock(token, event_name="tag"):
            got.append(time.monotonic())

    waiter = asyncio.create_task(event())
    await asyncio.sleep(0.5)
    assert got == [], "an event took a lock that another still held"
    released = time.monotonic()
    await manager.redis.delete(lock_key)
    await asyncio.wait_for(waiter, 2)
    assert got and got[0] - released < 1.0


def test_the_app_applies_the_fix_in_every_worker():
    from reflex.istate.manager.redis import StateManagerRedis

    import govsocial_app.govsocial_app  # noqa: F401  (each web worker imports the app module)

    assert getattr(StateManagerRedis._lock_waiter, reflex_lock_wakeup._MARK, False)
