"""Alert jobs: evaluate spike rules every 15 s (a crossing alerts well within 60 s) and retry failed deliveries."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

SPIKE_EVERY_S = 15
RETRY_EVERY_S = 30


async def evaluate_spikes() -> None:
    from govsocial_app.services.alerting import spikes

    raised = await spikes.evaluate_and_deliver()
    if raised:
        log.info("spike alerts raised: %s", raised)


async def retry_deliveries() -> None:
    from govsocial_app.services.alerting import alerts

    report = await alerts.deliver()
    if report.failed:
        log.warning("alert deliveries still failing: %s", "; ".join(report.errors[:5]))


def register(scheduler: BaseScheduler) -> None:
    now = datetime.now(timezone.utc)
    scheduler.add_job(evaluate_spikes, "interval", seconds=SPIKE_EVERY_S, id="alerts-spikes", replace_existing=True, next_run_time=now)
    scheduler.add_job(retry_deliveries, "interval", seconds=RETRY_EVERY_S, id="alerts-retry", replace_existing=True, next_run_time=now)
