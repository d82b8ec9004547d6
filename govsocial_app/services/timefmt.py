"""Time zones and times for people: the one home for zone lookup, local → UTC, and "5 min. ago".

Datetimes from the database are already aware UTC (db/types.py); these only convert for display and input."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
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
        return _ago(secs // 60 if secs < 3600 else (secs // 3600) * 60, locale)
    local = dt.astimezone(zone(tz))
    return _day_month(local.year, local.month, local.day, locale)


# Every card of every page a person reads words one or two times (bench-load: a third of an inbox page's CPU was
# Babel). The values are few (whole minutes under an hour, whole hours under a day, a date) and the wording of each
# never changes, so each is worded once per process.
@lru_cache(maxsize=4096)
def _ago(minutes: int, locale: str) -> str:
    whole = timedelta(minutes=minutes) if minutes < 60 else timedelta(hours=minutes // 60)
    return format_timedelta(-whole, threshold=1, add_direction=True, format="short", locale=locale)


@lru_cache(maxsize=4096)
def _day_month(year: int, month: int, day: int, locale: str) -> str:
    return format_datetime(datetime(year, month, day, 12), "d MMM", locale=locale)


# CLDR's short English units ("1 hr 30 min") suit a report table; its short Arabic units are single letters
# ("1 س 30 د") that a reader has to guess, so Arabic takes the long forms, with their dual and plurals ("ساعتان").
_DURATION_WIDTH = {"ar": "long"}
_DURATION_UNITS = (("day", 86400, "hour", 3600), ("hour", 3600, "minute", 60), ("minute", 60, None, 0), ("second", 1, None, 0))


@lru_cache(maxsize=8192)
def _unit(n: int, unit: str, unit_s: int, width: str, locale: str) -> str:
    # A huge threshold pins Babel to the unit asked for: 45 days stay "45 days", never "2 months".
    return format_timedelta(timedelta(seconds=n * unit_s), threshold=10**9, granularity=unit, format=width, locale=locale)


def duration(seconds: float, lang: str = "en") -> str:
    """A length of time in the reader's language, in its two largest units, cut (not rounded) to the smaller one:
    "45 sec", "43 min", "1 hr 30 min", "1 day 1 hr" / "45 ثانية", "43 دقيقة", "ساعة و30 دقيقة", "يوم وساعة".
    A zero smaller unit is left out ("2 hr", not "2 hr 0 min")."""
    locale = lang if lang in LANGS else "en"
    width = _DURATION_WIDTH.get(locale, "short")
    s = max(0, int(round(seconds)))
    for unit, unit_s, smaller, smaller_s in _DURATION_UNITS:
        if s >= unit_s or unit == "second":
            larger = _unit(s // unit_s, unit, unit_s, width, locale)
            rest = (s % unit_s) // smaller_s if smaller else 0
            if not rest:
                return larger
            return translate("{larger} {smaller}", lang, larger=larger, smaller=_unit(rest, smaller, smaller_s, width, locale))
    raise AssertionError("unreachable: the seconds row always matches")
