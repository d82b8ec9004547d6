"""Alert links are inbox filter URLs built in the kernel (services/links.inbox_link), so that alerting needs nothing
from inbox/. They must be the very string the inbox's own filter makes, and the inbox must read them back."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest

from govsocial_app.services.inbox.stream import InboxFilter, filter_from_params
from govsocial_app.services.links import inbox_link

SINCE = datetime(2026, 11, 24, 9, 59, tzinfo=timezone.utc)


@pytest.mark.parametrize("filters", [
    {},
    {"since": SINCE},
    {"profile_id": 7, "since": SINCE},
    {"profile_id": 7, "since": SINCE, "q": "flood & dam?"},
    {"tag_id": 3, "since": SINCE, "q": "سد الحالدن"},
    {"kind": "keyword", "since": SINCE, "q": "power cut"},
    {"tag_id": 3},
])
def test_alert_links_are_the_inboxs_own_filter_urls(filters):
    link = inbox_link(**filters)
    assert link == "/inbox?" + InboxFilter(**filters).to_query()
    parts = urlsplit(link)
    assert parts.path == "/inbox"
    assert filter_from_params(dict(parse_qsl(parts.query))) == InboxFilter(**filters)
