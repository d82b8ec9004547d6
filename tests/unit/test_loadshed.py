"""The lag monitor behind load shedding: busy only while the loop's recent lag (or a stuck loop right now) passes
the threshold; a refused connection raises the socket's "busy" refusal and never reaches the app's handler."""

from __future__ import annotations

import asyncio

import pytest
from socketio.exceptions import ConnectionRefusedError

from govsocial_app import loadshed


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_busy_follows_the_recent_worst_lag_and_a_stuck_loop(monkeypatch):
    monkeypatch.setenv("GOVSOCIAL_SHED_LAG_MS", "300")
    clock = Clock()
    m = loadshed.LagMonitor(clock)
    m.running = True
    m.record(0.01)
    assert not m.busy()
    clock.t += 0.1
    m.record(0.45)  # one slow tick
    assert m.busy()
    clock.t += loadshed.WINDOW_S + 0.05  # forgotten after the window... but the loop has not ticked since: stuck
    assert m.busy()
    m.record(0.0)
    assert not m.busy()
    monkeypatch.setenv("GOVSOCIAL_SHED_LAG_MS", "0")  # off
    m.record(5.0)
    assert not m.busy()


def test_a_busy_worker_refuses_new_connections_and_lets_them_in_when_calm(monkeypatch):
    monkeypatch.setenv("GOVSOCIAL_SHED_LAG_MS", "200")
    seen = []

    class Namespace:
        async def on_connect(self, sid, environ, auth=None):
            seen.append(sid)

    ns = Namespace()
    monitor = loadshed.LagMonitor(Clock())
    monkeypatch.setattr(loadshed, "monitor", monitor)
    loadshed.guard_connect(ns)
    loadshed.guard_connect(ns)  # idempotent: a second worker start does not wrap twice
    monitor.running = True
    monitor.record(0.5)
    with pytest.raises(ConnectionRefusedError) as refused:
        asyncio.run(ns.on_connect("a", {}))
    assert refused.value.error_args == {"message": loadshed.BUSY}
    assert seen == [] and monitor.refused == 1
    monitor.record(0.0)
    monitor._lags.clear()
    asyncio.run(ns.on_connect("b", {}))
    assert seen == ["b"]


def test_the_monitor_measures_a_blocked_loop():
    async def scenario():
        m = loadshed.LagMonitor()
        task = asyncio.create_task(m.run())
        await asyncio.sleep(0.25)
        import time

        time.sleep(0.4)  # the loop is blocked, as by a long handler
        await asyncio.sleep(0.15)
        lag = m.lag()
        task.cancel()
        return lag

    assert asyncio.run(scenario()) >= 0.3
