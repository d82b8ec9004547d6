"""Identity job: every hour, delete finished or abandoned sign-in leftovers (services/identity/signin.purge)."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def purge_sign_in_leftovers() -> None:
    from govsocial_app.services.identity import signin

    removed = await asyncio.to_thread(signin.purge)
    if removed:
        log.info("identity: removed %s finished or abandoned sign-in rows", removed)


def register(scheduler) -> None:
    scheduler.add_job(purge_sign_in_leftovers, "interval", minutes=60, id="identity-purge", replace_existing=True)
