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
    monkeypatch.setattr(registry, "FAILED", {})
    networks = registry.load_networks(("mastodon", "does_not_exist", "x"))
    assert list(networks) == ["mastodon", "x"]
    assert "does_not_exist" in registry.FAILED
    monkeypatch.setattr(registry, "NETWORKS", networks)
    with pytest.raises(PermanentError, match="failed to load: does_not_exist"):
        registry.get_connector_class("facebook")
    assert registry.get_connector_class("mastodon").__name__ == "MastodonConnector"


def test_a_new_network_is_a_package_and_its_name(monkeypatch):
    """The package describes itself; the registry, the connect form and the limits need nothing else."""
    import sys
    import types

    from connectors.base import Field, Network

    class PigeonConnector:
        network = "pigeon"

        def __init__(self, credentials, *, http_client=None):
            self.credentials = credentials

    about = types.ModuleType("connectors.pigeon.about")
    about.NETWORKS = (Network("pigeon", "Carrier pigeon", PigeonConnector,
                              (Field("loft", "Loft"), Field("ring", "Ring number", secret=True)), Limits(max_chars=40)),)
    monkeypatch.setitem(sys.modules, "connectors.pigeon", types.ModuleType("connectors.pigeon"))
    monkeypatch.setitem(sys.modules, "connectors.pigeon.about", about)
    monkeypatch.setattr(registry, "FAILED", {})
    monkeypatch.setattr(registry, "NETWORKS", registry.load_networks(registry.PACKAGES + ("pigeon",)))
    assert registry.network_choices()[-1] == ("pigeon", "Carrier pigeon")
    assert registry.limits_for("pigeon").max_chars == 40
    info = registry.NETWORKS["pigeon"]
    assert [f.name for f in info.config_fields] == ["loft"] and [f.name for f in info.secret_fields] == ["ring"]
    connector = registry.create_connector(Credentials("pigeon", {"loft": "north"}, {"ring": "7"}), http_client=None, clock=None)
    assert isinstance(connector, PigeonConnector)


def test_each_package_declares_its_own_limits():
    """No copy: the registry's limits are the very objects the packages define."""
    from connectors.bluesky.limits import LIMITS as BLUESKY
    from connectors.mastodon.limits import DEFAULT_LIMITS as MASTODON
    from connectors.meta.limits import INSTAGRAM_LIMITS
    from connectors.simulator.limits import LIMITS as SIMULATOR

    assert registry.limits_for("bluesky") is BLUESKY and registry.limits_for("mastodon") is MASTODON
    assert registry.limits_for("instagram") is INSTAGRAM_LIMITS and registry.limits_for("simulator") is SIMULATOR
