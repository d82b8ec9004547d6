"""A stand-in for the jobs process running only the publishing jobs (the same `jobs.publishing.register`), for the benchmarks.

Run: `python -m tests.bench.publishing_jobs` with DATABASE_URL (and GOVSOCIAL_DATA_DIR) in the environment."""

from __future__ import annotations

import asyncio
import logging
import os
import signal


async def main() -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from jobs import publishing

    scheduler = AsyncIOScheduler(job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}, timezone="UTC")
    publishing.PUBLISH_EVERY_S = float(os.environ.get("BENCH_PUBLISH_EVERY_S", publishing.PUBLISH_EVERY_S))
    publishing.RECOVER_EVERY_S = float(os.environ.get("BENCH_RECOVER_EVERY_S", publishing.RECOVER_EVERY_S))
    publishing.register(scheduler)
    scheduler.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    await stop.wait()
    scheduler.shutdown(wait=False)


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("BENCH_LOG", "WARNING"))
    asyncio.run(main())
