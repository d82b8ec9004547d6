"""The event bus between processes: publish(event) from any thread, subscribe(topic) in asyncio.
On Redis, a process's announcements and its presence writes (in_order) go through one writer thread, in order, so
that no handler on a web worker's event loop waits for Redis.

Events are the typed dataclasses of services/events.py, carried as their JSON line by both backends.
Embedded mode uses an in-process backend; production uses Redis pub/sub so that events from the
jobs process or any web worker reach every worker (ARCHITECTURE.md, "Events between processes").
A change made in a transaction is announced with `announce_after_commit(session, event)`: other processes
hear of it only once they can read it, and never when it rolled back."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import queue
import threading
from collections.abc import AsyncIterator, Callable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from govsocial_app.config import get_settings
from govsocial_app.services import events
from govsocial_app.services.events import Event

log = logging.getLogger(__name__)

TOPICS = events.TOPICS
_CHANNEL_PREFIX = "govsocial:"


class InProcessBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = {}
        self._lock = threading.Lock()

    def publish(self, topic: str, data: str) -> None:
        with self._lock:
            subs = list(self._subs.get(topic, ()))
        for loop, queue in subs:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, data)
            except RuntimeError:  # the subscriber's loop has closed
                pass

    def in_order(self, fn: Callable[[], object], what: str) -> None:
        fn()  # in one process, memory writes are as cheap as queueing them

    def flush(self, timeout: float = 5.0) -> bool:
        return True

    async def subscribe(self, topic: str, on_connect: Callable[[], None] | None = None) -> AsyncIterator[str]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=10_000)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subs.setdefault(topic, []).append(entry)
        if on_connect is not None:
            on_connect()
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._subs[topic].remove(entry)


def subscriber_name(topic: str) -> str:
    """The Redis client name of this process's subscription to `topic`: CLIENT LIST shows whose it is."""
    return f"govsocial-bus-{os.getpid()}-{topic}"


class OrderedWriter:
    """One thread per process that runs this process's Redis writes (announcements, presence) in the order they
    were queued. A web worker's handlers run on its event loop: a Redis round trip made there held every other
    client of that worker until Redis answered (under bench-load, 2 to 3 per opened message, while the CPU was busy).
    Queued here, a handler returns at once, and an announcement still follows the write it announces."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()

    def submit(self, fn: Callable[[], object], what: str) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a forked worker (threads do not survive a fork)
                self._pid, self._queue = os.getpid(), queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,), name="govsocial-bus-writer", daemon=True).start()
            self._queue.put((fn, what))

    @staticmethod
    def _run(q: queue.SimpleQueue) -> None:
        while True:
            fn, what = q.get()
            try:
                fn()
            except Exception:  # a lost event must never stop the ones after it
                log.exception("bus: %s failed", what)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far has run (tests; a process about to exit). False if it timed out."""
        if self._pid != os.getpid():
            return True
        done = threading.Event()
        self.submit(done.set, "flush")
        return done.wait(timeout)


class RedisBus:
    def __init__(self, url: str) -> None:
        import redis

        self._url = url
        self._sync = redis.Redis.from_url(url)
        self.writer = OrderedWriter()
        atexit.register(self.writer.flush, 2.0)  # a command-line change announces itself before the process ends

    def publish(self, topic: str, data: str) -> None:
        self.writer.submit(lambda: self._sync.publish(_CHANNEL_PREFIX + topic, data), f"publishing {topic}")

    def in_order(self, fn: Callable[[], object], what: str) -> None:
        self.writer.submit(fn, what)

    def flush(self, timeout: float = 5.0) -> bool:
        return self.writer.flush(timeout)

    async def subscribe(self, topic: str, on_connect: Callable[[], None] | None = None) -> AsyncIterator[str | bytes]:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self._url, client_name=subscriber_name(topic))
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(_CHANNEL_PREFIX + topic)
                if on_connect is not None:
                    # Pub/sub keeps nothing for a subscriber that was away: whatever was published while this one
                    # was reconnecting is gone, and the caller learns that here, once subscribed again.
                    on_connect()
                async for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        yield msg["data"]
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus: Redis subscription to %s dropped; reconnecting", topic)
                await asyncio.sleep(1)
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:
                    pass


_bus: InProcessBus | RedisBus | None = None
_bus_lock = threading.Lock()


def get_bus() -> InProcessBus | RedisBus:
    global _bus
    if _bus is None:
        with _bus_lock:
            if _bus is None:
                url = get_settings().redis_url
                _bus = RedisBus(url) if url else InProcessBus()
    return _bus


def publish(event: Event) -> None:
    """Announce now, without waiting for Redis: the announcement goes after every Redis write this process queued
    before it (in_order). For a change made in a transaction, use `announce_after_commit` instead."""
    get_bus().publish(event.topic, events.encode(event))


def in_order(fn: Callable[[], object], what: str) -> None:
    """Run a Redis write (presence) off the caller's thread, in order with this process's announcements: a write
    queued before an announcement has been made when the announcement is heard. In one process, it runs at once."""
    get_bus().in_order(fn, what)


def flush(timeout: float = 5.0) -> bool:
    """Wait until this process's queued Redis writes and announcements have gone (tests)."""
    return get_bus().flush(timeout)


async def subscribe(topic: str, on_connect: Callable[[], None] | None = None) -> AsyncIterator[Event]:
    """The events of one topic, decoded back to their dataclasses; a line that does not decode is logged and skipped.
    `on_connect` runs each time the subscription is (re)established, before any event it receives: events published
    while it was not subscribed are lost, and a subscriber that keeps a cache drops it there."""
    async for data in get_bus().subscribe(topic, on_connect):
        try:
            yield events.decode(data)
        except Exception:  # a newer or older process on the same Redis: one odd line must not stop the relay
            log.exception("bus: could not decode an event on %s", topic)


_PENDING = "bus_after_commit"


def announce_after_commit(session: Session, event: Event) -> None:
    """Announce `event` once `session` commits, and never if it rolls back. Events of one kind made in one
    transaction go as one (an intake page of 500 messages is one "inbox changed", not 500)."""
    if not sa_event.contains(session, "after_commit", _flush):
        sa_event.listen(session, "after_commit", _flush)
        sa_event.listen(session, "after_rollback", _drop)
    pending: list[Event] = session.info.setdefault(_PENDING, [])
    for i, before in enumerate(pending):
        if type(before) is type(event) and hasattr(before, "merge"):
            pending[i] = before.merge(event)
            return
    pending.append(event)


def _flush(session: Session) -> None:
    for ev in session.info.pop(_PENDING, []):
        if ev:  # an inbox change with no ids says nothing
            publish(ev)


def _drop(session: Session) -> None:
    session.info.pop(_PENDING, None)


def reset() -> None:
    global _bus
    _bus = None
