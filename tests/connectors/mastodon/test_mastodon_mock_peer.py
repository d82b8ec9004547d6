"""MastodonConnector against a real third-party Mastodon API server (mastodon_mock 0.6.1) on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from connectors.base import (
    KIND_DM,
    KIND_MENTION,
    KIND_REPLY,
    AuthError,
    Credentials,
    OutboundPost,
    RateLimited,
    SearchQuery,
)
from connectors.mastodon import MastodonConnector

pytestmark = pytest.mark.peers

# Accounts and tokens seeded by `serve --demo` (mastodon_mock.config.DEMO_SEED).
OURS, GRACE, ALAN, KATHERINE = "ada_token", "grace_token", "alan_token", "katherine_token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def peer_url(tmp_path_factory):
    binary = Path(sys.executable).with_name("mastodon_mock")
    if not binary.exists():
        pytest.skip("mastodon_mock is not installed (pip install mastodon_mock==0.6.1)")
    port = _free_port()
    log = (tmp_path_factory.mktemp("mastodon_mock") / "server.log").open("w")
    # cwd in a temp dir: the mock writes uploaded media under its working directory.
    proc = subprocess.Popen(
        [str(binary), "serve", "--in-memory", "--demo", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=log.name.rsplit("/", 1)[0],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mastodon_mock exited with {proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{url}/api/v2/instance", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("mastodon_mock did not start within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(autouse=True)
def _clean_peer(peer_url):
    # Reset drops every status and fault rule and re-applies the demo seed, tokens included.
    httpx.post(f"{peer_url}/api/v1/_mock/reset", timeout=10).raise_for_status()


@pytest.fixture
async def as_user(peer_url):
    opened: list[MastodonConnector] = []

    def make(token: str) -> MastodonConnector:
        connector = MastodonConnector(Credentials("mastodon", {"instance_url": peer_url}, {"access_token": token}))
        opened.append(connector)
        return connector

    yield make
    for connector in opened:
        await connector.aclose()


def add_fault(peer_url: str, rule: dict) -> None:
    httpx.post(f"{peer_url}/api/v1/_mock/faults", json=rule, timeout=5).raise_for_status()


async def test_check_and_limits(as_user, peer_url):
    ours = as_user(OURS)
    author = await ours.check()
    assert author.handle == f"@ada@{peer_url.split('://')[1]}"
    assert author.display_name == "Ada Lovelace"
    assert ours.limits.max_chars == 500 and ours.limits.url_length == 23


async def test_bad_token_is_auth_error(as_user):
    with pytest.raises(AuthError):
        await as_user("not-a-token").check()


async def test_post_and_reply(as_user, peer_url):
    ours, grace = as_user(OURS), as_user(GRACE)
    post = await ours.publish(OutboundPost(text="Flood warning for the river valley", idempotency_key="p1"))
    reply = await grace.publish(OutboundPost(text="Is the bridge open?", idempotency_key="r1", in_reply_to_id=post.external_id))
    status = httpx.get(f"{peer_url}/api/v1/statuses/{reply.external_id}", timeout=5).json()
    assert status["in_reply_to_id"] == post.external_id
    assert reply.url.endswith(reply.external_id)


async def test_mentions_replies_and_direct_messages_arrive_once_in_order(as_user, peer_url):
    ours = as_user(OURS)
    baseline = await ours.fetch_mentions()
    post = await ours.publish(OutboundPost(text="Shelters are open", idempotency_key="p1"))

    await as_user(GRACE).publish(OutboundPost(text="@ada where is the nearest shelter?", idempotency_key="g1"))
    await as_user(ALAN).publish(OutboundPost(text="@ada thank you", idempotency_key="a1", in_reply_to_id=post.external_id))
    httpx.post(
        f"{peer_url}/api/v1/statuses",
        headers={"Authorization": f"Bearer {KATHERINE}"},
        json={"status": "@ada my street is flooded, privately", "visibility": "direct"},
        timeout=5,
    ).raise_for_status()

    page = await ours.fetch_mentions(baseline.cursor)
    assert [m.text for m in page.items] == [
        "@ada where is the nearest shelter?",
        "@ada thank you",
        "@ada my street is flooded, privately",
    ]
    assert [m.kind for m in page.items] == [KIND_MENTION, KIND_REPLY, KIND_DM]
    assert page.items[1].in_reply_to_id == post.external_id
    assert [m.author.display_name for m in page.items] == ["Grace Hopper", "Alan Turing", "Katherine Johnson"]
    assert page.skipped == []

    again = await ours.fetch_mentions(page.cursor)
    assert again.items == [] and again.cursor == page.cursor


async def test_mentions_page_past_the_servers_page_cap(as_user):
    ours, grace = as_user(OURS), as_user(GRACE)
    baseline = await ours.fetch_mentions()
    for n in range(45):
        await grace.publish(OutboundPost(text=f"@ada report {n}", idempotency_key=f"g{n}"))
    page = await ours.fetch_mentions(baseline.cursor)  # the mock caps pages at 40
    assert [m.text for m in page.items] == [f"@ada report {n}" for n in range(45)]


async def test_search_by_hashtag_and_keyword(as_user):
    ours = as_user(OURS)
    await as_user(GRACE).publish(OutboundPost(text="Water is rising at the weir #RiverWatch", idempotency_key="g1"))
    await as_user(ALAN).publish(OutboundPost(text="Sandbags available at the depot", idempotency_key="a1"))

    tagged = await ours.search(SearchQuery("#riverwatch"))
    assert [m.text for m in tagged.items] == ["Water is rising at the weir #RiverWatch"]
    assert tagged.items[0].author.handle.startswith("@grace@")

    found = await ours.search(SearchQuery("sandbags"))
    assert [m.text for m in found.items] == ["Sandbags available at the depot"]
    assert (await ours.search(SearchQuery("sandbags"), cursor=found.cursor)).items == []


async def test_same_idempotency_key_publishes_once(as_user, peer_url):
    ours = as_user(OURS)
    first = await ours.publish(OutboundPost(text="Evacuate zone B now", idempotency_key="alert-7"))
    second = await ours.publish(OutboundPost(text="Evacuate zone B now", idempotency_key="alert-7"))
    assert first.external_id == second.external_id
    me = await ours.check()
    statuses = httpx.get(f"{peer_url}/api/v1/accounts/{me.external_id}/statuses", timeout=5).json()
    assert [s["id"] for s in statuses].count(first.external_id) == 1
    assert sum("Evacuate zone B now" in s["content"] for s in statuses) == 1


async def test_injected_429_with_long_retry_after_is_rate_limited(as_user, peer_url, sleeps):
    ours = as_user(OURS)
    add_fault(peer_url, {"match": {"methods": ["GET"], "path": "/api/v1/notifications"}, "effect": {"type": "ratelimit"}, "count": 1})
    with pytest.raises(RateLimited) as info:
        await ours.fetch_mentions()
    assert 290 <= info.value.retry_after <= 300
    assert sleeps == []


async def test_injected_429_with_short_retry_after_is_waited_out(as_user, peer_url, sleeps):
    ours = as_user(OURS)
    add_fault(
        peer_url,
        {
            "match": {"methods": ["GET"], "path": "/api/v1/notifications"},
            "effect": {"type": "ratelimit", "headers": {"Retry-After": "2"}},
            "count": 1,
        },
    )
    page = await ours.fetch_mentions()
    assert sleeps == [2.0]
    assert page.items == []


async def test_injected_5xx_is_retried(as_user, peer_url, sleeps):
    ours = as_user(OURS)
    add_fault(peer_url, {"match": {"path": "/api/v1/accounts/verify_credentials"}, "effect": {"type": "status", "status": 502}, "count": 2})
    author = await ours.check()
    assert author.display_name == "Ada Lovelace"
    assert len(sleeps) == 2
