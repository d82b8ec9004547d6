"""Response-time targets job: escalate each recent breach once, to the message's team lead (services/inbox/targets)."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

log = logging.getLogger(__name__)

EVERY_S = int(os.environ.get("GOVSOCIAL_TARGETS_EVERY_S", "60"))  # tests run it faster


async def escalate_targets() -> None:
    from govsocial_app.services.inbox import targets

    raised = await targets.run_escalations()
    if raised:
        log.info("response-target escalations: %s", raised)


def register(scheduler) -> None:
    scheduler.add_job(escalate_targets, "interval", seconds=EVERY_S, id="targets-escalate", replace_existing=True,
                      max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc))
