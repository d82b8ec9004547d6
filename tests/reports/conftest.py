"""Fixtures for the report tests: either database, and a small hand-checked data set to aggregate."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from govsocial_app.services.reporting.reports import ReportFilters


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request):
    """Each aggregate test runs on SQLite and on PostgreSQL: the SQL must mean the same on both."""
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC moment in November 2026 (day of month)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


PERIOD_START, PERIOD_END = date(2026, 11, 11), date(2026, 11, 20)


PERIOD = ReportFilters(PERIOD_START, PERIOD_END)


def build_data() -> dict:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Message
    from tests.reports import factory as F

    r, s = F.user("Riley"), F.user("Sam")
    a, b = F.profile("@city", name="City"), F.profile("@ema", network="mastodon", name="EMA")
    roads, water = F.tag("Roads"), F.tag("Water")
    m1 = F.message(a, at(12, 9), tags=(roads,), first_response=at(12, 9, 30), replied_by=r, completed=at(12, 11), completed_by=r,
                   external_id="m1")
    m2 = F.message(a, at(12, 10), tags=(roads, water), first_response=at(12, 11, 30), replied_by=s, external_id="m2")
    F.message(b, at(15, 23, 30), network="mastodon")
    m4 = F.message(a, at(20, 23, 59), tags=(water,), first_response=at(21, 0, 9), replied_by=r, completed=at(21, 0, 59),
                   completed_by=s, external_id="m4")
    F.message(a, at(21, 0, 0), tags=(roads,))  # the first moment after the period
    F.message(a, at(10, 12), tags=(roads,), first_response=at(10, 13), replied_by=r, external_id="m6")  # previous period
    gone = F.message(a, at(13, 8), tags=(roads,))
    with session_scope() as ss:
        ss.get(Message, gone).deleted_at = at(13, 9)
    F.message(a, at(12, 9, 30), direction="out", in_reply_to="m1")
    F.message(a, at(12, 11, 30), direction="out", in_reply_to="m2")
    F.message(a, at(12, 11, 40), direction="out", in_reply_to="m2", status="failed")
    F.message(a, at(21, 0, 9), direction="out", in_reply_to="m4")  # after the period in UTC
    F.message(a, at(20, 22, 0), direction="out", in_reply_to="m4")
    F.message(a, at(10, 13), direction="out", in_reply_to="m6")
    p1 = F.post(a, at(12, 10), r, text="Roadworks on Mill Lane", snapshots=[
        {"captured_at": at(12, 11), "impressions": 100, "likes": 1},
        {"captured_at": at(13, 10), "impressions": 1000, "likes": 30, "reposts": 10, "replies": 5, "clicks": 5},
    ])
    p2 = F.post(a, at(14, 10), r, text="=cmd|' /C calc'!A0", snapshots=[
        {"captured_at": at(15, 10), "impressions": None, "likes": 8, "reposts": 1, "replies": 1, "clicks": None},
    ])
    p3 = F.post(b, at(16, 10), r, text="No numbers yet")
    F.post(a, at(5, 10), r, text="Old post", snapshots=[{"captured_at": at(6, 10), "impressions": 200, "likes": 10}])
    for day, n in ((10, 450), (15, 480), (20, 500)):
        F.daily(a, date(2026, 11, day), n)
    for day, n in ((12, 100), (20, 130)):
        F.daily(b, date(2026, 11, day), n)
    return {"r": r, "s": s, "a": a, "b": b, "roads": roads, "water": water, "p1": p1, "p2": p2, "p3": p3}


@pytest.fixture
def data(any_db):
    """Two profiles, two tags, a week of messages with replies and completions, posts with snapshots: checked by hand."""
    return build_data()
