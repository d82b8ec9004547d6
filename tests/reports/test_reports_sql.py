"""The four reports' SQL aggregates, on SQLite and PostgreSQL, against a small data set checked by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govsocial_app.services.reporting import reports
from govsocial_app.services.reporting.reports import ReportFilters
from tests.reports.conftest import PERIOD, at


def test_inbox_activity(data):
    rep = reports.inbox_report(PERIOD)
    t = rep.current.totals
    assert (t.messages, t.answered, t.within_sla, t.completed) == (4, 3, 2, 2)
    assert t.avg_response_s == pytest.approx((1800 + 5400 + 600) / 3, abs=0.01)
    assert t.avg_completion_s == pytest.approx((7200 + 3600) / 2, abs=0.01)
    assert rep.current.outbound == 3
    assert (rep.previous.messages, rep.previous.answered, rep.previous.within_sla, rep.prev_outbound) == (1, 1, 1, 1)
    by_user = {g.label: g.stats for g in rep.current.by_responder}
    assert by_user["Riley"].messages == 2 and by_user["Riley"].avg_response_s == pytest.approx(1200, abs=0.01)
    assert by_user["Sam"].avg_response_s == pytest.approx(5400, abs=0.01)
    done = {g.label: g.stats for g in rep.current.by_completer}
    assert done["Riley"].avg_completion_s == pytest.approx(7200, abs=0.01)
    assert done["Sam"].avg_completion_s == pytest.approx(3600, abs=0.01)
    tags = {g.label: g.stats for g in rep.current.by_tag}
    assert tags["Roads"].avg_response_s == pytest.approx(3600, abs=0.01) and tags["Roads"].within_sla == 1
    assert tags["Water"].avg_response_s == pytest.approx(3000, abs=0.01)
    assert sum(map(sum, rep.heat)) == 4
    assert rep.heat[at(12, 9).weekday()][9] == 1 and rep.heat[at(15, 23).weekday()][23] == 1
    daily = rep.charts()[0].series[0].values
    assert daily[1] == 2 and daily[4] == 1 and daily[9] == 1 and sum(daily) == 4
    k = {n.key: n for n in rep.key_numbers()}
    assert k["inbound"].change == pytest.approx(3.0)
    assert "4 (+300%)" in rep.summary()


def test_inbox_activity_in_a_local_time_zone(data):
    # Dubai is UTC+4: 20 Nov 23:59 UTC is already 21 Nov there, and 15 Nov 23:30 UTC is 16 Nov.
    rep = reports.inbox_report(ReportFilters(PERIOD.start, PERIOD.end, tz="Asia/Dubai"))
    assert rep.current.totals.messages == 3
    daily = rep.charts()[0].series[0].values
    assert daily[5] == 1 and daily[4] == 0
    assert rep.heat[at(16, 3).weekday()][3] == 1


def test_tag_report(data):
    rep = reports.tag_report(PERIOD)
    rows = {r.name: r for r in rep.rows}
    assert (rows["Roads"].inbound, rows["Roads"].outbound, rows["Roads"].prev_inbound, rows["Roads"].prev_outbound) == (2, 2, 1, 1)
    assert (rows["Water"].inbound, rows["Water"].outbound, rows["Water"].prev_inbound) == (2, 2, 0)
    assert rows["Roads"].change == pytest.approx(1.0) and rows["Water"].change is None
    assert (rep.inbound_total, rep.tagged_inbound, rep.prev_tagged_inbound) == (4, 3, 1)
    assert rep.daily_in["Roads"][1] == 2 and sum(rep.daily_in["Water"]) == 2
    assert sum(rep.daily_out["Water"]) == 2


def test_filters_by_network_and_profile(data):
    only_mastodon = reports.inbox_report(ReportFilters(PERIOD.start, PERIOD.end, networks=("mastodon",)))
    assert only_mastodon.current.totals.messages == 1
    only_b = reports.tag_report(ReportFilters(PERIOD.start, PERIOD.end, profile_ids=(data["b"],)))
    assert only_b.inbound_total == 1 and only_b.tagged_inbound == 0
    posts_b = reports.post_report(ReportFilters(PERIOD.start, PERIOD.end, profile_ids=(data["b"],)))
    assert [r.target_id for r in posts_b.rows] == [data["p3"]]


def test_post_performance(data):
    rep = reports.post_report(PERIOD)
    assert [r.target_id for r in rep.rows] == [data["p1"], data["p2"], data["p3"]]
    p1, p2, p3 = rep.rows
    assert (p1.impressions, p1.likes, p1.engagements) == (1000, 30, 50)  # the latest snapshot, not the first
    assert p1.rate == pytest.approx(0.05)
    assert p2.impressions is None and p2.engagements == 10 and p2.rate == pytest.approx(10 / 500)
    assert p3.engagements is None and p3.rate is None
    assert (rep.posts, rep.impressions, rep.engaged) == (3, 1000, 60)
    assert rep.avg_rate == pytest.approx(0.035)
    assert (rep.prev_posts, rep.prev_impressions, rep.prev_engaged) == (1, 200, 10)
    assert [r.target_id for r in rep.best] == [data["p1"], data["p2"]]
    assert [r.target_id for r in rep.worst] == [data["p2"], data["p1"]]
    asc = reports.post_report(PERIOD, sort="engagements", descending=False)
    assert [r.target_id for r in asc.rows] == [data["p2"], data["p1"], data["p3"]]  # no numbers: last either way
    by_time = reports.post_report(PERIOD, sort="published_at")
    assert [r.target_id for r in by_time.rows] == [data["p3"], data["p2"], data["p1"]]
    assert sum(rep.daily_engagements) == 60 and rep.daily_posts[1] == 1


def test_profile_performance(data):
    rep = reports.profile_report(PERIOD)
    rows = {r.name: r for r in rep.rows}
    city, ema = rows["City"], rows["EMA"]
    assert (city.followers_start, city.followers_end, city.growth, city.posts, city.engagements) == (450, 500, 50, 2, 60)
    assert city.growth_rate == pytest.approx(50 / 450)
    assert city.rate == pytest.approx(0.05)  # 50 engagements on the post with impressions / 1,000 impressions
    assert (ema.followers_start, ema.followers_end, ema.posts, ema.engagements) == (100, 130, 1, 0)
    assert ema.rate is None  # its one post has no numbers yet
    t = rep.total
    assert (t.followers_start, t.followers_end, t.growth, t.posts, t.engagements) == (550, 630, 80, 3, 60)
    assert t.rate == pytest.approx(0.05)
    assert rep.prev_total.posts == 1 and rep.prev_total.followers_end == 450
    assert rep.followers["City"][4] == 480 and rep.followers["City"][0] is None and rep.followers["EMA"][9] == 130


def test_csv_exports_every_row_and_defuses_formulas(data):
    name, text = reports.export_csv("posts", PERIOD, "posts")
    assert name == "posts-posts-2026-11-11-2026-11-20.csv"
    lines = text.strip().splitlines()
    assert lines[0].startswith("Publish date,Profile,Network,Post,Impressions")
    assert len(lines) == 4
    assert "'=cmd" in text  # a spreadsheet must not run a post's text as a formula
    assert "5.0" in lines[1]  # rate as a percentage
    for kind in reports.REPORTS:
        rep = reports.build(kind, PERIOD)
        for table in rep.tables():
            assert reports.table_csv(table).count("\n") == len(table.rows) + 1


def test_empty_database_gives_empty_reports(any_db):
    for kind in reports.REPORTS:
        rep = reports.build(kind, PERIOD)
        assert rep.summary()
        assert all(isinstance(k.label, str) for k in rep.key_numbers())
        rep.charts()


def test_long_period_stays_cheap_in_rows(data):
    # a year of days: the daily series is folded from hourly buckets, never row by row
    f = ReportFilters(PERIOD.end - timedelta(days=365), PERIOD.end)
    assert sum(reports.inbox_report(f).charts()[0].series[0].values) == 5
