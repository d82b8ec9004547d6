"""Fixtures for the simulator tests: a hand-driven clock and connectors sharing one state file per test."""

from __future__ import annotations

import pytest

from connectors.base import Credentials
from connectors.simulator import SimulatorConnector
from tests.connectors.simulator.simulator_testkit import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state_path(tmp_path) -> str:
    return str(tmp_path / "state" / "simulator.db")


@pytest.fixture
def make(clock, state_path):
    """make(**config) -> a connector for profile "riverton-city" (quota off) unless told otherwise."""

    def factory(clock_=None, **config) -> SimulatorConnector:
        settings = {"handle": "@cityofriverton", "profile_key": "riverton-city", "state_path": state_path, "rate_limit": 0}
        settings.update(config)
        return SimulatorConnector(Credentials(network="simulator", config=settings), clock=clock_ or clock)

    return factory
