"""Metrics collection from connectors into history, the demo back-fill from the simulator, and the report jobs."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlmodel import select

from connectors.base import Credentials
from connectors.simulator import SimulatorConnector
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import PostMetricSnapshot, PostTarget, ProfileMetricDaily, SocialProfile
from govsocial_app.services import demo
from govsocial_app.services.reporting import metrics
from govsocial_app.services.crypto import encrypt_json

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def sim_profile(db, tmp_path, actor_factory):
    actor_factory("publisher")
    config = {"handle": "@cityofriverton", "profile_key": "riverton-city", "state_path": str(tmp_path / "sim.db"), "rate_limit": 0}
    with session_scope() as s:
        p = SocialProfile(network="simulator", handle="@cityofriverton", display_name="City", external_id="riverton-city",
                          config=config, secrets_enc=encrypt_json({"token": "t"}))
        s.add(p)
        s.flush()
        return p.id, config


def _sim(config: dict, at: datetime) -> SimulatorConnector:
    return SimulatorConnector(Credentials(network="simulator", config=config), clock=lambda: at)


def test_backfill_posts_publishes_through_the_simulator(sim_profile):
    pid, config = sim_profile
    assert demo.backfill_posts(days=3, now=NOW) == 3
    assert demo.backfill_posts(days=3, now=NOW) == 0  # idempotent
    with session_scope() as s:
        targets = s.exec(select(PostTarget).where(PostTarget.profile_id == pid)).all()
    network = {p["external_id"] for p in _sim(config, NOW).published_posts()}
    assert {t.external_id for t in targets} == network and all(t.status == "published" for t in targets)


async def test_backfill_metrics_stores_what_the_simulator_reported_each_day(sim_profile):
    pid, config = sim_profile
    demo.backfill_posts(days=3, now=NOW)
    demo.backfill_metrics(days=3, now=NOW)
    with session_scope() as s:
        days = s.exec(select(ProfileMetricDaily).where(ProfileMetricDaily.profile_id == pid).order_by(ProfileMetricDaily.day)).all()
        snaps = s.exec(select(PostMetricSnapshot)).all()
    assert [d.day for d in days] == [(NOW - timedelta(days=k)).date() for k in (3, 2, 1, 0)]
    for d in days:
        moment = min(datetime.combine(d.day, time(23, 59), tzinfo=timezone.utc), NOW)
        truth = await _sim(config, moment).profile_metrics()
        assert (d.followers, d.following, d.posts) == (truth.followers, truth.following, truth.posts)
    assert days[-1].followers != days[0].followers  # the simulator's followers move day to day
    assert snaps and days[-1].engagements > 0
    with session_scope() as s:
        latest = s.exec(select(PostMetricSnapshot).order_by(PostMetricSnapshot.captured_at.desc())).first()
        target = s.get(PostTarget, latest.target_id)
    truth = (await _sim(config, latest.captured_at).post_metrics([target.external_id]))[0]
    assert (latest.impressions, latest.likes, latest.reposts, latest.replies) == (truth.impressions, truth.likes, truth.reposts, truth.replies)


async def test_collect_upserts_the_day_and_respects_refresh_intervals(sim_profile):
    pid, _config = sim_profile
    demo.backfill_posts(days=2, now=NOW)
    with session_scope() as s:
        profile = s.get(SocialProfile, pid)
    first = await metrics.collect_profile(profile, NOW, clock=lambda: NOW)
    again = await metrics.collect_profile(profile, NOW + timedelta(minutes=10), clock=lambda: NOW + timedelta(minutes=10))
    later = await metrics.collect_profile(profile, NOW + timedelta(hours=2), clock=lambda: NOW + timedelta(hours=2))
    assert first == 2 and again == 0 and later == 2  # young posts: hourly
    with session_scope() as s:
        assert len(s.exec(select(ProfileMetricDaily).where(ProfileMetricDaily.profile_id == pid)).all()) == 1


async def test_collect_all_reports_a_failing_profile_and_carries_on(sim_profile, tmp_path):
    pid, config = sim_profile
    _sim(config, NOW).inject_faults(["503"])
    result = await metrics.collect_all(NOW)
    assert result.profiles == 0 and len(result.errors) == 1
    result = await metrics.collect_all(NOW)
    assert result.profiles == 1 and not result.errors


def test_demo_inbox_work_gives_response_times(sim_profile):
    from govsocial_app.db.models import Tag
    from govsocial_app.services import demo
    from govsocial_app.services.reporting import reports

    pid, _config = sim_profile
    with session_scope() as s:
        for name, color in demo.DEMO_TAGS:
            s.add(Tag(name=name, color=color))
    demo.backfill([pid], NOW - timedelta(days=3), NOW)
    done = demo.backfill_inbox_work(days=3, now=NOW)
    assert done["replied"] > 0 and done["tagged"] > 0 and done["completed"] > 0
    assert demo.backfill_inbox_work(days=3, now=NOW)["replied"] == 0  # answered messages are not answered twice
    rep = reports.inbox_report(reports.ReportFilters((NOW - timedelta(days=2)).date(), NOW.date()))
    assert rep.current.totals.answered > 0 and rep.current.totals.avg_response_s > 0 and rep.current.outbound > 0


def test_report_jobs_register():
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from jobs import reports as report_jobs

    scheduler = AsyncIOScheduler()
    report_jobs.register(scheduler)
    assert sorted(j.id for j in scheduler.get_jobs()) == ["collect-metrics", "listening-catch-up", "scheduled-reports"]
