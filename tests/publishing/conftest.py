"""Fixtures for the publishing tests: simulator profiles, users by role, a composer input builder."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import Credentials
from connectors.simulator import SimulatorConnector
from tests.alerts.smtp_peer import PASSWORD, USERNAME, SmtpPeer


def make_profile(tmp_path, network: str = "simulator", handle: str | None = None, **extra) -> int:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SocialProfile

    key = extra.pop("profile_key", None) or f"p{uuid.uuid4().hex[:8]}"
    handle = handle or f"@{key}"
    config = {"handle": handle, "profile_key": key, "state_path": str(tmp_path / "sim.db"), "rate_limit": 0}
    config.update(extra.pop("config", {}))
    with session_scope() as s:
        p = SocialProfile(network=network, handle=handle, display_name=handle, external_id=key, config=config, **extra)
        s.add(p)
        s.flush()
        return p.id


def simulator_for(profile_id: int) -> SimulatorConnector:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SocialProfile

    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        return SimulatorConnector(Credentials(network="simulator", config=dict(p.config)))


@pytest.fixture
def sim_profile(db, tmp_path):
    return make_profile(tmp_path)


@pytest.fixture
def now():
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def later(now):
    return now + timedelta(hours=2)


@pytest.fixture
def smtp_peer(tmp_path):
    peer = SmtpPeer(tmp_path).start()
    yield peer
    peer.stop()


@pytest.fixture
def smtp_configured(db, smtp_peer, actor_factory):
    """The app's mail settings point at a real SMTP server (aiosmtpd, STARTTLS, AUTH, its self-signed CA trusted)."""
    from govsocial_app.services import mailer

    mailer.save_config(
        mailer.SmtpConfig(smtp_peer.host, smtp_peer.port, USERNAME, PASSWORD, starttls=True, sender="GovSocial <approvals@test.gov>",
                          ca_file=str(smtp_peer.cert_path)),
        actor_factory("admin", "Mail Admin"),
    )
    return smtp_peer
