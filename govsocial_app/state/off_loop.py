"""Blocking service calls run off a web worker's event loop, each kind in a small thread pool of its own.

A worker's event loop serves every person connected to it: a handler that waits on PostgreSQL or burns CPU on the
loop makes all of them wait. The pools are small on purpose. With asyncio's default executor (6 threads here) a
surge of newcomers ran 6 page reads at once per worker; their Python halves (rows into cards) then fought the loop
for the GIL, and every step of every newcomer got slower (bench-load's surge: the loop's own ping went from about
20-60 ms to 100-140 ms at the median). Two threads keep the database busy while the loop works, and queue the rest.
Each call runs in a copy of the event's context, so the guard's answer (state/guard.py) is seen in the thread."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

# argon2 checks: ~30-50 ms of CPU each, in C that releases the GIL. Two threads: the machine's cores; more would
# only queue the same CPU work and hold more 19 MiB argon2 buffers at once.
PASSWORDS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gs-sign-in")
# The inbox's page reads and the writes of its commonest action (state/inbox.py).
READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gs-read")


async def run(pool: ThreadPoolExecutor, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool, call)


async def read(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` in the READS pool."""
    return await run(READS, fn, *args, **kwargs)
