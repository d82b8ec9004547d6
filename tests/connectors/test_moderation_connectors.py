"""Moderation through each network's connector, against respx fixtures written from each API's documentation:
X (PUT /2/tweets/:id/hidden, muting, blocking), Facebook (comment is_hidden, DELETE, Page blocked), Instagram (comment
hide, DELETE), Mastodon (no hiding of others' replies: mute, block, report; hide is GovSocial-only), and the refusals
(expired token -> AuthError, permission missing, comment gone -> NotFound) with the typed NotSupported."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from connectors.base import (
    AuthError, Credentials, ModerationTarget, NotFound, NotSupported, RateLimited, moderation_support,
)
from connectors.mastodon import MastodonConnector
from connectors.meta.client import GRAPH_URL
from connectors.meta.facebook import FacebookConnector
from connectors.meta.instagram import InstagramConnector
from connectors.x import XConnector

ME = "2244994945"
REPLY = "1800000000000000042"
AUTHOR = "1234567890"
PAGE = "104832451234567"
FB_COMMENT = f"{PAGE}_700000000000002_123456789012345"
IG = "17841405822304914"
IG_COMMENT = "17858893269000001"
MASTO = "https://gov.example"

TARGET_X = ModerationTarget(REPLY, AUTHOR, "@angry", in_reply_to_id="1800000000000000001")


def _form(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))


# ---------------------------------------------------------------- X


@pytest.fixture
async def x():
    c = XConnector(Credentials("x", {"user_id": ME}, {"bearer_token": "app", "user_access_token": "user"}))
    yield c
    await c.aclose()


async def test_x_hides_and_unhides_a_reply(x):
    with respx.mock(base_url="https://api.x.com") as api:
        route = api.put(f"/2/tweets/{REPLY}/hidden").mock(side_effect=lambda req: httpx.Response(
            200, json={"data": {"hidden": json.loads(req.content)["hidden"]}}))
        hidden = await x.moderate("hide", TARGET_X)
        shown = await x.moderate("unhide", TARGET_X)
    assert (hidden.state, shown.state) == ("hidden", "visible")
    assert [json.loads(c.request.content) for c in route.calls] == [{"hidden": True}, {"hidden": False}]
    assert route.calls[0].request.headers["authorization"] == "Bearer user"
    assert hidden.response["body"] == {"data": {"hidden": True}}


async def test_x_mutes_and_blocks_the_author(x):
    with respx.mock(base_url="https://api.x.com") as api:
        mute = api.post(f"/2/users/{ME}/muting").respond(200, json={"data": {"muting": True}})
        api.post(f"/2/users/{ME}/blocking").respond(200, json={"data": {"blocking": True}})
        assert (await x.moderate("mute", TARGET_X)).state == "muted"
        assert (await x.moderate("block", TARGET_X)).state == "blocked"
    assert json.loads(mute.calls[0].request.content) == {"target_user_id": AUTHOR}


@pytest.mark.parametrize(("status", "body", "error"), [
    (401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, AuthError),
    (403, {"title": "Forbidden", "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
           "detail": "You are not permitted to hide this reply."}, AuthError),
    (404, {"title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found",
           "detail": "Could not find tweet with id: [1800000000000000042]."}, NotFound),
])
async def test_x_refusals_are_typed(x, status, body, error):
    with respx.mock(base_url="https://api.x.com") as api:
        api.put(f"/2/tweets/{REPLY}/hidden").respond(status, json=body)
        with pytest.raises(error):
            await x.moderate("hide", TARGET_X)


async def test_x_cannot_delete_or_report_others_and_says_why(x):
    with pytest.raises(NotSupported, match="hide the reply instead"):
        await x.moderate("delete", TARGET_X)
    support = moderation_support(x)
    assert support["delete"].mode == "none" and support["report"].mode == "none" and support["hide"].mode == "network"
    with pytest.raises(NotSupported):
        await x.moderation_state("hide", TARGET_X)


# ---------------------------------------------------------------- Facebook


@pytest.fixture
async def facebook():
    c = FacebookConnector(Credentials("facebook", {"page_id": PAGE}, {"page_access_token": "page-token"}))
    yield c
    await c.aclose()


async def test_facebook_hides_deletes_and_blocks(facebook):
    target = ModerationTarget(FB_COMMENT, "5550001")
    with respx.mock(base_url=GRAPH_URL) as graph:
        hide = graph.post(f"/{FB_COMMENT}").respond(200, json={"success": True})
        gone = graph.delete(f"/{FB_COMMENT}").respond(200, json={"success": True})
        block = graph.post(f"/{PAGE}/blocked").respond(200, json={"5550001": True})
        assert (await facebook.moderate("hide", target)).state == "hidden"
        assert (await facebook.moderate("unhide", target)).state == "visible"
        assert (await facebook.moderate("delete", target)).state == "deleted"
        assert (await facebook.moderate("block", target)).state == "blocked"
    assert [_form(c.request) for c in hide.calls] == [{"is_hidden": "true"}, {"is_hidden": "false"}]
    assert gone.called and _form(block.calls[0].request) == {"user": "5550001"}
    assert hide.calls[0].request.headers["authorization"] == "Bearer page-token"
    with pytest.raises(NotSupported, match="mute"):
        await facebook.moderate("mute", target)


@pytest.mark.parametrize(("body", "error"), [
    ({"error": {"message": "Error validating access token: Session has expired on Friday, 04-Dec-26.", "type": "OAuthException",
                "code": 190, "error_subcode": 463}}, AuthError),
    ({"error": {"message": "(#200) The user hasn't authorized the application to perform this action", "type": "OAuthException",
                "code": 200}}, AuthError),
    ({"error": {"message": "Unsupported post request. Object with ID '104832451234567_700000000000002_123456789012345' does not "
                "exist, cannot be loaded due to missing permissions, or does not support this operation.",
                "type": "GraphMethodException", "code": 100, "error_subcode": 33}}, NotFound),
])
async def test_facebook_refusals_are_typed(facebook, body, error):
    with respx.mock(base_url=GRAPH_URL) as graph:
        graph.post(f"/{FB_COMMENT}").respond(400, json=body)
        with pytest.raises(error):
            await facebook.moderate("hide", ModerationTarget(FB_COMMENT))


async def test_facebook_reconciles_by_reading_the_comment(facebook):
    with respx.mock(base_url=GRAPH_URL) as graph:
        graph.get(f"/{FB_COMMENT}").respond(200, json={"id": FB_COMMENT, "is_hidden": True})
        seen = await facebook.moderation_state("hide", ModerationTarget(FB_COMMENT))
        assert seen is not None and seen.state == "hidden"
        assert await facebook.moderation_state("unhide", ModerationTarget(FB_COMMENT)) is None


# ---------------------------------------------------------------- Instagram


@pytest.fixture
async def instagram():
    c = InstagramConnector(Credentials("instagram", {"ig_user_id": IG}, {"page_access_token": "page-token"}))
    yield c
    await c.aclose()


async def test_instagram_hides_and_deletes_a_comment(instagram):
    target = ModerationTarget(IG_COMMENT, "17841400000000001")
    with respx.mock(base_url=GRAPH_URL) as graph:
        hide = graph.post(f"/{IG_COMMENT}").respond(200, json={"success": True})
        graph.delete(f"/{IG_COMMENT}").respond(200, json={"success": True})
        assert (await instagram.moderate("hide", target)).state == "hidden"
        assert (await instagram.moderate("delete", target)).state == "deleted"
        graph.get(f"/{IG_COMMENT}").respond(200, json={"id": IG_COMMENT, "hidden": True})
        assert (await instagram.moderation_state("hide", target)).state == "hidden"
    assert _form(hide.calls[0].request) == {"hide": "true"}
    with pytest.raises(NotSupported, match="block or mute"):
        await instagram.moderate("block", target)


async def test_instagram_rate_limit_is_typed(instagram):
    with respx.mock(base_url=GRAPH_URL) as graph:
        graph.post(f"/{IG_COMMENT}").respond(400, json={"error": {"message": "(#4) Application request limit reached", "code": 4}})
        with pytest.raises(RateLimited):
            await instagram.moderate("hide", ModerationTarget(IG_COMMENT))


# ---------------------------------------------------------------- Mastodon


@pytest.fixture
async def mastodon():
    c = MastodonConnector(Credentials("mastodon", {"instance_url": "gov.example/"}, {"access_token": "tok"}))
    yield c
    await c.aclose()


def _relationship(**flags) -> dict:
    base = {"id": "109", "following": False, "showing_reblogs": False, "notifying": False, "followed_by": False, "blocking": False,
            "blocked_by": False, "muting": False, "muting_notifications": False, "requested": False, "domain_blocking": False,
            "endorsed": False, "note": ""}
    return base | flags


async def test_mastodon_cannot_hide_others_replies_so_hide_is_govsocial_only(mastodon):
    support = moderation_support(mastodon)
    assert support["hide"].mode == "in_app" and "GovSocial only" in support["hide"].reason
    assert support["delete"].mode == "none"
    with pytest.raises(NotSupported):
        await mastodon.moderate("hide", ModerationTarget("1100", "109"))


async def test_mastodon_mutes_blocks_and_reports_the_author(mastodon):
    target = ModerationTarget("110000000000000001", "109", "@angry@other.example", note="3.2 Threats of violence. threat")
    with respx.mock(base_url=MASTO) as api:
        api.post("/api/v1/accounts/109/mute").respond(200, json=_relationship(muting=True))
        api.post("/api/v1/accounts/109/block").respond(200, json=_relationship(blocking=True))
        report = api.post("/api/v1/reports").respond(200, json={"id": "48914", "action_taken": False, "category": "other",
                                                                "comment": "3.2 Threats of violence. threat", "forwarded": False,
                                                                "status_ids": ["110000000000000001"]})
        api.get("/api/v1/accounts/relationships").respond(200, json=[_relationship(blocking=True)])
        assert (await mastodon.moderate("mute", target)).state == "muted"
        assert (await mastodon.moderate("block", target)).state == "blocked"
        assert (await mastodon.moderate("report", target)).state == "reported"
        assert (await mastodon.moderation_state("block", target)) is not None
        assert (await mastodon.moderation_state("mute", target)) is None
    sent = json.loads(report.calls[0].request.content)
    assert sent["account_id"] == "109" and sent["status_ids"] == ["110000000000000001"] and "3.2" in sent["comment"]
    with pytest.raises(NotSupported):
        await mastodon.moderation_state("report", target)  # a report cannot be looked up: never refiled blindly


async def test_mastodon_refusals_are_typed(mastodon):
    target = ModerationTarget("1", "109")
    with respx.mock(base_url=MASTO) as api:
        api.post("/api/v1/accounts/109/block").respond(401, json={"error": "The access token is invalid"})
        with pytest.raises(AuthError):
            await mastodon.moderate("block", target)
    with respx.mock(base_url=MASTO) as api:
        api.post("/api/v1/accounts/109/mute").respond(404, json={"error": "Record not found"})
        with pytest.raises(NotFound):
            await mastodon.moderate("mute", target)
