"""Closes a lost wake-up in Reflex 0.10.1's Redis state lock, which left a client's events waiting 30 s for a free lock.

Found under bench-load (issue 20, stop 39) with Reflex's lock debug log: when a worker's hold on a client's state ended,
the client's next events (two or more at once: a navigation's chain, the live relay's push) tried the lock while the
hold was still writing the state back, failed, and only then registered as waiters. The release fell in between, so
it woke nobody, and `StateManagerRedis._wait_lock` never tries the lock again while two or more waiters are unwoken:
every one of them slept until its wait timed out, which is the lock expiry (30 s here). The person saw an answer
42 s after opening a message. A single waiter is safe, since it always retries once before sleeping.

The fix: once a waiter is registered (from then on every release wakes someone), look whether the lock is still
held; if it is free, wake the next waiter, as the release would have. `apply()` patches `_lock_waiter` once per
process; the app module calls it, and `tests/state/test_state_lock_wakeup.py` replays the race on real Redis.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

log = logging.getLogger(__name__)

_MARK = "_govsocial_wakeup_fix"


def apply() -> bool:
    """Patch Reflex's Redis state manager once per process. False (and a warning) if its internals have moved."""
    try:
        from reflex.istate.manager.redis import StateManagerRedis
    except ImportError:  # pragma: no cover - Reflex always ships it; nothing to fix without it
        return False
    original = getattr(StateManagerRedis, "_lock_waiter", None)
    if original is None or not hasattr(StateManagerRedis, "_notify_next_waiter"):
        log.warning("Reflex's Redis lock changed shape: the lost wake-up fix is not applied (see reflex_lock_wakeup.py)")
        return False
    if getattr(original, _MARK, False):
        return True

    @contextlib.asynccontextmanager
    async def _lock_waiter(self, lock_key: bytes) -> AsyncIterator:
        async with original(self, lock_key) as released:
            # Registered: any later release wakes a waiter. One that came before it woke nobody, so do it now.
            if not await self.redis.exists(lock_key):
                self._notify_next_waiter(lock_key)
            yield released

    setattr(_lock_waiter, _MARK, True)
    StateManagerRedis._lock_waiter = _lock_waiter
    return True
