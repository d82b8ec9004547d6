"""`python -m jobs`: the one scheduler process of production mode. It holds the lease (jobs/lease.py) while it
schedules; a second one started by mistake, or on purpose on another machine, waits as a hot standby."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from datetime import datetime, timezone

from govsocial_app import gctune, logs
from govsocial_app.config import get_settings
from jobs import lease as lease_mod

log = logging.getLogger("jobs")

DRAIN_S = 20.0  # on SIGTERM, running jobs get this long to finish (a publish in flight, a poll page)
EMBEDDED_FRESH_S = 45.0  # three missed 15 s heartbeats: an embedded scheduler this quiet is gone
EMBEDDED_RECHECK_S = 15.0
RENEW_TIMEOUT_S = 8.0


def embedded_scheduler_alive(now: datetime | None = None) -> bool:
    """Whether a web process is running the jobs itself (GOVSOCIAL_EMBEDDED_JOBS): its heartbeat holder is "embedded"."""
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import JobHeartbeat

    with session_scope() as s:
        beat = s.get(JobHeartbeat, "scheduler")
        if beat is None or not beat.holder.startswith("embedded"):
            return False
        return ((now or datetime.now(timezone.utc)) - beat.beat_at).total_seconds() < EMBEDDED_FRESH_S


class JobsProcess:
    def __init__(self, lease: lease_mod.Lease, holder: str) -> None:
        self.lease, self.holder = lease, holder
        self.stop = asyncio.Event()
        self._running_jobs = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _acquire(self) -> bool:
        announced = False
        while not self.stop.is_set():
            if await asyncio.to_thread(self.lease.try_acquire):
                log.info("lease acquired (%s): %s runs the scheduler", self.lease.kind, self.holder)
                return True
            if not announced:
                log.info("another jobs process holds the lease (%s): %s waits as a hot standby", self.lease.kind, self.holder)
                announced = True
            await self._sleep(lease_mod.STANDBY_POLL_S)
        return False

    async def _wait_for_no_embedded(self) -> bool:
        while not self.stop.is_set():
            if not await asyncio.to_thread(embedded_scheduler_alive):
                return True
            log.error("a web process runs the jobs itself (embedded mode): not starting a second scheduler. "
                      "Set GOVSOCIAL_EMBEDDED_JOBS=0 for the web workers when you run python -m jobs.")
            if not await self._renew():
                return False
            await self._sleep(EMBEDDED_RECHECK_S)
        return False

    async def _renew(self) -> bool:
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.lease.renew), RENEW_TIMEOUT_S)
        except asyncio.TimeoutError:
            log.error("lease: renewal hung for %.0f s", RENEW_TIMEOUT_S)
            return False

    def _track(self, event) -> None:
        from apscheduler.events import EVENT_JOB_SUBMITTED

        self._running_jobs += 1 if event.code == EVENT_JOB_SUBMITTED else -1
        if self._running_jobs <= 0:
            self._running_jobs = 0
            self._idle.set()
        else:
            self._idle.clear()

    async def _schedule_while_held(self) -> bool:
        """Run the scheduler until told to stop (→ True) or until the lease may be lost (→ False)."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED

        from jobs.scheduler import build_scheduler

        scheduler = build_scheduler(holder=self.holder)
        scheduler.add_listener(self._track, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        log.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
        held = True
        try:
            while not self.stop.is_set():
                await self._sleep(lease_mod.RENEW_EVERY_S)
                if not await self._renew():
                    log.error("lease lost: stopping the scheduler at once so that two never run together")
                    held = False
                    break
        finally:
            scheduler.pause()  # no new runs; let the running ones finish
            if held:
                try:
                    await asyncio.wait_for(self._idle.wait(), DRAIN_S)
                except asyncio.TimeoutError:
                    log.warning("jobs still running after %.0f s; cancelling them", DRAIN_S)
            scheduler.shutdown(wait=False)
        return held

    async def run(self) -> None:
        while not self.stop.is_set():
            if not await self._acquire():
                break
            try:
                if await self._wait_for_no_embedded() and await self._schedule_while_held():
                    break
            finally:
                await asyncio.to_thread(self.lease.release)
            log.info("back to standby")
        log.info("jobs process %s stopped", self.holder)


async def _main() -> int:
    settings = get_settings()
    holder = f"jobs:{socket.gethostname()}:{os.getpid()}"
    process = JobsProcess(lease_mod.for_settings(settings, holder), holder)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, process.stop.set)
    await process.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m jobs",
        description="Run the GovSocial scheduler (publishing, polling, alerts, reports). Exactly one runs at a time; "
                    "others wait as hot standbys. Configured by the same environment variables as the web app.",
    ).parse_args(argv)
    logs.configure("jobs")
    settings = get_settings()
    if settings.embedded_jobs:
        log.error("GOVSOCIAL_EMBEDDED_JOBS is on (the default without REDIS_URL): the web process runs the jobs itself. "
                  "Set GOVSOCIAL_EMBEDDED_JOBS=0 for both the web workers and this process to run a separate jobs process.")
        return 2
    # What the jobs import anyway, loaded before the collector freezes start-up's objects (govsocial_app/gctune.py).
    import govsocial_app.services.intake.pipeline  # noqa: F401
    import jobs.scheduler  # noqa: F401

    gctune.tune()
    return asyncio.run(_main())


if __name__ == "__main__":
    sys.exit(main())
