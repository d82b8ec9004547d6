"""Monthly partitions on PostgreSQL, opt in: message (by received_at), messageversion (by captured_at), audit_log (by at).

A database is not partitioned until an operator converts it (`python -m govsocial_app.cli partitions enable`,
govsocial_app/db/partition_convert.py; `partitions disable` converts back): measured on this project's machine,
the partitioned layout made the live inbox slower (README, "Partitioning"), so it is for an agency whose tables
have grown to where detaching or archiving a month matters more. The conversion turns the three tables into
range-partitioned tables with one partition per calendar month (UTC) and a DEFAULT partition for rows outside every
month created. `ensure` creates the coming months ahead of time (the
partitions job, jobs/partitions.py, runs it at start and every 6 hours), so new rows never land in the default
partition: `default_rows` counts what did, which should be zero. SQLite (the embedded default) is not partitioned;
everything here is a no-op there.

A month is created as an empty partition when the default partition holds none of its rows (the normal case). When it
does (history backfilled for a month that had no partition yet), message and messageversion rows are moved out of the
default partition into the new month; audit_log's rows are append-only and stay where they are (that month is then
skipped and logged: its rows are still read and chained correctly, only not pruned by month)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

# table -> partition key column
PARTITIONED: dict[str, str] = {"message": "received_at", "messageversion": "captured_at", "audit_log": "at"}
AHEAD_MONTHS = 3  # months after the current one kept created
BACK_MONTHS = 1  # months before the current one a new database starts with (recent backfill lands in its month)
_LOCK_KEY = 0x67730014  # pg_advisory_xact_lock: one ensure at a time across processes


def month_start(d: date | datetime) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def months_around(now: datetime | None = None, *, back: int = BACK_MONTHS, ahead: int = AHEAD_MONTHS) -> list[date]:
    first = month_start(now or datetime.now(timezone.utc))
    return [add_months(first, i) for i in range(-back, ahead + 1)]


def is_partitioned(conn: Connection, table: str) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(text(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"), {"t": table}).first())


# database URL -> whether its message table is partitioned, read once per process: the layout changes only with
# `partitions enable|disable`, which refuse to run while another connection is open and call forget_layout()
_layout: dict[str, bool] = {}


def message_partitioned(conn: Connection) -> bool:
    """Whether this database's message table is partitioned (message_key holds its unique external ids); False on
    SQLite. Asked once per process and database, so ingest pays no query for it."""
    if conn.dialect.name != "postgresql":
        return False
    key = conn.engine.url.render_as_string(hide_password=True)
    if key not in _layout:
        _layout[key] = is_partitioned(conn, "message")
    return _layout[key]


def forget_layout() -> None:
    _layout.clear()


def _exists(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar()


def _columns(conn: Connection, table: str) -> list[str]:
    """The stored (not generated) columns, in order."""
    return [r[0] for r in conn.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped "
        "AND attgenerated = '' ORDER BY attnum"), {"t": table}).all()]


def create_month(conn: Connection, table: str, month: date) -> bool:
    """Create `table`'s partition for `month` if it is missing; True when it was created. Caller holds the lock."""
    name, key = partition_name(table, month), PARTITIONED[table]
    if _exists(conn, name):
        return False
    lo, hi = _bound(month), _bound(add_months(month, 1))
    dflt = default_name(table)
    stray = _exists(conn, dflt) and conn.execute(text(
        f'SELECT 1 FROM {dflt} WHERE "{key}" >= CAST(:lo AS timestamptz) AND "{key}" < CAST(:hi AS timestamptz) LIMIT 1'),
        {"lo": lo, "hi": hi}).first() is not None
    if not stray:
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
        return True
    if table == "audit_log":
        log.warning("partitions: %s holds audit rows of %s; that month stays in the default partition", dflt, month)
        return False
    # Rows of this month are in the default partition: move them into a new table, then attach it as the month.
    # Straight into and out of the partitions, so the parent's triggers (message_key) do not see a new message.
    cols = ", ".join(f'"{c}"' for c in _columns(conn, table))
    conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE)"))
    where = f'"{key}" >= CAST(:lo AS timestamptz) AND "{key}" < CAST(:hi AS timestamptz)'
    moved = conn.execute(text(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {dflt} WHERE {where}"), {"lo": lo, "hi": hi}).rowcount
    conn.execute(text(f"DELETE FROM {dflt} WHERE {where}"), {"lo": lo, "hi": hi})
    conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')"))
    log.info("partitions: moved %s rows of %s from %s into %s", moved, month, dflt, name)
    return True


def create_default(conn: Connection, table: str) -> None:
    name = default_name(table)
    if not _exists(conn, name):
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} DEFAULT"))


def ensure(conn: Connection, months: list[date] | None = None, *, now: datetime | None = None) -> list[str]:
    """Create every missing partition for `months` (default: last month to AHEAD_MONTHS ahead) of each partitioned
    table; returns the names created. Idempotent; takes a transaction-scoped advisory lock so two processes do not
    race. A no-op on SQLite or on a database that is not partitioned."""
    if conn.dialect.name != "postgresql":
        return []
    months = months if months is not None else months_around(now)
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    created = []
    for table in PARTITIONED:
        if not is_partitioned(conn, table):
            continue
        for month in months:
            if create_month(conn, table, month):
                created.append(partition_name(table, month))
    return created


def default_rows(conn: Connection) -> dict[str, int]:
    """Rows in each default partition: what landed outside every created month (should be 0)."""
    if conn.dialect.name != "postgresql":
        return {}
    out = {}
    for table in PARTITIONED:
        if is_partitioned(conn, table) and _exists(conn, default_name(table)):
            out[table] = int(conn.execute(text(f"SELECT count(*) FROM {default_name(table)}")).scalar() or 0)
    return out


def ensure_now() -> list[str]:
    """`ensure` on the app's database in its own transaction (the job's entry point)."""
    from govsocial_app.db.engine import get_engine

    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        return ensure(conn)
