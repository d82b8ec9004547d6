"""Moderation job: send again the moderation actions a network was too busy for, and settle those whose outcome
was lost (asking the network first; never a blind repeat of what is not safe to repeat)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

EVERY_S = 10


async def settle_moderation() -> None:
    from govsocial_app.services.records import moderation

    counts = await moderation.process_pending()
    if counts:
        log.info("moderation: %s", counts)


def register(scheduler) -> None:
    scheduler.add_job(settle_moderation, "interval", seconds=EVERY_S, id="moderation-settle", replace_existing=True)
