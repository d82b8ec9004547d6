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
    from connectors.mastodon import connector as mastodon_connector

    http.reset_budgets()
    mastodon_connector.reset_caches()
    yield
    http.reset_budgets()
    mastodon_connector.reset_caches()


@pytest.fixture(autouse=True)
def _real_peers_on_loopback(loopback_peers):
    """mastodon_mock and the other real servers here listen on 127.0.0.1 (see tests/conftest.py loopback_peers)."""
