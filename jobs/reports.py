"""Report and listening jobs: collect metrics from every connector, and send the scheduled report emails."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

log = logging.getLogger(__name__)


async def collect_metrics() -> None:
    from govsocial_app.services.reporting import metrics

    result = await metrics.collect_all()
    log.info("metrics: %s profiles, %s post snapshots, %s errors", result.profiles, result.snapshots, len(result.errors))


async def send_scheduled_reports() -> None:
    from govsocial_app.services.reporting import schedule

    outcome = await schedule.run_due()
    if outcome["planned"] or outcome["sent"] or outcome["failed"]:
        log.info("scheduled reports: %s", outcome)


async def match_listening() -> None:
    """Catch-up for topics and claims: anything ingested since the last run (the intake pipeline matches as it stores;
    this catches what its listening step could not)."""
    from govsocial_app.services.listening import topics

    await asyncio.to_thread(topics.catch_up)


def register(scheduler) -> None:
    """Add the report jobs to the one scheduler (stable ids, so a restart replaces rather than duplicates them)."""
    now = datetime.now(timezone.utc)
    scheduler.add_job(collect_metrics, "interval", minutes=60, id="collect-metrics", replace_existing=True, next_run_time=now)
    scheduler.add_job(send_scheduled_reports, "interval", seconds=60, id="scheduled-reports", replace_existing=True, next_run_time=now)
    scheduler.add_job(match_listening, "interval", seconds=120, id="listening-catch-up", replace_existing=True, next_run_time=now)
