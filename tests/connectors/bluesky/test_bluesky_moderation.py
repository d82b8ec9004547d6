"""Bluesky moderation with respx (shapes from the atproto lexicons): hiding a reply writes the thread's threadgate
record with `hiddenReplies`, keeping what the gate already said; unhide takes it out; mute is app.bsky.graph.muteActor."""

from __future__ import annotations

import json

import pytest

from connectors.base import ModerationTarget, NotSupported, moderation_support

DID = "did:plc:n6yy6k577mh3mmxoikjbeml7"
ROOT = f"at://{DID}/app.bsky.feed.post/3lroot000001"
REPLY = "at://did:plc:angry00000000000000000/app.bsky.feed.post/3lreply00001"
GATE = "app.bsky.feed.threadgate"


def _target() -> ModerationTarget:
    return ModerationTarget(REPLY, "did:plc:angry00000000000000000", "angry.test", in_reply_to_id=ROOT, conversation_id=ROOT)


async def test_hide_writes_the_threadgate_keeping_its_allow_rules(api, connector):
    existing = {"uri": f"at://{DID}/{GATE}/3lroot000001", "cid": "bafyreigate",
                "value": {"$type": GATE, "post": ROOT, "createdAt": "2026-12-01T10:00:00.000Z",
                          "allow": [{"$type": "app.bsky.feed.threadgate#mentionRule"}], "hiddenReplies": []}}
    api.get("/com.atproto.repo.getRecord").respond(200, json=existing)
    put = api.post("/com.atproto.repo.putRecord").respond(200, json={"uri": existing["uri"], "cid": "bafyreinew"})
    done = await connector.moderate("hide", _target())
    assert done.state == "hidden"
    body = json.loads(put.calls[0].request.content)
    assert body["collection"] == GATE and body["rkey"] == "3lroot000001" and body["repo"] == DID
    assert body["record"]["hiddenReplies"] == [REPLY]
    assert body["record"]["allow"] == [{"$type": "app.bsky.feed.threadgate#mentionRule"}]


async def test_hide_creates_a_gate_where_there_was_none_and_unhide_removes_the_reply(api, connector):
    api.get("/com.atproto.repo.getRecord").respond(400, json={"error": "RecordNotFound", "message": "Could not locate record"})
    put = api.post("/com.atproto.repo.putRecord").respond(200, json={"uri": "at://x", "cid": "c"})
    await connector.moderate("hide", _target())
    record = json.loads(put.calls[0].request.content)["record"]
    assert record["$type"] == GATE and record["post"] == ROOT and record["hiddenReplies"] == [REPLY] and "allow" not in record
    api.get("/com.atproto.repo.getRecord").respond(200, json={"uri": "at://x", "value": record})
    shown = await connector.moderate("unhide", _target())
    assert shown.state == "visible" and json.loads(put.calls[1].request.content)["record"]["hiddenReplies"] == []


async def test_reconciling_reads_the_gate(api, connector):
    api.get("/com.atproto.repo.getRecord").respond(200, json={"uri": "at://x", "value": {"$type": GATE, "post": ROOT,
                                                                                         "hiddenReplies": [REPLY]}})
    assert (await connector.moderation_state("hide", _target())).state == "hidden"
    assert await connector.moderation_state("unhide", _target()) is None


async def test_only_threads_we_started_and_no_deleting_others(api, connector):
    other = ModerationTarget(REPLY, conversation_id="at://did:plc:someoneelse0000000000000/app.bsky.feed.post/3l1")
    with pytest.raises(NotSupported, match="your own post"):
        await connector.moderate("hide", other)
    with pytest.raises(NotSupported, match="hide the reply instead"):
        await connector.moderate("delete", _target())
    assert moderation_support(connector)["hide"].mode == "network"


async def test_mute_the_author(api, connector):
    mute = api.post("/app.bsky.graph.muteActor").respond(200)
    done = await connector.moderate("mute", _target())
    assert done.state == "muted" and json.loads(mute.calls[0].request.content) == {"actor": "did:plc:angry00000000000000000"}
