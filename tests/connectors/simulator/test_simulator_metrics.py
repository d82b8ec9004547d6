"""Account and post metrics on the simulated network: plausible, deterministic growth."""

from __future__ import annotations

from datetime import timedelta

from connectors.base import OutboundPost

from tests.connectors.simulator.simulator_testkit import T0


async def test_check_returns_the_connected_account(make):
    author = await make(display_name="City of Riverton").check()
    assert author.handle == "@cityofriverton"
    assert author.display_name == "City of Riverton"
    assert author.verified and author.followers > 1000
    assert author.external_id.startswith("sim-acct-")


async def test_followers_grow_over_thirty_days(make, clock):
    conn = make()
    snapshots = []
    for day in range(30):
        clock.now = T0 + timedelta(days=day)
        snapshots.append(await conn.profile_metrics())
    followers = [s.followers for s in snapshots]
    assert followers[-1] > followers[0] + 200
    ups = sum(1 for a, b in zip(followers, followers[1:]) if b >= a)
    assert ups >= 20, followers
    assert all(b.posts >= a.posts for a, b in zip(snapshots, snapshots[1:]))
    clock.now = T0
    assert await conn.profile_metrics() == snapshots[0]  # deterministic


async def test_a_flood_brings_followers(make, clock):
    normal = make()
    flood = make(scenario="flood", scenario_started_at=T0.isoformat())
    clock.now = T0 + timedelta(hours=12)
    assert (await flood.profile_metrics()).followers > (await normal.profile_metrics()).followers * 1.05


async def test_post_count_includes_what_we_publish(make):
    conn = make()
    before = (await conn.profile_metrics()).posts
    await conn.publish(OutboundPost("One", "1"))
    await conn.publish(OutboundPost("Two", "2"))
    assert (await conn.profile_metrics()).posts == before + 2


async def test_post_engagement_grows_with_age(make, clock):
    conn = make()
    plain = await conn.publish(OutboundPost("Library hours change next week.", "p1"))
    linked = await conn.publish(OutboundPost("Read the budget proposals", "p2", link="https://riverton.example/budget"))
    series = []
    for hours in (0, 0.25, 1, 3, 12, 48):
        clock.now = T0 + timedelta(hours=hours)
        series.append({m.external_id: m for m in await conn.post_metrics([plain.external_id, linked.external_id, "unknown"])})
    assert all(set(s) == {plain.external_id, linked.external_id} for s in series)
    for post_id in (plain.external_id, linked.external_id):
        impressions = [s[post_id].impressions for s in series]
        likes = [s[post_id].likes for s in series]
        replies = [s[post_id].replies for s in series]
        assert impressions == sorted(impressions) and likes == sorted(likes) and replies == sorted(replies)
        assert impressions[0] == 0 and impressions[-1] > 100 and likes[-1] > 0
    assert series[-1][linked.external_id].clicks > 0
    assert series[-1][plain.external_id].clicks == 0
    # The reply count matches the replies the stream actually delivers.
    delivered = [m for m in conn.history(T0, clock.now) if m.in_reply_to_id == plain.external_id and not m.deleted and not m.edited_at]
    assert series[-1][plain.external_id].replies == len(delivered)
