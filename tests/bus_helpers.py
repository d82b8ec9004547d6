"""Redis as a test sees it from outside: drop this process's bus subscription the way a Redis restart would."""

from __future__ import annotations


def drop_subscription(redis_url: str, topic: str) -> int:
    """Kill this process's subscriber connections to `topic` (only ours: the other test worker shares the server).
    Returns how many were killed."""
    import redis

    from govsocial_app.services.bus import subscriber_name

    client = redis.Redis.from_url(redis_url)
    name = subscriber_name(topic)
    return sum(client.client_kill_filter(_id=c["id"]) for c in client.client_list() if c.get("name") == name)
