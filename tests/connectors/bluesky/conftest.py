"""Fixtures for the Bluesky connector tests: a mocked PDS and a connector pointed at it."""

from __future__ import annotations

import pytest
import respx

from tests.connectors.bluesky.bluesky_testkit import PDS, fx, make_connector


@pytest.fixture
def api():
    """A respx router for the PDS's /xrpc/ endpoints; login answers with the recorded session."""
    with respx.mock(base_url=f"{PDS}/xrpc", assert_all_called=False) as router:
        router.post("/com.atproto.server.createSession", name="createSession").respond(
            json=fx("com.atproto.server.createSession")
        )
        yield router


@pytest.fixture
async def connector():
    connector = make_connector()
    yield connector
    await connector.aclose()
