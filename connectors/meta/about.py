"""Facebook Pages and Instagram as the registry, the connect form and the composer see them."""

from connectors.base import Field, Network
from connectors.meta.facebook import FacebookConnector
from connectors.meta.instagram import InstagramConnector
from connectors.meta.limits import FACEBOOK_LIMITS, INSTAGRAM_LIMITS

NETWORKS = (
    Network(
        name="facebook",
        label="Facebook Page",
        connector=FacebookConnector,
        fields=(
            Field("page_id", "Page id", "The numeric id under Page settings → About."),
            Field("page_access_token", "Page access token",
                  "A long-lived Page token with pages_manage_posts, pages_read_engagement and pages_manage_engagement.", secret=True),
        ),
        limits=FACEBOOK_LIMITS,
    ),
    Network(
        name="instagram",
        label="Instagram",
        connector=InstagramConnector,
        fields=(
            Field("ig_user_id", "Instagram account id", "The Instagram professional account linked to your Facebook Page."),
            Field("page_access_token", "Page access token",
                  "The linked Page's token with instagram_basic, instagram_content_publish and instagram_manage_comments.", secret=True),
        ),
        limits=INSTAGRAM_LIMITS,
    ),
)
