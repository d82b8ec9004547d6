"""The scheduler lease: exactly one `python -m jobs` runs APScheduler; any other waits as a hot standby.

PostgreSQL: a session-level advisory lock on a dedicated connection. The server drops it the moment that
connection ends, so a killed holder (kill -9 included) frees it at once. SQLite with Redis: a Redis key with
an expiry that the holder renews. SQLite alone (one machine by definition): an flock on a file in the data dir."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from govsocial_app.config import Settings

log = logging.getLogger(__name__)

LEASE_NAME = "govsocial:jobs-scheduler"
REDIS_TTL_S = 15.0  # a dead holder's key lapses after this; the standby then takes over on its next try
RENEW_EVERY_S = 5.0  # well inside the TTL: two renewals may fail before the key can lapse
STANDBY_POLL_S = 2.0


class Lease:
    """`try_acquire` → True once this process holds it; `renew` → False as soon as it may have been lost
    (the holder must then stop scheduling at once); `release` gives it up."""

    kind = "abstract"

    def __init__(self, holder: str) -> None:
        self.holder = holder

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def renew(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


def _advisory_key(name: str) -> int:
    # pg_try_advisory_lock takes a signed bigint; derive a stable one from the name.
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def libpq_url(sqlalchemy_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresLease(Lease):
    kind = "postgres-advisory-lock"

    def __init__(self, holder: str, database_url: str) -> None:
        super().__init__(holder)
        self._url = libpq_url(database_url)
        self._key = _advisory_key(LEASE_NAME)
        self._conn = None

    def _connect(self):
        import psycopg

        # Keepalives make a holder on a dead network notice within ~20 s, inside the standby's window;
        # the statement timeout stops a renewal from hanging on a half-open connection.
        return psycopg.connect(
            self._url, autocommit=True, connect_timeout=5, application_name=f"govsocial-jobs {self.holder}"[:63],
            keepalives=1, keepalives_idle=5, keepalives_interval=3, keepalives_count=3,
            options="-c statement_timeout=5000",
        )

    def try_acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            got = bool(self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()[0])
        except Exception as exc:  # the database is down: stay a standby and try again
            log.warning("lease: PostgreSQL not reachable (%s)", exc)
            self._drop()
            return False
        return got

    def renew(self) -> bool:
        """A session-level lock lasts as long as its session: the session answering proves we still hold it."""
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
                " AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s",
                (self._key,),
            ).fetchone()
            return bool(row and row[0])
        except Exception as exc:
            log.error("lease: lost the PostgreSQL session that holds the lock (%s)", exc)
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            except Exception:  # closing the session below releases it anyway
                pass
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None


_RENEW_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end
"""
_RELEASE_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


class RedisLease(Lease):
    kind = "redis-lock"
    KEY = "govsocial:jobs:lease"

    def __init__(self, holder: str, redis_url: str, ttl_s: float = REDIS_TTL_S) -> None:
        import redis

        super().__init__(holder)
        self._ttl_ms = int(ttl_s * 1000)
        self._r = redis.Redis.from_url(redis_url, socket_timeout=3, socket_connect_timeout=3)

    def try_acquire(self) -> bool:
        try:
            return bool(self._r.set(self.KEY, self.holder, nx=True, px=self._ttl_ms))
        except Exception as exc:
            log.warning("lease: Redis not reachable (%s)", exc)
            return False

    def renew(self) -> bool:
        try:
            return bool(self._r.eval(_RENEW_LUA, 1, self.KEY, self.holder, self._ttl_ms))
        except Exception as exc:  # cannot prove we still hold it: behave as if lost
            log.error("lease: could not renew the Redis lock (%s)", exc)
            return False

    def release(self) -> None:
        try:
            self._r.eval(_RELEASE_LUA, 1, self.KEY, self.holder)
        except Exception:  # it expires by itself
            pass

    def current_holder(self) -> str:
        value = self._r.get(self.KEY)
        return value.decode() if value else ""


class FileLease(Lease):
    """SQLite without Redis lives on one machine, so an flock is enough; the kernel drops it when the process dies."""

    kind = "file-lock"

    def __init__(self, holder: str, path: Path) -> None:
        super().__init__(holder)
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, self.holder.encode())
        self._fd = fd
        return True

    def renew(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def for_settings(settings: Settings, holder: str) -> Lease:
    if not settings.is_sqlite:
        return PostgresLease(holder, settings.database_url)
    if settings.redis_url:
        return RedisLease(holder, settings.redis_url)
    return FileLease(holder, settings.data_dir / "jobs.lease")
