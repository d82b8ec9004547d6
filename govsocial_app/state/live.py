"""Live updates for the inbox clients of this worker (presence chips, the feed), relayed from the event bus.

Each web worker holds its own clients' websockets, and remembers in memory what each of its inbox clients shows
(a `Watch`: its filter, the ids on screen, the top of its page, its "N new" count). On a bus event it pushes only
what changed, to only the clients it concerns, each under that client's own state lock. There is deliberately no
global `rx.SharedState` group here: a change to such a group locks and rewrites the state of every linked client
in turn, so with 200 people one presence change cost seconds (bench-load, p95 13 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import reflex as rx
from reflex.state import StateUpdate

from govsocial_app.services import bus
from govsocial_app.services.inbox import presence
from govsocial_app.services.authz import can
from govsocial_app.state import guard

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 2.0
# A presence change after a quiet spell is relayed at once; changes within this long of the last pass wait for
# the end of the window and go together, so a burst of people opening messages costs one pass per window.
PRESENCE_COALESCE_S = 0.25
# What concerns the message a person has open (a reply or tag on it) is pushed at once. Changes to the other cards
# of their list (tags, status) are pushed at most this often per client: with 200 people working the same first
# page, pushing every card change cost about four state pushes per person's own click (bench-load), for a list
# nobody re-reads every second. Presence chips are not paced: they skip the state lock (see _relay_presence), and
# a second responder must see at once that someone is already on a message.
LIST_EVERY_S = 5.0
FEED_COALESCE_S = 1.0  # a surge of arrivals refreshes each inbox at most once a second
PUSH_CONCURRENCY = 8  # state pushes in flight per worker, so a surge never starves the clients' own events
NEW_CAP = 1000  # "N new" counts from one shared query per filter up to this many, then per client


@dataclass
class Watch:
    """What one inbox client of this worker shows: enough to decide, without loading its state, whether a
    bus event concerns it. Written by the client's own events (which run on the worker holding its socket)."""

    user_id: int
    params: tuple[tuple[str, str], ...]
    top_id: int
    new_count: int
    ids: frozenset[int]
    presence: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    open_id: int = 0
    name: str = ""  # how this person appears to others while on open_id
    away: bool = False  # the page is hidden (a locked phone, another tab): not on open_id as far as others know
    fed_at: float = field(default_factory=time.monotonic)  # when its cards were last set
    pending: set[int] = field(default_factory=set)  # cards on its list that changed and wait for their turn
    auth_token: str = field(default="", repr=False)  # its bearer token, only for re-checking its session here


_watches: dict[str, Watch] = {}
_pushes: Counter = Counter()  # state pushes by kind since the last stats line
STATS_EVERY_S = 60.0


def watch(token: str, *, user_id: int, params: dict[str, str], top_id: int, new_count: int, ids, presence_slice,
          open_id: int = 0, name: str = "", away: bool = False, auth_token: str = "") -> None:
    if token:
        _watches[token] = Watch(user_id, tuple(sorted(params.items())), top_id, new_count, frozenset(ids), presence_slice,
                                open_id, name, away, auth_token=auth_token)


def unwatch(token: str) -> None:
    _watches.pop(token, None)


def leave_inbox(token: str) -> None:
    """This client left the inbox (another page, signed out): stop keeping it current, and take its person off
    the message it had open at once, rather than when the entry lapses."""
    w = _watches.pop(token, None)
    if w is not None and w.open_id:
        presence.get_store().leave(w.user_id, w.open_id)
        bus.publish("presence", {"message_id": w.open_id})


def keep_alive(app) -> int:
    """Re-arm the presence of every client whose socket this worker holds and whose page shows a message:
    the server-side heartbeat, so no browser sends one. Runs on the event loop with no await between reading
    the watches and writing the store, so no event of these clients can interleave and be undone by it."""
    viewers = [(w.user_id, w.open_id, w.name) for w in _mine(app).values() if w.open_id and not w.away]
    if not viewers:
        return 0
    restored = presence.get_store().keep_alive(viewers)
    if restored:
        bus.publish("presence", {"restored": restored})
    return restored


def is_watched(token: str, user_id: int) -> bool:
    """Whether this worker's relay is keeping this client's page current for this person."""
    w = _watches.get(token)
    return w is not None and w.user_id == user_id


def watching() -> dict[str, Watch]:
    return dict(_watches)


def projection() -> dict[str, list[dict[str, str]]]:
    """Message id → who is on it, from the presence store (memory, or the Redis hash every worker shares)."""
    return {
        mid: [{k: str(v) for k, v in e.items()} for e in entries]
        for mid, entries in presence.by_message(presence.get_store().snapshot()).items()
    }


_cached: tuple[float, dict[str, list[dict[str, str]]]] | None = None
CACHE_FRESH_S = 2.5


def current_projection() -> dict[str, list[dict[str, str]]]:
    """The projection the presence loop last read (at most a prune interval old, and refreshed within
    PRESENCE_COALESCE_S of any change), so a page read costs no extra round trip to Redis; fresh otherwise."""
    global _cached
    now = time.monotonic()
    if _cached is not None and now - _cached[0] < CACHE_FRESH_S:
        return _cached[1]
    proj = projection()
    _cached = (now, proj)
    return proj


def presence_slice(proj: dict[str, list[dict[str, str]]], ids) -> dict[str, list[dict[str, str]]]:
    """Only the messages a client shows: its pushes stay small however many people are working."""
    return {str(i): proj[str(i)] for i in ids if str(i) in proj}


async def _push(app, token: str, fn, sem: asyncio.Semaphore, kind: str = "push") -> None:
    """Change one client's InboxState under its own lock (never a group lock), if it is still on the inbox."""
    from govsocial_app.state.inbox import InboxState

    _pushes[kind] += 1
    async with sem:
        try:
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=InboxState)) as root:
                inbox_state = await root.get_state(InboxState)
                if not inbox_state.user_id or not inbox_state.router.url.path.startswith("/inbox"):
                    leave_inbox(token)  # it went elsewhere; its next inbox load watches again
                    return
                actor = await session_actor(inbox_state.auth_token)
                if actor is None or actor.user_id != inbox_state.user_id or not can(actor.role, "inbox.view"):
                    leave_inbox(token)  # signed out, revoked or deactivated meanwhile: nothing more is pushed
                    return
                with guard.acting(inbox_state.auth_token, actor):
                    await fn(inbox_state)
        except Exception:  # one client's stale state must not stop the others' updates
            log.exception("could not update the inbox of one client")


SESSION_RECHECK_S = 5.0  # a revoked or deactivated session stops receiving pushes within this long
_sessions: dict[str, tuple[float, object]] = {}


async def session_actor(auth_token: str):
    """The signed-in person behind a client's bearer token, or None: re-checked before the relay pushes anything
    to it (a revoked session, an expired one, or a deactivated person gets nothing more), at most once per
    SESSION_RECHECK_S per token, and without counting as activity for the idle timeout."""
    from govsocial_app.services import auth as auth_service

    if not auth_token:
        return None
    now = time.monotonic()
    hit = _sessions.get(auth_token)
    if hit is not None and now - hit[0] < SESSION_RECHECK_S:
        return hit[1]
    user = await asyncio.to_thread(auth_service.user_for_token, auth_token, touch=False)
    actor = user.actor("", "live relay") if user is not None else None
    if len(_sessions) > 10_000:
        _sessions.clear()
    _sessions[auth_token] = (now, actor)
    return actor


async def recheck_sessions(auth_tokens) -> None:
    """Re-check, in one thread hop and one after another, every token whose cached answer is older than
    SESSION_RECHECK_S, so that `session_actor` answers a whole presence pass from its cache: a pass reaches every
    client of this worker, and one thread hop (and one database connection) per client competed with the clients'
    own events while a crowd was signing in."""
    from govsocial_app.services import auth as auth_service

    now = time.monotonic()
    stale = sorted({t for t in auth_tokens if t and not ((hit := _sessions.get(t)) and now - hit[0] < SESSION_RECHECK_S)})
    if not stale:
        return

    def check() -> list[tuple[str, object]]:
        out = []
        for token in stale:
            user = auth_service.user_for_token(token, touch=False)
            out.append((token, user.actor("", "live relay") if user is not None else None))
        return out

    answers = await asyncio.to_thread(check)
    if len(_sessions) > 10_000:
        _sessions.clear()
    for token, actor in answers:
        _sessions[token] = (now, actor)


def forget_session(auth_token: str) -> None:
    """Sign-out on this worker: no cached answer outlives it here."""
    _sessions.pop(auth_token, None)


def _mine(app) -> dict[str, Watch]:
    """This worker's watched clients; a socket that closed or moved to another worker is forgotten."""
    local = local_tokens(app)
    for token in [t for t in _watches if t not in local]:
        unwatch(token)
    return watching()


def _presence_key() -> tuple[str, str]:
    """Where `InboxState.presence` sits in a state delta: (the state's full name, the var's key)."""
    from reflex.constants.state import FIELD_MARKER

    from govsocial_app.state.inbox import InboxState

    return InboxState.get_full_name(), "presence" + FIELD_MARKER


async def _send_presence(app, token: str, w: Watch, fresh: dict, sem: asyncio.Semaphore) -> bool:
    """Send one client its new presence slice straight to its socket, as a delta of `InboxState.presence` alone:
    no state lock, no state read or write (with Redis, a locked push costs a lock, a read and a write of the
    client's whole state, which is why card changes on the list are paced). The client's own events rewrite
    `presence` from the store whenever they run (`InboxState._watch`), so the server-side copy never needs this
    value. Its session is re-checked first, as for every other push."""
    _pushes["presence"] += 1
    async with sem:
        try:
            actor = await session_actor(w.auth_token)
            if actor is None or actor.user_id != w.user_id or not can(actor.role, "inbox.view"):
                leave_inbox(token)  # signed out, revoked or deactivated meanwhile: nothing more is pushed
                return False
            if _watches.get(token) is not w:
                return False  # its own event re-wrote what it shows meanwhile; the next pass compares again
            state_name, key = _presence_key()
            await app.event_namespace.emit_update(StateUpdate(delta={state_name: {key: fresh}}), token)
            w.presence = fresh  # only once sent: a failed send is retried on the next pass
            return True
        except Exception:  # one client's closed socket must not stop the others' updates
            log.exception("could not send presence to one client")
            return False


async def _relay_presence(app, proj: dict, sem: asyncio.Semaphore) -> int:
    """Send presence to each client of this worker whose slice changed (only the messages it shows), at once:
    on its open message and on the cards of its list alike. Returns how many clients were sent an update."""
    changed = []
    for token, w in _mine(app).items():
        fresh = presence_slice(proj, w.ids)
        if fresh != w.presence:
            changed.append((token, w, fresh))
    try:
        await recheck_sessions(w.auth_token for _, w, _ in changed)
    except Exception:  # the database away for a moment: each send below re-checks its own session
        log.exception("could not re-check the sessions of this worker's clients")
    sent = await asyncio.gather(*(_send_presence(app, token, w, fresh, sem) for token, w, fresh in changed))
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
    global _cached
    sem = asyncio.Semaphore(PUSH_CONCURRENCY)
    next_beat, next_stats = 0.0, time.monotonic() + STATS_EVERY_S
    not_before = 0.0  # when the next pass driven by a change may run: coalescing, and backing off under load
    async with _queued("presence") as queue:
        while True:
            if time.monotonic() >= next_stats:
                next_stats = time.monotonic() + STATS_EVERY_S
                if _pushes:
                    log.info("live relay: %d clients watched, pushes in the last %.0f s: %s",
                             len(_watches), STATS_EVERY_S, dict(_pushes))
                _pushes.clear()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + presence.HEARTBEAT_S
                try:
                    keep_alive(app)
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
            proj = projection() if in_memory else await asyncio.to_thread(projection)
            _cached = (time.monotonic(), proj)
            if _watches:
                await _relay_presence(app, proj, sem)
            if changed:  # back off under load, as the feed does: relaying takes at most about a quarter of the time
                now = time.monotonic()
                not_before = max(started + PRESENCE_COALESCE_S, now + 3 * (now - started))


def _counts(groups: dict[tuple, list[tuple[str, Watch]]]) -> dict[str, int]:
    """The "N new" count of every watching client, from one query per distinct filter (not one per client)."""
    from govsocial_app.services.inbox import stream
    from govsocial_app.services.errors import UserError

    out: dict[str, int] = {}
    for (params, user_id), members in groups.items():
        try:
            f = stream.filter_from_params(dict(params))
            floor = min(w.top_id for _, w in members)
            ids = stream.newer_ids(f, user_id, floor, limit=NEW_CAP)
            for token, w in members:
                if len(ids) < NEW_CAP or ids[-1] > w.top_id:
                    out[token] = sum(1 for i in ids if i > w.top_id)
                else:  # this client's count may pass the shared cap
                    out[token] = stream.count_newer(f, user_id, w.top_id)
        except UserError:
            continue  # a filter that became invalid; that client's next load says so
    return out


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


async def _relay_feed(app, batch: list[dict], sem: asyncio.Semaphore | None = None) -> dict[str, int]:
    """Decide per client what a batch of bus events means for it, then push only that:
    - everything changed (a VIP list, say): re-read its page and open message;
    - a message on its screen changed: replace those cards and the open message, read once for all clients; at
      once when the open message is among them, else once LIST_EVERY_S has passed since its last cards (until
      then they wait in its `pending`, and the feed loop comes back for them);
    - messages arrived or changed elsewhere: only its "N new" count, when the count moved."""
    sem = sem or asyncio.Semaphore(PUSH_CONCURRENCY)
    everything = any(e.get("all") for e in batch)
    changed = {int(x) for e in batch for x in (e.get("changed") or [])}
    arrived = any(e.get("new") for e in batch)
    full, patch, opened, groups = [], {}, set(), defaultdict(list)
    now = time.monotonic()
    for token, w in _mine(app).items():
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
            key = (w.params, w.user_id if dict(w.params).get("assigned") == "me" else 0)
            groups[key].append((token, w))
    counts = await asyncio.to_thread(_counts, groups) if groups else {}
    moved = {t: n for t, n in counts.items() if (w := _watches.get(t)) is not None and n != w.new_count}
    cards, details = {}, {}
    if patch:
        shown = sorted(set().union(*patch.values()))
        cards, details = await asyncio.to_thread(_read_changes, shown, sorted(opened))

    async def refresh(inbox_state) -> None:
        await asyncio.to_thread(inbox_state._refresh_from_feed, [])

    def update(token: str):
        async def fn(inbox_state) -> None:
            w = _watches.get(token)
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
            if any(w.pending for w in _watches.values()):  # cards waiting for their turn: come back for them
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

    tokens = local_tokens(app)
    _pushes[cls.__name__] += len(tokens)
    await asyncio.gather(*(one(t) for t in tokens))
    return len(tokens)


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
