"""The four reports' door: build one by kind, export one of its tables as CSV. Each report lives in its own module
(report_tags, report_posts, report_profiles, report_inbox) on the shared report_base; the names the pages, the PDF,
the schedule and the tests use are re-exported here, so callers import one module."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from sqlmodel import Session

from govsocial_app.services import csv_export
from govsocial_app.services.errors import UserError
from govsocial_app.services.reporting.report_base import (
    REPORTS, ROW_LIMIT, WEEKDAYS, Chart, Column, KeyNumber, Report, ReportFilters, Series, Table, Words, daily, fmt,
    fmt_change, fmt_duration, last_days,
)
from govsocial_app.services.reporting.report_inbox import InboxReport, inbox_report
from govsocial_app.services.reporting.report_moderation import ModerationReport, moderation_report
from govsocial_app.services.reporting.report_posts import POST_SORTS, PostReport, PostRow, post_report, short
from govsocial_app.services.reporting.report_profiles import ProfileReport, ProfileRow, profile_report
from govsocial_app.services.reporting.report_tags import TagReport, TagRow, tag_report



def build(kind: str, f: ReportFilters, *, session: Session | None = None, **options) -> Report:
    builders = {"tags": tag_report, "posts": post_report, "profiles": profile_report, "inbox": inbox_report, "moderation": moderation_report}
    if kind not in builders:
        raise UserError("Unknown report.")
    return builders[kind](f, session=session, **options)


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "pct":
        return round(value * 100, 2)
    if kind == "seconds":
        return int(round(value))
    if kind == "datetime":
        return value.isoformat(timespec="minutes")
    return value


def _csv_header(c: Column) -> str:
    return c.label + {"pct": " (%)", "seconds": " (seconds)"}.get(c.kind, "")


def table_csv(table: Table) -> str:
    out = io.StringIO()
    w = csv_export.writer(out)  # social content is untrusted: no cell may run as a spreadsheet formula
    w.writerow([_csv_header(c) for c in table.columns])
    for row in table.rows:
        w.writerow([_csv_value(v, c.kind) for v, c in zip(row, table.columns)])
    return out.getvalue()


def export_csv(kind: str, f: ReportFilters, table_key: str, **options) -> tuple[str, str]:
    """(file name, CSV text) of one of a report's tables, with every row (not just the page shown)."""
    if kind == "posts":
        options["limit"] = None
    report = build(kind, f, **options)
    table = next((t for t in report.tables() if t.key == table_key), None)
    if table is None:
        raise UserError("Unknown table.")
    return f"{kind}-{table_key}-{f.start}-{f.end}.csv", table_csv(table)


__all__ = [
    "ROW_LIMIT", "WEEKDAYS", "daily", "short",
    "Chart", "Column", "InboxReport", "KeyNumber", "POST_SORTS", "PostReport", "PostRow", "ProfileReport", "ProfileRow", "REPORTS",
    "Report", "ReportFilters", "Series", "Table", "TagReport", "Words", "TagRow", "build", "export_csv", "fmt", "fmt_change",
    "fmt_duration", "inbox_report", "ModerationReport", "moderation_report", "last_days", "post_report", "profile_report", "table_csv", "tag_report",
]
