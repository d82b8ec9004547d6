"""The simulated network's server: state in one SQLite file shared by every process, API-like calls, faults."""

from __future__ import annotations

import json
import math
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import AuthError, ConnectorError, MediaAttachment, NotFound, PermanentError, RateLimited, TransientError
from connectors.http import OutcomeUnknown
from connectors.simulator import corpus, limits
from connectors.simulator.content import (
    CREATED,
    DAY_US,
    DELETED,
    EDITED,
    HOUR_US,
    MINUTE_US,
    POST_LOOKBACK_US,
    STREAM_MENTIONS,
    STREAM_PUBLIC,
    Event,
    Generator,
    OwnPost,
    Scenario,
    SimAuthor,
    SimMessage,
    from_us,
    looks_arabic,
    own_old_post_time,
    stable_int,
    to_us,
)
from connectors.simulator.query import compile_query, words

BASE_URL = "https://simulator.govsocial.invalid"  # .invalid never resolves: links look real but lead nowhere
PAGE_SIZE = 200
SEARCH_LOOKBACK_US = 24 * 3600 * 1_000_000
DEFAULT_LOOKBACK_US = 15 * MINUTE_US  # where an empty cursor starts
QUOTA_WINDOW_US = 5 * MINUTE_US
DEFAULT_QUOTA = 300  # calls per window, as Mastodon allows
DEFAULT_IDEMPOTENCY_TTL_S = 3600  # Mastodon keeps Idempotency-Key for an hour
_FIRST_WINDOW_US = HOUR_US
_MAX_WINDOW_US = 24 * HOUR_US
_GROWTH_ANCHOR_US = to_us(datetime(2024, 1, 1, tzinfo=timezone.utc))
FAULTS = ("429", "500", "502", "503", "504", "timeout", "timeout-after", "401", "403", "400", "422")
_FAULT = re.compile(r"(?P<code>429)(?::(?P<retry>\d+(?:\.\d+)?))?|(?P<other>500|502|503|504|timeout|timeout-after|401|403|400|422)")
_REPLY_ID = re.compile(r"(?P<post>[0-9a-f]{8}-s\d+)-r(?P<k>\d+)")


class ConfigError(ValueError):
    """The profile's simulator settings are unusable; `auth` marks the ones that mean 'reconnect'."""

    def __init__(self, message: str, *, auth: bool = False):
        super().__init__(message)
        self.auth = auth


@dataclass(frozen=True)
class SimConfig:
    handle: str
    profile_key: str
    state_path: str = os.path.join("data", "simulator.db")
    scenario: str = "normal"
    scenario_started_at: datetime | None = None
    fault_429_rate: float = 0.0
    fault_5xx_rate: float = 0.0
    time_scale: float = 1.0
    timezone: str = "UTC"
    city: str = corpus.DEFAULT_CITY[0]
    city_ar: str = corpus.DEFAULT_CITY[1]
    display_name: str = ""
    rate_limit: int = DEFAULT_QUOTA  # 0 turns the quota off
    idempotency_ttl: float = DEFAULT_IDEMPOTENCY_TTL_S  # seconds; 0 keeps keys forever
    # Like mastodon_mock and many Mastodon-API servers: every publish creates a post, whatever its key.
    honour_idempotency: bool = True
    # The share of stored posts whose answer is lost as a 502 (a proxy failing after the server acted).
    fault_after_store_rate: float = 0.0

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SimConfig:
        def text(key: str, default: str = "") -> str:
            value = config.get(key, default)
            if value is None:
                return default
            if not isinstance(value, str):
                raise ConfigError(f"simulator setting {key} must be text")
            return value.strip()

        def number(key: str, default: float, low: float, high: float) -> float:
            value = config.get(key, default)
            if value is None or value == "":
                return default
            try:
                result = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"simulator setting {key} must be a number") from None
            if not low <= result <= high or math.isnan(result):
                raise ConfigError(f"simulator setting {key} must be between {low} and {high}")
            return result

        handle = text("handle")
        if not handle:
            raise ConfigError("the simulator profile has no handle; connect it again", auth=True)
        handle = handle if handle.startswith("@") else "@" + handle
        # The handle is as stable as a seed needs to be, for profiles connected without one.
        profile_key = text("profile_key") or handle.lower()
        scenario = text("scenario", "normal") or "normal"
        if scenario not in ("normal", "flood"):
            raise ConfigError(f"unknown simulator scenario {scenario!r}; use 'normal' or 'flood'")
        started = None
        raw_started = config.get("scenario_started_at")
        if isinstance(raw_started, datetime):
            started = raw_started if raw_started.tzinfo else raw_started.replace(tzinfo=timezone.utc)
        elif raw_started:
            try:
                started = datetime.fromisoformat(str(raw_started).replace("Z", "+00:00"))
            except ValueError:
                raise ConfigError("simulator setting scenario_started_at must be an ISO date and time") from None
            started = started if started.tzinfo else started.replace(tzinfo=timezone.utc)
        if scenario == "flood" and started is None:
            raise ConfigError("the flood scenario needs scenario_started_at")
        tz_name = text("timezone", "UTC") or "UTC"
        try:
            ZoneInfo(tz_name)
        except (ValueError, KeyError, OSError):
            raise ConfigError(f"unknown time zone {tz_name!r}") from None
        city = text("city") or corpus.DEFAULT_CITY[0]
        return cls(
            handle=handle,
            profile_key=profile_key,
            state_path=text("state_path") or cls.state_path,
            scenario=scenario,
            scenario_started_at=started,
            fault_429_rate=number("fault_429_rate", 0.0, 0.0, 1.0),
            fault_5xx_rate=number("fault_5xx_rate", 0.0, 0.0, 1.0),
            time_scale=number("time_scale", 1.0, 0.001, 100_000.0),
            timezone=tz_name,
            city=city,
            city_ar=text("city_ar") or (corpus.DEFAULT_CITY[1] if city == corpus.DEFAULT_CITY[0] else city),
            display_name=text("display_name"),
            rate_limit=int(number("rate_limit", DEFAULT_QUOTA, 0, 1_000_000)),
            idempotency_ttl=number("idempotency_ttl", DEFAULT_IDEMPOTENCY_TTL_S, 0, 10 * 365 * 86_400),
            honour_idempotency=str(config.get("honour_idempotency", True)).strip().lower() not in ("false", "0", "no", "off"),
            fault_after_store_rate=number("fault_after_store_rate", 0.0, 0.0, 1.0),
        )


# ---------------------------------------------------------------- cursors


@dataclass(frozen=True, order=True)
class Position:
    """The last event a reader has seen. Without an id, every event up to `time_us` has been seen."""

    time_us: int
    id: str | None = None
    version: int = 0

    def before(self, event: Event) -> bool:
        """Whether `event` comes after this position."""
        if event[0] != self.time_us:
            return event[0] > self.time_us
        return self.id is not None and (event[1], event[2]) > (self.id, self.version)

    def encode(self) -> str:
        return f"v1:{self.time_us}" if self.id is None else f"v1:{self.time_us}:{self.id}:{self.version}"

    @classmethod
    def decode(cls, cursor: str) -> Position:
        parts = cursor.split(":")
        try:
            if parts[0] != "v1" or len(parts) not in (2, 4):
                raise ValueError
            time_us = int(parts[1])
            if len(parts) == 2:
                return cls(time_us)
            version = int(parts[3])
            if not re.fullmatch(r"[0-9a-z-]{1,80}", parts[2]) or version not in (CREATED, EDITED, DELETED):
                raise ValueError
            return cls(time_us, parts[2], version)
        except (ValueError, IndexError):
            raise PermanentError(f"unrecognised simulator cursor {cursor[:60]!r}") from None


def cursor_at(moment: datetime) -> str:
    """A cursor from which the next fetch returns everything that happens at or after `moment`."""
    return Position(to_us(moment) - 1).encode()


# ---------------------------------------------------------------- storage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    seq INTEGER PRIMARY KEY,
    profile_key TEXT NOT NULL,
    external_id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    in_reply_to_id TEXT NOT NULL DEFAULT '',
    conversation_id TEXT NOT NULL,
    visibility TEXT NOT NULL DEFAULT 'public',
    parent_author TEXT NOT NULL DEFAULT '',
    parent_lang TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    media TEXT NOT NULL DEFAULT '[]',
    idempotency_key TEXT NOT NULL DEFAULT '',
    published_at_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_by_time ON posts (profile_key, published_at_us);
CREATE TABLE IF NOT EXISTS idempotency (
    profile_key TEXT NOT NULL,
    key TEXT NOT NULL,
    external_id TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    PRIMARY KEY (profile_key, key)
);
CREATE TABLE IF NOT EXISTS received_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_key TEXT NOT NULL,
    called_at_us INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    external_id TEXT NOT NULL,
    deduplicated INTEGER NOT NULL,
    text TEXT NOT NULL,
    in_reply_to_id TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS received_log_by_profile ON received_log (profile_key, id);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_key TEXT NOT NULL,
    fault TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS moderation (
    profile_key TEXT NOT NULL,
    external_id TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_at_us INTEGER NOT NULL,
    PRIMARY KEY (profile_key, external_id)
);
CREATE TABLE IF NOT EXISTS account_actions (
    profile_key TEXT NOT NULL,
    account_id TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at_us INTEGER NOT NULL,
    PRIMARY KEY (profile_key, account_id, action)
);
CREATE TABLE IF NOT EXISTS calls (
    profile_key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    window_start_us INTEGER NOT NULL,
    window_count INTEGER NOT NULL
);
"""


def iso(us: int) -> str:
    return from_us(us).isoformat().replace("+00:00", "Z")


def parse_fault(fault: str) -> str:
    """The fault as stored, or ValueError for one the simulator cannot play."""
    value = str(fault).strip().lower()
    if not _FAULT.fullmatch(value):
        raise ValueError(f"unknown fault {fault!r}; use one of {', '.join(FAULTS)} (429 may carry seconds: '429:5')")
    return value


def raise_fault(fault: str, *, retry_after: float = 30.0) -> None:
    match = _FAULT.fullmatch(fault)
    if match is None:
        raise TransientError(f"unplayable fault {fault!r}")
    if match["code"]:
        raise RateLimited("HTTP 429 Too Many Requests (simulated)", retry_after=float(match["retry"] or retry_after))
    code = match["other"]
    if code in ("401", "403"):
        raise AuthError(f"HTTP {code}: the access token was rejected (simulated)")
    if code in ("400", "422"):
        raise PermanentError(f"HTTP {code}: the request was rejected (simulated)")
    if code.startswith("timeout"):
        raise TransientError("the request timed out (simulated)")
    raise TransientError(f"HTTP {code} from the server (simulated)")


@lru_cache(maxsize=32)
def shared_generator(profile_key: str, handle: str, city: tuple[str, str], tz_name: str, scenario: Scenario) -> Generator:
    """One generator (and its cache of generated minutes) per profile setup, shared by the connectors of a process."""
    return Generator(profile_key, handle, city=city, tz=ZoneInfo(tz_name), scenario=scenario)


class SimulatorServer:
    """What a real network's API would be, in-process. Methods are blocking and short; call them from a thread."""

    def __init__(self, config: SimConfig, clock: Callable[[], datetime]):
        self.config = config
        self._clock = clock
        started = to_us(config.scenario_started_at) if config.scenario_started_at else 0
        self.scenario = Scenario(config.scenario, started, config.time_scale)
        self.generator = shared_generator(config.profile_key, config.handle, (config.city, config.city_ar), config.timezone, self.scenario)
        self.ns = self.generator.ns
        self.seed = self.generator.seed
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    # ------------------------------------------------------------ time and identity

    def now_us(self) -> int:
        return to_us(self._clock())

    def followers_at(self, t_us: int) -> int:
        """Followers grow steadily with a little daily noise, and jump while a flood is on."""
        base = 5_000 + self.seed % 15_000
        per_day = 15 + (self.seed >> 16) % 45
        days = (t_us - _GROWTH_ANCHOR_US) / DAY_US
        day = math.floor(days)

        def noise(d: int) -> float:
            return ((stable_int(self.seed, "followers", d) % 2001) - 1000) / 1000 * per_day * 0.8

        frac = days - day
        wobble = noise(day) * (1 - frac) + noise(day + 1) * frac
        trend = base + per_day * days
        elapsed = self.scenario.elapsed_min(t_us)
        # People follow the council during an emergency: about an eighth more within a day.
        bonus = trend * 0.12 * (1 - math.exp(-elapsed / 360)) if elapsed is not None else 0.0
        return max(0, int(trend + wobble + bonus))

    def account(self, t_us: int) -> SimAuthor:
        name = self.config.display_name or self.config.handle.lstrip("@")
        return SimAuthor(f"sim-acct-{self.ns}", self.config.handle, name, self.followers_at(t_us), True, "en", "account")

    # ------------------------------------------------------------ storage

    def _connect(self) -> sqlite3.Connection:
        path = self.config.state_path
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives a killed process, which is what we test
        if not self._schema_ready:
            with self._schema_lock:
                if not self._schema_ready:
                    self._create_schema(conn)
                    self._schema_ready = True
        return conn

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        # Switching to WAL needs a moment alone with the file and SQLite answers "locked" at once rather
        # than waiting, so processes starting together take turns here.
        for attempt in range(100):
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(0.01 + 0.002 * attempt)
        # IMMEDIATE: a deferred transaction that reads "no such table" and then writes would be refused
        # outright in WAL mode if another process created it in between.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two processes cannot both read "no such key" and insert.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ------------------------------------------------------------ the gate every API call passes

    def _gate(self, conn: sqlite3.Connection, now_us: int) -> tuple[dict | None, bool]:
        """Count the call and play any fault due. Returns (rate limit report, fail after acting)."""
        key = self.config.profile_key
        window = now_us // QUOTA_WINDOW_US * QUOTA_WINDOW_US
        with self._write(conn):
            row = conn.execute("SELECT id, fault FROM faults WHERE profile_key = ? ORDER BY id LIMIT 1", (key,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM faults WHERE id = ?", (row["id"],))
            calls = conn.execute("SELECT seq, window_start_us, window_count FROM calls WHERE profile_key = ?", (key,)).fetchone()
            seq = (calls["seq"] if calls else 0) + 1
            count = (calls["window_count"] if calls and calls["window_start_us"] == window else 0) + 1
            conn.execute(
                "INSERT INTO calls (profile_key, seq, window_start_us, window_count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (profile_key) DO UPDATE SET seq = excluded.seq, window_start_us = excluded.window_start_us, "
                "window_count = excluded.window_count",
                (key, seq, window, count),
            )
        if row is not None and row["fault"] != "timeout-after":
            raise_fault(row["fault"])
        # Rate-based faults hang off the call's sequence number, so a run replays the same failures.
        rng = random.Random(stable_int(self.seed, "fault", seq))
        roll = rng.random()
        if roll < self.config.fault_429_rate:
            raise RateLimited("HTTP 429 Too Many Requests (simulated)", retry_after=round(1 + rng.random() * 29, 1))
        if roll < self.config.fault_429_rate + self.config.fault_5xx_rate:
            raise TransientError(f"HTTP {rng.choice((500, 502, 503, 504))} from the server (simulated)")
        quota = self.config.rate_limit
        reset_us = window + QUOTA_WINDOW_US
        if quota and count > quota:
            raise RateLimited(
                f"over the simulator's quota of {quota} calls per {QUOTA_WINDOW_US // 1_000_000} s for this profile "
                "(set rate_limit: 0 in its config to turn the quota off)",
                retry_after=max(1.0, (reset_us - now_us) / 1_000_000),
            )
        report = {"limit": quota, "remaining": max(0, quota - count), "reset_at": iso(reset_us)} if quota else None
        return report, row is not None

    # ------------------------------------------------------------ our own posts

    def _post_rows(self, conn: sqlite3.Connection, since_us: int, until_us: int) -> list[sqlite3.Row]:
        return conn.execute(
            "SELECT * FROM posts WHERE profile_key = ? AND published_at_us >= ? AND published_at_us <= ? ORDER BY seq",
            (self.config.profile_key, since_us, until_us),
        ).fetchall()

    @staticmethod
    def _own_post(row: sqlite3.Row) -> OwnPost:
        parent = None
        if row["parent_author"]:
            fields = json.loads(row["parent_author"])
            parent = SimAuthor(**{**fields, "outlet": tuple(fields.get("outlet") or ("", ""))})
        return OwnPost(row["external_id"], row["text"], row["published_at_us"], row["conversation_id"], row["visibility"],
                       parent, row["parent_lang"])

    def _own_message(self, row: sqlite3.Row) -> SimMessage:
        lang = "ar" if looks_arabic(row["text"]) else "en"
        return SimMessage(row["external_id"], STREAM_PUBLIC, "post", lang, self.account(row["published_at_us"]), row["text"],
                          row["published_at_us"], row["conversation_id"], row["in_reply_to_id"], "own")

    # ------------------------------------------------------------ streams of events

    def _gather(self, t0_us: int, t1_us: int, rows: list[sqlite3.Row], *, public: bool, cached: bool = True) -> list[Event]:
        """Events with t0 <= time < t1 of the mentions stream, or of the public (searchable) network."""
        gen = self.generator
        events = gen.events(STREAM_MENTIONS, t0_us, t1_us, cached=cached)
        for row in rows:
            if row["published_at_us"] >= t1_us or row["published_at_us"] + POST_LOOKBACK_US < t0_us:
                continue
            events.extend(ev for ev in gen.replies_to_post(self._own_post(row)) if t0_us <= ev[0] < t1_us)
            if public and row["visibility"] == "public" and t0_us <= row["published_at_us"] < t1_us:
                events.append((row["published_at_us"], row["external_id"], CREATED, self._own_message(row)))
        if public:
            events = [ev for ev in events if ev[3].kind != "dm"]
            events.extend(gen.events(STREAM_PUBLIC, t0_us, t1_us, cached=cached))
        events.sort(key=lambda ev: ev[:3])
        return events

    def _page(self, position: Position, now_us: int, limit: int, rows: list[sqlite3.Row], *, public: bool,
              keep: Callable[[Event], bool] | None = None) -> tuple[list[Event], Position]:
        out: list[Event] = []
        t0, width = position.time_us, _FIRST_WINDOW_US
        while t0 <= now_us and len(out) < limit:
            t1 = min(t0 + width, now_us + 1)
            out.extend(ev for ev in self._gather(t0, t1, rows, public=public) if position.before(ev) and (keep is None or keep(ev)))
            t0, width = t1, min(width * 2, _MAX_WINDOW_US)  # far-behind readers catch up in fewer, wider steps
        if len(out) >= limit:
            out = out[:limit]
            last = out[-1]
            return out, Position(last[0], last[1], last[2])
        return out, position if position.time_us > now_us else Position(now_us)

    def _start(self, cursor: str, now_us: int, lookback_us: int = DEFAULT_LOOKBACK_US) -> Position:
        return Position.decode(cursor) if cursor else Position(now_us - lookback_us)

    def raw_message(self, event: Event, now_us: int, *, kind: str | None = None) -> dict:
        """The message as the API reports it at `now_us`: counts grow towards their eventual values."""
        t_us, msg_id, version, m = event
        grown = 1 - math.exp(-max(0, now_us - m.created_us) / (45 * MINUTE_US))
        a = m.author
        return {
            "id": msg_id,
            "kind": kind or m.kind,
            "created_at": iso(m.created_us),
            "edited_at": iso(t_us) if version == EDITED else None,
            # A deletion keeps the text last seen, so an archive that first meets the message here still has it.
            "deleted": version == DELETED,
            "text": m.edit_text if version == EDITED else m.text,
            "language": m.lang,
            "account": {"id": a.id, "acct": a.handle, "display_name": a.name, "avatar": "", "followers_count": a.followers,
                        "verified": a.verified},
            "conversation_id": m.conversation_id,
            "in_reply_to_id": m.in_reply_to_id or None,
            "url": "" if m.kind == "dm" else f"{BASE_URL}/{a.handle}/{msg_id}",
            "favourites_count": int(m.likes * grown),
            "reblogs_count": int(m.reposts * grown),
            "replies_count": sum(1 for t in m.child_times if t <= now_us),
            "sim": {"category": m.category, "event": ("created", "edited", "deleted")[version], "event_at": iso(t_us)},
        }

    # ------------------------------------------------------------ API: reading

    def verify_credentials(self) -> dict:
        now = self.now_us()
        with self._db() as conn:
            self._gate(conn, now)
        a = self.account(now)
        return {"id": a.id, "acct": a.handle, "display_name": a.name, "avatar": "", "followers_count": a.followers,
                "verified": True}

    def mentions(self, cursor: str = "") -> dict:
        now = self.now_us()
        position = self._start(cursor, now)
        with self._db() as conn:
            report, _ = self._gate(conn, now)
            rows = self._post_rows(conn, position.time_us - POST_LOOKBACK_US, now)
        events, after = self._page(position, now, PAGE_SIZE, rows, public=False)
        items = [self.raw_message(ev, now) for ev in events]
        self._mark_moderated(items)
        return {"items": items, "next_cursor": after.encode(), "rate_limit": report}

    def search(self, terms: str, *, lang: str = "", cursor: str = "", limit: int = 50) -> dict:
        matcher = compile_query(terms)
        lang = lang.split("-")[0].lower()
        now = self.now_us()
        # Like real recent-search APIs, a first search reaches back a day, not just the mention window.
        position = self._start(cursor, now, SEARCH_LOOKBACK_US)
        with self._db() as conn:
            report, _ = self._gate(conn, now)
            rows = self._post_rows(conn, position.time_us - POST_LOOKBACK_US, now)
        verdicts: dict[str, bool] = {}

        def keep(ev: Event) -> bool:
            m = ev[3]
            if lang and m.lang != lang:
                return False
            if m.id not in verdicts:
                # Any version that matched makes its edits and deletion relevant too.
                verdicts[m.id] = matcher(words(m.text)) or bool(m.edit_text and matcher(words(m.edit_text)))
            return verdicts[m.id]

        events, after = self._page(position, now, max(1, min(PAGE_SIZE, limit)), rows, public=True, keep=keep)
        return {"items": [self.raw_message(ev, now, kind="keyword") for ev in events], "next_cursor": after.encode(),
                "rate_limit": report}

    def history(self, since: datetime, until: datetime, *, include_public: bool = False) -> list[dict]:
        """Every mention-stream event with since <= time < until (never past now), as fetch pages would report them.

        With include_public, the public chatter that only search reaches comes too, as kind "keyword"."""
        now = self.now_us()
        t0, t1 = to_us(since), min(to_us(until), now + 1)
        if t1 <= t0:
            return []
        with self._db() as conn:
            rows = self._post_rows(conn, t0 - POST_LOOKBACK_US, now)
        # The uncached path: a month of buckets would only push the live window out of the cache.
        events = self._gather(t0, t1, rows, public=False, cached=False)
        out = [self.raw_message(ev, now) for ev in events]
        if include_public:
            chatter = self.generator.events(STREAM_PUBLIC, t0, t1, cached=False)
            out.extend(self.raw_message(ev, now, kind="keyword") for ev in chatter)
        return out

    def account_metrics(self) -> dict:
        now = self.now_us()
        with self._db() as conn:
            self._gate(conn, now)
            published = conn.execute(
                "SELECT COUNT(*) FROM posts WHERE profile_key = ? AND published_at_us <= ?", (self.config.profile_key, now)
            ).fetchone()[0]
        days = (now - _GROWTH_ANCHOR_US) / DAY_US
        return {
            "followers_count": self.followers_at(now),
            "following_count": max(0, 300 + (self.seed >> 24) % 500 + int(days * 0.05)),
            # The account posted about three times a day before it was connected (see content.own_old_post_time).
            "statuses_count": max(0, 1_200 + (self.seed >> 32) % 3_000 + int(days * 3)) + published,
        }

    def status_metrics(self, ids: list[str]) -> list[dict]:
        """Engagement on our own posts, growing with their age; ids that are not ours are left out."""
        now = self.now_us()
        wanted = [i for i in dict.fromkeys(ids) if isinstance(i, str) and i]
        with self._db() as conn:
            self._gate(conn, now)
            rows = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    f"SELECT * FROM posts WHERE profile_key = ? AND external_id IN ({marks})", (self.config.profile_key, *chunk)
                ):
                    rows[row["external_id"]] = row
        out = []
        for post_id in wanted:
            row = rows.get(post_id)
            if row is None or row["published_at_us"] > now:
                continue
            out.append(self._metrics(row, now))
        return out

    def _metrics(self, row: sqlite3.Row, now_us: int) -> dict:
        rng = random.Random(stable_int(self.seed, "metrics", row["external_id"]))
        published = row["published_at_us"]
        flood, _ = self.scenario.shares(published)
        reach = self.followers_at(published) * (0.05 + 0.25 * rng.random()) * (3.0 if flood > 0.5 else 1.0)
        if row["in_reply_to_id"]:
            reach *= 0.2  # replies mostly reach the thread
        if row["visibility"] == "direct":
            reach = 1.0
        grown = 1 - math.exp(-max(0, now_us - published) / (3 * HOUR_US))
        impressions = int(reach * grown)
        likes = int(impressions * (0.01 + 0.03 * rng.random()))
        has_link = bool(row["link"]) or "http" in row["text"]
        replies = sum(1 for ev in self.generator.replies_to_post(self._own_post(row)) if ev[2] == CREATED and ev[0] <= now_us)
        return {
            "id": row["external_id"],
            "impressions": impressions,
            "favourites_count": likes,
            "reblogs_count": int(likes * (0.1 + 0.2 * rng.random())),
            "replies_count": replies,
            "clicks": int(impressions * (0.005 + 0.015 * rng.random())) if has_link else 0,
        }

    # ------------------------------------------------------------ API: publishing

    def create_status(
        self, text: str, *, idempotency_key: str = "", in_reply_to_id: str = "", media: tuple[MediaAttachment, ...] = (),
        link: str = "",
    ) -> dict:
        now = self.now_us()
        key = idempotency_key or ""
        with self._db() as conn:
            try:
                _report, fail_after = self._gate(conn, now)
            except ConnectorError as exc:
                self._log(conn, now, key, "", False, text, in_reply_to_id, f"fault: {exc}")
                raise
            try:
                body = limits.validate(text, media, link)
                parent = self._resolve_parent(conn, in_reply_to_id, now) if in_reply_to_id else None
            except PermanentError as exc:
                self._log(conn, now, key, "", False, text, in_reply_to_id, f"rejected: {exc}")
                raise
            suffix = "; the response was lost (simulated timeout)" if fail_after else ""
            with self._write(conn):
                row = None
                if key and self.config.honour_idempotency:
                    found = conn.execute(
                        "SELECT external_id, created_at_us FROM idempotency WHERE profile_key = ? AND key = ?",
                        (self.config.profile_key, key),
                    ).fetchone()
                    ttl_us = int(self.config.idempotency_ttl * 1_000_000)
                    if found is not None and (not ttl_us or now - found["created_at_us"] < ttl_us):
                        row = conn.execute("SELECT * FROM posts WHERE external_id = ?", (found["external_id"],)).fetchone()
                if row is not None:
                    self._log(conn, now, key, row["external_id"], True, text, in_reply_to_id, "deduplicated" + suffix)
                else:
                    row = self._insert_post(conn, now, key, body, in_reply_to_id, parent, media, link)
                    if not fail_after and self.config.fault_after_store_rate:
                        roll = random.Random(stable_int(self.seed, "after-store", row["seq"])).random()
                        if roll < self.config.fault_after_store_rate:
                            fail_after, suffix = True, "; answered 502 after storing it (simulated proxy)"
                    self._log(conn, now, key, row["external_id"], False, text, in_reply_to_id, "created" + suffix)
        if fail_after:
            # Ambiguous by construction: the caller cannot know the post exists, so it must reconcile.
            raise OutcomeUnknown("the request failed (simulated) after the server had acted on it")
        return self._status(row)

    def find_own_post(self, text: str, link: str, in_reply_to_id: str, since: datetime) -> dict | None:
        """Our newest post with this text (and parent) published at or after `since`, as the network lists it.
        Like a timeline read, it never looks at idempotency keys."""
        body = limits.post_body(text, link)
        since_us = int(since.timestamp() * 1_000_000)
        with self._db() as conn:
            self._gate(conn, self.now_us())
            rows = conn.execute(
                "SELECT * FROM posts WHERE profile_key = ? AND published_at_us >= ? AND in_reply_to_id = ? ORDER BY seq DESC",
                (self.config.profile_key, since_us, in_reply_to_id or ""),
            ).fetchall()
        for row in rows:
            if row["text"] == body:
                return self._status(row)
        return None

    def _insert_post(self, conn, now_us, key, body, in_reply_to_id, parent, media, link) -> sqlite3.Row:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM posts").fetchone()[0]
        external_id = f"{self.ns}-s{seq}"
        conversation, visibility, parent_author, parent_lang = parent or (external_id, "public", None, "")
        conn.execute(
            "INSERT INTO posts (seq, profile_key, external_id, text, in_reply_to_id, conversation_id, visibility, parent_author, "
            "parent_lang, link, media, idempotency_key, published_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq, self.config.profile_key, external_id, body, in_reply_to_id or "", conversation, visibility,
                json.dumps(_author_dict(parent_author)) if parent_author else "",
                parent_lang, link or "", json.dumps([{"path": m.path, "mime_type": m.mime_type, "alt_text": m.alt_text} for m in media]),
                key, now_us,
            ),
        )
        if key:
            conn.execute(
                "INSERT INTO idempotency (profile_key, key, external_id, created_at_us) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (profile_key, key) DO UPDATE SET external_id = excluded.external_id, created_at_us = excluded.created_at_us",
                (self.config.profile_key, key, external_id, now_us),
            )
        return conn.execute("SELECT * FROM posts WHERE seq = ?", (seq,)).fetchone()

    def _status(self, row: sqlite3.Row) -> dict:
        return {
            "id": row["external_id"],
            "url": "" if row["visibility"] == "direct" else f"{BASE_URL}/{self.config.handle}/{row['external_id']}",
            "created_at": iso(row["published_at_us"]),
        }

    def _resolve_parent(self, conn: sqlite3.Connection, parent_id: str, now_us: int) -> tuple[str, str, SimAuthor | None, str]:
        """(conversation, visibility, author, language) of the message being answered, as the network knows it."""
        row = conn.execute(
            "SELECT * FROM posts WHERE profile_key = ? AND external_id = ?", (self.config.profile_key, parent_id)
        ).fetchone()
        if row is not None:
            return row["conversation_id"], row["visibility"], None, ""
        old = self.generator.find_own_old_post(parent_id)
        if old is not None and own_old_post_time(*old) <= now_us:
            return parent_id, "public", None, ""
        msg = self.generator.find(parent_id)
        if msg is None:
            match = _REPLY_ID.fullmatch(parent_id)
            post = match and conn.execute(
                "SELECT * FROM posts WHERE profile_key = ? AND external_id = ?", (self.config.profile_key, match["post"])
            ).fetchone()
            if post:
                msg = next((ev[3] for ev in self.generator.replies_to_post(self._own_post(post)) if ev[1] == parent_id), None)
        if msg is None or msg.created_us > now_us:
            raise PermanentError(f"in_reply_to_id {parent_id[:80]!r} does not exist on the simulated network")
        if msg.deleted_us and msg.deleted_us <= now_us:
            raise PermanentError(f"in_reply_to_id {parent_id[:80]!r} has been deleted")
        return msg.conversation_id, "direct" if msg.kind == "dm" else "public", msg.author, msg.lang

    # ------------------------------------------------------------ API: moderation (comments on our own posts)

    def _mark_moderated(self, items: list[dict]) -> None:
        """A hidden reply is still reported, flagged hidden, as the networks that hide replies do."""
        if not items:
            return
        with self._db() as conn:
            found = {r["external_id"]: r for r in conn.execute(
                "SELECT external_id, hidden, deleted FROM moderation WHERE profile_key = ?", (self.config.profile_key,))}
        for item in items:
            row = found.get(item["id"])
            item["hidden"] = bool(row and row["hidden"])
            if row and row["deleted"]:
                item["deleted"] = True

    def _comment_exists(self, conn: sqlite3.Connection, external_id: str, now_us: int) -> None:
        msg = self.generator.find(external_id)
        if msg is None:
            match = _REPLY_ID.fullmatch(external_id)
            post = match and conn.execute(
                "SELECT * FROM posts WHERE profile_key = ? AND external_id = ?", (self.config.profile_key, match["post"])
            ).fetchone()
            if post:
                msg = next((ev[3] for ev in self.generator.replies_to_post(self._own_post(post)) if ev[1] == external_id), None)
        gone = conn.execute("SELECT deleted FROM moderation WHERE profile_key = ? AND external_id = ?",
                            (self.config.profile_key, external_id)).fetchone()
        if msg is None or msg.created_us > now_us or (msg.deleted_us and msg.deleted_us <= now_us) or (gone and gone["deleted"]):
            raise NotFound(f"comment {external_id[:80]!r} does not exist on the simulated network (it may have been deleted)")

    def moderate(self, action: str, external_id: str, account_id: str = "", note: str = "") -> dict:
        """Hide, unhide or delete a reply to our own post; block, mute or report its author. Answers like a real API:
        the comment's state afterwards."""
        now = self.now_us()
        key = self.config.profile_key
        with self._db() as conn:
            _report, fail_after = self._gate(conn, now)
            self._comment_exists(conn, external_id, now)
            with self._write(conn):
                if action in ("hide", "unhide", "delete"):
                    hidden = 1 if action == "hide" else 0
                    conn.execute(
                        "INSERT INTO moderation (profile_key, external_id, hidden, deleted, updated_at_us) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (profile_key, external_id) DO UPDATE SET "
                        + ("deleted = 1" if action == "delete" else "hidden = excluded.hidden") + ", updated_at_us = excluded.updated_at_us",
                        (key, external_id, hidden, int(action == "delete"), now),
                    )
                elif action in ("block", "mute", "report"):
                    if not account_id:
                        raise PermanentError("the author's account id is missing")
                    conn.execute(
                        "INSERT INTO account_actions (profile_key, account_id, action, note, at_us) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (profile_key, account_id, action) DO UPDATE SET note = excluded.note, at_us = excluded.at_us",
                        (key, account_id, action, note[:1000], now),
                    )
                else:
                    raise PermanentError(f"unknown moderation action {action!r}")
        if fail_after:
            raise OutcomeUnknown("the request failed (simulated) after the server had acted on it")
        return self.moderation_status(external_id, account_id)

    def moderation_status(self, external_id: str, account_id: str = "") -> dict:
        """The comment as the network shows it now: hidden or deleted, and what we did to its author."""
        with self._db() as conn:
            row = conn.execute("SELECT hidden, deleted, updated_at_us FROM moderation WHERE profile_key = ? AND external_id = ?",
                               (self.config.profile_key, external_id)).fetchone()
            acts = [r["action"] for r in conn.execute(
                "SELECT action FROM account_actions WHERE profile_key = ? AND account_id = ? ORDER BY action",
                (self.config.profile_key, account_id))] if account_id else []
        return {"id": external_id, "hidden": bool(row and row["hidden"]), "deleted": bool(row and row["deleted"]),
                "updated_at": iso(row["updated_at_us"]) if row else None, "account_id": account_id, "account_actions": acts}

    # ------------------------------------------------------------ test and benchmark controls

    def _log(self, conn, now_us, key, external_id, deduplicated, text, in_reply_to_id, outcome) -> None:
        conn.execute(
            "INSERT INTO received_log (profile_key, called_at_us, idempotency_key, external_id, deduplicated, text, in_reply_to_id, "
            "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.config.profile_key, now_us, key, external_id, int(deduplicated), text, in_reply_to_id or "", outcome),
        )

    def inject_faults(self, faults: list[str]) -> None:
        stored = [parse_fault(f) for f in faults]
        with self._db() as conn, self._write(conn):
            conn.executemany(
                "INSERT INTO faults (profile_key, fault) VALUES (?, ?)", [(self.config.profile_key, f) for f in stored]
            )

    def pending_faults(self) -> list[str]:
        with self._db() as conn:
            return [r[0] for r in conn.execute("SELECT fault FROM faults WHERE profile_key = ? ORDER BY id", (self.config.profile_key,))]

    def received_log(self) -> list[dict]:
        with self._db() as conn:
            rows = conn.execute(
                "SELECT * FROM received_log WHERE profile_key = ? ORDER BY id", (self.config.profile_key,)
            ).fetchall()
        return [
            {
                "id": r["id"],
                "called_at": from_us(r["called_at_us"]),
                "idempotency_key": r["idempotency_key"],
                "external_id": r["external_id"],
                "deduplicated": bool(r["deduplicated"]),
                "text": r["text"],
                "in_reply_to_id": r["in_reply_to_id"],
                "outcome": r["outcome"],
            }
            for r in rows
        ]

    def published_posts(self) -> list[dict]:
        with self._db() as conn:
            rows = conn.execute("SELECT * FROM posts WHERE profile_key = ? ORDER BY seq", (self.config.profile_key,)).fetchall()
        return [{**dict(r), "published_at": from_us(r["published_at_us"])} for r in rows]


def _author_dict(author: SimAuthor) -> dict:
    return {
        "id": author.id, "handle": author.handle, "name": author.name, "followers": author.followers, "verified": author.verified,
        "lang": author.lang, "role": author.role, "outlet": list(author.outlet),
    }
