"""Records job: once a day, propose for disposal whatever has passed its retention schedule and is not on hold.
It only proposes; a records officer approves on the Records page before anything is destroyed."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def propose_disposal() -> None:
    from govsocial_app.services.authz import Actor
    from govsocial_app.services.records import retention

    pid = await asyncio.to_thread(retention.propose, Actor.system("disposal job"))
    if pid:
        log.info("records: disposal proposal %s waits for a records officer", pid)


def register(scheduler) -> None:
    scheduler.add_job(propose_disposal, "cron", hour=3, minute=17, id="records-disposal-proposal", replace_existing=True)
