"""respx tests for FacebookConnector and InstagramConnector: every protocol method, paging, faults, duplicates."""

from __future__ import annotations

import copy
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
from connectors.meta import FacebookConnector, InstagramConnector
from connectors.meta.client import GRAPH_URL

from tests.connectors.connector_testkit import load_fixture

PAGE = "104832451234567"
IG = "17841405822304914"
POST = f"{PAGE}_700000000000002"
OLD_POST = f"{PAGE}_700000000000001"


def fx(name):
    return load_fixture("meta", name)


def form(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))


@pytest.fixture
def graph():
    with respx.mock(base_url=GRAPH_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def facebook():
    connector = FacebookConnector(Credentials("facebook", {"page_id": PAGE}, {"page_access_token": "page-token"}))
    yield connector
    await connector.aclose()


@pytest.fixture
async def instagram():
    connector = InstagramConnector(
        Credentials("instagram", {"ig_user_id": IG}, {"page_access_token": "page-token"}),
        public_url_for=lambda attachment: f"https://govsocial.example/m/{attachment.path.rsplit('/', 1)[-1]}?sig=abc",
    )
    yield connector
    await connector.aclose()


def fb_inbox(graph):
    graph.get(f"/{PAGE}/tagged").respond(200, json=fx("fb_tagged"))
    graph.get(f"/{PAGE}/feed").respond(200, json=fx("fb_feed"))
    graph.get(f"/{OLD_POST}/comments").respond(200, json={"data": []})
    return graph.get(f"/{POST}/comments").mock(
        side_effect=[httpx.Response(200, json=fx("fb_comments_page1")), httpx.Response(200, json=fx("fb_comments_page2"))]
    )


# ---------------------------------------------------------------- Facebook


def test_both_are_connectors(facebook, instagram):
    assert isinstance(facebook, Connector) and isinstance(instagram, Connector)
    assert facebook.limits.max_chars == 63206 and not facebook.limits.supports_search
    assert instagram.limits.max_chars == 2200 and not instagram.limits.supports_search


def test_constructor_validation():
    with pytest.raises(PermanentError):
        FacebookConnector(Credentials("facebook", {}, {"page_access_token": "t"}))
    with pytest.raises(AuthError):
        FacebookConnector(Credentials("facebook", {"page_id": PAGE}, {}))
    with pytest.raises(AuthError):
        InstagramConnector(Credentials("instagram", {"ig_user_id": IG}, {}))


async def test_fb_check(facebook, graph):
    route = graph.get(f"/{PAGE}").respond(200, json=fx("fb_page"))
    author = await facebook.check()
    assert author.display_name == "City of Example Emergency Management"
    assert route.calls[0].request.headers["Authorization"] == "Bearer page-token"
    assert "access_token" not in str(route.calls[0].request.url)


async def test_fb_expired_token_is_auth_error(facebook, graph, sleeps):
    graph.get(f"/{PAGE}").respond(400, json=fx("error_expired_token"))
    with pytest.raises(AuthError, match="Session has expired"):
        await facebook.check()
    assert sleeps == []


async def test_fb_rate_limit_code_is_rate_limited(facebook, graph, sleeps):
    graph.get(f"/{PAGE}").respond(
        400, json=fx("error_rate_limit"),
        headers={"X-Business-Use-Case-Usage": '{"104832451234567":[{"type":"pages","call_count":100,"total_cputime":30,"total_time":40,"estimated_time_to_regain_access":12}]}'},
    )
    with pytest.raises(RateLimited) as info:
        await facebook.profile_metrics()
    assert info.value.retry_after == 720


async def test_fb_transient_code_is_retried(facebook, graph, sleeps):
    route = graph.get(f"/{PAGE}").mock(side_effect=[httpx.Response(500, json=fx("error_transient")), httpx.Response(200, json=fx("fb_page"))])
    metrics = await facebook.profile_metrics()
    assert metrics.followers == 48210 and route.call_count == 2 and len(sleeps) == 1


async def test_fb_5xx_retried_then_transient(facebook, graph, sleeps):
    graph.get(f"/{PAGE}").respond(503)
    with pytest.raises(TransientError):
        await facebook.check()
    assert len(sleeps) == 3


async def test_fb_mentions_pages_through_comments_and_tags(facebook, graph):
    fb_inbox(graph)
    page = await facebook.fetch_mentions()
    assert [(m.kind, m.text) for m in page.items] == [
        ("mention", "Thanks @City of Example Emergency Management for the sandbags"),
        ("comment", "Is the shelter on Main St open?"),
        ("reply", "Thank you!"),  # our own reply in between is not inbound
    ]
    assert page.cursor.startswith(str(int(datetime(2024, 1, 15, 10, 40, tzinfo=UTC).timestamp())))


async def test_fb_mentions_resume_without_duplicates(facebook, graph):
    fb_inbox(graph)
    first = await facebook.fetch_mentions()
    graph.get(f"/{POST}/comments").mock(side_effect=[httpx.Response(200, json=fx("fb_comments_page2"))])
    second = await facebook.fetch_mentions(first.cursor)
    assert second.items == []  # the same-second comment is remembered in the cursor


async def test_fb_failure_mid_paging_raises_and_retry_delivers_everything_once(facebook, graph, sleeps):
    graph.get(f"/{PAGE}/tagged").respond(200, json=fx("fb_tagged"))
    graph.get(f"/{PAGE}/feed").respond(200, json=fx("fb_feed"))
    graph.get(f"/{OLD_POST}/comments").respond(200, json={"data": []})
    comments = graph.get(f"/{POST}/comments")
    comments.side_effect = [httpx.Response(200, json=fx("fb_comments_page1"))] + [httpx.Response(502)] * 4
    with pytest.raises(TransientError):
        await facebook.fetch_mentions()
    comments.side_effect = [httpx.Response(200, json=fx("fb_comments_page1")), httpx.Response(200, json=fx("fb_comments_page2"))]
    page = await facebook.fetch_mentions()
    assert [m.external_id for m in page.items] == ["5550002_800000000000001", "700000000000002_900000000000001", "700000000000002_900000000000003"]


async def test_fb_since_skips_untouched_posts(facebook, graph):
    comments = fb_inbox(graph)
    since = int(datetime(2024, 1, 15, 0, 0, tzinfo=UTC).timestamp())
    old = graph.get(f"/{OLD_POST}/comments").respond(200, json={"data": []})
    tagged = graph.get(f"/{PAGE}/tagged").respond(200, json=fx("fb_tagged"))
    page = await facebook.fetch_mentions(f"{since}:")
    assert not old.called  # last touched before the cursor
    assert tagged.calls[0].request.url.params["since"] == str(since)
    assert comments.calls[0].request.url.params["since"] == str(since)
    assert len(page.items) == 3


async def test_fb_malformed_comment_skipped(facebook, graph):
    graph.get(f"/{PAGE}/tagged").respond(200, json={"data": [{"id": "5550002_1", "created_time": "soon"}]})
    graph.get(f"/{PAGE}/feed").respond(200, json={"data": []})
    page = await facebook.fetch_mentions()
    assert page.items == [] and len(page.skipped) == 1 and "timestamp" in page.skipped[0]


async def test_fb_search_is_unsupported(facebook):
    with pytest.raises(PermanentError, match="no public search API"):
        await facebook.search(SearchQuery("floods"))


async def test_fb_publish_post_with_link(facebook, graph):
    graph.get(f"/{PAGE}/posts").respond(200, json={"data": []})
    route = graph.post(f"/{PAGE}/feed").respond(200, json=fx("fb_post_created"))
    result = await facebook.publish(OutboundPost(text="Road closures update", idempotency_key="k", link="https://gov.example/roads"))
    assert form(route.calls[0].request) == {"message": "Road closures update", "link": "https://gov.example/roads"}
    assert result.external_id == f"{PAGE}_700000000000003"


async def test_fb_publish_again_finds_earlier_post(facebook, graph):
    recent = {"data": [{"id": f"{PAGE}_7", "message": "Road closures update", "created_time": (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")}]}
    graph.get(f"/{PAGE}/posts").respond(200, json=recent)
    route = graph.post(f"/{PAGE}/feed")
    result = await facebook.publish(OutboundPost(text="Road closures update", idempotency_key="k"))
    assert not route.called and result.external_id == f"{PAGE}_7"


async def test_fb_reply_to_comment(facebook, graph):
    target = "700000000000002_900000000000001"
    graph.get(f"/{target}/comments").respond(200, json={"data": []})
    route = graph.post(f"/{target}/comments").respond(200, json=fx("fb_comment_created"))
    result = await facebook.publish(OutboundPost(text="Yes, open until 10pm.", idempotency_key="k", in_reply_to_id=target))
    assert form(route.calls[0].request) == {"message": "Yes, open until 10pm."}
    assert result.external_id == "700000000000002_900000000000004"


async def test_fb_reply_not_resent_after_ambiguous_failure(facebook, graph, sleeps):
    target = "700000000000002_900000000000001"
    graph.get(f"/{target}/comments").respond(200, json={"data": []})
    route = graph.post(f"/{target}/comments").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError):
        await facebook.publish(OutboundPost(text="hello", idempotency_key="k", in_reply_to_id=target))
    assert route.call_count == 1


async def test_fb_publish_photos(facebook, graph, tmp_path):
    image = tmp_path / "map.jpg"
    image.write_bytes(b"\xff\xd8\xff" + b"0" * 32)
    graph.get(f"/{PAGE}/posts").respond(200, json={"data": []})
    photos = graph.post(f"/{PAGE}/photos").respond(200, json=fx("fb_photo_created"))
    feed = graph.post(f"/{PAGE}/feed").respond(200, json=fx("fb_post_created"))
    post = OutboundPost(text="Flood map", idempotency_key="k", media=(MediaAttachment(str(image), "image/jpeg", "Map of flooded streets"),))
    await facebook.publish(post)
    upload = photos.calls[0].request.content
    assert b'name="published"' in upload and b"Map of flooded streets" in upload
    assert form(feed.calls[0].request)["attached_media[0]"] == '{"media_fbid": "600000000000001"}'


async def test_fb_duplicate_error_resolves_to_earlier_post(facebook, graph):
    recent = {"data": [{"id": f"{PAGE}_9", "message": "Stay safe", "created_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")}]}
    graph.get(f"/{PAGE}/posts").mock(side_effect=[httpx.Response(200, json={"data": []}), httpx.Response(200, json=recent)])
    graph.post(f"/{PAGE}/feed").respond(400, json=fx("error_duplicate"))
    result = await facebook.publish(OutboundPost(text="Stay safe", idempotency_key="k"))
    assert result.external_id == f"{PAGE}_9"


async def test_fb_post_metrics(facebook, graph):
    route = graph.get("/").respond(200, json=fx("fb_post_metrics"))
    metrics = await facebook.post_metrics([POST])
    assert route.calls[0].request.url.params["ids"] == POST
    assert (metrics[0].likes, metrics[0].replies, metrics[0].reposts) == (31, 3, 7)


# ---------------------------------------------------------------- Instagram


async def test_ig_check_and_metrics(instagram, graph):
    graph.get(f"/{IG}").respond(200, json=fx("ig_user"))
    author = await instagram.check()
    assert author.handle == "@examplecityem"
    metrics = await instagram.profile_metrics()
    assert metrics.posts == 388


async def test_ig_mentions_tags_comments_and_replies(instagram, graph):
    graph.get(f"/{IG}").respond(200, json=fx("ig_user"))
    await instagram.check()
    graph.get(f"/{IG}/tags").respond(200, json=fx("ig_tags"))
    graph.get(f"/{IG}/media").respond(200, json=fx("ig_media"))
    graph.get("/17895695668004550/comments").respond(200, json=fx("ig_comments"))
    silent = graph.get("/17895695668004551/comments").respond(200, json={"data": []})
    page = await instagram.fetch_mentions()
    assert [(m.kind, m.text) for m in page.items] == [
        ("comment", "I love this!"),
        ("comment", "Same here"),
        ("comment", "This is awesome!"),
        ("mention", "Volunteers filling sandbags with @examplecityem"),
    ]
    assert not silent.called  # media without comments are not asked
    again = await instagram.fetch_mentions(page.cursor)
    assert again.items == []


async def test_ig_reply_to_our_reply_is_a_reply(instagram, graph):
    comments = copy.deepcopy(fx("ig_comments"))
    comments["data"][0]["from"] = {"id": IG, "username": "examplecityem"}
    graph.get(f"/{IG}/tags").respond(200, json={"data": []})
    graph.get(f"/{IG}/media").respond(200, json=fx("ig_media"))
    graph.get("/17895695668004550/comments").respond(200, json=comments)
    page = await instagram.fetch_mentions()
    kinds = {m.text: m.kind for m in page.items}
    assert "I love this!" not in kinds and kinds["Same here"] == "reply"


async def test_ig_search_is_unsupported(instagram):
    with pytest.raises(PermanentError, match="no public search API"):
        await instagram.search(SearchQuery("floods"))


async def test_ig_requires_an_image(instagram):
    with pytest.raises(PermanentError, match="at least one image"):
        await instagram.publish(OutboundPost(text="caption only", idempotency_key="k"))


async def test_ig_container_flow(instagram, graph, tmp_path, sleeps):
    image = tmp_path / "map.jpg"
    image.write_bytes(b"\xff\xd8\xff")
    graph.get(f"/{IG}/media").respond(200, json={"data": []})
    create = graph.post(f"/{IG}/media").respond(200, json=fx("ig_container"))
    graph.get("/17889615691921648").mock(side_effect=[httpx.Response(200, json=fx("ig_container_in_progress")),
                                                     httpx.Response(200, json=fx("ig_container_finished"))])
    publish = graph.post(f"/{IG}/media_publish").respond(200, json=fx("ig_published"))
    post = OutboundPost(text="Sandbag points #floods", idempotency_key="k", media=(MediaAttachment(str(image), "image/jpeg", "Map of sandbag points"),))
    result = await instagram.publish(post)
    assert form(create.calls[0].request) == {
        "image_url": "https://govsocial.example/m/map.jpg?sig=abc", "caption": "Sandbag points #floods", "alt_text": "Map of sandbag points"}
    assert form(publish.calls[0].request) == {"creation_id": "17889615691921648"}
    assert result.external_id == "17920238422030506"
    assert sleeps == [3.0]


async def test_ig_container_error_is_permanent(instagram, graph, tmp_path):
    image = tmp_path / "map.jpg"
    image.write_bytes(b"\xff\xd8\xff")
    graph.get(f"/{IG}/media").respond(200, json={"data": []})
    graph.post(f"/{IG}/media").respond(200, json=fx("ig_container"))
    graph.get("/17889615691921648").respond(200, json={"status_code": "ERROR", "id": "17889615691921648"})
    post = OutboundPost(text="x", idempotency_key="k", media=(MediaAttachment(str(image), "image/jpeg", "alt"),))
    with pytest.raises(PermanentError, match="ERROR"):
        await instagram.publish(post)


async def test_ig_png_rejected(instagram):
    post = OutboundPost(text="x", idempotency_key="k", media=(MediaAttachment("/tmp/a.png", "image/png", "alt"),))
    with pytest.raises(PermanentError, match="image/png"):
        await instagram.publish(post)


async def test_ig_too_many_hashtags(instagram):
    with pytest.raises(PermanentError, match="hashtags"):
        await instagram.publish(OutboundPost(text=" ".join(f"#t{i}" for i in range(31)), idempotency_key="k"))


async def test_ig_without_public_url_resolver():
    connector = InstagramConnector(Credentials("instagram", {"ig_user_id": IG}, {"page_access_token": "t"}))
    post = OutboundPost(text="x", idempotency_key="k", media=(MediaAttachment("/tmp/a.jpg", "image/jpeg", "alt"),))
    with pytest.raises(PermanentError, match="public URL"):
        await connector.publish(post)
    await connector.aclose()


async def test_ig_reply(instagram, graph):
    graph.get("/17873440459141021/replies").respond(200, json={"data": []})
    route = graph.post("/17873440459141021/replies").respond(200, json=fx("ig_reply_created"))
    result = await instagram.publish(OutboundPost(text="Thanks for your support", idempotency_key="k", in_reply_to_id="17873440459141021"))
    assert form(route.calls[0].request) == {"message": "Thanks for your support"}
    assert result.external_id == "17873440459141099"


async def test_ig_post_metrics(instagram, graph):
    graph.get("/").respond(200, json=fx("ig_post_metrics"))
    metrics = await instagram.post_metrics(["17920238422030506"])
    assert (metrics[0].likes, metrics[0].replies) == (120, 9)


# ---------------------------------------------------------------- reconciling (issue 14)


async def test_fb_find_published_finds_our_post_and_raises_when_it_cannot_look(facebook, graph):
    recent = {"data": [{"id": f"{PAGE}_9", "message": "Boil water notice", "created_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")}]}
    route = graph.get(f"/{PAGE}/posts")
    route.respond(200, json=recent)
    since = datetime.now(UTC) - timedelta(minutes=5)
    found = await facebook.find_published(OutboundPost(text="Boil water notice", idempotency_key="k"), since)
    assert found is not None and found.external_id == f"{PAGE}_9"
    assert await facebook.find_published(OutboundPost(text="Not posted", idempotency_key="k"), since) is None
    route.respond(400, json={"error": {"message": "Unsupported get request", "type": "GraphMethodException", "code": 100}})
    with pytest.raises(PermanentError):
        await facebook.find_published(OutboundPost(text="Boil water notice", idempotency_key="k"), since)
