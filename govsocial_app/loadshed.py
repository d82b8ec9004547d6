"""Load shedding for the event websocket (issue 20 item 4): a web worker whose event loop lags refuses NEW
connections for a moment instead of accepting them and timing them all out.

Each worker measures its own loop: a task sleeps TICK_S and records how late it woke up. While the mean lag of the
last WINDOW_S (or the time since the last tick, when the loop is stuck right now) exceeds the threshold
(GOVSOCIAL_SHED_LAG_MS, default 500 ms; 0 turns shedding off), a new socket's CONNECT is refused with the reason
"busy". The browser (Reflex's client) retries with its incremental backoff and the lost-connection banner reads
"Busy — reconnecting in a moment" (components/layout.connection_banner). With several workers behind one port a
retry may land on a calmer worker. Sockets already connected are never touched, so none of their events is lost:
shedding only delays who joins."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque

log = logging.getLogger("govsocial.loadshed")

BUSY = "busy"  # the refusal's message, which the banner tests for
TICK_S = 0.1
WINDOW_S = 2.0


def threshold_s() -> float:
    """Read on every check, so an operator (or a test) can change it on a running worker."""
    try:
        return max(float(os.environ.get("GOVSOCIAL_SHED_LAG_MS", "500")), 0.0) / 1000
    except ValueError:
        return 0.5


class LagMonitor:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lags: deque[tuple[float, float]] = deque(maxlen=int(WINDOW_S / TICK_S) * 2)
        self.last_tick = clock()
        self.refused = 0
        self.running = False

    def record(self, lag: float) -> None:
        now = self._clock()
        self.last_tick = now
        self._lags.append((now, max(lag, 0.0)))

    def lag(self) -> float:
        """The mean lag of the ticks in the last WINDOW_S, or how overdue the next tick is now, whichever is larger.

        A mean, not the worst tick: one slow tick (a garbage collection, a big page compiled) is not a surge, and
        refusing people for it would flash the busy banner on a merely loaded machine. A saturated loop ticks rarely
        and late every time, so its mean stays high."""
        now = self._clock()
        recent = [lag for when, lag in self._lags if now - when <= WINDOW_S]
        mean = sum(recent) / len(recent) if recent else 0.0
        overdue = (now - self.last_tick - TICK_S) if self.running else 0.0
        return max(mean, overdue)

    def busy(self) -> bool:
        limit = threshold_s()
        return limit > 0 and self.running and self.lag() > limit

    async def run(self) -> None:
        self.running = True
        self.last_tick = self._clock()
        try:
            while True:
                before = self._clock()
                await asyncio.sleep(TICK_S)
                self.record(self._clock() - before - TICK_S)
        finally:
            self.running = False


monitor = LagMonitor()


def guard_connect(namespace) -> None:
    """Wrap the Reflex event namespace's connect handler: refuse while busy, else connect as usual."""
    from socketio.exceptions import ConnectionRefusedError

    original = namespace.on_connect
    if getattr(original, "_govsocial_shed", False):
        return

    async def on_connect(sid, environ, auth=None):
        if monitor.busy():
            monitor.refused += 1
            if monitor.refused % 50 == 1:
                log.warning("event loop lag %.0f ms: refusing new connections (%d so far)", monitor.lag() * 1000, monitor.refused)
            raise ConnectionRefusedError(BUSY)
        return await original(sid, environ, auth)

    on_connect._govsocial_shed = True  # type: ignore[attr-defined]
    namespace.on_connect = on_connect


def lifespan_task(app):
    """The worker's lag monitor, and the connect guard on its event namespace (which exists once the app is set up)."""

    async def run_monitor() -> None:
        namespace = getattr(app, "event_namespace", None)
        if namespace is not None:
            guard_connect(namespace)
        await monitor.run()

    return run_monitor


# ---- a test hook: saturate this worker's loop for a while (only with GOVSOCIAL_TEST_HOOKS=1; tests/browser)


def test_hooks_enabled() -> bool:
    return os.environ.get("GOVSOCIAL_TEST_HOOKS", "") == "1"


async def saturate(seconds: float, block_ms: float = 700, gap_s: float = 0.03) -> None:
    """Block the loop in slices, as a flood of heavy handlers would, leaving it a moment between them (in which it
    still serves pages and events, slowly)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(block_ms / 1000)
        await asyncio.sleep(gap_s)


def routes() -> list:
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    tasks: set[asyncio.Task] = set()

    async def saturate_route(request: Request) -> Response:
        if not test_hooks_enabled():
            return Response(status_code=404)
        seconds = min(float(request.query_params.get("seconds", "5")), 60.0)
        if seconds <= 0:  # stop saturating now
            for task in list(tasks):
                task.cancel()
            return JSONResponse({"saturating_s": 0})
        task = asyncio.create_task(saturate(seconds))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"saturating_s": seconds})

    async def status_route(_request: Request) -> Response:
        if not test_hooks_enabled():
            return Response(status_code=404)
        return JSONResponse({"busy": monitor.busy(), "lag_ms": round(monitor.lag() * 1000, 1), "refused": monitor.refused})

    return [Route("/api/test/saturate", saturate_route, methods=["POST"]), Route("/api/test/shed", status_route, methods=["GET"])]
