"""The Bluesky connector against the AT Protocol team's own dev network: post, mention, reply, search."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import pytest

from connectors.base import (
    KIND_KEYWORD,
    KIND_REPLY,
    ConnectorError,
    Credentials,
    OutboundPost,
    SearchQuery,
)
from connectors.bluesky import BlueskyConnector
from connectors.bluesky.client import XrpcClient
from connectors.bluesky.records import POST_COLLECTION, record_key

pytestmark = pytest.mark.peers

T = TypeVar("T")
OURS = "cityhall.test"
CITIZEN = "resident.test"


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 20.0) -> T:
    """Poll until `probe` returns something: the AppView indexes the PDS firehose every 300 ms."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.3)


async def create_account(http: httpx.AsyncClient, handle: str) -> dict:
    response = await http.post(
        "/xrpc/com.atproto.server.createAccount",
        json={"handle": handle, "email": f"{handle}@example.org", "password": "main-password"},
    )
    response.raise_for_status()
    return response.json()


async def app_password(http: httpx.AsyncClient, session: dict) -> str:
    response = await http.post(
        "/xrpc/com.atproto.server.createAppPassword",
        json={"name": "govsocial"},
        headers={"Authorization": f"Bearer {session['accessJwt']}"},
    )
    response.raise_for_status()
    return response.json()["password"]


async def get_record(http: httpx.AsyncClient, uri: str) -> dict:
    repo, collection, rkey = uri.removeprefix("at://").split("/")
    response = await http.get(
        "/xrpc/com.atproto.repo.getRecord", params={"repo": repo, "collection": collection, "rkey": rkey}
    )
    response.raise_for_status()
    return response.json()["value"]


def span(text: str, needle: str) -> dict:
    """Byte offsets of `needle` in `text`, computed independently of connectors.bluesky.facets."""
    encoded, target = text.encode(), needle.encode()
    start = encoded.index(target)
    return {"byteStart": start, "byteEnd": start + len(target)}


async def test_post_mention_reply_and_search(atproto_network):
    net = atproto_network
    async with httpx.AsyncClient(base_url=net.pds_url, timeout=15) as http:
        ours = await create_account(http, OURS)
        citizen = await create_account(http, CITIZEN)
        password = await app_password(http, ours)

        connector = BlueskyConnector(
            Credentials(
                "bluesky",
                config={"service_url": net.pds_url, "handle": OURS, "post_langs": ["en"]},
                secrets={"app_password": password},
            )
        )
        try:
            # A brand-new account's profile can 400 for a moment until the AppView indexes it.
            async def profile():
                try:
                    return await connector.check()
                except ConnectorError:
                    return None

            me = await eventually(profile, "our profile")
            assert (me.handle, me.external_id) == (OURS, ours["did"])
            first = await connector.fetch_mentions()
            assert first.items == []

            # --- we post; publishing again with the same key returns the same post
            announcement = OutboundPost(
                text="Flood update: the river road is closed until 18:00. #FloodWatch",
                idempotency_key="peer-announcement-1",
                link="https://example.gov/floods",
            )
            posted = await connector.publish(announcement)
            assert posted.external_id == f"at://{ours['did']}/{POST_COLLECTION}/{record_key('peer-announcement-1')}"
            assert posted.url == f"https://bsky.app/profile/{OURS}/post/{record_key('peer-announcement-1')}"
            assert (await connector.publish(announcement)).external_id == posted.external_id
            listed = (
                await http.get(
                    "/xrpc/com.atproto.repo.listRecords", params={"repo": ours["did"], "collection": POST_COLLECTION}
                )
            ).json()["records"]
            assert [r["uri"] for r in listed] == [posted.external_id]
            record = await get_record(http, posted.external_id)
            assert record["langs"] == ["en"]
            assert {f["features"][0]["$type"] for f in record["facets"]} == {
                "app.bsky.richtext.facet#tag",
                "app.bsky.richtext.facet#link",
            }
            # The PDS itself refuses a second record under the same key: that is what idempotency rests on.
            raw = XrpcClient(net.pds_url)
            with pytest.raises(ConnectorError):
                await raw.create_record(
                    ours["accessJwt"],
                    ours["did"],
                    POST_COLLECTION,
                    record_key("peer-announcement-1"),
                    {"$type": POST_COLLECTION, "text": "twice", "createdAt": record["createdAt"]},
                )
            await raw.aclose()
            # Two workers racing on one key: both miss the pre-check, the PDS lets one create, and the
            # loser reconciles by reading the winner's record back.
            race = OutboundPost(text="Sandbags at the depot from 14:00.", idempotency_key="peer-race-1")
            winners = await asyncio.gather(connector.publish(race), connector.publish(race))
            assert winners[0].external_id == winners[1].external_id

            # --- a citizen replies, mentioning us with a facet (Arabic and emoji before it)
            parent_cid = (
                await http.get(
                    "/xrpc/com.atproto.repo.getRecord",
                    params={
                        "repo": ours["did"],
                        "collection": POST_COLLECTION,
                        "rkey": record_key("peer-announcement-1"),
                    },
                )
            ).json()["cid"]
            question = "مرحبا 👋🏽 @cityhall.test is the bridge on Main St open?"
            reply_ref = {"uri": posted.external_id, "cid": parent_cid}
            created = await http.post(
                "/xrpc/com.atproto.repo.createRecord",
                headers={"Authorization": f"Bearer {citizen['accessJwt']}"},
                json={
                    "repo": citizen["did"],
                    "collection": POST_COLLECTION,
                    "record": {
                        "$type": POST_COLLECTION,
                        "text": question,
                        "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                        "langs": ["ar", "en"],
                        "reply": {"root": reply_ref, "parent": reply_ref},
                        "facets": [
                            {
                                "index": span(question, "@cityhall.test"),
                                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": ours["did"]}],
                            }
                        ],
                    },
                },
            )
            created.raise_for_status()
            question_uri = created.json()["uri"]

            async def mentions():
                page = await connector.fetch_mentions(first.cursor)
                return page if page.items else None

            page = await eventually(mentions, "the citizen's mention")
            assert page.skipped == []
            assert [m.external_id for m in page.items] == [question_uri]
            message = page.items[0]
            assert message.kind == KIND_REPLY
            assert message.author.handle == CITIZEN
            assert message.author.external_id == citizen["did"]
            assert message.text == question
            assert message.conversation_id == posted.external_id
            assert message.in_reply_to_id == posted.external_id
            assert message.lang == "ar"
            assert message.url == f"https://bsky.app/profile/{CITIZEN}/post/{question_uri.rsplit('/', 1)[1]}"
            assert message.created_at.tzinfo is not None
            # The cursor moved past it: polling again hands out nothing twice.
            assert (await connector.fetch_mentions(page.cursor)).items == []

            # --- we answer with a mention facet; the AppView must index it as a mention of the citizen
            answer_text = "شكرا 🙏🏽 @resident.test yes, the bridge is open again. #FloodWatch"
            answer = await connector.publish(
                OutboundPost(text=answer_text, idempotency_key="peer-answer-1", in_reply_to_id=question_uri)
            )
            stored = await get_record(http, answer.external_id)
            assert stored["reply"]["root"]["uri"] == posted.external_id
            assert stored["reply"]["parent"]["uri"] == question_uri
            mention = next(f for f in stored["facets"] if f["features"][0]["$type"].endswith("#mention"))
            assert mention["features"][0]["did"] == citizen["did"]
            assert mention["index"] == span(answer_text, "@resident.test")

            async def indexed():
                response = await http.get(
                    "/xrpc/app.bsky.feed.getPosts",
                    params={"uris": [answer.external_id]},
                    headers={"Authorization": f"Bearer {citizen['accessJwt']}"},
                )
                posts = response.json().get("posts", []) if response.status_code == 200 else []
                return posts[0] if posts else None

            view = await eventually(indexed, "our answer in the AppView")
            viewed = next(f for f in view["record"]["facets"] if f["features"][0]["$type"].endswith("#mention"))
            assert answer_text.encode()[viewed["index"]["byteStart"] : viewed["index"]["byteEnd"]] == b"@resident.test"

            async def citizen_notified():
                response = await http.get(
                    "/xrpc/app.bsky.notification.listNotifications",
                    headers={"Authorization": f"Bearer {citizen['accessJwt']}"},
                )
                reasons = {
                    n["reason"] for n in response.json().get("notifications", []) if n["uri"] == answer.external_id
                }
                return reasons or None

            assert await eventually(citizen_notified, "the citizen's notification") & {"mention", "reply"}

            # --- listening: searchPosts finds our brand keyword
            async def found():
                page = await connector.search(SearchQuery(terms="FloodWatch", limit=25))
                return page if len(page.items) >= 2 else None

            results = await eventually(found, "search results")
            assert {m.external_id for m in results.items} == {posted.external_id, answer.external_id}
            assert all(m.kind == KIND_KEYWORD for m in results.items)
            assert (await connector.search(SearchQuery(terms="FloodWatch"), results.cursor)).items == []

            metrics = await connector.post_metrics([posted.external_id])
            assert metrics[0].replies == 1
            assert (await connector.profile_metrics()).posts == 3
        finally:
            await connector.aclose()
