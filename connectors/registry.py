"""Network name -> connector class, and how each network's "Connect a profile" form is described."""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass
from typing import Any

from connectors.base import Connector, Credentials, Limits, PermanentError
from connectors.mastodon.limits import DEFAULT_LIMITS as MASTODON_LIMITS
from connectors.meta.limits import FACEBOOK_LIMITS, INSTAGRAM_LIMITS
from connectors.x.limits import LIMITS as X_LIMITS

log = logging.getLogger(__name__)

__all__ = [
    "NETWORKS",
    "Field",
    "NetworkInfo",
    "create_connector",
    "get_connector_class",
    "limits_for",
    "network_choices",
]


@dataclass(frozen=True)
class Field:
    """One input on the connect form. Labels and help are English source strings for the translation catalogue."""

    name: str
    label: str
    help: str = ""
    required: bool = True


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    label: str
    class_path: str  # "package.module:Class", imported only when first needed
    config_fields: tuple[Field, ...]
    secret_fields: tuple[Field, ...]
    limits: Limits  # a copy for when the package cannot be imported; limits_for() prefers the package's own
    limits_path: str = ""  # "package.module:NAME" of the package's own Limits


# Bluesky and the simulator are written elsewhere; their limits are restated here so the
# form and the composer still work if those packages fail to import.
BLUESKY_LIMITS = Limits(max_chars=300, counting="graphemes", max_images=4, max_image_bytes=1_000_000,
                        image_types=("image/jpeg", "image/png", "image/webp"), alt_text_max=2000)
SIMULATOR_LIMITS = Limits(max_chars=500, counting="graphemes", supports_idempotency=True)

NETWORKS: dict[str, NetworkInfo] = {
    "simulator": NetworkInfo(
        name="simulator",
        label="Simulator (training and exercises)",
        class_path="connectors.simulator:SimulatorConnector",
        config_fields=(
            Field("handle", "Handle", "The exercise account's name, for example @cityofexample."),
            Field("display_name", "Display name", required=False),
            Field("scenario", "Scenario", "normal or flood: which exercise script feeds the inbox.", required=False),
        ),
        secret_fields=(),
        limits=SIMULATOR_LIMITS,
        limits_path="connectors.simulator.limits:LIMITS",
    ),
    "mastodon": NetworkInfo(
        name="mastodon",
        label="Mastodon",
        class_path="connectors.mastodon:MastodonConnector",
        config_fields=(Field("instance_url", "Server address", "For example social.example.gov — the server the account lives on."),),
        secret_fields=(
            Field("access_token", "Access token", "From Preferences → Development → New application on your server, or from signing in here."),
            Field("client_id", "Client key", "Only needed to sign in through GovSocial's own app registration.", required=False),
            Field("client_secret", "Client secret", "Only needed with the client key.", required=False),
        ),
        limits=MASTODON_LIMITS,
    ),
    "bluesky": NetworkInfo(
        name="bluesky",
        label="Bluesky",
        class_path="connectors.bluesky:BlueskyConnector",
        config_fields=(
            Field("handle", "Handle", "For example agency.bsky.social."),
            Field("service_url", "PDS address", "Leave empty for bsky.social.", required=False),
        ),
        secret_fields=(Field("app_password", "App password", "Settings → Privacy and security → App passwords. Never the account password."),),
        limits=BLUESKY_LIMITS,
        limits_path="connectors.bluesky.limits:LIMITS",
    ),
    "x": NetworkInfo(
        name="x",
        label="X (Twitter)",
        class_path="connectors.x:XConnector",
        config_fields=(Field("user_id", "Account id", "The numeric id of the X account, not the @handle."),),
        secret_fields=(
            Field("bearer_token", "App bearer token", "From the developer portal; used for keyword search.", required=False),
            Field("user_access_token", "User access token", "OAuth 2.0 token with tweet.read, tweet.write, users.read and media.write; needed to post and read mentions."),
        ),
        limits=X_LIMITS,
    ),
    "facebook": NetworkInfo(
        name="facebook",
        label="Facebook Page",
        class_path="connectors.meta:FacebookConnector",
        config_fields=(Field("page_id", "Page id", "The numeric id under Page settings → About."),),
        secret_fields=(Field("page_access_token", "Page access token", "A long-lived Page token with pages_manage_posts, pages_read_engagement and pages_manage_engagement."),),
        limits=FACEBOOK_LIMITS,
    ),
    "instagram": NetworkInfo(
        name="instagram",
        label="Instagram",
        class_path="connectors.meta:InstagramConnector",
        config_fields=(Field("ig_user_id", "Instagram account id", "The Instagram professional account linked to your Facebook Page."),),
        secret_fields=(Field("page_access_token", "Page access token", "The linked Page's token with instagram_basic, instagram_content_publish and instagram_manage_comments."),),
        limits=INSTAGRAM_LIMITS,
    ),
}


def _info(network: str) -> NetworkInfo:
    try:
        return NETWORKS[network]
    except KeyError:
        raise PermanentError(f"unknown network {network!r}") from None


def get_connector_class(network: str) -> type:
    """The connector class, imported on first use so one broken package cannot take the others down."""
    module_name, _, class_name = _info(network).class_path.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        log.exception("connector for %s failed to import", network)
        raise PermanentError(f"the {network} connector is not available: {exc}") from exc


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
    info = _info(network)
    if info.limits_path:
        module_name, _, name = info.limits_path.partition(":")
        try:
            limits = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            log.warning("limits for %s unavailable from its package; using the registry's copy", network)
        else:
            if isinstance(limits, Limits):
                return limits
    return info.limits


def network_choices() -> list[tuple[str, str]]:
    """(name, label) pairs for a select box, in display order."""
    return [(info.name, info.label) for info in NETWORKS.values()]
