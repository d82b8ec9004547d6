"""Publishing jobs: send due posts every few seconds, hold posts whose approval is late, take back stale claims."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

log = logging.getLogger(__name__)

PUBLISH_EVERY_S = 2
HOLD_EVERY_S = 15
RECOVER_EVERY_S = 30
APPROVAL_LINKS_EVERY_S = 10
REPLIES_EVERY_S = 5


async def publish_due() -> None:
    from govsocial_app.services.publishing import sender

    stats = await sender.run_once(max_seconds=20)
    if stats.claimed:
        log.info("publishing: %d claimed, %s", stats.claimed, stats.outcomes)


async def hold_unapproved() -> None:
    from govsocial_app.services.publishing import approvals

    held = await asyncio.to_thread(approvals.hold_overdue)
    if held:
        log.info("publishing: held %d posts whose approval was not finished in time", len(held))


async def recover_stale(older_than_s: float | None = None) -> None:
    from govsocial_app.services.publishing import sender

    await asyncio.to_thread(sender.recover_stale, older_than_s)


async def settle_replies() -> None:
    """Replies queued during a pause (sent once it is lifted), and replies whose outcome is unknown or that are
    stuck in "sending" (reconciled with the network first; never resent blind)."""
    from govsocial_app.services.inbox import replies

    counts = await replies.process_pending()
    if counts:
        log.info("replies: %s", counts)


async def send_approval_links() -> None:
    """Email external approvers their links (new steps, resends) and retry the ones that failed."""
    from govsocial_app.services.publishing import approval_external

    report = await approval_external.deliver()
    if report.sent or report.failed:
        log.info("approval links: %d sent, %d failed %s", report.sent, report.failed, report.errors[:3])


def register(scheduler) -> None:
    """Add the publishing jobs. On start, claims left behind are taken back only once they are stale
    (older than config.stale_after_s(), which exceeds the publisher's call timeout): after a fail-over the
    old leader's sends may still be running, and a zero threshold recovered them mid-flight (issue 13). A
    recovered claim becomes "unknown" and is reconciled with the network, never resent blind."""
    now = datetime.now(timezone.utc)
    opts = {"replace_existing": True, "max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    scheduler.add_job(recover_stale, "date", run_date=now, id="publish-recover-startup", **opts)
    scheduler.add_job(publish_due, "interval", seconds=PUBLISH_EVERY_S, id="publish-due", next_run_time=now + timedelta(seconds=1), **opts)
    scheduler.add_job(hold_unapproved, "interval", seconds=HOLD_EVERY_S, id="publish-hold-unapproved", next_run_time=now, **opts)
    scheduler.add_job(recover_stale, "interval", seconds=RECOVER_EVERY_S, id="publish-recover-stale", **opts)
    scheduler.add_job(settle_replies, "interval", seconds=REPLIES_EVERY_S, id="replies-pending",
                      next_run_time=now + timedelta(seconds=3), **opts)
    scheduler.add_job(send_approval_links, "interval", seconds=APPROVAL_LINKS_EVERY_S, id="approval-links",
                      next_run_time=now + timedelta(seconds=2), **opts)
