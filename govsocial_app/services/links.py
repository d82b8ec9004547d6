"""Links: those that come from other servers (social networks), of which only http and https are ever stored or
shown; and the inbox's own filtered links that alerts carry (kernel, so alerting needs nothing from inbox/)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode, urlsplit

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


def inbox_link(*, profile_id: int | None = None, tag_id: int | None = None, kind: str = "", since: datetime | None = None,
               q: str = "") -> str:
    """`/inbox?...` filtered as given, in the query-string shape the inbox page reads (inbox.stream.InboxFilter parses
    it; tests/alerts/test_links.py holds the two to the same string): parameters in the page's order, empty ones left
    out, times to the minute in UTC."""
    params = {"profile": str(profile_id or ""), "tag": str(tag_id or ""), "kind": kind,
              "since": since.strftime("%Y-%m-%dT%H:%M") if since else "", "q": q}
    return "/inbox?" + urlencode({k: v for k, v in params.items() if v})
