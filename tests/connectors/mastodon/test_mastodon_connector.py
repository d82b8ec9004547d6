"""respx tests for MastodonConnector: every protocol method, paging, faults and OAuth helpers."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
import respx

from connectors.base import (
    KIND_KEYWORD,
    AuthError,
    Connector,
    Credentials,
    MediaAttachment,
    OutboundPost,
    PermanentError,
    RateLimited,
    SearchQuery,
    TransientError,
)
from connectors.http import OutcomeUnknown
from connectors.mastodon import MastodonConnector, authorize_url, exchange_code, register_app
from connectors.mastodon.connector import HashtagsOnly
from connectors.mastodon.oauth import AppRegistration

from tests.connectors.connector_testkit import load_fixture

BASE = "https://gov.example"
OWN_ID = "14715"


def fx(name):
    return load_fixture("mastodon", name)


def make_notification(n: int) -> dict:
    notification = copy.deepcopy(fx("notifications_mention")[0])
    notification["id"] = str(40_000_000 + n)
    notification["status"]["id"] = str(103_200_000_000_000_000 + n)
    notification["status"]["content"] = f"<p>mention number {n}</p>"
    notification["status"]["in_reply_to_account_id"] = None
    return notification


class FakeNotifications:
    """Serves /api/v1/notifications with Mastodon's min_id semantics; can go down and come back."""

    def __init__(self, count: int):
        self.items = [make_notification(n) for n in range(1, count + 1)]
        self.down_from_call: int | None = None
        self.calls = 0
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        self.requests.append(request)
        if self.down_from_call is not None and self.calls >= self.down_from_call:
            return httpx.Response(502, json={"error": "Bad gateway"})
        params = request.url.params
        assert params.get_list("types[]") == ["mention"]
        limit = int(params.get("limit", 40))
        if "min_id" in params:
            page = [i for i in self.items if int(i["id"]) > int(params["min_id"])][:limit]
        else:
            page = self.items[-limit:]
        page = list(reversed(page))
        headers = {}
        if page:
            headers["Link"] = f'<{BASE}/api/v1/notifications?min_id={page[0]["id"]}&limit={limit}>; rel="prev"'
        return httpx.Response(200, json=page, headers=headers)


@pytest.fixture
def credentials():
    return Credentials(network="mastodon", config={"instance_url": "gov.example/"}, secrets={"access_token": "tok"})


@pytest.fixture
async def connector(credentials):
    c = MastodonConnector(credentials)
    yield c
    await c.aclose()


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/api/v2/instance").respond(200, json=fx("instance_v2"))
        router.get("/api/v1/accounts/verify_credentials").respond(200, json=fx("verify_credentials"))
        yield router


def test_is_a_connector(connector):
    assert isinstance(connector, Connector)
    assert connector.network == "mastodon"
    assert connector.instance_url == BASE


def test_missing_token_is_auth_error():
    with pytest.raises(AuthError):
        MastodonConnector(Credentials("mastodon", {"instance_url": BASE}, {}))


def test_missing_instance_is_permanent():
    with pytest.raises(PermanentError):
        MastodonConnector(Credentials("mastodon", {}, {"access_token": "t"}))


async def test_check_returns_author_and_loads_limits(connector, api):
    author = await connector.check()
    assert author.external_id == OWN_ID and author.handle == "@trwnh@gov.example"
    assert api.calls[0].request.headers["Authorization"] == "Bearer tok"
    assert api.calls[0].request.headers["User-Agent"].startswith("GovSocial/")
    assert connector.limits.max_image_bytes == 16777216


async def test_check_401_is_auth_error(connector, api, sleeps):
    api.get("/api/v1/accounts/verify_credentials").respond(401, json=fx("error_401"))
    with pytest.raises(AuthError, match="access token is invalid"):
        await connector.check()
    assert sleeps == []


async def test_limits_fall_back_to_v1_instance(connector, api):
    api.get("/api/v2/instance").respond(404, json={"error": "Record not found"})
    api.get("/api/v1/instance").respond(200, json={**fx("instance_v1"), "configuration": {"statuses": {"max_characters": 1000}}})
    limits = await connector.load_limits()
    assert limits.max_chars == 1000


async def test_limits_keep_defaults_when_instance_down(connector, api, sleeps):
    api.get("/api/v2/instance").respond(500)
    api.get("/api/v1/instance").respond(502)
    limits = await connector.load_limits()
    assert limits.max_chars == 500


async def test_limits_fall_back_to_v1_when_v2_fails_with_a_server_error(connector, api, sleeps):
    """Issue 14: a real server answered /api/v2/instance with 5xx; v1 still had the limits."""
    api.get("/api/v2/instance").respond(502)
    v1 = api.get("/api/v1/instance").respond(200, json={**fx("instance_v1"), "configuration": {"statuses": {"max_characters": 1000}}})
    limits = await connector.load_limits()
    assert limits.max_chars == 1000 and v1.call_count == 1


async def test_limits_are_cached_per_profile_not_asked_on_every_publish(credentials, api, sleeps):
    v2 = api.get("/api/v2/instance").respond(200, json=fx("instance_v2"))
    api.post("/api/v1/statuses").respond(200, json=fx("status"))
    for n in range(3):
        fresh = MastodonConnector(credentials)
        await fresh.publish(OutboundPost(text=f"Notice {n}", idempotency_key=f"k{n}"))
        await fresh.aclose()
    assert v2.call_count == 1


async def test_profile_metrics(connector, api):
    metrics = await connector.profile_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (821, 178, 33120)


async def test_post_metrics_skips_deleted(connector, api):
    status = fx("status")
    api.get(f"/api/v1/statuses/{status['id']}").respond(200, json=status)
    api.get("/api/v1/statuses/404404").respond(404, json={"error": "Record not found"})
    metrics = await connector.post_metrics([status["id"], "404404"])
    assert [(m.external_id, m.likes, m.reposts, m.replies) for m in metrics] == [(status["id"], 11, 6, 5)]


# ---------------------------------------------------------------- mentions


async def test_first_fetch_reads_newest_page_oldest_first(connector, api):
    server = FakeNotifications(100)
    api.get("/api/v1/notifications").mock(side_effect=server)
    page = await connector.fetch_mentions()
    assert server.calls == 1
    assert len(page.items) == 80
    assert [m.text for m in page.items] == [f"mention number {n}" for n in range(21, 101)]
    assert page.cursor == server.items[-1]["id"]
    assert page.items[0].kind == "mention"


async def test_fetch_from_cursor_pages_forward_without_gaps(connector, api):
    server = FakeNotifications(250)
    api.get("/api/v1/notifications").mock(side_effect=server)
    page = await connector.fetch_mentions(cursor=server.items[9]["id"])  # seen 1..10 already
    assert [m.text for m in page.items] == [f"mention number {n}" for n in range(11, 251)]
    assert page.cursor == server.items[-1]["id"]
    assert server.calls == 4  # three full pages of 80, then an empty one proves we caught up
    again = await connector.fetch_mentions(cursor=page.cursor)
    assert again.items == [] and again.cursor == page.cursor


async def test_failure_mid_paging_loses_and_repeats_nothing(connector, api, sleeps):
    server = FakeNotifications(300)
    api.get("/api/v1/notifications").mock(side_effect=server)
    server.down_from_call = 3  # page 1 and 2 arrive, page 3 keeps failing through every retry
    first = await connector.fetch_mentions(cursor=server.items[0]["id"])
    assert len(first.items) == 160
    assert first.cursor == server.items[160]["id"]  # just past the last notification delivered
    assert len(sleeps) == 3  # the failing page was retried with backoff before giving up

    server.down_from_call = None
    second = await connector.fetch_mentions(cursor=first.cursor)
    texts = [m.text for m in first.items + second.items]
    assert texts == [f"mention number {n}" for n in range(2, 301)]
    assert len({m.external_id for m in first.items + second.items}) == 299


async def test_failure_on_first_page_raises_and_keeps_cursor(connector, api, sleeps):
    server = FakeNotifications(10)
    server.down_from_call = 1
    api.get("/api/v1/notifications").mock(side_effect=server)
    with pytest.raises(TransientError):
        await connector.fetch_mentions(cursor=server.items[0]["id"])
    assert server.calls == 4 and len(sleeps) == 3
    server.down_from_call = None
    page = await connector.fetch_mentions(cursor=server.items[0]["id"])
    assert [m.text for m in page.items] == [f"mention number {n}" for n in range(2, 11)]


async def test_429_retry_after_is_honoured(connector, api, sleeps):
    server = FakeNotifications(3)
    route = api.get("/api/v1/notifications")
    route.side_effect = [httpx.Response(429, headers={"Retry-After": "4"}, json={"error": "Too many requests"}), server]
    page = await connector.fetch_mentions()
    assert sleeps == [4.0]
    assert len(page.items) == 3


async def test_long_429_is_rate_limited(connector, api, sleeps):
    api.get("/api/v1/notifications").respond(
        429,
        json={"error": "Too many requests"},
        headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"},
    )
    with pytest.raises(RateLimited) as info:
        await connector.fetch_mentions()
    assert info.value.retry_after > 30 and sleeps == []


async def test_timeouts_are_retried_then_transient(connector, api, sleeps):
    api.get("/api/v1/notifications").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError):
        await connector.fetch_mentions()
    assert len(sleeps) == 3


async def test_malformed_items_are_skipped_with_reason(connector, api):
    good = make_notification(2)
    no_status = {**make_notification(1), "status": None}
    bad_date = make_notification(3)
    bad_date["status"]["created_at"] = "yesterday"
    api.get("/api/v1/notifications").respond(200, json=[bad_date, good, no_status, "garbage"])
    page = await connector.fetch_mentions()
    assert [m.text for m in page.items] == ["mention number 2"]
    assert len(page.skipped) == 3
    assert any("deleted" in reason for reason in page.skipped)
    assert any("timestamp" in reason for reason in page.skipped)
    assert page.cursor == bad_date["id"]  # skipped items are not re-read next time


async def test_reply_to_our_post_is_a_reply(connector, api):
    notification = make_notification(1)
    notification["status"]["in_reply_to_account_id"] = OWN_ID
    api.get("/api/v1/notifications").respond(200, json=[notification])
    page = await connector.fetch_mentions()
    assert page.items[0].kind == "reply"


# ---------------------------------------------------------------- search


async def test_single_hashtag_uses_tag_timeline(connector, api):
    route = api.get("/api/v1/timelines/tag/floods").respond(200, json=[fx("status")])
    page = await connector.search(SearchQuery("#floods", limit=20))
    assert route.called
    assert route.calls[0].request.url.params["limit"] == "20"
    assert [m.kind for m in page.items] == [KIND_KEYWORD]
    assert page.cursor == fx("status")["id"]


async def test_keyword_search_uses_v2_search(connector, api):
    route = api.get("/api/v2/search").respond(200, json=fx("search_v2"))
    page = await connector.search(SearchQuery('"sort code" OR inheritance', lang="en"))
    params = route.calls[0].request.url.params
    assert params["type"] == "statuses" and params["q"] == '"sort code" OR inheritance'
    assert len(page.items) == 1


async def test_search_with_cursor_never_sends_min_id_and_drops_seen(connector, api):
    """Issue 14: a server answered every /api/v2/search carrying min_id with nothing."""
    status = fx("status")
    route = api.get("/api/v2/search").respond(200, json={"accounts": [], "statuses": [status], "hashtags": []})
    page = await connector.search(SearchQuery("inheritance"), cursor=status["id"])
    assert route.call_count == 1 and "min_id" not in route.calls[0].request.url.params
    assert page.items == [] and page.cursor == status["id"]


async def test_search_never_stores_cursor_zero_nor_sends_it(connector, api):
    route = api.get("/api/v2/search").respond(200, json={"accounts": [], "statuses": [fx("status")], "hashtags": []})
    page = await connector.search(SearchQuery("inheritance"), cursor="0")  # written by older versions
    assert "min_id" not in route.calls[0].request.url.params
    assert [m.external_id for m in page.items] == [fx("status")["id"]]
    api.get("/api/v2/search").respond(200, json={"accounts": [], "statuses": [], "hashtags": []})
    api.get(url__regex=r".*/api/v1/accounts/.*/statuses.*").respond(200, json=[])
    empty = await connector.search(SearchQuery("nothing-here"))
    assert empty.cursor != "0"


async def test_search_language_filter(connector, api):
    api.get("/api/v2/search").respond(200, json=fx("search_v2"))
    page = await connector.search(SearchQuery("inheritance", lang="ar"))
    assert page.items == []


async def test_empty_search_is_permanent(connector):
    with pytest.raises(PermanentError):
        await connector.search(SearchQuery("  "))


# ---------------------------------------------------------------- publish


async def test_publish_sends_idempotency_key_and_reply(connector, api):
    route = api.post("/api/v1/statuses").respond(200, json=fx("status"))
    result = await connector.publish(OutboundPost(text="Road closed", idempotency_key="post-42", in_reply_to_id="99"))
    request = route.calls[0].request
    assert request.headers["Idempotency-Key"] == "post-42"
    assert json.loads(request.content) == {"status": "Road closed", "in_reply_to_id": "99"}
    assert result.external_id == fx("status")["id"]
    assert result.published_at is not None


async def test_publish_is_not_resent_after_timeout_even_with_a_key(connector, api, sleeps):
    """Issue 14: servers ignore Idempotency-Key, so a timeout after sending is OutcomeUnknown, not a resend."""
    route = api.post("/api/v1/statuses")
    route.side_effect = [httpx.ReadTimeout("slow"), httpx.Response(200, json=fx("status"))]
    with pytest.raises(OutcomeUnknown):
        await connector.publish(OutboundPost(text="Road closed", idempotency_key="k"))
    assert route.call_count == 1
    assert route.calls[0].request.headers["Idempotency-Key"] == "k"


async def test_publish_appends_link(connector, api):
    route = api.post("/api/v1/statuses").respond(200, json=fx("status"))
    await connector.publish(OutboundPost(text="Details:", idempotency_key="k", link="https://gov.example/floods"))
    assert json.loads(route.calls[0].request.content)["status"] == "Details:\n\nhttps://gov.example/floods"


async def test_publish_over_limit_never_calls_network(connector, api):
    route = api.post("/api/v1/statuses")
    with pytest.raises(PermanentError, match="over"):
        await connector.publish(OutboundPost(text="x" * 501, idempotency_key="k"))
    assert not route.called


async def test_publish_validation_error_message(connector, api):
    api.post("/api/v1/statuses").respond(422, json=fx("error_422"))
    with pytest.raises(PermanentError, match="Text can't be blank"):
        await connector.publish(OutboundPost(text="hi", idempotency_key="k"))


async def test_publish_with_media_uploads_alt_text(connector, api, tmp_path, sleeps):
    image = tmp_path / "map.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    processing = {**fx("media_v2"), "url": None}
    api.post("/api/v2/media").respond(202, json=processing)
    api.get(f"/api/v1/media/{processing['id']}").mock(
        side_effect=[httpx.Response(206, json=processing), httpx.Response(200, json=fx("media_v2"))]
    )
    status_route = api.post("/api/v1/statuses").respond(200, json=fx("status"))
    post = OutboundPost(
        text="Flood map", idempotency_key="k", media=(MediaAttachment(str(image), "image/png", "Map of flooded streets"),)
    )
    await connector.publish(post)
    body = next(c.request for c in api.calls if c.request.url.path == "/api/v2/media").content
    assert b'name="description"' in body and b"Map of flooded streets" in body
    assert b'filename="map.png"' in body
    assert json.loads(status_route.calls[0].request.content)["media_ids"] == [processing["id"]]
    assert len(sleeps) == 2  # waited twice for processing


async def test_publish_rejects_image_without_alt_text(connector, api, tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"x")
    with pytest.raises(PermanentError, match="alt text"):
        await connector.publish(OutboundPost(text="x", idempotency_key="k", media=(MediaAttachment(str(image), "image/png", " "),)))


async def test_publish_missing_file_is_permanent(connector, api):
    post = OutboundPost(text="x", idempotency_key="k", media=(MediaAttachment("/nonexistent.png", "image/png", "alt"),))
    with pytest.raises(PermanentError, match="cannot be read"):
        await connector.publish(post)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_publish_5xx_is_outcome_unknown_and_not_resent(connector, api, sleeps, status):
    route = api.post("/api/v1/statuses").respond(status)
    with pytest.raises(OutcomeUnknown):
        await connector.publish(OutboundPost(text="hi", idempotency_key="k"))
    assert route.call_count == 1


async def test_aclose_leaves_injected_client_open(credentials):
    async with httpx.AsyncClient() as shared:
        connector = MastodonConnector(credentials, http_client=shared)
        await connector.aclose()
        assert not shared.is_closed


# ---------------------------------------------------------------- OAuth


async def test_register_app_and_exchange_code():
    with respx.mock(base_url=BASE) as router:
        apps = router.post("/api/v1/apps").respond(200, json=fx("app"))
        token = router.post("/oauth/token").respond(200, json=fx("token"))
        registration = await register_app("gov.example", redirect_uri="https://govsocial.example/cb")
        assert registration.client_id == fx("app")["client_id"]
        sent = dict(httpx.QueryParams(apps.calls[0].request.content.decode()))
        assert sent["redirect_uris"] == "https://govsocial.example/cb" and "write:statuses" in sent["scopes"]
        access_token = await exchange_code(BASE, registration, "the-code", redirect_uri="https://govsocial.example/cb")
        assert access_token == fx("token")["access_token"]
        assert dict(httpx.QueryParams(token.calls[0].request.content.decode()))["grant_type"] == "authorization_code"


async def test_exchange_code_invalid_grant_is_auth_error():
    with respx.mock(base_url=BASE) as router:
        router.post("/oauth/token").respond(400, json={"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"})
        with pytest.raises(AuthError):
            await exchange_code(BASE, AppRegistration("id", "secret"), "bad")


def test_authorize_url():
    url = authorize_url("https://gov.example", "cid", redirect_uri="https://govsocial.example/cb", state="s1")
    parsed = httpx.URL(url)
    assert parsed.path == "/oauth/authorize"
    assert parsed.params["client_id"] == "cid" and parsed.params["response_type"] == "code" and parsed.params["state"] == "s1"


async def test_empty_account_cursor_reads_everything_later(connector, api):
    server = FakeNotifications(0)
    api.get("/api/v1/notifications").mock(side_effect=server)
    first = await connector.fetch_mentions()
    assert first.items == [] and first.cursor == "0"
    server.items = [make_notification(n) for n in range(1, 121)]
    later = await connector.fetch_mentions(first.cursor)
    assert [m.text for m in later.items] == [f"mention number {n}" for n in range(1, 121)]


async def test_server_capping_page_size_still_pages_on(connector, api):
    server = FakeNotifications(70)
    api.get("/api/v1/notifications").mock(side_effect=lambda request: server(_capped(request)))
    page = await connector.fetch_mentions("0")
    assert len(page.items) == 70


def _capped(request: httpx.Request) -> httpx.Request:
    """The request as a Mastodon older than 4.1 sees it: at most 30 notifications a page."""
    return httpx.Request(request.method, request.url.copy_set_param("limit", "30"), headers=request.headers)


# ---------------------------------------------------------------- issue 14: servers that search hashtags only


def _own_status(text: str) -> dict:
    status = copy.deepcopy(fx("status"))
    status["content"] = f"<p>{text}</p>"
    status["account"]["id"] = OWN_ID
    return status


async def test_a_server_that_cannot_search_text_is_detected(connector, api):
    """A word from our own newest status finds nothing: the server has no full-text search (hashtags only)."""
    own = _own_status("Flooding update for Riverside")
    api.get(f"/api/v1/accounts/{fx('verify_credentials')['id']}/statuses").respond(200, json=[own])
    search = api.get("/api/v2/search").respond(200, json={"accounts": [], "statuses": [], "hashtags": []})
    with pytest.raises(HashtagsOnly, match="this server searches hashtags only"):
        await connector.search(SearchQuery("flooding"))
    assert [c.request.url.params["q"] for c in search.calls] == ["flooding", "Riverside"]


async def test_a_full_text_server_that_found_nothing_is_not_called_hashtags_only(connector, api):
    own = _own_status("Flooding update for Riverside")
    api.get(f"/api/v1/accounts/{fx('verify_credentials')['id']}/statuses").respond(200, json=[own])

    def answer(request):
        found = [own] if request.url.params["q"] == "Riverside" else []
        return httpx.Response(200, json={"accounts": [], "statuses": found, "hashtags": []})

    api.get("/api/v2/search").mock(side_effect=answer)
    page = await connector.search(SearchQuery("flooding"))
    assert page.items == [] and page.cursor == ""


async def test_hashtag_terms_use_the_tag_timeline_not_search(connector, api):
    tag = api.get("/api/v1/timelines/tag/flooding").respond(200, json=[fx("status")])
    search = api.get("/api/v2/search").respond(200, json={"accounts": [], "statuses": [], "hashtags": []})
    page = await connector.search(SearchQuery("#flooding"))
    assert tag.call_count == 1 and search.call_count == 0 and len(page.items) == 1


async def test_reconcile_finds_our_status_by_text_and_time(connector, api):
    from datetime import datetime, timedelta, timezone

    own = _own_status("Road closed on Elm St")
    own["created_at"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    older = _own_status("Something else")
    older["created_at"] = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat().replace("+00:00", "Z")
    api.get(f"/api/v1/accounts/{fx('verify_credentials')['id']}/statuses").respond(200, json=[own, older])
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    found = await connector.find_published(OutboundPost(text="Road closed on Elm St", idempotency_key="k"), since)
    assert found is not None and found.external_id == own["id"]
    assert await connector.find_published(OutboundPost(text="Never posted", idempotency_key="k2"), since) is None


async def test_reconcile_that_cannot_read_raises_rather_than_guessing(connector, api, sleeps):
    from datetime import datetime, timezone

    api.get(f"/api/v1/accounts/{fx('verify_credentials')['id']}/statuses").respond(502)
    with pytest.raises(TransientError):
        await connector.find_published(OutboundPost(text="Road closed", idempotency_key="k"), datetime.now(timezone.utc))


async def test_recheck_reports_edits_and_deletions(connector, api):
    edited = copy.deepcopy(fx("status"))
    edited["content"] = "<p>edited text</p>"
    api.get(f"/api/v1/statuses/{edited['id']}").respond(200, json=edited)
    api.get("/api/v1/statuses/999").respond(404, json={"error": "Record not found"})
    api.get("/api/v1/statuses/500").respond(500)
    got = {m.external_id: m for m in await connector.recheck([edited["id"], "999"])}
    assert got[edited["id"]].text == "edited text" and not got[edited["id"]].deleted
    assert got["999"].deleted


async def test_several_hashtags_use_the_tag_timeline_with_all(connector, api):
    tag = api.get("/api/v1/timelines/tag/flood").respond(200, json=[fx("status")])
    search = api.get("/api/v2/search").respond(200, json={"accounts": [], "statuses": [], "hashtags": []})
    await connector.search(SearchQuery("#flood #riverton"))
    assert search.call_count == 0 and tag.calls[0].request.url.params.get_list("all[]") == ["riverton"]
