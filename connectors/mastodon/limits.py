"""Mastodon publishing limits, with the instance's own configuration taking precedence."""

from __future__ import annotations

import dataclasses
from typing import Any

from connectors.base import Limits

DEFAULT_LIMITS = Limits(
    max_chars=500,
    counting="graphemes",
    url_length=23,
    max_images=4,
    # Mastodon's own default image_size_limit (16 MiB since 4.3; older servers said 10 MiB).
    max_image_bytes=10 * 1024 * 1024,
    image_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
    alt_text_max=1500,
    supports_idempotency=True,
    supports_search=True,
)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def limits_from_instance(instance: Any, base: Limits = DEFAULT_LIMITS) -> Limits:
    """Limits from `/api/v2/instance` (or v1) JSON; any field the server omits or garbles keeps its default.

    Glitch-soc and other forks raise `max_characters`, which is why we ask."""
    config = instance.get("configuration") if isinstance(instance, dict) else None
    if not isinstance(config, dict):
        return base
    statuses = config.get("statuses") if isinstance(config.get("statuses"), dict) else {}
    media = config.get("media_attachments") if isinstance(config.get("media_attachments"), dict) else {}
    changes: dict[str, Any] = {}
    if (value := _positive_int(statuses.get("max_characters"))) is not None:
        changes["max_chars"] = value
    if (value := _positive_int(statuses.get("characters_reserved_per_url"))) is not None:
        changes["url_length"] = value
    if (value := _positive_int(statuses.get("max_media_attachments"))) is not None:
        changes["max_images"] = value
    if (value := _positive_int(media.get("image_size_limit"))) is not None:
        changes["max_image_bytes"] = value
    if (value := _positive_int(media.get("description_limit"))) is not None:
        changes["alt_text_max"] = value
    mime_types = media.get("supported_mime_types")
    if isinstance(mime_types, list):
        images = tuple(t for t in mime_types if isinstance(t, str) and t.startswith("image/"))
        if images:
            changes["image_types"] = images
    return dataclasses.replace(base, **changes)
