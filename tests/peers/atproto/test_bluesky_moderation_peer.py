"""Hiding a reply on the AT Protocol team's own dev network: the connector writes our thread's threadgate with the
reply in `hiddenReplies`, the AppView reports it on the thread, reconciling reads it back, and unhide takes it out."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import ConnectorError, Credentials, ModerationTarget, OutboundPost
from connectors.bluesky import BlueskyConnector
from tests.peers.atproto.test_bluesky_peer import app_password, create_account, eventually

pytestmark = pytest.mark.peers

OURS, TROLL = "modcity.test", "modtroll.test"
GATE = "app.bsky.feed.threadgate"


async def test_hide_and_unhide_a_reply_through_the_threadgate(atproto_network):
    net = atproto_network
    async with httpx.AsyncClient(base_url=net.pds_url, timeout=15) as http:
        ours = await create_account(http, OURS)
        troll = await create_account(http, TROLL)
        connector = BlueskyConnector(Credentials("bluesky", config={"service_url": net.pds_url, "handle": OURS},
                                                 secrets={"app_password": await app_password(http, ours)}))
        try:
            async def profile():
                try:
                    return await connector.check()
                except ConnectorError:
                    return None

            await eventually(profile, "our profile")
            posted = await connector.publish(OutboundPost(text="Road works on Main St this week.", idempotency_key="peer-mod-1"))
            rkey = posted.external_id.rsplit("/", 1)[1]
            cid = (await http.get("/xrpc/com.atproto.repo.getRecord",
                                  params={"repo": ours["did"], "collection": "app.bsky.feed.post", "rkey": rkey})).json()["cid"]
            ref = {"uri": posted.external_id, "cid": cid}
            created = await http.post("/xrpc/com.atproto.repo.createRecord", headers={"Authorization": f"Bearer {troll['accessJwt']}"},
                                      json={"repo": troll["did"], "collection": "app.bsky.feed.post", "record": {
                                          "$type": "app.bsky.feed.post", "text": "I will hurt the crew", "langs": ["en"],
                                          "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                                          "reply": {"root": ref, "parent": ref}}})
            created.raise_for_status()
            reply_uri = created.json()["uri"]
            target = ModerationTarget(reply_uri, troll["did"], TROLL, in_reply_to_id=posted.external_id,
                                      conversation_id=posted.external_id)

            done = await connector.moderate("hide", target)
            assert done.state == "hidden"
            gate = (await http.get("/xrpc/com.atproto.repo.getRecord",
                                   params={"repo": ours["did"], "collection": GATE, "rkey": rkey})).json()["value"]
            assert gate["post"] == posted.external_id and gate["hiddenReplies"] == [reply_uri]
            assert (await connector.moderation_state("hide", target)) is not None

            async def thread_gate():
                r = await http.get("/xrpc/app.bsky.feed.getPostThread", params={"uri": posted.external_id},
                                   headers={"Authorization": f"Bearer {ours['accessJwt']}"})
                tg = (r.json().get("thread") or {}).get("post", {}).get("threadgate") if r.status_code == 200 else None
                return tg if tg and reply_uri in (tg.get("record") or {}).get("hiddenReplies", []) else None

            await eventually(thread_gate, "the AppView's view of the hidden reply")
            # the conversation root found from the reply itself, when the message does not carry it
            bare = ModerationTarget(reply_uri, troll["did"])
            shown = await connector.moderate("unhide", bare)
            assert shown.state == "visible"
            gate = (await http.get("/xrpc/com.atproto.repo.getRecord",
                                   params={"repo": ours["did"], "collection": GATE, "rkey": rkey})).json()["value"]
            assert gate["hiddenReplies"] == []
            assert await connector.moderation_state("hide", target) is None
        finally:
            await connector.aclose()
