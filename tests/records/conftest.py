"""Records fixtures: the same tests on SQLite and PostgreSQL, and messages stored the way polling stores them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request) -> str:
    """A migrated database of each kind the product runs on; the app's engine points at it."""
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def officer(actor_factory):
    return actor_factory("records", "Rita Records")


def ingest_messages(n: int, *, profile_id: int | None = None, author: str = "citizen", created: datetime | None = None,
                    prefix: str = "m", text: str = "Hello {i}") -> list[int]:
    from connectors.base import Author, InboundMessage
    from govsocial_app.db.engine import session_scope
    from govsocial_app.services.inbox import ingest

    created = created or datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    msgs = [InboundMessage(network="simulator", external_id=f"{prefix}{i}", author=Author(external_id=author, handle=author, display_name=author.title()),
                           text=text.format(i=i), created_at=created) for i in range(n)]
    with session_scope() as s:
        return ingest.store(s, msgs, profile_id=profile_id, backfill=True).new_ids


def make_profile() -> int:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SocialProfile

    with session_scope() as s:
        p = SocialProfile(network="simulator", handle="@city", display_name="City", external_id="city")
        s.add(p)
        s.flush()
        return p.id
