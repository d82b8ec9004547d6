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
