"""Time zones and times for people: the one home for zone lookup, local → UTC, and "5 min. ago".

Datetimes from the database are already aware UTC (db/types.py); these only convert for display and input."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, format_timedelta

from govsocial_app.i18n import LANGS, translate
from govsocial_app.services.errors import UserError


def zone(name: str | None) -> ZoneInfo:
    """The named zone, or UTC when the name is empty or unknown (a display must never fail on a bad setting)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, KeyError, ValueError, OSError):
        return ZoneInfo("UTC")


def checked_zone(name: str) -> ZoneInfo:
    """The named zone, or a UserError saying it is unknown (for settings a person types in)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"Unknown time zone: {name}") from None


def local_to_utc(day: str, hhmm: str, tz_name: str) -> datetime:
    """"2026-11-24" + "14:30" in the user's time zone → an aware UTC datetime."""
    try:
        d = date.fromisoformat(day.strip())
        t = time.fromisoformat(hhmm.strip()[:5])
    except ValueError as exc:
        raise UserError("Pick a date and a time.") from exc
    return datetime.combine(d, t, tzinfo=zone(tz_name)).astimezone(timezone.utc)


def relative_time(dt: datetime | None, now: datetime | None = None, lang: str = "en", tz: str = "UTC") -> str:
    """How long ago, in the reader's language: "just now", "5 min. ago" / "قبل 5 دقائق", then the date in their time
    zone once it is a day old. Babel's CLDR data words the units (and Arabic's plural forms); the count is cut to
    whole minutes or hours first, so 59 min 50 s reads "59 min. ago", never a rounded-up "60 min. ago"."""
    if dt is None:
        return ""
    now = now or datetime.now(timezone.utc)
    secs = max(0, int((now - dt).total_seconds()))
    if secs < 60:
        return translate("just now", lang)
    locale = lang if lang in LANGS else "en"
    if secs < 86400:
        whole = timedelta(minutes=secs // 60) if secs < 3600 else timedelta(hours=secs // 3600)
        return format_timedelta(-whole, threshold=1, add_direction=True, format="short", locale=locale)
    return format_datetime(dt, "d MMM", tzinfo=zone(tz), locale=locale)
