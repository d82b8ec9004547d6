"""Publishing to the simulated network: validation, Mastodon-style idempotency (also across threads and processes), threading."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.base import MediaAttachment, OutboundPost, PermanentError, TransientError

from tests.connectors.simulator.simulator_testkit import T0

ROOT = Path(__file__).resolve().parents[3]


async def test_same_key_returns_the_original_and_creates_nothing(make, clock):
    conn = make()
    first = await conn.publish(OutboundPost("Bin collections resume on Monday.", "key-1"))
    clock.advance(minutes=5)
    again = await conn.publish(OutboundPost("Bin collections resume on Monday.", "key-1"))
    other = await conn.publish(OutboundPost("Bin collections resume on Monday.", "key-2"))
    assert again == first
    assert first.published_at == T0
    assert other.external_id != first.external_id
    assert len(conn.published_posts()) == 2
    log = conn.received_log()
    assert [(r["idempotency_key"], r["external_id"], r["deduplicated"], r["outcome"]) for r in log] == [
        ("key-1", first.external_id, False, "created"),
        ("key-1", first.external_id, True, "deduplicated"),
        ("key-2", other.external_id, False, "created"),
    ]
    assert log[1]["called_at"] == T0 + timedelta(minutes=5)


async def test_keys_expire_after_an_hour_like_mastodon(make, clock):
    conn = make()
    first = await conn.publish(OutboundPost("Road reopened.", "k"))
    clock.advance(minutes=61)
    later = await conn.publish(OutboundPost("Road reopened.", "k"))
    assert later.external_id != first.external_id
    forever = make(profile_key="forever", idempotency_ttl=0)
    a = await forever.publish(OutboundPost("Road reopened.", "k"))
    clock.advance(days=30)
    assert await forever.publish(OutboundPost("Road reopened.", "k")) == a


async def test_keys_belong_to_one_account(make):
    a = await make().publish(OutboundPost("Hello", "shared"))
    b = await make(profile_key="riverton-ema", handle="@riverton_ema").publish(OutboundPost("Hello", "shared"))
    assert a.external_id != b.external_id


async def test_no_key_means_no_deduplication(make):
    conn = make()
    a = await conn.publish(OutboundPost("Same text", ""))
    b = await conn.publish(OutboundPost("Same text", ""))
    assert a.external_id != b.external_id


def test_concurrent_publishes_from_threads_create_exactly_one(make):
    connectors = [make() for _ in range(8)]
    barrier = threading.Barrier(len(connectors))
    results, errors = [], []

    def worker(conn):
        try:
            barrier.wait()
            results.append(asyncio.run(conn.publish(OutboundPost("Shelter open at Hillcrest Academy.", "race-key"))))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(c,)) for c in connectors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len({r.external_id for r in results}) == 1 and len(results) == 8
    log = connectors[0].received_log()
    assert sum(1 for r in log if r["outcome"] == "created") == 1
    assert sum(1 for r in log if r["deduplicated"]) == 7
    assert len(connectors[0].published_posts()) == 1


_PUBLISH_SCRIPT = """
import asyncio, os, sys, time
from datetime import datetime, timezone
from connectors.base import Credentials, OutboundPost
from connectors.simulator import SimulatorConnector
state, go = sys.argv[1], sys.argv[2]
conn = SimulatorConnector(
    Credentials("simulator", {"handle": "@cityofriverton", "profile_key": "riverton-city", "state_path": state, "rate_limit": 0}),
    clock=lambda: datetime(2026, 3, 10, 12, tzinfo=timezone.utc),
)
deadline = time.time() + 20
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.001)
print(asyncio.run(conn.publish(OutboundPost("Evacuate Lowmoor now.", "cross-process-key"))).external_id)
"""


def test_concurrent_publishes_from_processes_create_exactly_one(make, state_path, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", _PUBLISH_SCRIPT, state_path, str(go)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        for _ in range(4)
    ]
    time.sleep(1.0)  # let every process import and wait at the start line
    go.touch()
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _out, err in outputs]
    ids = {out.strip() for out, _err in outputs}
    assert len(ids) == 1
    log = make().received_log()
    assert len(log) == 4
    assert sum(1 for r in log if r["outcome"] == "created") == 1
    assert len(make().published_posts()) == 1


async def test_too_long_text_is_rejected_with_a_clear_message(make):
    conn = make()
    with pytest.raises(PermanentError, match=r"501 characters.*500"):
        await conn.publish(OutboundPost("x" * 501, "long"))
    assert conn.published_posts() == []
    assert conn.received_log()[0]["outcome"].startswith("rejected: The post is 501 characters")


async def test_length_is_counted_in_graphemes(make):
    conn = make()
    decomposed = "e\u0301" * 500  # 1000 code points, 500 user-perceived characters
    family = "👨‍👩‍👧‍👦" * 500  # 7 code points each
    assert (await conn.publish(OutboundPost(decomposed, "a"))).external_id
    assert (await conn.publish(OutboundPost(family, "b"))).external_id
    arabic = "مرحباً بكم في ريفرتون " * 23  # 22 code points but 21 graphemes (the tanween joins its letter): 483
    assert (await conn.publish(OutboundPost(arabic, "c"))).external_id
    with pytest.raises(PermanentError):
        await conn.publish(OutboundPost(decomposed + "e\u0301", "d"))


async def test_a_link_counts_towards_the_limit(make):
    conn = make()
    link = "https://riverton.gov.example/flood"
    with pytest.raises(PermanentError):
        await conn.publish(OutboundPost("x" * (500 - len(link)), "l1", link=link))
    ok = await conn.publish(OutboundPost("x" * (498 - len(link)), "l2", link=link))
    assert conn.published_posts()[-1]["text"].endswith(link) and ok.external_id


@pytest.mark.parametrize("text", ["", "   \n "])
async def test_empty_posts_are_rejected(make, text):
    with pytest.raises(PermanentError, match="empty"):
        await make().publish(OutboundPost(text, "e"))


async def test_media_rules(make, tmp_path):
    conn = make()
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG" + b"0" * 100)
    ok = await conn.publish(OutboundPost("", "m1", media=(MediaAttachment(str(image), "image/png", "A flooded road"),)))
    assert ok.external_id
    with pytest.raises(PermanentError, match="not an image type"):
        await conn.publish(OutboundPost("x", "m2", media=(MediaAttachment(str(image), "video/mp4", "clip"),)))
    with pytest.raises(PermanentError, match="cannot be read"):
        await conn.publish(OutboundPost("x", "m3", media=(MediaAttachment(str(tmp_path / "missing.png"), "image/png", "x"),)))
    with pytest.raises(PermanentError, match="5 images"):
        await conn.publish(OutboundPost("x", "m4", media=(MediaAttachment(str(image), "image/png", "x"),) * 5))


async def test_replies_are_threaded_and_answered(make, clock):
    conn = make()
    page = await conn.fetch_mentions(conn.cursor_at(T0 - timedelta(hours=2)))
    mention = next(m for m in page.items if m.kind == "mention" and not m.deleted)
    dm = next(m for m in conn.history(T0 - timedelta(days=1), T0) if m.kind == "dm")
    reply = await conn.publish(OutboundPost("Thanks, a crew is on the way.", "r1", in_reply_to_id=mention.external_id))
    private = await conn.publish(OutboundPost("We have passed this to the housing team.", "r2", in_reply_to_id=dm.external_id))
    top = await conn.publish(OutboundPost("Flood warning: sandbags available at Market Square.", "r3"))
    posts = {p["external_id"]: p for p in conn.published_posts()}
    assert posts[reply.external_id]["conversation_id"] == mention.conversation_id
    assert posts[private.external_id]["visibility"] == "direct" and not private.url
    assert posts[private.external_id]["conversation_id"] == dm.conversation_id
    assert posts[top.external_id]["conversation_id"] == top.external_id
    clock.advance(hours=5)
    answers = [m for m in conn.history(T0, clock.now) if m.in_reply_to_id == top.external_id]
    assert len(answers) >= 2
    assert all(m.kind == "reply" and m.conversation_id == top.external_id and m.created_at > T0 for m in answers)
    fetched, cursor = set(), page.cursor
    while True:
        later = await conn.fetch_mentions(cursor)
        if not later.items:
            break
        fetched |= {m.external_id for m in later.items}
        cursor = later.cursor
    assert {m.external_id for m in answers} <= fetched
    # Their reply can be answered in turn, in the same conversation.
    again = await conn.publish(OutboundPost("You're welcome.", "r4", in_reply_to_id=answers[0].external_id))
    assert conn.published_posts()[-1]["conversation_id"] == top.external_id and again.external_id


async def test_replying_to_something_that_does_not_exist_or_was_deleted_fails(make, clock):
    conn = make()
    with pytest.raises(PermanentError, match="does not exist"):
        await conn.publish(OutboundPost("hi", "x1", in_reply_to_id="nope-123"))
    deleted = next(m for m in conn.history(T0 - timedelta(days=2), T0) if m.deleted)
    with pytest.raises(PermanentError, match="deleted"):
        await conn.publish(OutboundPost("hi", "x2", in_reply_to_id=deleted.external_id))
    assert [r["outcome"].split(":")[0] for r in conn.received_log()] == ["rejected", "rejected"]


async def test_a_lost_response_is_recovered_by_retrying_with_the_same_key(make):
    conn = make()
    conn.inject_faults(["timeout-after"])
    with pytest.raises(TransientError):
        await conn.publish(OutboundPost("Shelter at St Mary's School is open.", "lost-1"))
    retried = await conn.publish(OutboundPost("Shelter at St Mary's School is open.", "lost-1"))
    assert len(conn.published_posts()) == 1
    assert conn.published_posts()[0]["external_id"] == retried.external_id
    assert [r["deduplicated"] for r in conn.received_log()] == [False, True]
