"""Inbox test data: a simulator profile and messages made through the real ingest path."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import Author, InboundMessage
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import SocialProfile
from govsocial_app.services.inbox import ingest
from govsocial_app.services.crypto import encrypt_json

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def msg(n: int, text: str = "", *, network: str = "simulator", handle: str = "", lang: str = "en", kind: str = "mention",
        conversation: str = "", when: datetime | None = None, name: str = "") -> InboundMessage:
    handle = handle or f"@citizen{n}"
    return InboundMessage(
        network=network, external_id=f"ext-{network}-{n}", author=Author(f"a{n}", handle, name or f"Citizen {n}"),
        text=text or f"Message number {n} about the bins", created_at=when or T0 + timedelta(minutes=n), kind=kind,
        conversation_id=conversation, lang=lang,
    )


@pytest.fixture
def profile(db, tmp_path) -> int:
    with session_scope() as s:
        p = SocialProfile(
            network="simulator", handle="@cityofriverton", display_name="City of Riverton", external_id="riverton",
            config={"handle": "@cityofriverton", "profile_key": "riverton-test", "state_path": str(tmp_path / "sim.db")},
            secrets_enc=encrypt_json({"token": "x"}),
        )
        s.add(p)
        s.flush()
        return p.id


@pytest.fixture
def store(profile):
    """Ingest messages for the test profile; returns their ids in order."""

    def _store(messages: list[InboundMessage], received: datetime | None = None) -> list[int]:
        with session_scope() as s:
            return ingest.store(s, messages, profile_id=profile, now=received or T0).new_ids

    return _store


@pytest.fixture
def sim_store(profile, store):
    """Store n real messages from the simulated network (replies to them are accepted by the simulator)."""
    from connectors.base import Credentials
    from connectors.simulator import SimulatorConnector

    with session_scope() as s:
        config = dict(s.get(SocialProfile, profile).config)

    def _sim(n: int = 1) -> list[int]:
        until = datetime.now(timezone.utc) - timedelta(minutes=5)
        sim = SimulatorConnector(Credentials(network="simulator", config=config), clock=lambda: until)
        # The simulated network deletes some posts minutes after they appear: skip any it will have deleted by
        # the time the test replies (checked a quarter of an hour ahead), or the test fails on the wall clock.
        later = SimulatorConnector(Credentials(network="simulator", config=config), clock=lambda: until + timedelta(minutes=20))
        doomed = {m.external_id for m in later.history(until - timedelta(hours=24), until + timedelta(minutes=20)) if m.deleted}
        # A whole day: the simulated network is quiet at night, and six hours before 04:00 UTC held one message.
        history = [m for m in sim.history(until - timedelta(hours=24), until)
                   if not m.deleted and m.kind != "dm" and m.external_id not in doomed]
        return store(history[:n])

    return _sim
