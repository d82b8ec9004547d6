"""X as the registry, the connect form and the composer see it."""

from connectors.base import Field, Network
from connectors.x.connector import XConnector
from connectors.x.limits import LIMITS

NETWORKS = (
    Network(
        name="x",
        label="X (Twitter)",
        connector=XConnector,
        fields=(
            Field("user_id", "Account id", "The numeric id of the X account, not the @handle."),
            Field("bearer_token", "App bearer token", "From the developer portal; used for keyword search.", required=False, secret=True),
            Field("user_access_token", "User access token",
                  "OAuth 2.0 token with tweet.read, tweet.write, users.read and media.write; needed to post and read mentions.", secret=True),
        ),
        limits=LIMITS,
    ),
)
