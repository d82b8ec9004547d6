"""Mastodon publishing limits, with the instance's own configuration taking precedence."""

from __future__ import annotations

import dataclasses
import re
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
    # Mastodon documents Idempotency-Key, but mastodon_mock and many API-compatible servers ignore it:
    # not honoured until the instance shows it is Mastodon itself (see honours_idempotency).
    supports_idempotency=False,
    supports_search=True,
)


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


OFFICIAL_SOURCE = "https://github.com/mastodon/mastodon"
_PLAIN_VERSION = re.compile(r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?")


def honours_idempotency(instance: Any) -> bool:
    """Only Mastodon itself (v2 instance: source_url is the official repository, a plain version) is known to
    honour Idempotency-Key. Forks and compatible servers say "4.0.0 (compatible; X)" or link elsewhere. Even
    then nothing relies on it for safety: the publisher reconciles after any ambiguous failure."""
    if not isinstance(instance, dict):
        return False
    version = instance.get("version")
    return (instance.get("source_url") == OFFICIAL_SOURCE and isinstance(version, str)
            and _PLAIN_VERSION.fullmatch(version.strip()) is not None)


def limits_from_instance(instance: Any, base: Limits = DEFAULT_LIMITS) -> Limits:
    """Limits from `/api/v2/instance` (or v1) JSON; any field the server omits or garbles keeps its default.

    Glitch-soc and other forks raise `max_characters`, which is why we ask."""
    base = dataclasses.replace(base, supports_idempotency=honours_idempotency(instance))
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
