"""The one SQLAlchemy engine per process, and the session helper services use."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from govsocial_app.config import get_settings

_engine: Engine | None = None
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the web process read while the jobs scheduler writes; busy_timeout
    # turns brief writer contention into a wait instead of "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.close()


def make_engine(url: str, *, one_shot: bool = False) -> Engine:
    """An engine for `url`; `one_shot` uses no pool (migrations, CLI commands)."""
    pool_args: dict = {"poolclass": NullPool} if one_shot else {}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, **pool_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if not one_shot:
        # No pre-ping: it costs a round trip on every checkout (about a tenth of a web worker under load). After a
        # database restart the first statement on each stale connection fails, SQLAlchemy then discards the whole
        # pool, and that one action shows an error toast; the next one works.
        pool_args = {"pool_pre_ping": False, "pool_recycle": 1800, "pool_size": 10, "max_overflow": 20}
    return create_engine(url, **pool_args)


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                settings = get_settings()
                if settings.is_sqlite:
                    settings.data_dir.mkdir(parents=True, exist_ok=True)
                _engine = make_engine(settings.database_url)
    return _engine


def reset_engine() -> None:
    """Drop the cached engine (tests point the app at a fresh database)."""
    global _engine
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def read_connection():
    """A connection for a read on a hot path (an inbox page, an opened message): on PostgreSQL in autocommit, so a
    read costs its statements and no BEGIN and ROLLBACK round trips. Each statement sees what was committed when it
    started; a later statement may see a change committed in between, as two requests would. Never write on it."""
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    return engine.connect()


def dialect() -> str:
    return get_engine().dialect.name
