"""Relative times in the reader's language (govsocial_app/services/timefmt.py; the database hands back aware UTC, db/types.py), with Arabic's plural forms: one (واحدة),
two (the dual: دقيقتين, ساعتين), few (3–10: دقائق, ساعات) and many (11–99: دقيقة, ساعة)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from govsocial_app.services.timefmt import duration, relative_time

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("ago", "en", "ar"), [
    (timedelta(seconds=20), "just now", "الآن"),
    (timedelta(minutes=1, seconds=5), "1 min. ago", "قبل دقيقة واحدة"),
    (timedelta(minutes=2), "2 min. ago", "قبل دقيقتين"),
    (timedelta(minutes=5, seconds=59), "5 min. ago", "قبل 5 دقائق"),
    (timedelta(minutes=10), "10 min. ago", "قبل 10 دقائق"),
    (timedelta(minutes=11), "11 min. ago", "قبل 11 دقيقة"),
    (timedelta(minutes=59, seconds=50), "59 min. ago", "قبل 59 دقيقة"),  # cut to whole minutes, never "60 min."
    (timedelta(hours=2, minutes=5), "2 hr. ago", "قبل ساعتين"),
    (timedelta(hours=3, minutes=40), "3 hr. ago", "قبل 3 ساعات"),
    (timedelta(hours=23, minutes=59), "23 hr. ago", "قبل 23 ساعة"),
])
def test_relative_times_are_worded_in_the_readers_language(ago, en, ar):
    assert relative_time(NOW - ago, NOW, lang="en") == en
    assert relative_time(NOW - ago, NOW, lang="ar") == ar


def test_a_day_old_message_shows_its_date_in_the_readers_time_zone():
    late_evening = datetime(2026, 11, 1, 22, 30, tzinfo=timezone.utc)  # already 2 November in Dubai
    assert relative_time(late_evening, NOW, lang="en", tz="UTC") == "1 Nov"
    assert relative_time(late_evening, NOW, lang="en", tz="Asia/Dubai") == "2 Nov"
    assert relative_time(late_evening, NOW, lang="ar", tz="Asia/Dubai") == "2 نوفمبر"
    assert relative_time(late_evening, NOW, lang="en", tz="Not/AZone") == "1 Nov"  # a bad zone is not a crash
    assert relative_time(None, NOW, lang="ar") == ""


@pytest.mark.parametrize(("seconds", "en", "ar"), [
    (45, "45 sec", "45 ثانية"),
    (60, "1 min", "دقيقة"),
    (120, "2 min", "دقيقتان"),  # the dual
    (5 * 60 + 59, "5 min", "5 دقائق"),  # cut to whole minutes; 3–10 take the plural
    (11 * 60, "11 min", "11 دقيقة"),  # 11–99 take the singular
    (3600, "1 hr", "ساعة"),  # no "0 min"
    (5400, "1 hr 30 min", "ساعة و30 دقيقة"),
    (2 * 3600 + 3 * 60, "2 hr 3 min", "ساعتان و3 دقائق"),
    (86400 + 3600, "1 day 1 hr", "يوم وساعة"),
    (45 * 86400, "45 days", "45 يومًا"),  # days stay days, never "2 months"
])
def test_durations_are_worded_in_the_readers_language(seconds, en, ar):
    assert duration(seconds, "en") == en
    assert duration(seconds, "ar") == ar
