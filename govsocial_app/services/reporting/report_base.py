"""What every report shares: the filters and period, the comparison with the previous period, the charts,
tables and key numbers the page, the CSV export and the PDF all read, number formats, and the SQL helpers the
reports have in common. One module per report builds on this (report_tags, report_posts, report_profiles,
report_inbox); reports.py is the door the callers use."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from govsocial_app.db import sql
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import ProfileMetricDaily, SocialProfile
from govsocial_app.services.errors import UserError
from govsocial_app.services.reporting.metrics import Scope, period_change
from govsocial_app.services.timefmt import checked_zone, duration


MAX_DAYS = 366
TOP_SERIES = 6  # lines or stacks per chart: more is unreadable on a phone
ROW_LIMIT = 50  # rows a table shows on screen; CSV exports every row

REPORTS = {
    "tags": "Tag report",
    "posts": "Post performance",
    "profiles": "Profile performance",
    "inbox": "Inbox activity",
    "moderation": "Moderation report",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ---------------------------------------------------------------- filters and periods


@dataclass(frozen=True)
class ReportFilters:
    """A report's period (local dates, both inclusive) in a time zone, and its profile and network filters."""

    start: date
    end: date
    profile_ids: tuple[int, ...] = ()
    networks: tuple[str, ...] = ()
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise UserError("The report's end date is before its start date.")
        if self.days > MAX_DAYS:
            raise UserError(f"A report covers at most {MAX_DAYS} days.")
        checked_zone(self.tz)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def zone(self) -> ZoneInfo:
        return checked_zone(self.tz)

    def previous(self) -> ReportFilters:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return replace(self, start=end - timedelta(days=self.days - 1), end=end)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as a half-open UTC range: local midnight at the start to local midnight after the end."""
        z = self.zone
        since = datetime.combine(self.start, time(0), tzinfo=z).astimezone(timezone.utc)
        until = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=z).astimezone(timezone.utc)
        return since, until

    def scope(self) -> Scope:
        since, until = self.bounds()
        return Scope(since, until, self.profile_ids, self.networks)

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def local(self, dt: datetime) -> datetime:
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(self.zone)

    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%-d %b %Y}"
        if self.start.year == self.end.year:
            return f"{self.start:%-d %b} – {self.end:%-d %b %Y}"
        return f"{self.start:%-d %b %Y} – {self.end:%-d %b %Y}"

    def to_dict(self) -> dict[str, Any]:
        return {"profile_ids": list(self.profile_ids), "networks": list(self.networks), "tz": self.tz}

    @classmethod
    def from_dict(cls, start: date, end: date, raw: dict[str, Any] | None) -> ReportFilters:
        raw = raw or {}
        return cls(start, end, tuple(int(p) for p in raw.get("profile_ids") or ()), tuple(str(n) for n in raw.get("networks") or ()),
                   str(raw.get("tz") or "UTC"))


def last_days(days: int, tz: str = "UTC", today: date | None = None, **kw) -> ReportFilters:
    """The last `days` complete local days, ending yesterday (today is still filling up)."""
    end = (today or datetime.now(ZoneInfo(tz)).date()) - timedelta(days=1)
    return ReportFilters(end - timedelta(days=days - 1), end, tz=tz, **kw)


# ---------------------------------------------------------------- what every report shows


class Words(str):
    """A text cell that reads in the reader's language on the page: a fixed word through the catalogue ("Team",
    "Unassigned", "Urgent"), or a name's own Arabic form (a team's name_ar). It is the English text everywhere else
    (CSV, PDF, comparisons), so a table's rows still equal plain strings."""

    ar: str
    catalogue: bool

    def __new__(cls, en: str, *, ar: str = "", catalogue: bool = False) -> "Words":
        w = super().__new__(cls, en)
        w.ar, w.catalogue = ar or "", catalogue
        return w

    def read(self, lang: str, tr) -> str:
        """`tr` is the reader's catalogue lookup (a state's `self._`)."""
        if lang == "ar" and self.ar:
            return self.ar
        return tr(str(self)) if self.catalogue else str(self)


def word(en: str) -> Words:
    """A fixed word of the interface, translated on the page."""
    return Words(en, catalogue=True)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, pct, seconds, datetime, float


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    total: int | None = None  # rows in the full result when `rows` is a page of it


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    color: str = ""  # a colour that means something (sentiment); empty takes the next one of the chart palette


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: str  # line, bar, stacked, hbar, heatmap
    x: tuple[str, ...]
    series: tuple[Series, ...]
    y: tuple[str, ...] = ()  # heat-map rows (one Series per row)
    unit: str = ""
    zero: bool = True  # start the value axis at zero (not for followers, whose change is what matters)


@dataclass(frozen=True)
class KeyNumber:
    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str = "int"

    @property
    def change(self) -> float | None:
        return period_change(self.value, self.previous)


def fmt(value: Any, kind: str, lang: str = "en") -> str:
    """A value as people read it: English digits (the UI localises labels, not numbers), durations worded in the
    reader's language (timefmt.duration)."""
    if value is None or value == "":
        return "–"
    if kind == "int":
        return f"{int(round(value)):,}"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "seconds":
        return fmt_duration(value, lang)
    if kind == "float":
        return f"{value:,.2f}"
    if kind == "datetime":
        return f"{value:%Y-%m-%d %H:%M}"
    return str(value)


def fmt_duration(seconds: float, lang: str = "en") -> str:
    """ "1 hr 30 min" / "ساعة و30 دقيقة": the two largest units, in the reader's language."""
    return duration(seconds, lang)


def fmt_change(change: float | None) -> str:
    if change is None:
        return "–"
    return f"{'+' if change >= 0 else '−'}{abs(change) * 100:.0f}%"


@dataclass
class Report:
    """Base of the four reports: what the page, the CSV export and the PDF read."""

    kind: str
    filters: ReportFilters

    @property
    def title(self) -> str:
        return REPORTS[self.kind]

    def key_numbers(self) -> list[KeyNumber]:
        raise NotImplementedError

    def charts(self) -> list[Chart]:
        raise NotImplementedError

    def tables(self) -> list[Table]:
        raise NotImplementedError

    def summary(self) -> str:
        raise NotImplementedError

    def compared(self) -> str:
        prev = self.filters.previous()
        return f"the previous {self.filters.days} days ({prev.label()})"


def say(k: KeyNumber) -> str:
    change = k.change
    if change is None:
        return fmt(k.value, k.kind)
    return f"{fmt(k.value, k.kind)} ({fmt_change(change)})"


# ---------------------------------------------------------------- shared helpers


def local_day(bucket: str, f: ReportFilters) -> date:
    return sql.parse_hour(bucket).astimezone(f.zone).date()


def daily(by_hour: dict[str, int], f: ReportFilters) -> list[int]:
    """Fold hourly UTC counts into the period's local days."""
    index = {d: i for i, d in enumerate(f.dates())}
    out = [0] * f.days
    for bucket, n in by_hour.items():
        i = index.get(local_day(bucket, f))
        if i is not None:
            out[i] += int(n)
    return out


def x_labels(f: ReportFilters) -> tuple[str, ...]:
    return tuple(d.isoformat() for d in f.dates())


def profile_conditions(f: ReportFilters) -> list:
    out = [col(SocialProfile.deleted_at).is_(None)]
    if f.profile_ids:
        out.append(col(SocialProfile.id).in_(f.profile_ids))
    if f.networks:
        out.append(col(SocialProfile.network).in_(f.networks))
    return out


def session_or_new(session: Session | None):
    return nullcontext(session) if session is not None else session_scope()


def followers_at(s: Session, day: date):
    """Subquery: each profile's followers on its latest daily snapshot on or before `day`."""
    last = (
        select(ProfileMetricDaily.profile_id, func.max(ProfileMetricDaily.day).label("d"))
        .where(ProfileMetricDaily.day <= day)
        .group_by(ProfileMetricDaily.profile_id)
        .subquery()
    )
    return (
        select(ProfileMetricDaily.profile_id, ProfileMetricDaily.followers)
        .join(last, and_(last.c.profile_id == ProfileMetricDaily.profile_id, last.c.d == ProfileMetricDaily.day))
        .subquery()
    )
