"""CAP date-times: "2003-04-02T14:39:01-05:00", always with an offset; UTC is written "-00:00"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["format_cap_datetime", "parse_cap_datetime"]

# The schema's own pattern, anchored; "[-,+]" in the XSD is a character class that also admits a comma.
_CAP_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")


def parse_cap_datetime(text: str) -> datetime:
    """An aware datetime in UTC; ValueError for anything the CAP 1.2 pattern does not allow."""
    value = text.strip()
    if not _CAP_DATETIME.fullmatch(value):
        raise ValueError(f"{value!r} is not a CAP date-time (YYYY-MM-DDThh:mm:ss±hh:mm)")
    parsed = datetime.fromisoformat(value)
    offset = parsed.utcoffset()
    if offset is None or abs(offset) >= timedelta(hours=24):
        raise ValueError(f"{value!r} has an impossible time-zone offset")
    return parsed.astimezone(timezone.utc)


def format_cap_datetime(value: datetime) -> str:
    """CAP form of an aware datetime, in UTC written as "-00:00" as the specification asks, whole seconds."""
    if value.tzinfo is None:
        raise ValueError("CAP date-times need a time zone; got a naive datetime")
    utc = value.astimezone(timezone.utc).replace(microsecond=0)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"
