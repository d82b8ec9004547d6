"""The live relay refreshes only the clients whose socket this worker holds, even though Reflex's Redis token
manager also caches the sockets of other workers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.services


async def test_each_worker_sees_only_its_own_sockets_under_the_redis_token_manager(redis_url):
    import redis.asyncio as aioredis
    from reflex.utils.token_manager import RedisTokenManager

    from govsocial_app.state.watchers import local_tokens

    worker_a = RedisTokenManager(aioredis.Redis.from_url(redis_url))
    worker_b = RedisTokenManager(aioredis.Redis.from_url(redis_url))
    try:
        await worker_a.link_token_to_sid("token-on-a", "sid-a")
        await worker_b.link_token_to_sid("token-on-b", "sid-b")
        # What worker A does whenever it sends B's client a SharedState update (presence, the feed):
        assert await worker_a._get_token_owner("token-on-b") == worker_b.instance_id
        assert set(worker_a.token_to_sid) == {"token-on-a", "token-on-b"}, "the cache the old filter trusted"

        app_a = SimpleNamespace(event_namespace=SimpleNamespace(_token_manager=worker_a))
        app_b = SimpleNamespace(event_namespace=SimpleNamespace(_token_manager=worker_b))
        assert local_tokens(app_a) == {"token-on-a"}
        assert local_tokens(app_b) == {"token-on-b"}
        assert local_tokens(SimpleNamespace(event_namespace=None)) == set()
    finally:
        await worker_a.close()
        await worker_b.close()
