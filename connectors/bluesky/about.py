"""Bluesky as the registry, the connect form and the composer see it."""

from connectors.base import Field, Network
from connectors.bluesky.connector import BlueskyConnector
from connectors.bluesky.limits import LIMITS

NETWORKS = (
    Network(
        name="bluesky",
        label="Bluesky",
        connector=BlueskyConnector,
        fields=(
            Field("handle", "Handle", "For example agency.bsky.social."),
            Field("service_url", "PDS address", "Leave empty for bsky.social.", required=False),
            Field("app_password", "App password", "Settings → Privacy and security → App passwords. Never the account password.", secret=True),
        ),
        limits=LIMITS,
    ),
)
