"""Live state shared by every signed-in client (presence, the inbox feed) and the relay that feeds it from the event bus."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from govsocial_app.services import bus, presence

log = logging.getLogger(__name__)

PRESENCE_GROUP = "inboxpresence"  # SharedState group tokens must not contain "_"
FEED_GROUP = "inboxfeed"
PRUNE_EVERY_S = 2.0


async def _require_viewer(state: rx.State) -> None:
    """Joining a live group reveals staff names and activity: signed-in users only."""
    from govsocial_app.state.app_state import AppState

    app_state = await state.get_state(AppState)
    app_state.require("inbox.view")


class InboxPresence(rx.SharedState):
    """Message id → who is viewing or replying to it. A projection of the presence store, nothing more."""

    entries: dict[str, list[dict[str, str]]] = {}

    @rx.event
    async def join(self):
        await _require_viewer(self)
        await self._link_to(PRESENCE_GROUP)


class InboxFeed(rx.SharedState):
    """Bumped whenever messages arrive or change, so every inbox can refresh what it shows."""

    rev: int = 0
    head_id: int = 0
    changed: list[int] = []

    @rx.event
    async def join(self):
        await _require_viewer(self)
        await self._link_to(FEED_GROUP)


def _projection() -> dict[str, list[dict[str, str]]]:
    return {
        mid: [{k: str(v) for k, v in e.items()} for e in entries]
        for mid, entries in presence.by_message(presence.get_store().snapshot()).items()
    }


async def _push_presence(app, projection: dict) -> None:
    async with app.modify_state(rx.BaseStateToken(ident=PRESENCE_GROUP, cls=InboxPresence)) as root:
        shared = await root.get_state(InboxPresence)
        if shared.entries != projection:
            shared.entries = projection


async def _presence_loop(app) -> None:
    """Push presence on every change, and prune expired viewers (closed tabs, sleeping phones) every 2 s."""
    last: dict | None = None
    events = bus.subscribe("presence")
    next_event = asyncio.ensure_future(anext(events))
    while True:
        done, _ = await asyncio.wait({next_event}, timeout=PRUNE_EVERY_S)
        if next_event in done:
            next_event.result()
            next_event = asyncio.ensure_future(anext(events))
        projection = await asyncio.to_thread(_projection)
        if projection != last:
            await _push_presence(app, projection)
            last = projection


COALESCE_S = 0.5  # a surge of arrivals refreshes each inbox at most about twice a second


async def _refresh_client(app, token: str, changed: list[int]) -> None:
    from govsocial_app.state.inbox import InboxState

    try:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=InboxState)) as root:
            inbox_state = await root.get_state(InboxState)
            await asyncio.to_thread(inbox_state.refresh_from_feed, changed)
    except Exception:  # one client's stale state must not stop the others' updates
        log.exception("could not refresh the inbox of one client")


async def _feed_loop(app) -> None:
    """Bump the shared feed, then refresh, on the server, the inbox of every client of this worker
    that is linked to it: their new-message count, the page they read, and the message they have open."""
    queue: asyncio.Queue = asyncio.Queue()

    async def pump() -> None:
        # Cancelling a pending anext() would close the subscription, so a separate task owns it.
        async for event in bus.subscribe("inbox"):
            queue.put_nowait(event)

    pump_task = asyncio.create_task(pump())
    try:
        while True:
            batch = [await queue.get()]
            await asyncio.sleep(COALESCE_S)
            while not queue.empty():
                batch.append(queue.get_nowait())
            await _relay_feed(app, batch)
    finally:
        pump_task.cancel()


async def _relay_feed(app, batch: list[dict]) -> None:
    changed = sorted({int(x) for e in batch for x in (e.get("changed") or [])})[:200]
    async with app.modify_state(rx.BaseStateToken(ident=FEED_GROUP, cls=InboxFeed)) as root:
        feed = await root.get_state(InboxFeed)
        feed.rev += 1
        feed.head_id = max([feed.head_id, *(int(e.get("head_id") or 0) for e in batch)])
        feed.changed = changed
        linked = set(feed._linked_from)
    await asyncio.gather(*(_refresh_client(app, token, changed) for token in linked & local_tokens(app)))


def local_tokens(app) -> set[str]:
    """Tokens whose websocket this worker holds. Not `token_to_sid`: under Redis the token manager also caches
    the sockets of other workers (to route their updates through its lost-and-found channel), so that map
    would have every worker refresh every client, each refresh repeated once per worker."""
    namespace = app.event_namespace
    if namespace is None:
        return set()
    manager = namespace._token_manager  # Reflex 0.10.1 exposes no public "my sockets" view
    return {token for token, record in manager.token_to_socket.items() if record.instance_id == manager.instance_id}


async def _supervise(name: str, loop, app) -> None:
    """A relay loop that dies (Redis restart, a bug) restarts instead of silently stopping live updates."""
    while True:
        try:
            await loop(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live relay %s failed; restarting in 1 s", name)
            await asyncio.sleep(1)


EXTRA_RELAYS: list[tuple[str, object]] = []  # (bus topic, async fn(app)) added by other areas (pause banner, alerts)


async def _topic_loop(topic: str, fn):
    async def loop(app):
        async for _event in bus.subscribe(topic):
            await fn(app)

    return loop


async def relay_bus(app) -> None:
    """Lifespan task, one per web worker: relay bus events to the browsers connected to this worker."""
    tasks = [
        asyncio.create_task(_supervise("presence", _presence_loop, app)),
        asyncio.create_task(_supervise("inbox", _feed_loop, app)),
    ]
    for topic, fn in EXTRA_RELAYS:
        tasks.append(asyncio.create_task(_supervise(topic, await _topic_loop(topic, fn), app)))
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
