"""The alert jobs: registered with stable ids and intervals, and one run evaluates, raises and delivers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert
from govsocial_app.services.alerting import spikes
from jobs import alerts as alert_jobs
from tests.alerts.helpers import add_messages, make_profile, spread


def test_register_adds_the_spike_and_retry_jobs():
    scheduler = AsyncIOScheduler(timezone="UTC")
    alert_jobs.register(scheduler)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"alerts-spikes", "alerts-retry"}
    assert jobs["alerts-spikes"].trigger.interval == timedelta(seconds=15)  # a crossing alerts well inside 60 s
    assert jobs["alerts-retry"].trigger.interval == timedelta(seconds=30)


async def test_one_run_of_the_spike_job_raises_the_alert(db):
    now = datetime.now(timezone.utc)
    pid = make_profile()
    add_messages(pid, spread(now - timedelta(hours=30), now - timedelta(hours=2), 30))
    add_messages(pid, spread(now - timedelta(minutes=10), now - timedelta(seconds=1), 25))
    await alert_jobs.evaluate_spikes()
    with session_scope() as s:
        [alert] = s.exec(select(Alert)).all()
    assert alert.kind == "spike" and alert.data["count"] == 25 and alert.data["method"] == spikes.TRAILING_24H
    await alert_jobs.retry_deliveries()  # nothing due: no error
