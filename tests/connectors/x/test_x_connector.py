"""respx tests for XConnector: every protocol method, backwards paging with owed ranges, faults, duplicate protection."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from connectors.base import (
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
from connectors.x import XConnector
from connectors.x.connector import Cursor

from tests.connectors.connector_testkit import load_fixture

API = "https://api.x.com"
ME = "2244994945"


def fx(name):
    return load_fixture("x", name)


def make_post(n: int) -> dict:
    post_id = str(1_800_000_000_000_000_000 + n)
    return {
        "id": post_id,
        "text": f"@XDevelopers mention {n}",
        "author_id": "1234567890",
        "created_at": "2024-01-15T10:30:00.000Z",
        "conversation_id": post_id,
        "edit_history_tweet_ids": [post_id],
    }


class FakeTimeline:
    """Serves a newest-first X timeline with since_id/until_id and opaque pagination tokens; can go down."""

    token_param = "pagination_token"

    def __init__(self, count: int):
        self.posts = [make_post(n) for n in range(1, count + 1)]
        self.down_from_call: int | None = None
        self.calls = 0
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        self.requests.append(request)
        if self.down_from_call is not None and self.calls >= self.down_from_call:
            return httpx.Response(503, json={"title": "Service Unavailable", "type": "about:blank"})
        params = request.url.params
        size = int(params.get("max_results", 10))
        since, until = params.get("since_id"), params.get("until_id")
        window = [p for p in reversed(self.posts) if (not since or int(p["id"]) > int(since)) and (not until or int(p["id"]) < int(until))]
        offset = int(params.get(self.token_param, "0") or 0)
        page = window[offset : offset + size]
        meta = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + size < len(window):
            meta["next_token"] = str(offset + size)
        body = {"meta": meta, "includes": {"users": [{"id": "1234567890", "username": "developer", "name": "Dev Person"}]}}
        if page:
            body["data"] = page
        return httpx.Response(200, json=body, headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
                                                       "x-rate-limit-reset": str(int(time.time()) + 900)})


class FakeSearch(FakeTimeline):
    token_param = "next_token"


@pytest.fixture
def credentials():
    return Credentials("x", {"user_id": ME}, {"bearer_token": "app-token", "user_access_token": "user-token"})


@pytest.fixture
async def connector(credentials):
    c = XConnector(credentials)
    yield c
    await c.aclose()


@pytest.fixture
def api():
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


def test_is_a_connector(connector):
    assert isinstance(connector, Connector)
    assert connector.limits.max_chars == 280 and connector.limits.counting == "x-weighted"
    assert connector.limits.supports_idempotency is False


def test_constructor_validation():
    with pytest.raises(PermanentError):
        XConnector(Credentials("x", {}, {"bearer_token": "t"}))
    with pytest.raises(AuthError):
        XConnector(Credentials("x", {"user_id": ME}, {}))


def test_cursor_round_trip():
    assert str(Cursor.parse("")) == ""
    assert str(Cursor.parse("123")) == "123"
    assert Cursor.parse("1:5:9") == Cursor("1", "5", "9")
    assert Cursor.parse("garbage") == Cursor()


async def test_check_uses_user_token(connector, api):
    route = api.get("/2/users/me").respond(200, json=fx("users_me"))
    author = await connector.check()
    assert author.handle == "@XDevelopers" and author.verified
    assert route.calls[0].request.headers["Authorization"] == "Bearer user-token"


async def test_check_rejects_token_of_other_user(connector, api):
    api.get("/2/users/me").respond(200, json={"data": {**fx("users_me")["data"], "id": "1"}})
    with pytest.raises(AuthError):
        await connector.check()


async def test_check_401(connector, api, sleeps):
    api.get("/2/users/me").respond(401, json=fx("error_unauthorized"))
    with pytest.raises(AuthError):
        await connector.check()


async def test_profile_metrics(connector, api):
    api.get(f"/2/users/{ME}").respond(200, json=fx("users_me"))
    metrics = await connector.profile_metrics()
    assert metrics.followers == 583423


async def test_post_metrics_with_partial_errors(connector, api):
    route = api.get("/2/tweets").respond(200, json=fx("posts_metrics"))
    metrics = await connector.post_metrics(["123", "456"])
    assert route.calls[0].request.url.params["ids"] == "123,456"
    assert [(m.external_id, m.impressions, m.clicks) for m in metrics] == [("123", 1500, 17)]


# ---------------------------------------------------------------- mentions


async def test_first_mentions_fetch_reads_newest_page(connector, api):
    timeline = FakeTimeline(150)
    api.get(f"/2/users/{ME}/mentions").mock(side_effect=timeline)
    page = await connector.fetch_mentions()
    assert timeline.calls == 1
    assert [m.text for m in page.items] == [f"@XDevelopers mention {n}" for n in range(51, 151)]
    assert page.cursor == timeline.posts[-1]["id"]
    request = timeline.requests[0]
    assert request.headers["Authorization"] == "Bearer user-token"
    assert "author_id" in request.url.params["expansions"] and "public_metrics" in request.url.params["user.fields"]
    assert page.rate_limit.limit == 450


async def test_mentions_since_cursor_pages_back_and_delivers_oldest_first(connector, api):
    timeline = FakeTimeline(260)
    api.get(f"/2/users/{ME}/mentions").mock(side_effect=timeline)
    page = await connector.fetch_mentions(cursor=timeline.posts[9]["id"])
    assert [m.text for m in page.items] == [f"@XDevelopers mention {n}" for n in range(11, 261)]
    assert page.cursor == timeline.posts[-1]["id"]
    assert all(r.url.params["since_id"] == timeline.posts[9]["id"] for r in timeline.requests)


async def test_failure_mid_paging_owes_the_rest_and_loses_nothing(connector, api, sleeps):
    timeline = FakeTimeline(300)
    api.get(f"/2/users/{ME}/mentions").mock(side_effect=timeline)
    timeline.down_from_call = 2  # the newest page arrives, the next keeps failing
    first = await connector.fetch_mentions(cursor=timeline.posts[0]["id"])
    assert [m.text for m in first.items] == [f"@XDevelopers mention {n}" for n in range(201, 301)]
    owed = Cursor.parse(first.cursor)
    assert owed.since == timeline.posts[0]["id"] and owed.until == timeline.posts[200]["id"] and owed.top == timeline.posts[-1]["id"]

    timeline.down_from_call = None
    second = await connector.fetch_mentions(first.cursor)
    assert [m.text for m in second.items] == [f"@XDevelopers mention {n}" for n in range(2, 201)]
    assert second.cursor == timeline.posts[-1]["id"]  # the hole is filled: back to the newest delivered

    timeline.posts.append(make_post(301))
    third = await connector.fetch_mentions(second.cursor)
    assert [m.text for m in third.items] == ["@XDevelopers mention 301"]
    delivered = [m.external_id for m in first.items + second.items + third.items]
    assert len(delivered) == len(set(delivered)) == 300


async def test_page_cap_owes_the_rest(connector, api):
    timeline = FakeTimeline(700)
    api.get(f"/2/users/{ME}/mentions").mock(side_effect=timeline)
    first = await connector.fetch_mentions(cursor=timeline.posts[0]["id"])
    assert len(first.items) == 500 and Cursor.parse(first.cursor).until
    second = await connector.fetch_mentions(first.cursor)
    assert len(second.items) == 199
    assert {m.external_id for m in first.items} | {m.external_id for m in second.items} == {p["id"] for p in timeline.posts[1:]}


async def test_first_page_failure_raises(connector, api, sleeps):
    timeline = FakeTimeline(5)
    timeline.down_from_call = 1
    api.get(f"/2/users/{ME}/mentions").mock(side_effect=timeline)
    with pytest.raises(TransientError):
        await connector.fetch_mentions("1")
    assert timeline.calls == 4 and len(sleeps) == 3


async def test_429_retry_after_honoured(connector, api, sleeps):
    reset = int(time.time()) + 5
    api.get(f"/2/users/{ME}/mentions").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "5", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
                       json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}),
        httpx.Response(200, json=fx("mentions")),
    ])
    page = await connector.fetch_mentions()
    assert sleeps == [5.0]
    assert len(page.items) == 1


async def test_429_with_far_reset_is_rate_limited_and_budget_refuses(connector, api, sleeps):
    reset = int(time.time()) + 600
    route = api.get(f"/2/users/{ME}/mentions").respond(
        429, headers={"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    with pytest.raises(RateLimited) as info:
        await connector.fetch_mentions()
    assert 590 <= info.value.retry_after <= 600
    with pytest.raises(RateLimited):
        await connector.fetch_mentions()
    assert route.call_count == 1  # the second poll was refused locally


async def test_usage_cap_is_rate_limited(connector, api, sleeps):
    api.get("/2/tweets/search/recent").respond(429, json=fx("error_usage_capped"))
    with pytest.raises(RateLimited) as info:
        await connector.search(SearchQuery("floods"))
    assert info.value.retry_after == 3600


async def test_timeouts_retried_then_transient(connector, api, sleeps):
    api.get(f"/2/users/{ME}/mentions").mock(side_effect=httpx.ConnectTimeout("down"))
    with pytest.raises(TransientError):
        await connector.fetch_mentions()
    assert len(sleeps) == 3


async def test_malformed_posts_are_skipped(connector, api):
    body = fx("mentions")
    bad = {**body["data"][0], "id": "1301573587187331075", "created_at": "not a date"}
    api.get(f"/2/users/{ME}/mentions").respond(200, json={**body, "data": [bad, body["data"][0], "junk"]})
    page = await connector.fetch_mentions()
    assert len(page.items) == 1 and len(page.skipped) == 2
    assert page.cursor == "1301573587187331075"


# ---------------------------------------------------------------- search


async def test_search_uses_bearer_token_and_language(connector, api):
    search = FakeSearch(30)
    api.get("/2/tweets/search/recent").mock(side_effect=search)
    page = await connector.search(SearchQuery("flood OR #floods", lang="ar", limit=20))
    request = search.requests[0]
    assert request.headers["Authorization"] == "Bearer app-token"
    assert request.url.params["query"] == "(flood OR #floods) lang:ar"
    assert request.url.params["max_results"] == "20"
    assert len(page.items) == 20 and page.items[0].kind == "keyword"


async def test_search_pages_with_next_token(connector, api):
    search = FakeSearch(160)
    api.get("/2/tweets/search/recent").mock(side_effect=search)
    page = await connector.search(SearchQuery("x", limit=200), cursor=search.posts[4]["id"])
    assert len(page.items) == 155 and page.cursor == search.posts[-1]["id"]
    assert "next_token" not in search.requests[0].url.params
    assert search.requests[1].url.params["next_token"] == "100"


async def test_search_limit_caps_and_owes_the_rest(connector, api):
    search = FakeSearch(60)
    api.get("/2/tweets/search/recent").mock(side_effect=search)
    first = await connector.search(SearchQuery("x", limit=20), cursor=search.posts[0]["id"])
    second = await connector.search(SearchQuery("x", limit=20), cursor=first.cursor)
    third = await connector.search(SearchQuery("x", limit=20), cursor=second.cursor)
    ids = [m.external_id for m in first.items + second.items + third.items]
    assert sorted(ids) == sorted(p["id"] for p in search.posts[1:]) and len(ids) == len(set(ids))
    assert third.cursor == search.posts[-1]["id"]


# ---------------------------------------------------------------- publish


@pytest.fixture
def no_recent_posts(api):
    return api.get(f"/2/users/{ME}/tweets").respond(200, json={"meta": {"result_count": 0}})


async def test_publish_reply(connector, api, no_recent_posts):
    route = api.post("/2/tweets").respond(201, json=fx("create_post"))
    result = await connector.publish(OutboundPost(text="Hello world!", idempotency_key="k", in_reply_to_id="1234567890"))
    assert json.loads(route.calls[0].request.content) == {"text": "Hello world!", "reply": {"in_reply_to_tweet_id": "1234567890"}}
    assert route.calls[0].request.headers["Authorization"] == "Bearer user-token"
    assert result.external_id == "1445880548472328192"


async def test_publish_again_finds_the_earlier_post(connector, api):
    recent = {"data": [{"id": "1445880548472328192", "text": "Road closed https://t.co/abc",
                        "created_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
                        "edit_history_tweet_ids": ["1445880548472328192"]}], "meta": {"result_count": 1}}
    api.get(f"/2/users/{ME}/tweets").respond(200, json=recent)
    route = api.post("/2/tweets")
    result = await connector.publish(OutboundPost(text="Road closed https://gov.example/roads", idempotency_key="k"))
    assert not route.called
    assert result.external_id == "1445880548472328192"


async def test_publish_is_not_resent_after_ambiguous_failure(connector, api, no_recent_posts, sleeps):
    route = api.post("/2/tweets").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        await connector.publish(OutboundPost(text="Evacuate", idempotency_key="k"))
    assert route.call_count == 1


async def test_publish_duplicate_error_resolves_to_earlier_post(connector, api, sleeps):
    recent = {"data": [{"id": "42", "text": "Evacuate", "created_at": datetime.now(UTC).isoformat()}]}
    api.get(f"/2/users/{ME}/tweets").mock(side_effect=[httpx.Response(200, json={"meta": {"result_count": 0}}), httpx.Response(200, json=recent)])
    api.post("/2/tweets").respond(403, json=fx("error_duplicate"))
    result = await connector.publish(OutboundPost(text="Evacuate", idempotency_key="k"))
    assert result.external_id == "42"


async def test_publish_over_280_weighted(connector, api):
    with pytest.raises(PermanentError, match="over"):
        await connector.publish(OutboundPost(text="字" * 141, idempotency_key="k"))


async def test_publish_without_user_token_is_auth_error(api):
    connector = XConnector(Credentials("x", {"user_id": ME}, {"bearer_token": "app"}))
    api.get(f"/2/users/{ME}/tweets").respond(200, json={"meta": {"result_count": 0}})
    with pytest.raises(AuthError):
        await connector.publish(OutboundPost(text="hi", idempotency_key="k"))
    await connector.aclose()


async def test_publish_with_image_and_alt_text(connector, api, no_recent_posts, tmp_path):
    image = tmp_path / "map.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n0000")
    upload = api.post("/2/media/upload").respond(200, json=fx("media_upload"))
    metadata = api.post("/2/media/metadata").respond(200, json=fx("media_metadata"))
    create = api.post("/2/tweets").respond(201, json=fx("create_post"))
    post = OutboundPost(text="Flood map", idempotency_key="k", media=(MediaAttachment(str(image), "image/png", "Map of flooded streets"),))
    await connector.publish(post)
    assert b'name="media_category"' in upload.calls[0].request.content and b"tweet_image" in upload.calls[0].request.content
    assert json.loads(metadata.calls[0].request.content) == {
        "id": "1880028106020515840", "metadata": {"alt_text": {"text": "Map of flooded streets"}}}
    assert json.loads(create.calls[0].request.content)["media"] == {"media_ids": ["1880028106020515840"]}


async def test_publish_invalid_request_message(connector, api, no_recent_posts):
    api.post("/2/tweets").respond(400, json=fx("error_invalid_request"))
    with pytest.raises(PermanentError, match="parameter is required"):
        await connector.publish(OutboundPost(text="hi", idempotency_key="k"))


# ---------------------------------------------------------------- reconciling (issue 14)


async def test_find_published_matches_our_post_since_the_first_attempt(connector, api):
    recent = {"data": [{"id": "77", "text": "Evacuate zone B", "created_at": datetime.now(UTC).isoformat()}], "meta": {"result_count": 1}}
    api.get(f"/2/users/{ME}/tweets").respond(200, json=recent)
    since = datetime.now(UTC) - timedelta(minutes=5)
    found = await connector.find_published(OutboundPost(text="Evacuate zone B", idempotency_key="k"), since)
    assert found is not None and found.external_id == "77"
    assert await connector.find_published(OutboundPost(text="Other words", idempotency_key="k"), since) is None


async def test_find_published_that_cannot_look_raises_instead_of_saying_absent(connector, api, sleeps):
    api.get(f"/2/users/{ME}/tweets").respond(503)
    with pytest.raises(TransientError):
        await connector.find_published(OutboundPost(text="Evacuate", idempotency_key="k"), datetime.now(UTC))


async def test_refused_token_answered_with_400_is_an_auth_error(connector, api):
    api.get(f"/2/users/{ME}/mentions").respond(400, json={"errors": [{"code": 89, "message": "Invalid or expired token."}]})
    with pytest.raises(AuthError):
        await connector.fetch_mentions()
