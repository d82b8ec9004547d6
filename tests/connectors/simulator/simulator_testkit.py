"""Helpers the simulator tests import by name: the reference moment and a clock the test drives by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# A Tuesday, at lunchtime, so the diurnal curve is near its midday peak.
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
