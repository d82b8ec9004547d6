"""Column types that behave the same on SQLite and PostgreSQL.

`UtcDateTime` is every timestamp column: it stores `TIMESTAMP WITH TIME ZONE` (PostgreSQL) / `DATETIME` (SQLite),
exactly the type `DateTime(timezone=True)` gave before (no migration), and it hands back timezone-aware UTC on
every dialect. SQLite has no time zones: it returned naive datetimes, and 13 helpers repaired them one call site
at a time. Here a value is made UTC once on the way in (an aware value in another zone would otherwise be stored
as its wall-clock time on SQLite) and marked UTC once on the way out."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a naive value is UTC (the only kind this app ever writes)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class UtcDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value) if isinstance(value, datetime) else value

    def process_result_value(self, value, dialect):
        return as_utc(value) if isinstance(value, datetime) else value
