"""Faults on the simulated network: queued ones (shared between processes through the state file), rate-based ones, the quota."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.base import AuthError, OutboundPost, PermanentError, RateLimited, SearchQuery, TransientError
from tests.connectors.simulator.simulator_testkit import T0


async def test_queued_faults_raise_typed_errors_in_order(make):
    conn = make()
    conn.inject_faults(["429", "500", "timeout", "401"])
    with pytest.raises(RateLimited) as limited:
        await conn.fetch_mentions("")
    assert limited.value.retry_after > 0
    with pytest.raises(TransientError):
        await conn.search(SearchQuery("flood"))
    with pytest.raises(TransientError, match="timed out"):
        await conn.check()
    with pytest.raises(AuthError):
        await conn.profile_metrics()
    assert (await conn.fetch_mentions("")).cursor  # the queue is drained
    assert conn.pending_faults() == []


async def test_faults_queued_by_one_connector_hit_another_on_the_same_state(make):
    make().inject_faults(["503", "429:7", "403", "422"])
    other = make()
    with pytest.raises(TransientError, match="503"):
        await other.check()
    with pytest.raises(RateLimited) as limited:
        await other.post_metrics(["x"])
    assert limited.value.retry_after == 7
    with pytest.raises(AuthError):
        await other.fetch_mentions("")
    with pytest.raises(PermanentError):
        await other.publish(OutboundPost("hello", "k"))
    # A different profile's queue is its own.
    make(profile_key="someone-else").inject_faults(["500"])
    assert await other.check()


async def test_a_failed_publish_creates_nothing_and_is_logged(make):
    conn = make()
    conn.inject_faults(["500"])
    with pytest.raises(TransientError):
        await conn.publish(OutboundPost("Water safe to drink.", "f1"))
    assert conn.published_posts() == []
    assert conn.received_log()[0]["outcome"].startswith("fault:")
    ok = await conn.publish(OutboundPost("Water safe to drink.", "f1"))
    assert conn.published_posts()[0]["external_id"] == ok.external_id


def test_unknown_faults_are_refused(make):
    with pytest.raises(ValueError):
        make().inject_faults(["418"])


async def test_fault_rates(make, tmp_path):
    always = make(fault_429_rate=1.0)
    with pytest.raises(RateLimited):
        await always.check()
    broken = make(profile_key="broken", fault_5xx_rate=1.0)
    with pytest.raises(TransientError):
        await broken.fetch_mentions("")

    async def outcomes(path):
        conn = make(profile_key="flaky", state_path=str(path), fault_429_rate=0.15, fault_5xx_rate=0.15)
        seen = []
        for _ in range(200):
            try:
                await conn.check()
                seen.append("ok")
            except RateLimited:
                seen.append("429")
            except TransientError:
                seen.append("5xx")
        return seen

    first = await outcomes(tmp_path / "a.db")
    second = await outcomes(tmp_path / "b.db")
    assert first == second  # the same calls fail on every run
    assert 20 <= first.count("429") <= 45 and 20 <= first.count("5xx") <= 45


async def test_quota_is_enforced_and_reported(make, clock):
    conn = make(rate_limit=5)
    remaining = []
    for _ in range(5):
        page = await conn.fetch_mentions("")
        remaining.append(page.rate_limit.remaining)
    assert remaining == [4, 3, 2, 1, 0]
    assert page.rate_limit.limit == 5 and page.rate_limit.reset_at > clock.now
    with pytest.raises(RateLimited) as limited:
        await conn.fetch_mentions("")
    assert 0 < limited.value.retry_after <= 300
    clock.advance(minutes=5)
    assert (await conn.fetch_mentions("")).rate_limit.remaining == 4
    assert (await make(rate_limit=0).fetch_mentions("")).rate_limit is None


async def test_missing_credentials_are_an_auth_error(make):
    conn = make(handle="")
    with pytest.raises(AuthError):
        await conn.check()
    with pytest.raises(AuthError):
        await conn.fetch_mentions("")
    await conn.aclose()


async def test_a_profile_connected_without_a_key_is_seeded_by_its_handle(make):
    keyless = make(profile_key=None, handle="@cityofexample")
    again = make(profile_key=None, handle="cityofexample")
    since, until = T0 - timedelta(hours=3), T0
    assert keyless.history(since, until) == again.history(since, until) != []
    assert (await keyless.check()).handle == "@cityofexample"


async def test_the_quota_window_follows_the_clock(make, clock):
    conn = make(rate_limit=1)
    await conn.check()
    clock.advance(seconds=301)  # a new five-minute window
    await conn.check()
    clock.advance(seconds=1)
    with pytest.raises(RateLimited) as limited:
        await conn.check()
    assert limited.value.retry_after == 298  # 12:05:02 until the window ends at 12:10
