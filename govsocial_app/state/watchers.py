"""Who watches what on this worker: a plain registry of the inbox clients whose socket this worker holds (a `Watch`
each: its filter, the ids on screen, the top of its page, its "N new" count, the message it has open), the presence
projection they read, and the re-check of their sessions. It imports no state, so any state may use it; the relay
loops (state/relay.py) read it to decide, without loading a client's state, whether a bus event concerns it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from govsocial_app.services import bus
from govsocial_app.services.inbox import presence
from govsocial_app.services.events import PresenceChanged


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
        presence.leave(w.user_id, w.open_id)
        bus.publish(PresenceChanged(message_id=w.open_id))


def keep_alive(app) -> int:
    """Re-arm the presence of every client whose socket this worker holds and whose page shows a message:
    the server-side heartbeat, so no browser sends one. Runs on the event loop with no await between reading
    the watches and writing the store, so no event of these clients can interleave and be undone by it."""
    viewers = [(w.user_id, w.open_id, w.name) for w in mine(app).values() if w.open_id and not w.away]
    if not viewers:
        return 0
    restored = presence.get_store().keep_alive(viewers)
    if restored:
        bus.publish(PresenceChanged(restored=restored))
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



# A revoked or deactivated session stops receiving pushes at once when SessionsChanged arrives (state/relay.py), and
# within this long at most when this worker could not hear it.
SESSION_RECHECK_S = 30.0
_sessions: dict[str, tuple[float, object]] = {}


def forget_sessions() -> None:
    """A session or a person changed (SessionsChanged on the bus, state/relay.py): re-check every token before its
    next push, so a revoked session stops receiving at once rather than within SESSION_RECHECK_S."""
    _sessions.clear()


def signed_in_as(app, actor, joining: bool) -> int | None:
    """Whom a client's banners (alerts, pause) are for. The relay pushes only to a client its page's load signed in
    as the token's owner (`app`: the client's AppState). A banner's join (when it mounts) can run before the page's
    load has signed a new client in (user_id still 0): then the token's owner, just re-checked (`actor`), is who it
    is for. The shell mounts the banners before the load (components/layout.py `shell`)."""
    if app.user_id:
        return app.user_id
    return actor.user_id if joining and actor is not None else None


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


def mine(app) -> dict[str, Watch]:
    """This worker's watched clients; a socket that closed or moved to another worker is forgotten."""
    local = local_tokens(app)
    for token in [t for t in _watches if t not in local]:
        unwatch(token)
    return watching()


def local_tokens(app) -> set[str]:
    """Tokens whose websocket this worker holds. Not `token_to_sid`: under Redis the token manager also caches
    the sockets of other workers (to route their updates through its lost-and-found channel), so that map
    would have every worker refresh every client, each refresh repeated once per worker."""
    namespace = app.event_namespace
    if namespace is None:
        return set()
    manager = namespace._token_manager  # Reflex 0.10.1 exposes no public "my sockets" view
    return {token for token, record in manager.token_to_socket.items() if record.instance_id == manager.instance_id}



def remember_projection(proj: dict[str, list[dict[str, str]]]) -> None:
    """The presence loop's latest read, so a page load within CACHE_FRESH_S costs no round trip to the store."""
    global _cached
    _cached = (time.monotonic(), proj)
