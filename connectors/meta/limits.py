"""Facebook Page and Instagram professional-account publishing limits."""

from __future__ import annotations

from connectors.base import Limits

FACEBOOK_LIMITS = Limits(
    max_chars=63206,
    counting="codepoints",
    url_length=None,
    max_images=10,
    max_image_bytes=4_000_000,
    image_types=("image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"),
    alt_text_max=1000,
    supports_idempotency=False,
    # The Graph API has had no public post search since 2018.
    supports_search=False,
)

INSTAGRAM_LIMITS = Limits(
    max_chars=2200,
    counting="codepoints",
    url_length=None,
    max_images=10,  # a carousel
    max_image_bytes=8_000_000,
    # Content publishing accepts JPEG only.
    image_types=("image/jpeg",),
    alt_text_max=1000,
    supports_idempotency=False,
    supports_search=False,
)

# Instagram rejects captions with more than 30 hashtags or 20 @-mentions.
INSTAGRAM_MAX_HASHTAGS = 30
INSTAGRAM_MAX_MENTIONS = 20
