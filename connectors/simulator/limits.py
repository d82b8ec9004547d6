"""Publishing rules of the simulated network: 500 graphemes, up to 4 images, idempotency keys honoured."""

from __future__ import annotations

import os

from connectors import textcount
from connectors.base import Limits, MediaAttachment, PermanentError

LIMITS = Limits(
    max_chars=500,
    counting="graphemes",
    url_length=None,  # the simulator does not shorten links: a URL costs its full length
    max_images=4,
    max_image_bytes=5_000_000,
    alt_text_max=1500,
    supports_idempotency=True,
    supports_search=True,
)


def post_body(text: str, link: str) -> str:
    """The text as it will appear: a link that the text does not already contain goes on the end."""
    if link and link not in text:
        return f"{text.rstrip()}\n\n{link}" if text.strip() else link
    return text


def validate(text: str, media: tuple[MediaAttachment, ...] = (), link: str = "", *, limits: Limits = LIMITS) -> str:
    """The body to publish, or PermanentError saying what the network would reject and why."""
    body = post_body(text, link)
    if not body.strip() and not media:
        raise PermanentError("The post is empty: write some text or attach an image.")
    length = textcount.count(body, limits)
    if length > limits.max_chars:
        raise PermanentError(f"The post is {length} characters long; the simulator allows {limits.max_chars}.")
    if len(media) > limits.max_images:
        raise PermanentError(f"{len(media)} images attached; the simulator allows {limits.max_images}.")
    for item in media:
        if item.mime_type not in limits.image_types:
            raise PermanentError(f"{item.mime_type or 'unknown type'} is not an image type the simulator accepts.")
        alt_length = textcount.count(item.alt_text or "", limits)
        if alt_length > limits.alt_text_max:
            raise PermanentError(f"Alt text is {alt_length} characters long; the simulator allows {limits.alt_text_max}.")
        try:
            size = os.path.getsize(item.path)
        except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
            reason = getattr(exc, "strerror", None) or exc
            raise PermanentError(f"The image {os.path.basename(item.path)!r} cannot be read: {reason}") from exc
        if size > limits.max_image_bytes:
            name = os.path.basename(item.path)
            raise PermanentError(f"The image {name!r} is {size} bytes; the simulator allows {limits.max_image_bytes}.")
    return body
