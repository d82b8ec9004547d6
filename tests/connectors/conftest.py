"""Shared fixtures for connector tests: recorded backoff sleeps and fresh rate budgets."""

from __future__ import annotations

import pytest

from connectors import http


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Every backoff sleep `connectors.http` asks for, in order. Nothing waits, but the
    module's clock jumps ahead by each sleep, so rate-limit resets pass as they would."""
    requested: list[float] = []
    real_now = http._now

    async def fake_sleep(seconds: float) -> None:
        requested.append(seconds)

    monkeypatch.setattr(http, "sleep", fake_sleep)
    monkeypatch.setattr(http, "_now", lambda: real_now() + sum(requested))
    return requested


@pytest.fixture(autouse=True)
def _fresh_rate_budgets():
    http.reset_budgets()
    yield
    http.reset_budgets()
