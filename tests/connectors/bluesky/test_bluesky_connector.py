"""BlueskyConnector against a respx-mocked PDS: sessions, polling, search, publishing, metrics and faults."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from datetime import UTC, datetime

import httpx
import pytest
import respx

from connectors.base import (
    KIND_KEYWORD,
    KIND_MENTION,
    KIND_REPLY,
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
from connectors.bluesky import BlueskyConnector
from connectors.bluesky.connector import MAX_POLL_PAGES
from connectors.bluesky.records import is_tid, record_key

from tests.connectors.bluesky.bluesky_testkit import CITIZEN_DID, OUR_DID, PDS, ROOT_URI, fx, make_connector, xrpc_error

SESSION = fx("com.atproto.server.createSession")
NOTIFICATIONS = fx("app.bsky.notification.listNotifications")["notifications"]
MENTION_URI = f"at://{CITIZEN_DID}/app.bsky.feed.post/3n32xmz7bc22h"
REPLY_URI = f"at://{CITIZEN_DID}/app.bsky.feed.post/3n32xmz7zpc2h"
QUOTE_URI = f"at://{CITIZEN_DID}/app.bsky.feed.post/3n32xmzar5c2h"


def bearer(request: httpx.Request) -> str:
    return request.headers.get("authorization", "")


def body(request: httpx.Request) -> dict:
    return json.loads(request.content)


def notification(base: dict, uri: str, indexed_at: str, text: str = "") -> dict:
    """A copy of a recorded notification under a new URI and time."""
    item = copy.deepcopy(base)
    item["uri"], item["indexedAt"] = uri, indexed_at
    item["record"]["createdAt"] = indexed_at
    if text:
        item["record"]["text"] = text
    return item


def post_uri(n: int) -> str:
    return f"at://{CITIZEN_DID}/app.bsky.feed.post/3n32xmzz{n:05d}"


# ---------------------------------------------------------------- protocol and sessions


def test_implements_the_connector_protocol():
    connector = make_connector()
    assert isinstance(connector, Connector)
    assert connector.network == "bluesky"
    assert connector.limits.max_chars == 300
    assert connector.limits.max_image_bytes == 1_000_000


async def test_check_logs_in_and_returns_the_account(api, connector):
    profile = api.get("/app.bsky.actor.getProfile").respond(json=fx("app.bsky.actor.getProfile"))
    author = await connector.check()
    assert author.external_id == OUR_DID
    assert author.handle == "cityhall.test"
    assert author.display_name == "City Hall"
    assert author.followers == 1
    login = api["createSession"].calls.last.request
    assert body(login) == {"identifier": "cityhall.test", "password": "abcd-efgh-ijkl-mnop"}
    request = profile.calls.last.request
    assert request.url.params["actor"] == OUR_DID
    assert bearer(request) == f"Bearer {SESSION['accessJwt']}"


async def test_session_is_reused_between_calls(api, connector):
    api.get("/app.bsky.actor.getProfile").respond(json=fx("app.bsky.actor.getProfile"))
    await connector.check()
    await connector.profile_metrics()
    assert api["createSession"].call_count == 1


async def test_rejected_password_is_an_auth_error(api, connector):
    api["createSession"].respond(401, json=fx("error.createSession.AuthenticationRequired"))
    with pytest.raises(AuthError, match="Invalid identifier or password"):
        await connector.check()


async def test_malformed_identifier_is_an_auth_error(api, connector):
    api["createSession"].respond(**xrpc_error(400, "InvalidRequest", "Input/identifier must be a string"))
    with pytest.raises(AuthError):
        await connector.check()


def _creds_without_password() -> Credentials:
    return Credentials("bluesky", config={"service_url": PDS, "handle": "cityhall.test"})


async def test_missing_app_password_fails_without_a_request(api):
    connector = BlueskyConnector(_creds_without_password())
    with pytest.raises(AuthError, match="app password"):
        await connector.check()
    assert api["createSession"].call_count == 0
    await connector.aclose()


async def test_expired_access_token_is_refreshed_once(api, connector):
    api.post("/com.atproto.server.refreshSession", name="refresh").respond(
        json={**SESSION, "accessJwt": "new-access", "refreshJwt": "new-refresh"}
    )
    profile = api.get("/app.bsky.actor.getProfile")
    profile.side_effect = [
        httpx.Response(400, json=fx("error.ExpiredToken")),
        httpx.Response(200, json=fx("app.bsky.actor.getProfile")),
    ]
    assert (await connector.check()).handle == "cityhall.test"
    assert bearer(api["refresh"].calls.last.request) == f"Bearer {SESSION['refreshJwt']}"
    assert bearer(profile.calls.last.request) == "Bearer new-access"
    assert api["createSession"].call_count == 1


async def test_failed_refresh_logs_in_again(api, connector):
    api.post("/com.atproto.server.refreshSession", name="refresh").respond(400, json=fx("error.InvalidToken"))
    profile = api.get("/app.bsky.actor.getProfile")
    profile.side_effect = [
        httpx.Response(400, json=fx("error.ExpiredToken")),
        httpx.Response(200, json=fx("app.bsky.actor.getProfile")),
    ]
    await connector.check()
    assert api["refresh"].call_count == 1
    assert api["createSession"].call_count == 2


async def test_revoked_password_after_refresh_fails_is_an_auth_error(api, connector):
    api.post("/com.atproto.server.refreshSession").respond(400, json=fx("error.ExpiredToken"))
    api["createSession"].side_effect = [
        httpx.Response(200, json=SESSION),
        httpx.Response(401, json=fx("error.createSession.AuthenticationRequired")),
    ]
    api.get("/app.bsky.actor.getProfile").respond(400, json=fx("error.ExpiredToken"))
    with pytest.raises(AuthError):
        await connector.check()


async def test_concurrent_calls_share_one_refresh(api, connector):
    api.post("/com.atproto.server.refreshSession", name="refresh").respond(json={**SESSION, "accessJwt": "new"})

    def profile(request: httpx.Request) -> httpx.Response:
        if bearer(request) == "Bearer new":
            return httpx.Response(200, json=fx("app.bsky.actor.getProfile"))
        return httpx.Response(400, json=fx("error.ExpiredToken"))

    api.get("/app.bsky.actor.getProfile").mock(side_effect=profile)
    await asyncio.gather(*(connector.check() for _ in range(5)))
    assert api["refresh"].call_count == 1


# ---------------------------------------------------------------- fetch_mentions


async def test_first_poll_maps_mentions_replies_and_quotes_oldest_first(api, connector):
    api.get("/app.bsky.notification.listNotifications").respond(json=fx("app.bsky.notification.listNotifications"))
    page = await connector.fetch_mentions()
    assert [m.external_id for m in page.items] == [MENTION_URI, REPLY_URI, QUOTE_URI]
    mention, reply, quote = page.items
    # The mention answers our post, and the AppView ranks mention over reply: it is a reply to us.
    assert mention.kind == KIND_REPLY
    assert mention.text == "مرحبا 👋🏽 @cityhall.test is the bridge open?"
    assert mention.lang == "ar"
    assert mention.conversation_id == ROOT_URI
    assert mention.in_reply_to_id == ROOT_URI
    assert mention.url == "https://bsky.app/profile/resident.test/post/3n32xmz7bc22h"
    assert mention.created_at == datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
    assert mention.author.handle == "resident.test"
    assert mention.author.display_name == "A Resident"
    assert reply.kind == KIND_REPLY
    assert quote.kind == KIND_MENTION
    assert quote.conversation_id == QUOTE_URI  # a quote starts its own thread
    assert quote.in_reply_to_id == ""
    assert page.skipped == []
    assert page.cursor
    assert all(m.network == "bluesky" for m in page.items)


async def test_next_poll_returns_only_newer_notifications(api, connector):
    route = api.get("/app.bsky.notification.listNotifications")
    route.respond(json=fx("app.bsky.notification.listNotifications"))
    first = await connector.fetch_mentions()
    newer = notification(NOTIFICATIONS[4], post_uri(1), "2026-11-24T11:00:00.000Z", "@cityhall.test any news?")
    route.respond(json={"notifications": [newer, *NOTIFICATIONS]})
    second = await connector.fetch_mentions(first.cursor)
    assert [m.external_id for m in second.items] == [post_uri(1)]
    third = await connector.fetch_mentions(second.cursor)
    assert third.items == []
    assert third.cursor == second.cursor


async def test_items_sharing_a_millisecond_are_neither_lost_nor_repeated(api, connector):
    at = "2026-11-24T12:00:00.000Z"
    route = api.get("/app.bsky.notification.listNotifications")
    route.respond(json={"notifications": [notification(NOTIFICATIONS[4], post_uri(1), at)]})
    first = await connector.fetch_mentions()
    route.respond(
        json={
            "notifications": [
                notification(NOTIFICATIONS[4], post_uri(2), at),
                notification(NOTIFICATIONS[4], post_uri(1), at),
            ]
        }
    )
    second = await connector.fetch_mentions(first.cursor)
    assert [m.external_id for m in second.items] == [post_uri(2)]


async def test_poll_walks_back_pages_until_the_previous_cursor(api, connector):
    route = api.get("/app.bsky.notification.listNotifications")
    route.respond(json={"notifications": NOTIFICATIONS})
    first = await connector.fetch_mentions()
    newest = [notification(NOTIFICATIONS[4], post_uri(n), f"2026-11-24T11:0{n}:00.000Z") for n in (4, 3)]
    older = [notification(NOTIFICATIONS[4], post_uri(n), f"2026-11-24T11:0{n}:00.000Z") for n in (2, 1)]

    def pages(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "page-2":
            return httpx.Response(200, json={"notifications": [*older, *NOTIFICATIONS[:2]], "cursor": "page-3"})
        return httpx.Response(200, json={"notifications": newest, "cursor": "page-2"})

    route.mock(side_effect=pages)
    page = await connector.fetch_mentions(first.cursor)
    assert [m.external_id for m in page.items] == [post_uri(n) for n in (1, 2, 3, 4)]
    assert [c.request.url.params.get("cursor") for c in route.calls[-2:]] == [None, "page-2"]
    assert route.calls.last.request.url.params["limit"] == "100"


async def test_a_backlog_beyond_the_page_budget_is_reported(api, connector):
    route = api.get("/app.bsky.notification.listNotifications")
    route.respond(json={"notifications": NOTIFICATIONS})
    first = await connector.fetch_mentions()
    counter = iter(range(10_000))

    def endless(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        item = notification(NOTIFICATIONS[4], post_uri(n), f"2026-11-25T{23 - n // 60:02d}:{59 - n % 60:02d}:00.000Z")
        return httpx.Response(200, json={"notifications": [item], "cursor": f"c{n}"})

    route.mock(side_effect=endless)
    page = await connector.fetch_mentions(first.cursor)
    assert len(page.items) == MAX_POLL_PAGES
    assert any("older ones were not fetched" in reason for reason in page.skipped)


async def test_malformed_notifications_are_skipped_with_a_reason(api, connector):
    broken_time = notification(NOTIFICATIONS[4], post_uri(1), "yesterday")
    broken_author = notification(NOTIFICATIONS[4], post_uri(2), "2026-11-24T11:00:00.000Z")
    broken_author["author"] = {"handle": "no-did.test"}
    api.get("/app.bsky.notification.listNotifications").respond(
        json={"notifications": [broken_time, broken_author, "junk", *NOTIFICATIONS]}
    )
    page = await connector.fetch_mentions()
    assert [m.external_id for m in page.items] == [MENTION_URI, REPLY_URI, QUOTE_URI]
    assert len(page.skipped) == 3
    assert any("did" in reason for reason in page.skipped)


async def test_a_corrupt_cursor_is_a_permanent_error(api, connector):
    with pytest.raises(PermanentError, match="cursor"):
        await connector.fetch_mentions("bsky1.!!!not-base64")


async def test_rate_limit_headers_are_reported_on_the_page(api, connector):
    reset = int(time.time()) + 120
    api.get("/app.bsky.notification.listNotifications").respond(
        json={"notifications": []},
        headers={"ratelimit-limit": "3000", "ratelimit-remaining": "2999", "ratelimit-reset": str(reset)},
    )
    page = await connector.fetch_mentions()
    assert page.rate_limit.limit == 3000
    assert page.rate_limit.remaining == 2999
    assert page.rate_limit.reset_at == datetime.fromtimestamp(reset, UTC)
    assert page.cursor == ""


# ---------------------------------------------------------------- search


async def test_search_sends_the_query_and_maps_posts(api, connector):
    route = api.get("/app.bsky.feed.searchPosts").respond(json=fx("app.bsky.feed.searchPosts"))
    page = await connector.search(SearchQuery(terms="FloodWatch", lang="en", limit=30))
    params = route.calls.last.request.url.params
    assert (params["q"], params["lang"], params["limit"], params["sort"]) == ("FloodWatch", "en", "30", "latest")
    assert bearer(route.calls.last.request) == f"Bearer {SESSION['accessJwt']}"
    [message] = page.items
    assert message.kind == KIND_KEYWORD
    assert message.external_id == ROOT_URI
    assert (message.likes, message.replies, message.reposts) == (1, 2, 1)
    assert message.lang == "en"
    assert message.url == "https://bsky.app/profile/cityhall.test/post/3kzqvqfgt7a2b"
    assert page.cursor
    again = await connector.search(SearchQuery(terms="FloodWatch"), page.cursor)
    assert again.items == []


async def test_search_clamps_the_page_size_and_omits_an_empty_lang(api, connector):
    route = api.get("/app.bsky.feed.searchPosts").respond(json={"posts": []})
    await connector.search(SearchQuery(terms="flood", limit=500))
    params = route.calls.last.request.url.params
    assert params["limit"] == "100"
    assert "lang" not in params


async def test_search_without_terms_is_rejected(api, connector):
    with pytest.raises(PermanentError):
        await connector.search(SearchQuery(terms="  "))


async def test_public_appview_serves_reads_without_our_token():
    connector = make_connector(appview_url="https://appview.example")
    with respx.mock(assert_all_called=True) as router:
        router.post(f"{PDS}/xrpc/com.atproto.server.createSession").respond(json=SESSION)
        search = router.get("https://appview.example/xrpc/app.bsky.feed.searchPosts").respond(json={"posts": []})
        notifications = router.get(f"{PDS}/xrpc/app.bsky.notification.listNotifications").respond(
            json={"notifications": []}
        )
        await connector.search(SearchQuery(terms="flood"))
        await connector.fetch_mentions()
    assert bearer(search.calls.last.request) == ""
    assert bearer(notifications.calls.last.request) == f"Bearer {SESSION['accessJwt']}"
    await connector.aclose()


# ---------------------------------------------------------------- publish


@pytest.fixture
def publishing(api):
    """createRecord answers like the PDS; nothing exists yet under any record key."""
    api.get("/com.atproto.repo.getRecord", name="getRecord").respond(400, json=fx("error.getRecord.RecordNotFound"))
    api.post("/com.atproto.repo.createRecord", name="createRecord").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json={
                **fx("com.atproto.repo.createRecord"),
                "uri": f"at://{OUR_DID}/app.bsky.feed.post/{body(request)['rkey']}",
            },
        )
    )
    api.get("/com.atproto.identity.resolveHandle", name="resolveHandle").mock(
        side_effect=lambda request: (
            httpx.Response(200, json={"did": CITIZEN_DID})
            if request.url.params["handle"] == "resident.test"
            else httpx.Response(400, json=fx("error.resolveHandle.HandleNotFound"))
        )
    )
    return api


def created(api) -> dict:
    return body(api["createRecord"].calls.last.request)


async def test_publish_creates_a_post_record_under_a_derived_key(publishing, connector):
    result = await connector.publish(OutboundPost(text="Roads reopen at 18:00.", idempotency_key="post-42"))
    sent = created(publishing)
    rkey = record_key("post-42")
    assert is_tid(rkey)
    assert (sent["repo"], sent["collection"], sent["rkey"]) == (OUR_DID, "app.bsky.feed.post", rkey)
    record = sent["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == "Roads reopen at 18:00."
    assert "langs" not in record and "facets" not in record and "reply" not in record
    created_at = datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - created_at).total_seconds()) < 5
    assert record["createdAt"].endswith("Z")
    assert result.external_id == f"at://{OUR_DID}/app.bsky.feed.post/{rkey}"
    assert result.url == f"https://bsky.app/profile/cityhall.test/post/{rkey}"
    assert result.published_at == created_at
    assert bearer(publishing["createRecord"].calls.last.request) == f"Bearer {SESSION['accessJwt']}"


async def test_publish_writes_configured_languages(publishing):
    connector = make_connector(post_langs="ar, en")
    await connector.publish(OutboundPost(text="تحديث", idempotency_key="k"))
    assert created(publishing)["record"]["langs"] == ["ar", "en"]
    await connector.aclose()


async def test_publish_facets_use_utf8_byte_offsets_after_arabic_and_emoji(publishing, connector):
    text = "تنبيه 🚨👨‍👩‍👧 @resident.test @ghost.test see https://example.gov/flood #فيضان"
    await connector.publish(OutboundPost(text=text, idempotency_key="k"))
    facets = created(publishing)["record"]["facets"]
    encoded = text.encode("utf-8")
    slices = [(encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(), f["features"][0]) for f in facets]
    assert slices == [
        ("@resident.test", {"$type": "app.bsky.richtext.facet#mention", "did": CITIZEN_DID}),
        ("https://example.gov/flood", {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.gov/flood"}),
        ("#فيضان", {"$type": "app.bsky.richtext.facet#tag", "tag": "فيضان"}),
    ]
    # "تنبيه " is 11 bytes, the siren 4, the family ZWJ sequence 18, then a space: byte 34, not index 14.
    assert facets[0]["index"] == {"byteStart": 34, "byteEnd": 48}
    resolved = sorted(c.request.url.params["handle"] for c in publishing["resolveHandle"].calls)
    assert resolved == ["ghost.test", "resident.test"]  # the unresolved one stays plain text


async def test_publish_appends_the_link_and_facets_it(publishing, connector):
    await connector.publish(
        OutboundPost(text="Shelter list:", idempotency_key="k", link="https://example.gov/shelters")
    )
    record = created(publishing)["record"]
    assert record["text"] == "Shelter list:\nhttps://example.gov/shelters"
    assert record["facets"][0]["features"][0]["uri"] == "https://example.gov/shelters"


async def test_reply_refs_point_at_the_parent_and_its_thread_root(publishing, connector):
    posts = fx("app.bsky.feed.getPosts")["posts"]
    route = publishing.get("/app.bsky.feed.getPosts").respond(json={"posts": [posts[1]]})
    await connector.publish(OutboundPost(text="@resident.test yes", idempotency_key="k", in_reply_to_id=MENTION_URI))
    assert route.calls.last.request.url.params.get_list("uris") == [MENTION_URI]
    reply = created(publishing)["record"]["reply"]
    assert reply["parent"] == {"uri": MENTION_URI, "cid": posts[1]["cid"]}
    assert reply["root"] == {"uri": ROOT_URI, "cid": posts[0]["cid"]}


async def test_reply_to_a_top_level_post_uses_it_as_root_and_parent(publishing, connector):
    root_post = fx("app.bsky.feed.getPosts")["posts"][0]
    publishing.get("/app.bsky.feed.getPosts").respond(json={"posts": [root_post]})
    await connector.publish(OutboundPost(text="More soon.", idempotency_key="k", in_reply_to_id=ROOT_URI))
    reply = created(publishing)["record"]["reply"]
    assert reply["root"] == reply["parent"] == {"uri": ROOT_URI, "cid": root_post["cid"]}


async def test_reply_to_a_deleted_post_is_a_permanent_error(publishing, connector):
    publishing.get("/app.bsky.feed.getPosts").respond(json={"posts": []})
    with pytest.raises(PermanentError, match="not found"):
        await connector.publish(OutboundPost(text="hi", idempotency_key="k", in_reply_to_id=MENTION_URI))
    assert publishing["createRecord"].call_count == 0


async def test_reply_to_something_that_is_not_a_post_uri_is_rejected(publishing, connector):
    with pytest.raises(PermanentError, match="at://"):
        await connector.publish(OutboundPost(text="hi", idempotency_key="k", in_reply_to_id="12345"))


async def test_images_are_uploaded_and_embedded_with_alt_text(publishing, connector, tmp_path):
    png = tmp_path / "map.png"
    png.write_bytes(b"\x89PNG fake image bytes")
    upload = publishing.post("/com.atproto.repo.uploadBlob").respond(json=fx("com.atproto.repo.uploadBlob"))
    await connector.publish(
        OutboundPost(
            text="Closed roads",
            idempotency_key="k",
            media=(MediaAttachment(str(png), "image/png", "Map of the closed river road"),),
        )
    )
    request = upload.calls.last.request
    assert request.content == b"\x89PNG fake image bytes"
    assert request.headers["content-type"] == "image/png"
    embed = created(publishing)["record"]["embed"]
    assert embed == {
        "$type": "app.bsky.embed.images",
        "images": [{"image": fx("com.atproto.repo.uploadBlob")["blob"], "alt": "Map of the closed river road"}],
    }


async def test_publishing_again_with_the_same_key_returns_the_existing_post(publishing, connector):
    publishing["getRecord"].respond(json=fx("com.atproto.repo.getRecord"))
    result = await connector.publish(OutboundPost(text="anything", idempotency_key="post-42"))
    assert publishing["createRecord"].call_count == 0
    assert result.external_id == ROOT_URI
    assert result.published_at == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert publishing["getRecord"].calls.last.request.url.params["rkey"] == record_key("post-42")


async def test_a_duplicate_record_key_conflict_returns_the_existing_post(publishing, connector, sleeps):
    # The PDS answers a second createRecord under the same rkey with a bare 500 (see fixtures).
    publishing["createRecord"].respond(500, json=fx("error.createRecord.duplicate"))
    publishing["getRecord"].side_effect = [
        httpx.Response(400, json=fx("error.getRecord.RecordNotFound")),
        httpx.Response(200, json=fx("com.atproto.repo.getRecord")),
    ]
    result = await connector.publish(OutboundPost(text="Roads reopen.", idempotency_key="post-42"))
    assert result.external_id == ROOT_URI
    assert publishing["createRecord"].call_count == 1


async def test_a_transient_create_failure_is_retried_under_the_same_key(publishing, connector, sleeps):
    ok = publishing["createRecord"].side_effect
    publishing["createRecord"].side_effect = [httpx.Response(502), ok]
    result = await connector.publish(OutboundPost(text="Roads reopen.", idempotency_key="post-42"))
    keys = {body(c.request)["rkey"] for c in publishing["createRecord"].calls}
    assert keys == {record_key("post-42")}
    assert result.external_id.endswith(record_key("post-42"))
    assert sleeps


async def test_a_persistent_create_failure_raises_transient(publishing, connector, sleeps):
    publishing["createRecord"].respond(503)
    with pytest.raises(TransientError):
        await connector.publish(OutboundPost(text="Roads reopen.", idempotency_key="post-42"))
    assert publishing["createRecord"].call_count == 3


async def test_a_rejected_record_is_a_permanent_error(publishing, connector):
    publishing["createRecord"].respond(400, json=fx("error.createRecord.InvalidRecordKey"))
    with pytest.raises(PermanentError, match="Invalid record key"):
        await connector.publish(OutboundPost(text="x", idempotency_key="k"))


async def test_text_over_300_graphemes_is_rejected_before_any_request(publishing, connector):
    with pytest.raises(PermanentError, match=r"301 .*300"):
        await connector.publish(OutboundPost(text="a" * 301, idempotency_key="k"))
    assert publishing["createSession"].call_count == 0


async def test_300_emoji_graphemes_fit(publishing, connector):
    await connector.publish(OutboundPost(text="🌊" * 300, idempotency_key="k"))
    assert created(publishing)["record"]["text"] == "🌊" * 300


async def test_missing_image_file_is_a_permanent_error(publishing, connector, tmp_path):
    media = (MediaAttachment(str(tmp_path / "gone.png"), "image/png", "alt"),)
    with pytest.raises(PermanentError, match="cannot read"):
        await connector.publish(OutboundPost(text="x", idempotency_key="k", media=media))


# ---------------------------------------------------------------- metrics


async def test_profile_metrics(api, connector):
    api.get("/app.bsky.actor.getProfile").respond(json=fx("app.bsky.actor.getProfile"))
    metrics = await connector.profile_metrics()
    assert (metrics.followers, metrics.following, metrics.posts) == (1, 0, 1)


async def test_post_metrics_batches_getposts_by_25(api, connector):
    root = fx("app.bsky.feed.getPosts")["posts"][0]
    route = api.get("/app.bsky.feed.getPosts").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"posts": [{**root, "uri": uri} for uri in request.url.params.get_list("uris")]}
        )
    )
    uris = [f"at://{OUR_DID}/app.bsky.feed.post/3kzqvqfgt{n:04d}" for n in range(30)]
    metrics = await connector.post_metrics([*uris, "not-a-uri"])
    assert [len(c.request.url.params.get_list("uris")) for c in route.calls] == [25, 5]
    assert [m.external_id for m in metrics] == uris
    assert (metrics[0].likes, metrics[0].replies, metrics[0].reposts) == (1, 2, 1)


# ---------------------------------------------------------------- fault mapping


async def test_rate_limit_is_raised_with_the_reset_wait(api, connector):
    reset = int(time.time()) + 300
    api.get("/app.bsky.actor.getProfile").respond(
        429,
        json=fx("error.RateLimitExceeded"),
        headers={"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
    )
    with pytest.raises(RateLimited) as caught:
        await connector.check()
    assert 290 < caught.value.retry_after <= 300


async def test_a_spent_write_budget_does_not_stop_reads(publishing, connector):
    reset = int(time.time()) + 3600
    publishing["createRecord"].respond(
        429,
        json=fx("error.RateLimitExceeded"),
        headers={"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)},
    )
    with pytest.raises(RateLimited):
        await connector.publish(OutboundPost(text="x", idempotency_key="k"))
    with pytest.raises(RateLimited):  # the write budget now refuses locally, without asking the PDS
        await connector.publish(OutboundPost(text="y", idempotency_key="k2"))
    assert publishing["createRecord"].call_count == 1
    publishing.get("/app.bsky.notification.listNotifications").respond(json={"notifications": []})
    assert (await connector.fetch_mentions()).items == []


async def test_server_errors_are_transient_after_retries(api, connector, sleeps):
    route = api.get("/app.bsky.actor.getProfile").respond(503)
    with pytest.raises(TransientError):
        await connector.check()
    assert route.call_count == 4  # the shared send() retries reads three times


async def test_network_failure_is_transient(api, connector, sleeps):
    api.get("/app.bsky.actor.getProfile").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransientError):
        await connector.check()


async def test_forbidden_is_an_auth_error(api, connector):
    api.get("/app.bsky.actor.getProfile").respond(**xrpc_error(403, "AccountTakedown"))
    with pytest.raises(AuthError):
        await connector.check()


async def test_other_client_errors_are_permanent(api, connector):
    api.get("/app.bsky.actor.getProfile").respond(**xrpc_error(400, "InvalidRequest", "Profile not found"))
    with pytest.raises(PermanentError, match="Profile not found"):
        await connector.check()


async def test_a_non_json_answer_is_permanent(api, connector):
    api.get("/app.bsky.actor.getProfile").respond(200, text="<html>proxy</html>")
    with pytest.raises(PermanentError):
        await connector.check()


async def test_a_malformed_session_is_permanent(api, connector):
    api["createSession"].respond(json={"did": OUR_DID, "handle": "cityhall.test"})
    with pytest.raises(PermanentError, match="accessJwt"):
        await connector.check()


# ---------------------------------------------------------------- lifecycle


async def test_aclose_leaves_an_injected_client_open(api):
    async with httpx.AsyncClient() as http:
        connector = BlueskyConnector(_creds_without_password(), http_client=http)
        await connector.aclose()
        assert not http.is_closed


async def test_aclose_closes_its_own_client(api):
    connector = make_connector()
    await connector.aclose()
    assert connector._client._http.is_closed


# ---------------------------------------------------------------- reconciling and refused credentials (issue 14)


async def test_find_published_asks_for_the_record_key_derived_from_our_key(publishing, connector):
    since = datetime(2026, 11, 24, tzinfo=UTC)
    assert await connector.find_published(OutboundPost(text="x", idempotency_key="post-42"), since) is None
    publishing["getRecord"].respond(json=fx("com.atproto.repo.getRecord"))
    found = await connector.find_published(OutboundPost(text="x", idempotency_key="post-42"), since)
    assert found is not None and found.external_id == ROOT_URI
    assert publishing["getRecord"].calls.last.request.url.params["rkey"] == record_key("post-42")
    assert publishing["createRecord"].call_count == 0


def test_refused_sign_in_answered_with_400_is_an_auth_error():
    from connectors.base import AuthError
    from connectors.bluesky.client import xrpc_error

    response = httpx.Response(400, json={"error": "AccountTakedown", "message": "Account has been taken down"},
                              request=httpx.Request("POST", "https://pds.example/xrpc/com.atproto.server.createSession"))
    assert isinstance(xrpc_error(response), AuthError)
