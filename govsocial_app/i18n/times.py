"""Times said in the reader's language: "just now", "5 min. ago" / "قبل 5 دقائق", then the date in their time zone.

Kernel: every page's state and any service may use it (the inbox cards, the profiles and keywords pages, presence)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, format_timedelta

from govsocial_app.i18n import LANGS, translate


def relative_time(dt: datetime | None, now: datetime | None = None, lang: str = "en", tz: str = "UTC") -> str:
    """How long ago, in the reader's language: "just now", "5 min. ago" / "قبل 5 دقائق", then the date in their time
    zone once it is a day old. Babel's CLDR data words the units (and Arabic's six plural forms: دقيقة واحدة,
    دقيقتين, 3 دقائق, 11 دقيقة); the count is cut to whole minutes or hours first, so 59 min 50 s reads
    "59 min. ago", never a rounded-up "60 min. ago". A naive `dt` (SQLite) is UTC."""
    if dt is None:
        return ""
    dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    secs = max(0, int((now - dt).total_seconds()))
    if secs < 60:
        return translate("just now", lang)
    locale = lang if lang in LANGS else "en"
    if secs < 86400:
        whole = timedelta(minutes=secs // 60) if secs < 3600 else timedelta(hours=secs // 3600)
        return format_timedelta(-whole, threshold=1, add_direction=True, format="short", locale=locale)
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    return format_datetime(dt, "d MMM", tzinfo=zone, locale=locale)
