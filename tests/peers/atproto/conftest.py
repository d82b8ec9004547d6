"""Session fixture that installs and runs the AT Protocol dev network for the Bluesky peer tests."""

from __future__ import annotations

import os

import pytest

from tests.peers.atproto import atproto_harness as harness


def _unavailable(reason: str) -> None:
    # CI sets GOVSOCIAL_REQUIRE_SERVICES=1 so a missing database fails loudly instead of skipping quietly.
    if os.environ.get("GOVSOCIAL_REQUIRE_SERVICES") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def atproto_network():
    """The running network (PLC, PDS, AppView) on 127.0.0.1; stopped by PID when the session ends."""
    try:
        harness.check_services()
    except harness.PeerUnavailable as exc:
        _unavailable(str(exc))
    try:
        harness.install()
    except harness.PeerUnavailable as exc:
        _unavailable(str(exc))
    network = harness.start()
    try:
        yield network
    finally:
        harness.stop(network)


@pytest.fixture(autouse=True)
def _dev_network_on_loopback(loopback_peers):
    """The AT Protocol dev network listens on 127.0.0.1 (see tests/conftest.py loopback_peers)."""
