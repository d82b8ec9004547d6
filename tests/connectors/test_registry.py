"""Tests for the connector registry: lookup, lazy imports, connect-form descriptions and limits."""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.base import Connector, Credentials, Limits, PermanentError

ALL = ("simulator", "mastodon", "bluesky", "x", "facebook", "instagram")


def test_every_network_is_described():
    assert tuple(registry.NETWORKS) == ALL
    assert [name for name, _ in registry.network_choices()] == list(ALL)
    for info in registry.NETWORKS.values():
        assert info.label and isinstance(info.limits, Limits)
        assert all(f.name and f.label for f in info.config_fields + info.secret_fields)
        # Nothing secret may be described as config, which is shown back to the browser.
        assert not {f.name for f in info.config_fields} & {"access_token", "app_password", "page_access_token", "bearer_token"}


def test_limits_for():
    assert registry.limits_for("x").counting == "x-weighted"
    assert registry.limits_for("mastodon").max_chars == 500
    assert registry.limits_for("instagram").max_chars == 2200
    assert registry.limits_for("bluesky").max_chars == 300
    assert registry.limits_for("facebook").supports_search is False


def test_unknown_network():
    with pytest.raises(PermanentError):
        registry.get_connector_class("myspace")
    with pytest.raises(PermanentError):
        registry.limits_for("myspace")


@pytest.mark.parametrize(
    "network, config, secrets",
    [
        ("mastodon", {"instance_url": "social.example.gov"}, {"access_token": "t"}),
        ("x", {"user_id": "2244994945"}, {"user_access_token": "t"}),
        ("facebook", {"page_id": "1"}, {"page_access_token": "t"}),
        ("instagram", {"ig_user_id": "1"}, {"page_access_token": "t"}),
    ],
)
async def test_create_connector(network, config, secrets):
    connector = registry.create_connector(Credentials(network, config, secrets), http_client=None, clock=None)
    assert isinstance(connector, Connector) and connector.network == network
    assert connector.limits == registry.limits_for(network)
    await connector.aclose()


def test_broken_package_fails_alone(monkeypatch):
    broken = registry.NetworkInfo(
        name="broken", label="Broken", class_path="connectors.does_not_exist:Nope",
        config_fields=(), secret_fields=(), limits=Limits(max_chars=1), limits_path="connectors.does_not_exist:LIMITS",
    )
    monkeypatch.setitem(registry.NETWORKS, "broken", broken)
    with pytest.raises(PermanentError, match="not available"):
        registry.get_connector_class("broken")
    assert registry.limits_for("broken").max_chars == 1
    assert registry.get_connector_class("mastodon").__name__ == "MastodonConnector"
