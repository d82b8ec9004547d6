"""Who is viewing or replying to which message. Entries carry a TTL, so a closed tab or a sleeping phone disappears by itself.

The store is the truth (in memory for one process, a Redis hash in production); the live
SharedState the browsers see is only a projection of it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass

from govsocial_app.config import get_settings

TTL_S = 20.0  # heartbeats come every 8 s, so a live viewer never lapses, and a dead one is gone within 30 s
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

    @property
    def text(self) -> str:
        return f"{self.name} is viewing" if self.status == VIEWING else f"{self.name} is replying…"


def initials(name: str) -> str:
    parts = [p for p in (name or "?").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


class MemoryPresence:
    def __init__(self, clock=time.time) -> None:
        self._entries: dict[tuple[int, int], PresenceEntry] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def touch(self, message_id: int, user_id: int, name: str, status: str = VIEWING) -> None:
        entry = PresenceEntry(message_id, user_id, name, initials(name), status, self._clock() + TTL_S)
        with self._lock:
            # A user views one message at a time: opening another moves them.
            for key in [k for k in self._entries if k[1] == user_id and k[0] != message_id]:
                del self._entries[key]
            self._entries[(message_id, user_id)] = entry

    def leave(self, user_id: int, message_id: int | None = None) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[1] == user_id and (message_id is None or k[0] == message_id)]:
                del self._entries[key]

    def snapshot(self) -> list[PresenceEntry]:
        now = self._clock()
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.expires <= now]:
                del self._entries[key]
            return sorted(self._entries.values(), key=lambda e: (e.message_id, e.name))


class RedisPresence:
    """One Redis hash; each field is "<msg>:<user>" with a JSON entry holding its own expiry."""

    KEY = "govsocial:presence"

    def __init__(self, url: str, clock=time.time) -> None:
        import redis

        self._r = redis.Redis.from_url(url)
        self._clock = clock

    def touch(self, message_id: int, user_id: int, name: str, status: str = VIEWING) -> None:
        entry = PresenceEntry(message_id, user_id, name, initials(name), status, self._clock() + TTL_S)
        stale = [f for f in self._r.hkeys(self.KEY) if f.decode().endswith(f":{user_id}") and not f.decode().startswith(f"{message_id}:")]
        pipe = self._r.pipeline()
        if stale:
            pipe.hdel(self.KEY, *stale)
        pipe.hset(self.KEY, f"{message_id}:{user_id}", json.dumps(asdict(entry)))
        pipe.execute()

    def leave(self, user_id: int, message_id: int | None = None) -> None:
        fields = [
            f for f in self._r.hkeys(self.KEY)
            if f.decode().endswith(f":{user_id}") and (message_id is None or f.decode().startswith(f"{message_id}:"))
        ]
        if fields:
            self._r.hdel(self.KEY, *fields)

    def snapshot(self) -> list[PresenceEntry]:
        now = self._clock()
        live, dead = [], []
        for field, raw in self._r.hgetall(self.KEY).items():
            entry = PresenceEntry(**json.loads(raw))
            (live if entry.expires > now else dead).append((field, entry))
        if dead:
            self._r.hdel(self.KEY, *[f for f, _ in dead])
        return sorted((e for _, e in live), key=lambda e: (e.message_id, e.name))


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


def by_message(entries: list[PresenceEntry]) -> dict[str, list[dict]]:
    """The projection browsers receive: message id → [{user_id, name, initials, status, text}]."""
    out: dict[str, list[dict]] = {}
    for e in entries:
        out.setdefault(str(e.message_id), []).append(
            {"user_id": e.user_id, "name": e.name, "initials": e.initials, "status": e.status, "text": e.text}
        )
    return out


def reset() -> None:
    global _store
    _store = None
