"""Helpers the Bluesky tests import by name: fixture loading, XRPC error bodies and a connector factory."""

from __future__ import annotations

from connectors.base import Credentials
from connectors.bluesky import BlueskyConnector

from tests.connectors.connector_testkit import load_fixture

PDS = "https://pds.example"
OUR_DID = "did:plc:n6yy6k577mh3mmxoikjbeml7"
CITIZEN_DID = "did:plc:almc5o2go5pztj4wpgzzxfgv"
ROOT_URI = f"at://{OUR_DID}/app.bsky.feed.post/3kzqvqfgt7a2b"


def fx(name: str):
    """A recorded XRPC response body from fixtures/ (captured from @atproto/dev-env 0.6.7)."""
    return load_fixture("bluesky", name)


def xrpc_error(status: int, name: str, message: str = "") -> dict:
    """respx `respond(**...)` arguments for an XRPC error in the shape the PDS sends."""
    return {"status_code": status, "json": {"error": name, "message": message or name}}


def make_connector(**config) -> BlueskyConnector:
    return BlueskyConnector(
        Credentials(
            "bluesky",
            config={"service_url": PDS, "handle": "cityhall.test", **config},
            secrets={"app_password": "abcd-efgh-ijkl-mnop"},
        )
    )
