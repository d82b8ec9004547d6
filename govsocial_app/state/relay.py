"""The relay loops of a web worker: bus events in, pushes to the clients whose websocket this worker holds out.

It reads the registry of who watches what (state/watchers.py) to decide, without loading a client's state, whether
an event concerns it, and imports the states it pushes to: the inbox (cards, the "N new" pill, presence chips), the
pause banner and the alert badge. Each client is changed under its own lock. There is deliberately no global
`rx.SharedState` group here: a change to such a group locks and rewrites the state of every linked client in turn,
so with 200 people one presence change cost seconds (bench-load, p95 13 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict

import reflex as rx
from reflex.state import StateUpdate

from govsocial_app.services import bus
from govsocial_app.services.inbox import presence
from govsocial_app.services.authz import can
from govsocial_app.services import auth as auth_service
from govsocial_app.services.events import AlertsChanged, InboxChanged, PauseChanged, SessionsChanged
from govsocial_app.state import guard, watchers
from govsocial_app.state.alerts import AlertsLive, relay_alerts
from govsocial_app.state.inbox import InboxState, new_counts
from govsocial_app.state.pause import PauseBanner, relay_pause
from govsocial_app.state.watchers import Watch

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 2.0
# A presence change after a quiet spell is relayed at once; changes within this long of the last pass wait for
# the end of the window and go together, so a burst of people opening messages costs one pass per window. While
# a team works the inbox, changes never stop, so this window is what the second responder waits for their chip:
# bench-presence p50 239 / p95 251 ms with 0.25 s. A pass costs a few ms, and the back-off below still keeps
# passes to about a quarter of the worker's time under load (bench-load measures that side).
PRESENCE_COALESCE_S = 0.1
# What concerns the message a person has open (a reply or tag on it) is pushed at once. Changes to the other cards
# of their list (tags, status) are pushed at most this often per client: with 200 people working the same first
# page, pushing every card change cost about four state pushes per person's own click (bench-load), for a list
# nobody re-reads every second. Presence chips are not paced: they skip the state lock (see _relay_presence), and
# a second responder must see at once that someone is already on a message.
LIST_EVERY_S = 5.0
FEED_COALESCE_S = 1.0  # a surge of arrivals refreshes each inbox at most once a second
PUSH_CONCURRENCY = 8  # state pushes in flight per worker, so a surge never starves the clients' own events

_pushes: Counter = Counter()  # state pushes by kind since the last stats line
STATS_EVERY_S = 60.0


async def _push(app, token: str, fn, sem: asyncio.Semaphore, kind: str = "push") -> None:
    """Change one client's InboxState under its own lock (never a group lock), if it is still on the inbox."""
    _pushes[kind] += 1
    async with sem:
        try:
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=InboxState)) as root:
                inbox_state = await root.get_state(InboxState)
                if not inbox_state.user_id or not inbox_state.router.url.path.startswith("/inbox"):
                    watchers.leave_inbox(token)  # it went elsewhere; its next inbox load watches again
                    return
                actor = await watchers.session_actor(inbox_state.auth_token)
                if actor is None or actor.user_id != inbox_state.user_id or not can(actor.role, "inbox.view"):
                    watchers.leave_inbox(token)  # signed out, revoked or deactivated meanwhile: nothing more is pushed
                    return
                with guard.acting(inbox_state.auth_token, actor):
                    await fn(inbox_state)
        except Exception:  # one client's stale state must not stop the others' updates
            log.exception("could not update the inbox of one client")



def _presence_key() -> tuple[str, str]:
    """Where `InboxState.presence` sits in a state delta: (the state's full name, the var's key)."""
    from reflex.constants.state import FIELD_MARKER

    return InboxState.get_full_name(), "presence" + FIELD_MARKER


async def _emit_to(app, tokens: list[str], update: StateUpdate) -> list[str]:
    """Send one delta to several clients of this worker, encoded once: Socket.IO encodes a packet once for all the
    sockets it is addressed to, and presence slices repeat (a team works the same first page). Encoding a presence
    delta per client was a tenth of a web worker's CPU under bench-load (about 150 pushes a second a worker).
    Returns the tokens it was sent to. Without the token manager's socket records (Reflex moved them), or for a
    socket not held here, each client goes through Reflex's own `emit_update`, one at a time."""
    namespace = app.event_namespace
    manager = getattr(namespace, "_token_manager", None)  # Reflex 0.10.1 exposes no public token-to-socket lookup
    records = [manager.token_to_socket.get(t) for t in tokens] if manager is not None else []
    sids = [getattr(r, "sid", None) for r in records if r is not None and r.instance_id == manager.instance_id]
    if len(tokens) > 1 and len(sids) == len(tokens) and all(sids) and hasattr(namespace, "emit"):
        from reflex import constants

        await namespace.emit(str(constants.SocketEvent.EVENT), update, to=sids)
        await asyncio.sleep(0)  # let the writers flush, as emit_update does
        return list(tokens)
    sent = []
    for token in tokens:
        try:
            await namespace.emit_update(update, token)
            sent.append(token)
        except Exception:  # one client's closed socket must not stop the others' updates
            log.exception("could not send presence to one client")
    return sent


async def _send_presence(app, members: list[tuple[str, Watch]], fresh: dict, sem: asyncio.Semaphore) -> int:
    """Send clients that show the same messages their new presence slice straight to their sockets, as a delta of
    `InboxState.presence` alone: no state lock, no state read or write (with Redis, a locked push costs a lock, a
    read and a write of the client's whole state, which is why card changes on the list are paced). A client's own
    events rewrite `presence` from the store whenever they run (`InboxState._watch`), so the server-side copy never
    needs this value. Each session is re-checked first, as for every other push. Returns how many were sent it."""
    _pushes["presence"] += len(members)
    async with sem:
        ready: list[tuple[str, Watch]] = []
        for token, w in members:
            try:
                actor = await watchers.session_actor(w.auth_token)
            except Exception:  # the database away for a moment: this client is tried again on the next pass
                log.exception("could not re-check the session of one client")
                continue
            if actor is None or actor.user_id != w.user_id or not can(actor.role, "inbox.view"):
                watchers.leave_inbox(token)  # signed out, revoked or deactivated meanwhile: nothing more is pushed
            elif watchers._watches.get(token) is w:  # else its own event re-wrote what it shows: the next pass compares
                ready.append((token, w))
        if not ready:
            return 0
        state_name, key = _presence_key()
        try:
            sent = set(await _emit_to(app, [t for t, _ in ready], StateUpdate(delta={state_name: {key: fresh}})))
        except Exception:  # a broken send must not stop the other clients' updates; these are tried again next pass
            log.exception("could not send presence to %d clients", len(ready))
            return 0
        for token, w in ready:
            if token in sent:
                w.presence = fresh  # only once sent: a failed send is retried on the next pass
        return len(sent)


async def _relay_presence(app, proj: dict, sem: asyncio.Semaphore) -> int:
    """Send presence to each client of this worker whose slice changed (only the messages it shows), at once:
    on its open message and on the cards of its list alike. Clients that show the same messages share one slice
    and one send. Returns how many clients were sent an update."""
    slices: dict[frozenset[int], dict] = {}
    groups: dict[frozenset[int], list[tuple[str, Watch]]] = defaultdict(list)
    for token, w in watchers.mine(app).items():
        if w.ids not in slices:
            slices[w.ids] = watchers.presence_slice(proj, w.ids)
        if slices[w.ids] != w.presence:
            groups[w.ids].append((token, w))
    try:
        await watchers.recheck_sessions(w.auth_token for members in groups.values() for _, w in members)
    except Exception:  # the database away for a moment: each send below re-checks its own session
        log.exception("could not re-check the sessions of this worker's clients")
    sent = await asyncio.gather(*(_send_presence(app, members, slices[ids], sem) for ids, members in groups.items()))
    return sum(sent)


@contextlib.asynccontextmanager
async def _queued(topic: str):
    """A bus topic as a queue the relay loops can wait on with a timeout and drain. Cancelling a pending anext()
    would close the subscription, so a separate task owns it."""
    queue: asyncio.Queue = asyncio.Queue()

    async def pump() -> None:
        async for event in bus.subscribe(topic):
            queue.put_nowait(event)

    task = asyncio.create_task(pump())
    try:
        yield queue
    finally:
        task.cancel()


async def _presence_loop(app) -> None:
    """Push presence on every change, prune expired viewers (closed tabs) every 2 s, and keep this worker's own
    viewers alive every HEARTBEAT_S."""
    sem = asyncio.Semaphore(PUSH_CONCURRENCY)
    next_beat, next_stats = 0.0, time.monotonic() + STATS_EVERY_S
    not_before = 0.0  # when the next pass driven by a change may run: coalescing, and backing off under load
    async with _queued("presence") as queue:
        while True:
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + STATS_EVERY_S
                if _pushes:
                    log.info("live relay: %d clients watched, pushes in the last %.0f s: %s",
                             len(watchers._watches), STATS_EVERY_S, dict(_pushes))
                _pushes.clear()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + presence.HEARTBEAT_S
                try:
                    watchers.keep_alive(app)
                except Exception:  # Redis away for a moment: the next beat tries again, entries last TTL_S
                    log.exception("could not keep this worker's viewers present")
            try:
                await asyncio.wait_for(queue.get(), timeout=PRUNE_EVERY_S)
                changed = True
                # The first change after a quiet spell goes at once; a burst waits out the window. Only passes
                # driven by a change count here: the periodic prune pass must not delay the next person's chip.
                if (wait := not_before - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                while not queue.empty():
                    queue.get_nowait()
            except asyncio.TimeoutError:
                changed = False
            started = time.monotonic()
            # The in-memory store (one process) is read in place: a thread hop would only add latency.
            in_memory = isinstance(presence.get_store(), presence.MemoryPresence)
            proj = watchers.projection() if in_memory else await asyncio.to_thread(watchers.projection)
            watchers.remember_projection(proj)
            if watchers._watches:
                await _relay_presence(app, proj, sem)
            if changed:  # back off under load, as the feed does: relaying takes at most about a quarter of the time
                now = time.monotonic()
                not_before = max(started + PRESENCE_COALESCE_S, now + 3 * (now - started))


def _read_changes(card_ids: list[int], open_ids: list[int]) -> tuple[dict, dict]:
    """The changed cards and open messages, read once for every client of this worker that shows them."""
    from govsocial_app.services.inbox import stream
    from govsocial_app.services.errors import UserError

    cards = stream.cards_by_id(card_ids) if card_ids else {}
    details = {}
    for mid in open_ids:
        try:
            details[mid] = stream.detail(mid)
        except UserError:
            pass  # deleted meanwhile; that client's next load says so
    return cards, details


async def _relay_feed(app, batch: list[InboxChanged], sem: asyncio.Semaphore | None = None) -> dict[str, int]:
    """Decide per client what a batch of bus events means for it, then push only that:
    - everything changed (a VIP list, say): re-read its page and open message;
    - a message on its screen changed: replace those cards and the open message, read once for all clients; at
      once when the open message is among them, else once LIST_EVERY_S has passed since its last cards (until
      then they wait in its `pending`, and the feed loop comes back for them);
    - messages arrived or changed elsewhere: only its "N new" count, when the count moved."""
    sem = sem or asyncio.Semaphore(PUSH_CONCURRENCY)
    everything = any(e.everything for e in batch)
    changed = {i for e in batch for i in e.changed_ids}
    arrived = any(e.new_ids for e in batch)
    full, patch, opened, groups = [], {}, set(), defaultdict(list)
    now = time.monotonic()
    for token, w in watchers.mine(app).items():
        if everything:
            full.append(token)
            continue
        if hit := (changed | w.pending) & w.ids:
            if w.open_id in hit or now - w.fed_at >= LIST_EVERY_S:
                patch[token] = hit
                opened |= hit & {w.open_id}
            else:
                w.pending = hit
        if (arrived or changed) and w.top_id:
            per_user = dict(w.params).get("assigned") == "me" or dict(w.params).get("team") == "mine"
            key = (w.params, w.user_id if per_user else 0)
            groups[key].append((token, w))
    counts = await asyncio.to_thread(new_counts, groups) if groups else {}
    moved = {t: n for t, n in counts.items() if (w := watchers._watches.get(t)) is not None and n != w.new_count}
    cards, details = {}, {}
    if patch:
        shown = sorted(set().union(*patch.values()))
        cards, details = await asyncio.to_thread(_read_changes, shown, sorted(opened))

    async def refresh(inbox_state) -> None:
        await asyncio.to_thread(inbox_state._refresh_from_feed, [])

    def update(token: str):
        async def fn(inbox_state) -> None:
            w = watchers._watches.get(token)
            if token in patch:
                inbox_state._patch_from_feed(cards, details)
                if w is not None:
                    w.pending, w.fed_at = set(), time.monotonic()
            if token in moved and inbox_state.top_id and w is not None and w.top_id == inbox_state.top_id:
                inbox_state.new_count = w.new_count = moved[token]

        return fn

    await asyncio.gather(
        *(_push(app, t, refresh, sem, "refresh") for t in full),
        *(_push(app, t, update(t), sem, "patch" if t in patch else "count") for t in set(patch) | set(moved)),
    )
    return {"refreshed": len(full), "patched": len(patch), "recounted": len(moved)}


async def _feed_loop(app) -> None:
    """Coalesce the inbox topic (a flood is hundreds of events a second) and relay each batch."""
    sem = asyncio.Semaphore(PUSH_CONCURRENCY)
    async with _queued("inbox") as queue:
        spent = 0.0
        while True:
            if any(w.pending for w in watchers._watches.values()):  # cards waiting for their turn: come back for them
                try:
                    batch = [await asyncio.wait_for(queue.get(), timeout=LIST_EVERY_S)]
                except asyncio.TimeoutError:
                    batch = []
            else:
                batch = [await queue.get()]
            # Under load the relay backs off, so pushing never takes more than about a fifth of this worker:
            # people's own clicks stay fast and live updates arrive a little later.
            await asyncio.sleep(max(FEED_COALESCE_S, 4 * spent))
            while not queue.empty():
                batch.append(queue.get_nowait())
            started = time.monotonic()
            await _relay_feed(app, batch, sem)
            spent = time.monotonic() - started


async def push_to_every_client(app, cls, fn) -> int:
    """Apply `fn(state)` (sync or async) to the `cls` state of every client whose socket this worker holds, each
    under its own lock. For the rare app-wide changes (pause, alerts): every worker gets the bus event and pushes
    to its own clients. Deliberately not one `rx.SharedState` group: every worker writing the one group token made
    Reflex's opportunistic lock hand its lease between workers and lose writes ("Lock expired", "This is a bug")."""
    sem = asyncio.Semaphore(PUSH_CONCURRENCY)

    async def one(token: str) -> None:
        async with sem:
            try:
                async with app.modify_state(rx.BaseStateToken(ident=token, cls=cls)) as root:
                    out = fn(await root.get_state(cls))
                    if asyncio.iscoroutine(out):
                        await out
            except Exception:  # one client's stale state must not stop the others' updates
                log.exception("could not update %s for one client", cls.__name__)

    tokens = watchers.local_tokens(app)
    _pushes[cls.__name__] += len(tokens)
    await asyncio.gather(*(one(t) for t in tokens))
    return len(tokens)



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




def _on_every_event(topic: str, relay):
    """A loop that runs `relay(app)` after events of `topic` (the pause banner, the alert badge: each re-reads one
    shared summary and pushes it to this worker's clients). The first event is relayed at once; events that arrive
    while a push is under way are folded into one more push after it, which reads the summary they all changed.
    (A flood raising alerts every few hundred ms made one push per event to every client, each under its lock.)"""
    async def loop(app) -> None:
        due = asyncio.Event()

        async def listen() -> None:
            async for _event in bus.subscribe(topic):
                due.set()

        listener = asyncio.create_task(listen())
        try:
            while True:
                waiting = asyncio.create_task(due.wait())
                await asyncio.wait({waiting, listener}, return_when=asyncio.FIRST_COMPLETED)
                if listener.done():
                    waiting.cancel()
                    listener.result()  # the subscription failed: raise, and _supervise restarts the loop
                    raise RuntimeError(f"the {topic} subscription ended")
                due.clear()
                await relay(app)
        finally:
            listener.cancel()

    return loop


async def _pause(app) -> None:
    await push_to_every_client(app, PauseBanner, await relay_pause())


async def _alerts(app) -> None:
    await push_to_every_client(app, AlertsLive, await relay_alerts())


async def _forget_sessions(_app) -> None:
    """A session or a person changed anywhere: this worker forgets the sessions it remembers, the guard's
    (services/auth.py) and the relay's own for pushes (watchers.session_actor). It also forgets them each time its
    subscription starts or comes back after Redis dropped it, since what was announced meanwhile is lost; so only a
    change made while this worker cannot hear the bus waits for auth.SESSION_CACHE_S and watchers.SESSION_RECHECK_S."""

    def forget() -> None:
        auth_service.forget_sessions()
        watchers.forget_sessions()

    async for _event in bus.subscribe(SessionsChanged.topic, on_connect=forget):
        forget()


async def relay_bus(app) -> None:
    """Lifespan task, one per web worker: relay bus events to the browsers connected to this worker."""
    tasks = [
        asyncio.create_task(_supervise("presence", _presence_loop, app)),
        asyncio.create_task(_supervise("inbox", _feed_loop, app)),
        asyncio.create_task(_supervise("pause", _on_every_event(PauseChanged.topic, _pause), app)),
        asyncio.create_task(_supervise("alerts", _on_every_event(AlertsChanged.topic, _alerts), app)),
        asyncio.create_task(_supervise("sessions", _forget_sessions, app)),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
