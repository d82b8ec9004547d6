"""Pins every report formula: engagements, engagement rate, period comparison, response time and periods."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from govsocial_app.services.errors import UserError
from govsocial_app.services.reporting.metrics import ResponseStats, engagement_rate, engagements, period_change
from govsocial_app.services.reporting.reports import ReportFilters, fmt, fmt_change, fmt_duration


def test_engagements_add_clicks_only_when_reported():
    assert engagements(30, 10, 5, 5) == 50
    assert engagements(30, 10, 5, None) == 45


def test_engagement_rate_prefers_impressions():
    assert engagement_rate(50, impressions=1000, followers=500) == pytest.approx(0.05)


def test_engagement_rate_falls_back_to_followers_per_post():
    assert engagement_rate(10, impressions=None, followers=500) == pytest.approx(0.02)
    # 3 posts with 60 engagements to 1,000 followers: each post engaged 2 % of the audience.
    assert engagement_rate(60, impressions=0, followers=1000, posts=3) == pytest.approx(0.02)


def test_engagement_rate_unknown_is_none_not_zero():
    assert engagement_rate(10) is None
    assert engagement_rate(10, impressions=0, followers=0) is None
    assert engagement_rate(0, followers=100) == 0.0


def test_period_change():
    assert period_change(150, 100) == pytest.approx(0.5)
    assert period_change(50, 100) == pytest.approx(-0.5)
    assert period_change(5, 0) is None
    assert period_change(None, 3) is None
    assert period_change(0, 4) == -1.0


def test_response_stats_shares():
    s = ResponseStats(messages=4, answered=3, avg_response_s=2600, within_sla=2, completed=2, avg_completion_s=5400)
    assert s.answered_share == pytest.approx(0.75)
    assert s.sla_share == pytest.approx(2 / 3)
    assert ResponseStats().answered_share is None and ResponseStats().sla_share is None


def test_previous_period_has_same_length_and_ends_the_day_before():
    f = ReportFilters(date(2026, 11, 11), date(2026, 11, 20))
    p = f.previous()
    assert (p.start, p.end) == (date(2026, 11, 1), date(2026, 11, 10))
    m = ReportFilters(date(2026, 3, 1), date(2026, 3, 31)).previous()
    assert (m.start, m.end, m.days) == (date(2026, 1, 29), date(2026, 2, 28), 31)


def test_bounds_follow_the_time_zone_across_daylight_saving():
    f = ReportFilters(date(2026, 3, 29), date(2026, 3, 29), tz="Europe/London")  # clocks go forward that day
    since, until = f.bounds()
    assert since == datetime(2026, 3, 29, 0, tzinfo=timezone.utc)
    assert until == datetime(2026, 3, 29, 23, tzinfo=timezone.utc)  # a 23-hour day


def test_filters_refuse_nonsense():
    with pytest.raises(UserError):
        ReportFilters(date(2026, 2, 2), date(2026, 2, 1))
    with pytest.raises(UserError):
        ReportFilters(date(2026, 2, 1), date(2026, 2, 2), tz="Mars/Olympus")
    with pytest.raises(UserError):
        ReportFilters(date(2024, 1, 1), date(2026, 2, 2))


def test_formatting():
    assert fmt(0.0534, "pct") == "5.3%"
    assert fmt(12345, "int") == "12,345"
    assert fmt(None, "int") == "–"
    assert fmt_duration(45) == "45 sec"
    assert fmt_duration(2600) == "43 min"
    assert fmt_duration(5400) == "1 hr 30 min"
    assert fmt_duration(7200) == "2 hr"  # a zero smaller unit is left out
    assert fmt_duration(90000) == "1 day 1 hr"
    assert fmt(5400, "seconds") == "1 hr 30 min"
    assert fmt(5400, "seconds", "ar") == "ساعة و30 دقيقة"
    assert fmt_change(0.5) == "+50%"
    assert fmt_change(-0.25) == "−25%"
    assert fmt_change(None) == "–"
