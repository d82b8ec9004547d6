"""Mastodon as the registry, the connect form and the composer see it."""

from connectors.base import Field, Network
from connectors.mastodon.connector import MastodonConnector
from connectors.mastodon.limits import DEFAULT_LIMITS

NETWORKS = (
    Network(
        name="mastodon",
        label="Mastodon",
        connector=MastodonConnector,
        fields=(
            Field("instance_url", "Server address", "For example social.example.gov — the server the account lives on."),
            Field("access_token", "Access token", "From Preferences → Development → New application on your server, or from signing in here.",
                  secret=True),
            Field("client_id", "Client key", "Only needed to sign in through GovSocial's own app registration.", required=False, secret=True),
            Field("client_secret", "Client secret", "Only needed with the client key.", required=False, secret=True),
        ),
        limits=DEFAULT_LIMITS,  # until the server says its own (MastodonConnector.load_limits)
    ),
)
