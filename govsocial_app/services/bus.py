"""The event bus between processes: publish(topic, payload) from any thread, subscribe(topic) in asyncio.

Embedded mode uses an in-process backend; production uses Redis pub/sub so that events from the
jobs process or any web worker reach every worker (ARCHITECTURE.md, "Events between processes")."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from govsocial_app.config import get_settings

log = logging.getLogger(__name__)

TOPICS = ("inbox", "presence", "pause", "alerts")
_CHANNEL_PREFIX = "govsocial:"


class InProcessBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = {}
        self._lock = threading.Lock()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        with self._lock:
            subs = list(self._subs.get(topic, ()))
        for loop, queue in subs:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, payload)
            except RuntimeError:  # the subscriber's loop has closed
                pass

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=10_000)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subs.setdefault(topic, []).append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._subs[topic].remove(entry)


class RedisBus:
    def __init__(self, url: str) -> None:
        import redis

        self._url = url
        self._sync = redis.Redis.from_url(url)

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        try:
            self._sync.publish(_CHANNEL_PREFIX + topic, json.dumps(payload, default=str))
        except Exception:  # a lost event must never fail the change that caused it
            log.exception("bus: could not publish %s", topic)

    async def subscribe(self, topic: str) -> AsyncIterator[dict[str, Any]]:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self._url)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(_CHANNEL_PREFIX + topic)
                async for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        yield json.loads(msg["data"])
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


def publish(topic: str, payload: dict[str, Any] | None = None) -> None:
    get_bus().publish(topic, payload or {})


def subscribe(topic: str) -> AsyncIterator[dict[str, Any]]:
    return get_bus().subscribe(topic)


def reset() -> None:
    global _bus
    _bus = None
