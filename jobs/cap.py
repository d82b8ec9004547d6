"""CAP jobs: every 5 s poll the alert sources whose own interval has passed (IPAWS at most every 2 minutes), raise
official alerts, flag posts to follow up, and write GovSocial's own CAP messages that became due."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

CAP_POLL_EVERY_S = 5


async def poll_cap_sources() -> None:
    from govsocial_app.services.cap import official, outbound

    report = await official.poll_due()
    for source in report.sources:
        if source.status == "error":
            log.warning("CAP source %s: %s", source.source_id, source.error)
    try:
        await asyncio.to_thread(outbound.sync)
    except Exception:  # the outbound feed must not stop the inbound polling
        log.exception("writing outbound CAP messages failed")


def register(scheduler: BaseScheduler) -> None:
    scheduler.add_job(poll_cap_sources, "interval", seconds=CAP_POLL_EVERY_S, id="cap-poll", replace_existing=True,
                      max_instances=1, next_run_time=datetime.now(timezone.utc))
