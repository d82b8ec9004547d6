"""Runs the jobs scheduler inside the single embedded web process (safe only because there is exactly one worker)."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def run_embedded_scheduler() -> None:
    from jobs.scheduler import build_scheduler

    scheduler = build_scheduler(holder="embedded")
    scheduler.start()
    log.info("jobs scheduler started inside the web process")
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        scheduler.shutdown(wait=False)
