"""Index feeds (Atom, RSS, IPAWS-style containers, a single CAP URL), polling guidance, and the async fetcher
against a real local HTTP server that serves an index, an update and a cancellation, and then goes down."""

from __future__ import annotations

import socket

import pytest

from govsocial_app.services.cap.errors import FeedError, MalformedXML, NotCap12, UnsafeXML
from govsocial_app.services.cap.feeds import (
    PollPolicy,
    PollState,
    next_delay,
    parse_index,
    poll_source,
    policy_for,
)
from tests.cap.feed_server import FeedServer, atom_index
from tests.cap.helpers import fixture

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


# ---------------------------------------------------------------- index documents


def test_atom_index_prefers_the_cap_typed_link():
    feed = parse_index(b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>NWS</title>
      <entry><id>urn:oid:2.49.0.1.840.0.abc</id><updated>2026-11-24T09:05:00-08:00</updated><title>Flood Warning</title>
        <link rel="alternate" type="text/html" href="https://alerts.example.gov/abc.html"/>
        <link rel="alternate" type="application/cap+xml" href="/cap/abc.xml"/></entry>
      <entry><id>https://alerts.example.gov/cap/def.xml</id><updated>2026-11-24T10:00:00-08:00</updated></entry>
      <entry><id>no-link</id></entry>
    </feed>""", base_url="https://alerts.example.gov/feed.atom")
    assert feed.kind == "atom" and feed.title == "NWS"
    assert [e.link for e in feed.entries] == ["https://alerts.example.gov/cap/abc.xml", "https://alerts.example.gov/cap/def.xml"]
    assert feed.entries[0].updated == "2026-11-24T09:05:00-08:00"


def test_rss_index_with_a_cap_enclosure_or_a_link():
    feed = parse_index(b"""<rss version="2.0"><channel><title>County alerts</title>
      <item><title>A</title><guid isPermaLink="false">a-1</guid><link>https://c.example.gov/a.html</link>
        <enclosure url="https://c.example.gov/a.cap" type="application/cap+xml" length="100"/><pubDate>Tue, 24 Nov 2026 17:05:00 GMT</pubDate></item>
      <item><title>B</title><link>https://c.example.gov/b.xml</link></item>
      <item><title>C</title><link>javascript:alert(1)</link></item>
    </channel></rss>""")
    assert feed.kind == "rss"
    assert [(e.id, e.link) for e in feed.entries] == [("a-1", "https://c.example.gov/a.cap"), ("https://c.example.gov/b.xml", "https://c.example.gov/b.xml")]


def test_ipaws_style_container_carries_the_alerts_inline():
    inner = fixture("flood_alert").split(b"?>", 1)[1]
    feed = parse_index(b'<alerts xmlns="http://gov.fema.ipaws.services/feed">' + inner + b"</alerts>")
    assert feed.kind == "alerts" and feed.entries[0].id == "w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0412"
    assert feed.entries[0].inline.startswith(b"<alert")


def test_a_single_cap_document_is_its_own_index():
    feed = parse_index(fixture("flood_alert"), base_url="https://x.example.gov/one.xml")
    assert feed.kind == "cap" and feed.entries[0].link == "https://x.example.gov/one.xml"


def test_bad_indexes_give_typed_errors():
    with pytest.raises(FeedError, match="HTML page"):
        parse_index(b"<html><body>502 Bad Gateway</body></html>")
    with pytest.raises(FeedError, match="not Atom, RSS"):
        parse_index(b"<whatever/>")
    with pytest.raises(NotCap12):
        parse_index(fixture("cap11_alert"))
    with pytest.raises(MalformedXML):
        parse_index(b"<feed")
    with pytest.raises(UnsafeXML):
        parse_index(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><feed xmlns="http://www.w3.org/2005/Atom">&e;</feed>')


# ---------------------------------------------------------------- polling guidance


def test_ipaws_gets_its_two_minute_floor():
    assert policy_for("https://apps.fema.gov/IPAWSOPEN_EAS_SERVICE/rest/public/recent/2026-11-24", 30).interval_s == 120
    assert policy_for("https://alerts.example.gov/feed.atom", 30).interval_s == 30
    assert policy_for("https://alerts.example.gov/feed.atom", 1).interval_s == 5  # our own floor


def test_next_delay_respects_max_age_retry_after_and_backs_off():
    policy = PollPolicy(interval_s=60, max_interval_s=900, max_backoff_s=1800)
    assert next_delay(policy) == 60
    assert next_delay(policy, headers={"cache-control": "public, max-age=300"}) == 300
    assert next_delay(policy, headers={"cache-control": "max-age=300", "age": "100"}) == 200
    assert next_delay(policy, headers={"cache-control": "max-age=86400"}) == 900  # capped: an emergency feed
    assert next_delay(policy, headers={"cache-control": "no-cache, max-age=300"}) == 60
    assert next_delay(policy, headers={"cache-control": "max-age=10"}) == 60  # never faster than the interval
    assert [next_delay(policy, failures=n) for n in (1, 2, 3, 10)] == [120, 240, 480, 1800]
    assert next_delay(policy, retry_after=3600) == 3600  # the server's explicit wish wins over our caps


def test_poll_state_round_trips_through_json():
    state = PollState('"abc"', "Tue, 24 Nov 2026 17:05:00 GMT", ("a\x1fb",), 2)
    assert PollState.from_dict(state.to_dict()) == state
    assert PollState.from_dict(None) == PollState()


# ---------------------------------------------------------------- the fetcher against a real server


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


async def test_poll_fetches_new_entries_then_uses_a_conditional_get(server):
    server.put("/cap/0412.xml", fixture("flood_alert"))
    server.put("/index.atom", atom_index(server.base, [("0412", "2026-11-24T17:05:00Z", "/cap/0412.xml")]),
               content_type="application/atom+xml", last_modified="Tue, 24 Nov 2026 17:05:00 GMT")
    first = await poll_source(server.url("/index.atom"), policy=PollPolicy(interval_s=5))
    assert first.status == "ok" and first.http_status == 200 and first.entries_total == 1 and first.feed_kind == "atom"
    (got,) = first.alerts
    assert got.error is None and got.alert.identifier == "NWS-FLW-STO-2026-0412" and got.raw == fixture("flood_alert")
    assert first.state.etag and first.state.last_modified == "Tue, 24 Nov 2026 17:05:00 GMT"
    assert first.next_poll_in_s == 5

    second = await poll_source(server.url("/index.atom"), first.state, policy=PollPolicy(interval_s=5))
    assert second.status == "not_modified" and second.http_status == 304 and second.alerts == ()
    index_requests = server.hits("/index.atom")
    assert index_requests[1]["if-none-match"] == first.state.etag
    assert index_requests[1]["if-modified-since"] == "Tue, 24 Nov 2026 17:05:00 GMT"
    assert len(server.hits("/cap/0412.xml")) == 1  # the document is not fetched again


async def test_update_and_cancel_arrive_as_new_entries_and_old_ones_are_not_refetched(server):
    server.put("/cap/0412.xml", fixture("flood_alert"))
    server.put("/index.atom", atom_index(server.base, [("0412", "t1", "/cap/0412.xml")]))
    state = (await poll_source(server.url("/index.atom"))).state
    server.put("/cap/0413.xml", fixture("flood_update"))
    server.put("/cap/0414.xml", fixture("flood_cancel"))
    server.put("/index.atom", atom_index(server.base, [("0414", "t3", "/cap/0414.xml"), ("0413", "t2", "/cap/0413.xml"), ("0412", "t1", "/cap/0412.xml")]))
    result = await poll_source(server.url("/index.atom"), state)
    assert sorted(f.alert.msg_type for f in result.alerts) == ["Cancel", "Update"]
    assert len(server.hits("/cap/0412.xml")) == 1
    # a changed <updated> on a listed entry is a change: it is fetched again
    server.put("/index.atom", atom_index(server.base, [("0412", "t1-corrected", "/cap/0412.xml")]))
    again = await poll_source(server.url("/index.atom"), result.state)
    assert [f.alert.identifier for f in again.alerts] == ["NWS-FLW-STO-2026-0412"]
    assert len(again.state.seen) == 1  # entries that left the index are forgotten


async def test_a_broken_cap_document_is_reported_per_entry_not_per_feed(server):
    server.put("/cap/bad.xml", fixture("flood_alert")[:-40])
    server.put("/cap/v11.xml", fixture("cap11_alert"))
    server.put("/cap/good.xml", fixture("flood_alert"))
    server.put("/index.atom", atom_index(server.base, [("bad", "t", "/cap/bad.xml"), ("v11", "t", "/cap/v11.xml"), ("good", "t", "/cap/good.xml")]))
    result = await poll_source(server.url("/index.atom"))
    assert result.status == "ok"
    errors = {f.entry.id.rsplit("/", 1)[-1]: f.error.code for f in result.alerts if f.error}
    assert errors == {"bad.xml": "malformed_xml", "v11.xml": "wrong_version"}
    assert [f.alert.identifier for f in result.alerts if f.alert] == ["NWS-FLW-STO-2026-0412"]
    # broken documents are remembered as handled: not downloaded again every poll
    await poll_source(server.url("/index.atom"), result.state)
    assert len(server.hits("/cap/bad.xml")) == 1


async def test_an_entry_that_fails_to_download_is_tried_again_next_poll(server):
    server.put("/index.atom", atom_index(server.base, [("0412", "t", "/cap/0412.xml")]))
    first = await poll_source(server.url("/index.atom"))  # the document is not there yet: 404
    assert first.status == "ok" and first.alerts == () and first.state.seen == ()
    server.put("/cap/0412.xml", fixture("flood_alert"))
    second = await poll_source(server.url("/index.atom"), first.state)
    assert [f.alert.identifier for f in second.alerts] == ["NWS-FLW-STO-2026-0412"]


async def test_links_to_another_host_are_not_followed_unless_allowed(server):
    # The index is served as 127.0.0.1 and links to "localhost": another host name, on this machine only.
    server.put("/cap/0412.xml", fixture("flood_alert"))
    other = server.base.replace("127.0.0.1", "localhost")
    server.put("/index.atom", atom_index(other, [("0412", "t", "/cap/0412.xml")]))
    result = await poll_source(server.url("/index.atom"))
    (refused,) = result.alerts
    assert refused.error is not None and "another host" in refused.error.message
    assert server.hits("/cap/0412.xml") == []  # never requested
    allowed = await poll_source(server.url("/index.atom"), allowed_hosts=["localhost"])
    assert [f.alert.identifier for f in allowed.alerts] == ["NWS-FLW-STO-2026-0412"]


async def test_a_feed_that_is_down_gives_an_error_status_and_backs_off():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await poll_source(f"http://127.0.0.1:{port}/index.atom", PollState(failures=2), policy=PollPolicy(interval_s=60))
    assert result.status == "error" and result.error_code == "unreachable"
    assert "could not be reached" in result.error
    assert result.state.failures == 3 and result.next_poll_in_s == 480


async def test_503_with_retry_after_and_html_error_pages(server):
    server.put("/index.atom", b"busy", status=503, headers={"Retry-After": "600"})
    busy = await poll_source(server.url("/index.atom"), policy=PollPolicy(interval_s=60))
    assert busy.status == "error" and busy.http_status == 503 and busy.next_poll_in_s == 600
    server.put("/index.atom", b"<html><body>Maintenance</body></html>", content_type="text/html")
    html = await poll_source(server.url("/index.atom"))
    assert html.status == "error" and html.error_code == "invalid_feed" and "HTML page" in html.error


async def test_an_oversized_download_is_cut_off(server):
    server.put("/cap/big.xml", b"<alert>" + b" " * 200_000 + b"</alert>")
    server.put("/index.atom", atom_index(server.base, [("big", "t", "/cap/big.xml")]))
    result = await poll_source(server.url("/index.atom"), max_bytes=100_000)
    (big,) = result.alerts
    assert big.error is not None and big.error.code == "too_large"


async def test_a_single_cap_url_as_a_source(server):
    server.put("/one.xml", fixture("flood_alert"))
    result = await poll_source(server.url("/one.xml"))
    assert [f.alert.identifier for f in result.alerts] == ["NWS-FLW-STO-2026-0412"]
    assert len(server.hits("/one.xml")) == 1  # the index is the document: one request
