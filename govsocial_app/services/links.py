"""Links that come from other servers (social networks): only http and https are ever stored or shown."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LINK = 500


def web_link(url: str | None) -> str:
    """The URL itself when it is an absolute http(s) link to a host, else "". A `javascript:`, `data:` or relative link
    from a network would run or navigate inside GovSocial when someone clicks "Open on network"."""
    url = (url or "").strip()
    if not url or len(url) > MAX_LINK or any(ord(ch) < 32 or ch in "\\\x7f" for ch in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url
