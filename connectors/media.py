"""What every network's publish step does with images before its own upload: the check against the network's
Limits, and reading the file the composer stored."""

from __future__ import annotations

from pathlib import Path

from connectors.base import Limits, OutboundPost, PermanentError


def check_media(post: OutboundPost, limits: Limits, *, per: str = "post") -> None:
    """Refuse, before anything is uploaded, a post with too many images, an image type the network does not take,
    or an image without alt text (or with more than the network keeps). `per` names the network's post ("status")."""
    if len(post.media) > limits.max_images:
        raise PermanentError(f"at most {limits.max_images} images per {per}")
    for attachment in post.media:
        if attachment.mime_type not in limits.image_types:
            raise PermanentError(f"{attachment.mime_type} is not an accepted image type")
        if not attachment.alt_text.strip():
            raise PermanentError("every image needs alt text")
        if len(attachment.alt_text) > limits.alt_text_max:
            raise PermanentError(f"alt text is longer than {limits.alt_text_max} characters")


def read_media(path: str) -> bytes:
    """The stored media file's bytes; a file that is gone or unreadable is a permanent failure of this post."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise PermanentError(f"media file {path!r} cannot be read: {exc.strerror}") from exc
