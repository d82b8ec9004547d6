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


_PG_ARRAY_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}


def insert_rows(session: Session, table, rows: list[dict]) -> None:
    """Insert many rows of `table` (a Core Table) in one statement on PostgreSQL, an executemany on SQLite.

    On PostgreSQL each column goes as one binary array that `unnest` zips back into rows: one statement, parsed and
    planned once per table and column set, where an executemany is a round of the pipeline per row (10,000 tag and
    rule-application rows of an ingest page cost half a second that way). JSON columns travel as text arrays.
    Every row must have the same keys."""
    if not rows:
        return
    from sqlalchemy import JSON, insert
    from sqlalchemy.dialects import postgresql

    if dialect_of(session) != "postgresql":
        session.execute(insert(table), rows)
        return
    import json

    cols = tuple(rows[0])
    key = (table.name, cols)
    sql = _PG_ARRAY_INSERTS.get(key)
    json_cols = {c for c in cols if isinstance(table.c[c].type, JSON)}
    if sql is None:
        import re

        dialect = postgresql.dialect()
        arrays, selects = [], []
        for i, c in enumerate(cols):
            if c in json_cols:
                arrays.append(f"CAST(%({c})s AS text[])")
                selects.append(f"CAST(c{i} AS json)")
            else:
                base = re.sub(r"[(][0-9]+[)]", "", table.c[c].type.compile(dialect=dialect))
                arrays.append(f"CAST(%({c})b AS {base}[])")
                selects.append(f"c{i}")
        names = ", ".join(f"c{i}" for i in range(len(cols)))
        sql = _PG_ARRAY_INSERTS[key] = (f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {', '.join(selects)} "
                                        f"FROM unnest({', '.join(arrays)}) AS t({names})")
    params = {c: [json.dumps(r[c]) if c in json_cols else r[c] for r in rows] for c in cols}
    session.connection().exec_driver_sql(sql, params)
