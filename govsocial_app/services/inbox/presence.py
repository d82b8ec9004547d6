"""Who is viewing or replying to which message. Entries carry a TTL, so a closed tab or a sleeping phone disappears by itself.

A person is on one message at a time: each entry is keyed by the user, and opening another message moves them.
Browsers send no heartbeat. The web worker that holds a client's socket keeps that client's entry alive
(`keep_alive`, every HEARTBEAT_S, see state/watchers.py) while the socket is open and the page is visible, so a
closed tab lapses within TTL_S, and a hidden page (a locked phone, another tab) leaves at once.

The store is the truth (in memory for one process, a Redis hash in production); what browsers see is
only a projection of it, pushed by each worker's live relay."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Iterable

from govsocial_app.config import get_settings
from govsocial_app.services import bus
from govsocial_app.services.textnorm import initials

HEARTBEAT_S = 8.0  # how often a worker re-arms the entries of the clients it holds
TTL_S = 20.0  # so a live viewer never lapses, and one whose socket closed is gone within about 25 s
VIEWING = "viewing"
REPLYING = "replying"


@dataclass(frozen=True)
class PresenceEntry:
    message_id: int
    user_id: int
    name: str
    initials: str
    status: str  # viewing, replying
    expires: float


class MemoryPresence:
    def __init__(self, clock=time.time) -> None:
        self._entries: dict[int, PresenceEntry] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def touch(self, message_id: int, user_id: int, name: str, status: str = VIEWING) -> None:
        entry = PresenceEntry(message_id, user_id, name, initials(name), status, self._clock() + TTL_S)
        with self._lock:
            self._entries[user_id] = entry

    def leave(self, user_id: int, message_id: int | None = None) -> None:
        """Take the person off `message_id` (only if they are still on it), or off whatever they are on."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is not None and (message_id is None or entry.message_id == message_id):
                del self._entries[user_id]

    def keep_alive(self, viewers: Iterable[tuple[int, int, str]]) -> int:
        """Re-arm (user id, message id, name) for another TTL_S if that person is still on that message, or put
        them back as viewing if their entry is gone (expired under load, a restarted store). An entry on
        another message is left alone: that person moved meanwhile. Returns how many entries were put back."""
        expires, restored = self._clock() + TTL_S, 0
        with self._lock:
            for user_id, message_id, name in viewers:
                entry = self._entries.get(user_id)
                if entry is None:
                    self._entries[user_id] = PresenceEntry(message_id, user_id, name, initials(name), VIEWING, expires)
                    restored += 1
                elif entry.message_id == message_id:
                    self._entries[user_id] = replace(entry, expires=expires)
        return restored

    def snapshot(self) -> list[PresenceEntry]:
        now = self._clock()
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.expires <= now]:
                del self._entries[key]
            return sorted(self._entries.values(), key=lambda e: (e.message_id, e.name))


# Redis scripts: each runs atomically, so a worker re-arming its clients can never bring back an entry that a
# person's own event (on this or another worker) has just moved or removed.
_KEEP_ALIVE = """
local expires, restored = tonumber(ARGV[1]), 0
for i = 2, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    restored = restored + 1
  else
    local entry = cjson.decode(cur)
    if tonumber(entry['message_id']) == tonumber(ARGV[i + 1]) then
      entry['expires'] = expires
      redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(entry))
    end
  end
end
return restored
"""
_LEAVE_IF_ON = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cjson.decode(cur)['message_id']) == tonumber(ARGV[2]) then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""
_DELETE_IF_UNCHANGED = """
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return n
"""


class RedisPresence:
    """One Redis hash shared by every worker: field = user id, value = that person's JSON entry with its own expiry."""

    KEY = "govsocial:presence:v2"

    def __init__(self, url: str, clock=time.time) -> None:
        import redis

        self._r = redis.Redis.from_url(url)
        self._clock = clock
        self._keep_alive = self._r.register_script(_KEEP_ALIVE)
        self._leave_if_on = self._r.register_script(_LEAVE_IF_ON)
        self._delete_if_unchanged = self._r.register_script(_DELETE_IF_UNCHANGED)

    def _json(self, message_id: int, user_id: int, name: str, status: str, expires: float) -> str:
        return json.dumps(asdict(PresenceEntry(message_id, user_id, name, initials(name), status, expires)))

    def touch(self, message_id: int, user_id: int, name: str, status: str = VIEWING) -> None:
        self._r.hset(self.KEY, str(user_id), self._json(message_id, user_id, name, status, self._clock() + TTL_S))

    def leave(self, user_id: int, message_id: int | None = None) -> None:
        if message_id is None:
            self._r.hdel(self.KEY, str(user_id))
        else:
            self._leave_if_on(keys=[self.KEY], args=[str(user_id), message_id])

    def keep_alive(self, viewers: Iterable[tuple[int, int, str]]) -> int:
        expires = self._clock() + TTL_S
        args: list[object] = [expires]
        for user_id, message_id, name in viewers:
            args += [str(user_id), message_id, self._json(message_id, user_id, name, VIEWING, expires)]
        return int(self._keep_alive(keys=[self.KEY], args=args)) if len(args) > 1 else 0

    def snapshot(self) -> list[PresenceEntry]:
        now = self._clock()
        live: list[PresenceEntry] = []
        dead: list[bytes] = []
        for field, raw in self._r.hgetall(self.KEY).items():
            data = json.loads(raw)
            entry = PresenceEntry(**{k: data[k] for k in PresenceEntry.__dataclass_fields__})
            if entry.expires > now:
                live.append(entry)
            else:
                dead += [field, raw]
        if dead:  # only if unchanged meanwhile: a touch that lands between the read and the delete is kept
            self._delete_if_unchanged(keys=[self.KEY], args=dead)
        return sorted(live, key=lambda e: (e.message_id, e.name))


_store: MemoryPresence | RedisPresence | None = None
_store_lock = threading.Lock()


def get_store() -> MemoryPresence | RedisPresence:
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                url = get_settings().redis_url
                _store = RedisPresence(url) if url else MemoryPresence()
    return _store


def touch(message_id: int, user_id: int, name: str, status: str = VIEWING) -> None:
    """A person's event put them on a message: written off the event loop, before any announcement made after this
    call (bus.in_order). Only the worker's heartbeat (keep_alive) writes the store directly: it must not interleave."""
    store = get_store()
    bus.in_order(lambda: store.touch(message_id, user_id, name, status), "presence touch")


def leave(user_id: int, message_id: int | None = None) -> None:
    """A person left a message (or whatever they were on): as `touch`, written off the event loop, in order."""
    store = get_store()
    bus.in_order(lambda: store.leave(user_id, message_id), "presence leave")


def by_message(entries: list[PresenceEntry]) -> dict[str, list[dict]]:
    """The projection browsers receive: message id → [{user_id, name, initials, status}]. Only what the chips show
    (they word the status in the reader's language): every entry goes to every client showing its message."""
    out: dict[str, list[dict]] = {}
    for e in entries:
        out.setdefault(str(e.message_id), []).append(
            {"user_id": e.user_id, "name": e.name, "initials": e.initials, "status": e.status}
        )
    return out


def reset() -> None:
    global _store
    _store = None
