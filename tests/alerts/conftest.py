"""Fixtures for the alert tests: the real peers (web-push-testing, an aiosmtpd server) and our own push receiver."""

from __future__ import annotations

import pytest

from tests.alerts.push_receiver import PushReceiver
from tests.alerts.smtp_peer import PASSWORD, USERNAME, SmtpPeer
from tests.conftest import missing_service
from tests.peers.webpush import harness


@pytest.fixture(scope="session")
def push_service():
    """web-push-testing@1.2.2 from npm, on a free loopback port; stopped by PID at the end of the session."""
    try:
        harness.install()
    except harness.PeerUnavailable as exc:
        missing_service(str(exc))
    service = harness.start()
    yield service
    harness.stop(service)


@pytest.fixture
def receiver():
    r = PushReceiver().start()
    yield r
    r.stop()


@pytest.fixture
def smtp_peer(tmp_path):
    peer = SmtpPeer(tmp_path).start()
    yield peer
    peer.stop()


@pytest.fixture
def smtp_configured(db, smtp_peer, actor_factory):
    """The app's mail settings point at the aiosmtpd peer (STARTTLS, AUTH, its self-signed CA trusted)."""
    from govsocial_app.services import mailer

    mailer.save_config(
        mailer.SmtpConfig(smtp_peer.host, smtp_peer.port, USERNAME, PASSWORD, starttls=True, sender="GovSocial <alerts@test.gov>",
                          ca_file=str(smtp_peer.cert_path)),
        actor_factory("admin", "Setup Admin"),
    )
    return smtp_peer
