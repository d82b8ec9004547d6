"""Fixtures for the sign-in tests: panva's oidc-provider on 127.0.0.1, a configuration pointing at it, and people."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.alerts.conftest import smtp_configured, smtp_peer  # noqa: F401  (the aiosmtpd peer, reused)
from tests.conftest import missing_service
from tests.identity.helpers import PASSWORD
from tests.peers.oidc import harness


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """oidc-provider@9.13.3 on Node 22 (both from npm, cached); stopped by PID when the session ends."""
    try:
        harness.install()
    except harness.PeerUnavailable as exc:
        missing_service(str(exc))
    provider = harness.start(tmp_path_factory.mktemp("oidc-provider"))
    yield provider
    harness.stop(provider)


@pytest.fixture
def provider(oidc_provider):
    """The running provider with its accounts as the harness defines them (a test may change them)."""
    from govsocial_app.services.identity import oidc

    oidc_provider.reset_accounts()
    oidc.reset_clients()
    yield oidc_provider
    oidc_provider.reset_accounts()
    oidc.reset_clients()


@pytest.fixture
def sso(provider, db):
    """A single sign-on configuration for the provider's `govsocial` client, mapping groups to roles."""
    from govsocial_app.services.identity.oidc_config import OidcConfig

    return OidcConfig(
        issuer=provider.issuer, client_id=harness.CLIENT_ID, client_secret=harness.CLIENT_SECRET,
        scopes=("openid", "email", "profile", "groups"), redirect_uri=harness.REDIRECT_URI,
        post_logout_redirect_uri=harness.POST_LOGOUT_REDIRECT_URI, provider_name="Riverton ID",
        group_roles=(("gs-admins", "admin"), ("gs-managers", "manager"), ("gs-publishers", "publisher"), ("gs-responders", "responder")),
    )


@pytest.fixture
def sso_pkjwt(sso, provider):
    """The same provider through its private_key_jwt client (as Login.gov requires)."""
    return replace(sso, client_id=harness.PKJWT_CLIENT_ID, client_secret="", auth_method="private_key_jwt",
                   private_key_pem=provider.private_key_path.read_text())


@pytest.fixture
def person(db):
    """Create a GovSocial user; returns their id."""
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    def make(email: str, role: str = "viewer", name: str = "") -> int:
        return auth.create_user(email, name or email.split("@")[0].title(), PASSWORD, role, Actor.system("test"))

    return make
