"""Partitions job (PostgreSQL): keeps the coming months' partitions of message, messageversion and audit_log created
(govsocial_app/db/partitions.py), at start and every 6 hours, so new rows never land in a default partition. A
no-op unless the database was converted (`python -m govsocial_app.cli partitions enable`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

log = logging.getLogger(__name__)


async def ensure_partitions() -> None:
    from govsocial_app.db import partitions

    created = await asyncio.to_thread(partitions.ensure_now)
    if created:
        log.info("partitions: created %s", ", ".join(created))


def register(scheduler) -> None:
    scheduler.add_job(ensure_partitions, "interval", hours=6, id="partitions", replace_existing=True,
                      next_run_time=datetime.now(timezone.utc))
