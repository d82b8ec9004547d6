"""Issue 14 against real HTTP: a proxy answering 502 after mastodon_mock stored the post gives exactly one post,
and a server refusing a token with 400 "Invalid Bearer token" makes the profile need reconnecting."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlmodel import select

from connectors.base import AuthError, Credentials, OutboundPost
from connectors.http import OutcomeUnknown
from connectors.mastodon import MastodonConnector
from govsocial_app.services.errors import UserError
from tests.peers.mastodon.harness import OURS, BadGatewayAfterPost, RefusesTokens, mastodon_mock

pytestmark = pytest.mark.peers


@pytest.fixture(scope="module")
def peer_url(tmp_path_factory):
    with mastodon_mock(tmp_path_factory.mktemp("mastodon_mock")) as url:
        yield url


@pytest.fixture(autouse=True)
def _reset(peer_url, loopback_peers):
    from connectors import http
    from connectors.mastodon import connector

    httpx.post(f"{peer_url}/api/v1/_mock/reset", timeout=10).raise_for_status()
    http.reset_budgets()
    connector.reset_caches()


def _statuses(peer_url: str, text: str) -> list[dict]:
    me = httpx.get(f"{peer_url}/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {OURS}"}, timeout=5).json()
    statuses = httpx.get(f"{peer_url}/api/v1/accounts/{me['id']}/statuses", params={"limit": 40}, timeout=5).json()
    return [s for s in statuses if text in s["content"]]


def _mastodon_profile(instance_url: str, token: str) -> int:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SocialProfile
    from govsocial_app.services.crypto import encrypt_json

    with session_scope() as s:
        p = SocialProfile(network="mastodon", handle="@ada", display_name="Ada", external_id="", status="active",
                          config={"instance_url": instance_url}, secrets_enc=encrypt_json({"access_token": token}))
        s.add(p)
        s.flush()
        return p.id


async def test_the_connector_does_not_resend_after_a_502_that_followed_the_store(peer_url):
    with BadGatewayAfterPost(peer_url) as proxy:
        connector = MastodonConnector(Credentials("mastodon", {"instance_url": proxy.url}, {"access_token": OURS}))
        try:
            with pytest.raises(OutcomeUnknown):
                await connector.publish(OutboundPost(text="Boil water notice for Zone C", idempotency_key="bw-1"))
        finally:
            await connector.aclose()
    assert proxy.forwarded_posts == 1
    assert len(_statuses(peer_url, "Boil water notice for Zone C")) == 1


def test_a_502_after_the_store_publishes_exactly_once_through_the_publisher(db, peer_url, actor_factory):
    """The full path: the publish job sends, the proxy answers 502 after mastodon_mock stored it, the target is
    "unknown", the next run reconciles with the account's statuses and records the post: one post, published."""
    from govsocial_app.services.publishing import composer, sender, views
    from govsocial_app.services.publishing.composer import ComposerInput

    with BadGatewayAfterPost(peer_url, fail_posts=1) as proxy:
        pid = _mastodon_profile(proxy.url, OURS)
        post_id = composer.save(actor_factory("publisher"), ComposerInput(text="Shelter open at the library", profile_ids=[pid]),
                                  action="now").post_id
        first = asyncio.run(sender.run_once())
        assert first.outcomes == {"unknown": 1}
        [c] = sender.claim_due(now=datetime.now(timezone.utc) + timedelta(minutes=5))
        assert c.reconcile
        from govsocial_app.services import profiles
        from govsocial_app.db.engine import session_scope
        from govsocial_app.db.models import PostTarget, SocialProfile

        with session_scope() as s:
            profile = s.get(SocialProfile, pid)

        async def reconcile() -> str:
            connector = profiles.connector_for(profile)
            try:
                return await sender.send(c, connector)
            finally:
                await connector.aclose()

        assert asyncio.run(reconcile()) == "published"
        assert proxy.forwarded_posts == 1  # reconciled by reading, never re-posted
    found = _statuses(peer_url, "Shelter open at the library")
    assert len(found) == 1
    with session_scope() as s:
        target = s.exec(select(PostTarget).where(PostTarget.post_id == post_id)).one()
    assert target.status == "published" and target.external_id == found[0]["id"]
    assert views.post_view(post_id).status == "published"


def test_when_the_post_is_confirmed_absent_it_is_sent_once(db, peer_url, actor_factory):
    """A claim left by a dead publisher (nothing reached the network) is reconciled, found absent, then sent."""
    from govsocial_app.services.publishing import composer, sender
    from govsocial_app.services.publishing.composer import ComposerInput

    pid = _mastodon_profile(peer_url, OURS)
    composer.save(actor_factory("publisher"), ComposerInput(text="Road reopened on Elm St", profile_ids=[pid]), action="now")
    assert len(sender.claim_due()) == 1  # ... and the process dies here
    assert sender.recover_stale(older_than_s=0) == 1
    assert asyncio.run(sender.run_once()).outcomes == {"published": 1}
    assert len(_statuses(peer_url, "Road reopened on Elm St")) == 1


# ---------------------------------------------------------------- refused credentials


async def test_400_invalid_bearer_token_is_an_auth_error_in_check_poll_search_and_publish(loopback_peers):
    from connectors.base import SearchQuery

    with RefusesTokens() as server:
        connector = MastodonConnector(Credentials("mastodon", {"instance_url": server.url, "account_id": "1"}, {"access_token": "revoked"}))
        try:
            with pytest.raises(AuthError, match="Invalid Bearer token"):
                await connector.check()
            with pytest.raises(AuthError):
                await connector.fetch_mentions()
            with pytest.raises(AuthError):
                await connector.search(SearchQuery("flooding"))
            with pytest.raises(AuthError):
                await connector.publish(OutboundPost(text="hello", idempotency_key="k"))
        finally:
            await connector.aclose()


def test_connect_says_the_network_refused_the_credentials(db, actor_factory, loopback_peers):
    from govsocial_app.services import profiles

    with RefusesTokens() as server:
        with pytest.raises(UserError) as info:
            asyncio.run(profiles.connect("mastodon", {"instance_url": server.url, "access_token": "random"}, actor_factory("admin")))
    assert "refused the credentials" in str(info.value)
    assert "could not reach" not in str(info.value).lower()


def test_a_revoked_token_marks_the_profile_needs_reconnecting_and_alerts_admins(db, actor_factory, loopback_peers):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Alert, SocialProfile
    from govsocial_app.services.intake import polling

    actor_factory("admin")
    with RefusesTokens() as server:
        pid = _mastodon_profile(server.url, "revoked")
        outcome = asyncio.run(polling.poll_profile(pid))
    assert "Invalid Bearer token" in outcome.error
    with session_scope() as s:
        assert s.get(SocialProfile, pid).status == "needs_reconnect"
        alerts = s.exec(select(Alert).where(Alert.kind == "auth")).all()
    assert len(alerts) == 1


def test_publishing_with_a_revoked_token_fails_the_post_and_marks_the_profile(db, actor_factory, loopback_peers):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Alert, PostTarget, SocialProfile
    from govsocial_app.services.publishing import composer, sender
    from govsocial_app.services.publishing.composer import ComposerInput

    actor_factory("admin")
    with RefusesTokens() as server:
        pid = _mastodon_profile(server.url, "revoked")
        composer.save(actor_factory("publisher"), ComposerInput(text="Library hours change", profile_ids=[pid]), action="now")
        stats = asyncio.run(sender.run_once())
    assert stats.outcomes == {"failed": 1}
    with session_scope() as s:
        target = s.exec(select(PostTarget)).one()
        assert "needs reconnecting" in target.error
        assert s.get(SocialProfile, pid).status == "needs_reconnect"
        assert len(s.exec(select(Alert).where(Alert.kind == "auth")).all()) == 1
