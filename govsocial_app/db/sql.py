"""SQL that means the same on SQLite and PostgreSQL (reports, listening and claims group by hour with these)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func
from sqlmodel import Session



def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def hour_bucket(session: Session, column):
    """The UTC hour of a timestamp as text 'YYYY-MM-DD HH'. Reports fold hours into local days and weekdays
    afterwards, which stays right across daylight-saving changes (a fixed SQL offset would not)."""
    if dialect_of(session) == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


def seconds_between(session: Session, start, end):
    if dialect_of(session) == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def parse_hour(bucket: str) -> datetime:
    return datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=timezone.utc)


_PG_ARRAY_INSERTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}


def unnest_select(table, cols: tuple[str, ...]) -> str:
    """`SELECT ... FROM unnest(...)` for PostgreSQL, giving one row per array index of the named columns of `table`
    (bound as psycopg placeholders named after the columns; see `unnest_params`).

    Each column goes as one array in binary format (psycopg writes text-format arrays in Python, five times slower),
    cast to its base type (no length: the insert itself checks that). JSON columns travel as text arrays: a list of
    lists would be taken for a two-dimensional array."""
    from sqlalchemy import JSON

    arrays, selects = [], []
    for i, c in enumerate(cols):
        if isinstance(table.c[c].type, JSON):
            arrays.append(f"CAST(%({c})s AS text[])")
            selects.append(f"CAST(c{i} AS json)")
        else:
            arrays.append(f"CAST(%({c})b AS {_pg_type(table, c)}[])")
            selects.append(f"c{i}")
    names = ", ".join(f"c{i}" for i in range(len(cols)))
    return f"SELECT {', '.join(selects)} FROM unnest({', '.join(arrays)}) AS t({names})"


def _pg_type(table, c: str) -> str:
    """The column's PostgreSQL type without a length (the insert itself checks that)."""
    import re

    from sqlalchemy.dialects import postgresql

    return re.sub(r"[(][0-9]+[)]", "", table.c[c].type.compile(dialect=postgresql.dialect()))


def unnest_params(table, rows: list[dict], cols: tuple[str, ...]) -> dict[str, list]:
    """The arrays for `unnest_select`: one list per column; JSON values as JSON text, None as NULL."""
    import json

    from sqlalchemy import JSON

    return {c: [None if r[c] is None else json.dumps(r[c]) for r in rows] if isinstance(table.c[c].type, JSON)
            else [r[c] for r in rows] for c in cols}


def insert_rows(session: Session, table, rows: list[dict], same: dict | None = None) -> None:
    """Insert many rows of `table` (a Core Table) in one statement on PostgreSQL, one executemany on SQLite. `same`:
    columns that have one value for every row (sent once, not once a row).

    On PostgreSQL the rows go as one array per column that `unnest` zips back into rows (`unnest_select`): one
    statement, parsed and planned once per table and column set, where an executemany is a round of the pipeline per
    row (10,000 tag rows of an ingest page cost a quarter of a second that way). On SQLite the values go through each
    column's own conversion once per column and then straight to the driver's executemany: SQLAlchemy's executemany
    builds and converts a parameter dict per row, which cost more than the insert. Either way this is plain SQL:
    Python-side column defaults are not applied (give every value). Every row must have the same keys."""
    if not rows:
        return
    same = same or {}
    cols = tuple(rows[0])
    names = ", ".join((*cols, *same))
    if dialect_of(session) != "postgresql":
        dialect = session.get_bind().dialect
        columns = []
        for c in (*cols, *same):
            convert = table.c[c].type._cached_bind_processor(dialect)
            if c in same:
                value = convert(same[c]) if convert else same[c]
                columns.append([value] * len(rows))
            else:
                values = [r[c] for r in rows]
                columns.append([convert(v) for v in values] if convert else values)
        marks = ", ".join("?" * (len(cols) + len(same)))
        session.connection().exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(zip(*columns)))
        return
    key = (table.name, cols, tuple(same))
    sql = _PG_ARRAY_INSERTS.get(key)
    if sql is None:
        scalars = "".join(f", CAST(%(same_{c})s AS {_pg_type(table, c)})" for c in same)
        select = unnest_select(table, cols).replace(" FROM unnest(", f"{scalars} FROM unnest(", 1)
        sql = _PG_ARRAY_INSERTS[key] = f"INSERT INTO {table.name} ({names}) {select}"
    params = unnest_params(table, rows, cols)
    params.update({f"same_{c}": v for c, v in same.items()})
    session.connection().exec_driver_sql(sql, params)
