"""What crosses processes on the event bus: one frozen dataclass per kind of change, never a dict.

Each event names its bus topic. The bus carries an event as one JSON line (`encode`) in both backends, so the
in-process backend that tests and embedded mode use exercises the same wire format as Redis; subscribers get the
event back as its class (`decode`). An event says *what* changed (ids), never the content: each web worker reads
what its own clients show."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

# A Redis pub/sub message stays small whatever a batch held. Over this many changed ids an inbox event says
# "everything changed" instead (every page re-reads), so a change is never dropped by the cap.
MAX_IDS = 500


@dataclass(frozen=True)
class InboxChanged:
    """Messages arrived (`new_ids`) or changed (`changed_ids`: tags, status, a reply, a network-side edit or
    deletion); `everything` when a change touches every page (a VIP list renamed or deleted)."""

    topic: ClassVar[str] = "inbox"
    new_ids: tuple[int, ...] = ()
    changed_ids: tuple[int, ...] = ()
    everything: bool = False

    @classmethod
    def of(cls, new_ids=(), changed_ids=(), everything: bool = False) -> InboxChanged:
        new = tuple(sorted({int(i) for i in new_ids}))
        changed = tuple(sorted({int(i) for i in changed_ids} - set(new)))
        if len(changed) > MAX_IDS:
            everything, changed = True, ()
        # Only "something arrived" is read from the new ids (each client counts its own "N new"): capping loses nothing.
        return cls(new[-MAX_IDS:], changed, everything)

    def merge(self, other: InboxChanged) -> InboxChanged:
        return InboxChanged.of(self.new_ids + other.new_ids, self.changed_ids + other.changed_ids,
                               self.everything or other.everything)

    def __bool__(self) -> bool:
        return bool(self.new_ids or self.changed_ids or self.everything)


@dataclass(frozen=True)
class PresenceChanged:
    """Someone came onto or left `message_id`; or `restored` entries came back after a store restart."""

    topic: ClassVar[str] = "presence"
    message_id: int = 0
    restored: int = 0


@dataclass(frozen=True)
class PauseChanged:
    topic: ClassVar[str] = "pause"
    paused: bool = False


@dataclass(frozen=True)
class AlertsChanged:
    """Alerts were raised, some deliveries failed, or one was acknowledged: badges and banners re-read."""

    topic: ClassVar[str] = "alerts"
    raised: tuple[int, ...] = ()
    undelivered: tuple[int, ...] = ()
    acknowledged: tuple[int, ...] = ()

    def merge(self, other: AlertsChanged) -> AlertsChanged:
        return AlertsChanged(self.raised + other.raised, self.undelivered + other.undelivered,
                             self.acknowledged + other.acknowledged)


@dataclass(frozen=True)
class FollowUpsFlagged:
    """Posts flagged for a follow-up by an official alert (its expiry or update)."""

    topic: ClassVar[str] = "posts"
    post_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SessionsChanged:
    """A session or a person changed (signed out, revoked, a new role, deactivated, renamed): every web worker
    forgets the sessions it remembers (services/auth.py `forget_sessions`)."""

    topic: ClassVar[str] = "sessions"


Event = InboxChanged | PresenceChanged | PauseChanged | AlertsChanged | FollowUpsFlagged | SessionsChanged
KINDS: dict[str, type] = {cls.__name__: cls for cls in (InboxChanged, PresenceChanged, PauseChanged, AlertsChanged, FollowUpsFlagged,
                                                        SessionsChanged)}
TOPICS = tuple(dict.fromkeys(cls.topic for cls in KINDS.values()))


def encode(event: Event) -> str:
    if type(event).__name__ not in KINDS:
        raise TypeError(f"not a bus event: {event!r}")
    return json.dumps({"kind": type(event).__name__, **asdict(event)}, separators=(",", ":"))


def decode(data: str | bytes) -> Event:
    """The event back from its wire form. Lists become tuples again, so events stay hashable and frozen."""
    raw = json.loads(data)
    cls = KINDS[raw.pop("kind")]
    known = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in known})
