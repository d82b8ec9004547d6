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


def test_busy_follows_the_recent_mean_lag_and_a_stuck_loop(monkeypatch):
    monkeypatch.setenv("GOVSOCIAL_SHED_LAG_MS", "300")
    clock = Clock()
    m = loadshed.LagMonitor(clock)
    m.running = True
    for _ in range(10):  # a healthy loop: ten ticks in a second
        clock.t += 0.1
        m.record(0.01)
    clock.t += 0.7
    m.record(0.6)  # one slow tick (a garbage collection) among healthy ones is not a surge
    assert not m.busy()
    for _ in range(3):  # a saturated loop: every tick late
        clock.t += 0.9
        m.record(0.8)
    assert m.busy()
    clock.t += loadshed.WINDOW_S + 0.4  # forgotten after the window... but the loop has not ticked since: stuck
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

        for _ in range(6):  # the loop is blocked again and again, as by a flood of heavy handlers
            time.sleep(0.4)
            await asyncio.sleep(0.005)
        lag = m.lag()
        task.cancel()
        return lag

    assert asyncio.run(scenario()) >= 0.3
