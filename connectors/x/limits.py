"""X (Twitter) publishing limits: 280 weighted characters, links as 23, four images."""

from __future__ import annotations

from connectors.base import Limits

LIMITS = Limits(
    max_chars=280,
    counting="x-weighted",
    url_length=23,
    max_images=4,
    max_image_bytes=5_000_000,
    image_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
    # POST /2/media/metadata caps alt_text.text at 1000 characters.
    alt_text_max=1000,
    # X has no idempotency header; duplicates are caught by looking up our own recent posts instead.
    supports_idempotency=False,
    supports_search=True,
)
