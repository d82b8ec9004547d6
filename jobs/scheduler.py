"""Builds the APScheduler that runs every background job; jobs are short and call services."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


def _job_defaults() -> dict:
    return {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}


async def heartbeat(holder: str) -> None:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import JobHeartbeat

    def beat() -> None:
        with session_scope() as s:
            row = s.get(JobHeartbeat, "scheduler")
            if row is None:
                row = JobHeartbeat(name="scheduler")
                s.add(row)
            row.holder = holder
            row.beat_at = datetime.now(timezone.utc)

    await asyncio.to_thread(beat)


async def poll_due_profiles() -> None:
    from govsocial_app.services.intake import polling

    ids = await asyncio.to_thread(polling.due_profile_ids)
    for pid in ids:
        try:
            outcome = await polling.poll_profile(pid)
            if outcome.error:
                log.warning("poll profile %s: %s", pid, outcome.error)
        except Exception:  # one profile's bug must not stop the others
            log.exception("poll profile %s crashed", pid)


async def run_due_keywords() -> None:
    from govsocial_app.services.intake import searches

    for keyword_id in await asyncio.to_thread(searches.due_keyword_ids):
        try:
            await searches.run_keyword(keyword_id)
        except Exception:  # one broken search must not stop the others
            log.exception("keyword search %s crashed", keyword_id)


def build_scheduler(holder: str | None = None) -> AsyncIOScheduler:
    holder = holder or f"{socket.gethostname()}:{os.getpid()}"
    scheduler = AsyncIOScheduler(job_defaults=_job_defaults(), timezone="UTC")
    scheduler.add_job(heartbeat, "interval", seconds=15, id="heartbeat", replace_existing=True, args=[holder], next_run_time=datetime.now(timezone.utc))
    scheduler.add_job(poll_due_profiles, "interval", seconds=10, id="poll-profiles", replace_existing=True, next_run_time=datetime.now(timezone.utc))
    scheduler.add_job(run_due_keywords, "interval", seconds=15, id="keyword-searches", replace_existing=True, next_run_time=datetime.now(timezone.utc))
    from jobs import alerts as alert_jobs

    alert_jobs.register(scheduler)
    from jobs import reports as report_jobs

    report_jobs.register(scheduler)
    from jobs import publishing as publishing_jobs

    publishing_jobs.register(scheduler)
    from jobs import cap as cap_jobs

    cap_jobs.register(scheduler)
    from jobs import records as records_jobs

    records_jobs.register(scheduler)
    from jobs import moderation as moderation_jobs

    moderation_jobs.register(scheduler)
    from jobs import identity as identity_jobs

    identity_jobs.register(scheduler)
    from jobs import targets as targets_jobs

    targets_jobs.register(scheduler)
    from jobs import partitions as partition_jobs

    partition_jobs.register(scheduler)
    return scheduler
