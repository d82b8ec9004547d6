"""Small builders shared by the alert tests: profiles, incoming messages at chosen times, push subscriptions."""

from __future__ import annotations

import itertools
from datetime import datetime

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, SocialProfile

_ids = itertools.count(1)


def make_profile(handle: str = "@riverton", tz: str = "UTC") -> int:
    with session_scope() as s:
        p = SocialProfile(network="simulator", handle=handle, display_name=handle.lstrip("@").title(), timezone=tz)
        s.add(p)
        s.flush()
        return p.id


def add_messages(profile_id: int | None, times: list[datetime], text: str = "hello", direction: str = "in") -> list[int]:
    with session_scope() as s:
        rows = [
            Message(network="simulator", external_id=f"m{next(_ids)}", profile_id=profile_id, direction=direction, text=text,
                    created_at=t, received_at=t)
            for t in times
        ]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def spread(start: datetime, end: datetime, n: int) -> list[datetime]:
    """n instants evenly inside (start, end]."""
    step = (end - start) / n
    return [start + step * (i + 1) for i in range(n)]
