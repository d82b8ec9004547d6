"""Bluesky's publishing rules (300 graphemes, four 1 MB images with alt text) and the checks that enforce them."""

from __future__ import annotations

from pathlib import Path

from connectors.base import Limits, OutboundPost, PermanentError
from connectors.textcount import count

__all__ = ["LIMITS", "MAX_TEXT_BYTES", "compose_text", "validate"]

LIMITS = Limits(
    max_chars=300,
    counting="graphemes",
    url_length=None,  # Bluesky shows links in full, so they count in full
    max_images=4,
    max_image_bytes=1_000_000,
    image_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
    alt_text_max=2000,
    # No idempotency header, but a record key derived from our key makes a repeat fail as a duplicate.
    supports_idempotency=True,
    supports_search=True,
)

# The post lexicon also caps the text at 3000 UTF-8 bytes, which long emoji sequences can reach first.
MAX_TEXT_BYTES = 3000


def compose_text(post: OutboundPost) -> str:
    """The text as published: a link that is not already in the text goes on its own line at the end."""
    text = post.text
    if post.link and post.link not in text:
        text = f"{text.rstrip()}\n{post.link}" if text.strip() else post.link
    return text


def validate(post: OutboundPost) -> str:
    """Return the text to publish, or raise PermanentError saying which rule the post breaks."""
    text = compose_text(post)
    if not text.strip() and not post.media:
        raise PermanentError("Bluesky post is empty: add text or an image")
    length = count(text, LIMITS)
    if length > LIMITS.max_chars:
        raise PermanentError(f"Bluesky post is {length} characters (graphemes); the limit is {LIMITS.max_chars}")
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise PermanentError(f"Bluesky post text is over {MAX_TEXT_BYTES} bytes of UTF-8")
    if len(post.media) > LIMITS.max_images:
        raise PermanentError(f"Bluesky allows at most {LIMITS.max_images} images, got {len(post.media)}")
    for number, media in enumerate(post.media, start=1):
        if media.mime_type not in LIMITS.image_types:
            raise PermanentError(f"image {number}: Bluesky does not accept {media.mime_type or 'this type'}")
        alt_length = count(media.alt_text, LIMITS)
        if alt_length > LIMITS.alt_text_max:
            raise PermanentError(
                f"image {number}: alt text is {alt_length} characters; the limit is {LIMITS.alt_text_max}"
            )
        try:
            size = Path(media.path).stat().st_size
        except OSError as exc:
            raise PermanentError(f"image {number}: cannot read {media.path}: {exc.strerror}") from exc
        if size > LIMITS.max_image_bytes:
            raise PermanentError(
                f"image {number} is {size:,} bytes; Bluesky accepts at most {LIMITS.max_image_bytes:,}"
            )
    return text
