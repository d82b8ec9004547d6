"""The media check and file read every publishing connector shares (connectors/media.py)."""

from __future__ import annotations

import pytest

from connectors.base import Limits, MediaAttachment, OutboundPost, PermanentError
from connectors.media import check_media, read_media

LIMITS = Limits(max_chars=500, max_images=2, image_types=("image/png",), alt_text_max=10)


def post(*media: MediaAttachment) -> OutboundPost:
    return OutboundPost(text="x", idempotency_key="k", media=media)


def test_a_post_within_the_limits_passes():
    check_media(post(MediaAttachment("/a.png", "image/png", "a map")), LIMITS)


@pytest.mark.parametrize(("media", "message"), [
    ((MediaAttachment("/a.png", "image/png", "a"),) * 3, "at most 2 images per status"),
    ((MediaAttachment("/a.gif", "image/gif", "a"),), "image/gif is not an accepted image type"),
    ((MediaAttachment("/a.png", "image/png", "  "),), "every image needs alt text"),
    ((MediaAttachment("/a.png", "image/png", "x" * 11),), "alt text is longer than 10 characters"),
])
def test_what_the_network_would_refuse_is_refused_before_upload(media, message):
    with pytest.raises(PermanentError, match=message):
        check_media(post(*media), LIMITS, per="status")


def test_reading_a_stored_file(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG")
    assert read_media(str(tmp_path / "a.png")) == b"\x89PNG"
    with pytest.raises(PermanentError, match="cannot be read"):
        read_media(str(tmp_path / "gone.png"))
