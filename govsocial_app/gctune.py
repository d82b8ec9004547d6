"""How GovSocial's long-running processes (the web workers, `python -m jobs`) set Python's garbage collector.

Most of a worker's heap lives as long as the process: modules, the app's pages and state classes, SQLAlchemy's
mappers and statement cache. Python's collector walks all of it on every full collection, and with the default
thresholds (700, 10, 10) an ingest page of 500 messages set one off every few pages: in `make bench-ingest`
collections took 0.5 to 0.9 s of a 3 s run, and each full one paused the process for ~150 ms (a web worker's
event loop too). `tune()`, called once start-up is done, moves what exists then into the permanent generation
(`gc.freeze`), so full collections walk only what came after, and lets the youngest generation take 10,000 new
objects before a collection instead of 700: cycles of short-lived objects are still freed, in fewer, larger rounds.
The cost is memory: up to that many unreachable objects waiting for the next round, a few megabytes."""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

THRESHOLDS = (10_000, 10, 10)


def tune() -> None:
    """Finish start-up's work, freeze what it made and raise the youngest generation's threshold. Safe to call again
    (a later call freezes what came since, which is what a long-lived process wants after warming up).

    SQLAlchemy configures its mappers on the first query that needs them: in a web worker that was the first person
    to sign in, in every worker at once when a surge began (2.5% of the web workers' Python time over bench-load's
    10 s surge). Configured here, before the freeze, they are start-up's work and stay out of every collection."""
    from sqlalchemy.orm import configure_mappers

    import govsocial_app.db.models  # noqa: F401  (every table's mapper exists before it is configured)

    configure_mappers()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    log.debug("gc: %d objects frozen, thresholds %s", gc.get_freeze_count(), THRESHOLDS)


async def tune_after_start() -> None:
    """A lifespan task: the app is imported and compiled by the time lifespan tasks run."""
    tune()
