"""Which connector packages exist, and the lookup by network name.

Each package under connectors/ describes its own networks in its `about.py` (name, label, connector class,
connect-form fields and which are secret, limits; connectors/base.py `Network`). Adding a network is a new folder
and its package name in PACKAGES; nothing here restates what the package says."""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any

from connectors.base import Connector, Credentials, Field, Limits, Network, PermanentError

log = logging.getLogger(__name__)

__all__ = [
    "NETWORKS",
    "PACKAGES",
    "Field",
    "Network",
    "create_connector",
    "get_connector_class",
    "limits_for",
    "load_networks",
    "network_choices",
]

# Connector packages, in the order the connect form lists their networks.
PACKAGES = ("simulator", "mastodon", "bluesky", "x", "meta")

# Packages that failed to import, with the reason: their networks are missing, and a lookup says why.
FAILED: dict[str, str] = {}


def load_networks(packages: tuple[str, ...] = PACKAGES) -> dict[str, Network]:
    """Every network the packages declare. A package that fails to import is logged and left out, so one broken
    package cannot take the others down."""
    found: dict[str, Network] = {}
    FAILED.clear()
    for package in packages:
        try:
            declared = importlib.import_module(f"connectors.{package}.about").NETWORKS
        except Exception as exc:  # any failure inside a package's import is that package's alone
            log.exception("connector package %s failed to import", package)
            FAILED[package] = f"{type(exc).__name__}: {exc}"
            continue
        for network in declared:
            if network.name in found:
                raise RuntimeError(f"network {network.name!r} is declared twice (connectors.{package})")
            found[network.name] = network
    return found


NETWORKS: dict[str, Network] = load_networks()


def _info(network: str) -> Network:
    try:
        return NETWORKS[network]
    except KeyError:
        broken = f" (connector packages that failed to load: {', '.join(sorted(FAILED))})" if FAILED else ""
        raise PermanentError(f"unknown network {network!r}{broken}") from None


def get_connector_class(network: str) -> type:
    return _info(network).connector


def create_connector(credentials: Credentials, **kw: Any) -> Connector:
    """Build the connector for `credentials.network`.

    `kw` (http_client, clock, public_url_for, ...) go to the constructor; ones it does not take
    are dropped, so callers can pass the same keywords to every network (the simulator has no
    http_client, the others no clock)."""
    cls = get_connector_class(credentials.network)
    parameters = inspect.signature(cls).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        dropped = sorted(set(kw) - set(parameters))
        if dropped:
            log.debug("%s connector takes no %s", credentials.network, ", ".join(dropped))
        kw = {k: v for k, v in kw.items() if k in parameters}
    return cls(credentials, **kw)


def limits_for(network: str) -> Limits:
    """Publishing limits before a profile is connected (a Mastodon server may raise them once it is)."""
    return _info(network).limits


def network_choices() -> list[tuple[str, str]]:
    """(name, label) pairs for a select box, in display order."""
    return [(info.name, info.label) for info in NETWORKS.values()]
