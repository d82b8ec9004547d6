"""CAP tests: the local feed server listens on 127.0.0.1, which the outbound guard refuses unless allowed."""

import pytest


@pytest.fixture(autouse=True)
def _feed_server_on_loopback(loopback_peers):
    """The test feed server stands in for an on-premises alert source (connectors/netguard.py)."""
