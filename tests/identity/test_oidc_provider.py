"""Single sign-on against a real OpenID Connect provider (panva's oidc-provider): the whole code + PKCE flow, the
group mapping, every bad callback, private_key_jwt and RP-initiated logout."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuthSession, OidcLoginState, SessionSignIn, Setting, User, UserIdentity
from govsocial_app.services import auth
from govsocial_app.services.authz import Actor
from govsocial_app.services.identity import errors, oidc, policy
from tests.identity.helpers import PASSWORD, audit_rows, query

pytestmark = pytest.mark.peers


async def _sign_in(cfg, provider, login: str, **begin):
    req = await oidc.begin_sign_in(cfg, **begin)
    return await oidc.complete_sign_in(query(provider.sign_in(req.url, login)), cfg, client_ip="203.0.113.9", user_agent="pytest")


def _user(email: str) -> User:
    with session_scope() as s:
        return s.exec(select(User).where(User.email == email)).one()


def _failures() -> list[str]:
    return [r.detail["reason"] for r in audit_rows("auth.sso_failed")]


async def test_authorization_url_uses_pkce_state_and_nonce_kept_server_side(sso):
    req = await oidc.begin_sign_in(sso, return_to="/inbox?view=mine")
    q = query(req.url)
    assert req.url.startswith(sso.issuer + "/auth?")
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["state"] == req.state and len(q["state"]) >= 32 and len(q["nonce"]) >= 32
    assert q["scope"].split() == ["openid", "email", "profile", "groups"]
    with session_scope() as s:
        row = s.exec(select(OidcLoginState)).one()
    # Only a hash of the state, and the verifier and nonce encrypted: a database reader cannot finish the sign-in.
    assert req.state not in row.state_hash and q["nonce"] not in row.secrets_enc
    assert row.return_to == "/inbox?view=mine"


async def test_sign_in_through_the_provider_maps_groups_to_the_role(sso, provider, person):
    uid = person("alice@riverton.gov", "viewer")
    result = await _sign_in(sso, provider, "alice", return_to="/inbox")
    assert result.user.id == uid and result.user.role == "admin" and result.previous_role == "viewer"
    assert result.return_to == "/inbox" and not result.created
    assert auth.user_for_token(result.token).role == "admin"  # the session works like a password one
    with session_scope() as s:
        how = s.exec(select(SessionSignIn)).one()
        link = s.exec(select(UserIdentity)).one()
    assert how.method == "sso" and how.provider == "Riverton ID" and how.id_token_enc
    assert (link.user_id, link.subject, link.issuer, link.groups) == (uid, "alice", sso.issuer, ["gs-admins", "staff"])
    [signed] = audit_rows("auth.sign_in")
    assert signed.detail["method"] == "sso" and signed.client_ip == "203.0.113.9"
    [role] = audit_rows("user.role")
    assert (role.detail["old"], role.detail["new"]) == ("viewer", "admin")


async def test_private_key_jwt_client_signs_in(sso_pkjwt, provider, person):
    person("bob@riverton.gov", "viewer")
    result = await _sign_in(sso_pkjwt, provider, "bob")
    assert result.user.role == "responder"
    assert "client_assertion" not in provider.log_tail()  # no error logged for the assertion


async def test_private_key_jwt_with_the_wrong_key_is_refused_by_the_provider(sso_pkjwt, provider, person, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    person("bob@riverton.gov")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    cfg = replace(sso_pkjwt, private_key_pem=other)
    with pytest.raises(errors.ProviderError, match="invalid_client"):
        await _sign_in(cfg, provider, "bob")
    assert _failures() == ["provider_error"]


async def test_tampered_state_is_refused_and_audited(sso, provider, person):
    person("alice@riverton.gov")
    req = await oidc.begin_sign_in(sso)
    params = query(provider.sign_in(req.url, "alice"))
    params["state"] = params["state"][:-2] + ("AA" if not params["state"].endswith("AA") else "BB")
    with pytest.raises(errors.StateMismatch) as caught:
        await oidc.complete_sign_in(params, sso)
    assert "does not match a sign-in started here" in str(caught.value)
    assert _failures() == ["state_mismatch"]
    assert audit_rows("auth.sign_in") == []


async def test_missing_state_is_refused(sso, provider):
    with pytest.raises(errors.StateMismatch):
        await oidc.complete_sign_in({"code": "abc"}, sso)


async def test_replayed_callback_is_refused(sso, provider, person):
    person("alice@riverton.gov")
    req = await oidc.begin_sign_in(sso)
    params = query(provider.sign_in(req.url, "alice"))
    await oidc.complete_sign_in(params, sso)
    with pytest.raises(errors.CodeReplayed):
        await oidc.complete_sign_in(params, sso)
    assert _failures() == ["code_replayed"]
    with session_scope() as s:
        assert len(s.exec(select(AuthSession)).all()) == 1


async def test_replayed_code_under_a_fresh_state_is_refused_by_the_provider(sso, provider, person):
    """An intercepted code injected into another sign-in: the provider has already redeemed it (and the PKCE
    verifier differs), so it answers invalid_grant."""
    person("alice@riverton.gov")
    first = await oidc.begin_sign_in(sso)
    used = query(provider.sign_in(first.url, "alice"))
    await oidc.complete_sign_in(used, sso)
    second = await oidc.begin_sign_in(sso)
    with pytest.raises(errors.CodeReplayed):
        await oidc.complete_sign_in({"code": used["code"], "state": second.state}, sso)
    assert _failures() == ["code_replayed"]


async def test_wrong_nonce_is_refused(sso, provider, person):
    """The provider signs whatever nonce the authorization request carried; one swapped on the way (a token
    meant for another sign-in) no longer matches the nonce stored with our state."""
    person("alice@riverton.gov")
    req = await oidc.begin_sign_in(sso)
    swapped = re.sub(r"nonce=[^&]+", "nonce=someone-elses-nonce-0123456789abcdef", req.url)
    with pytest.raises(errors.NonceMismatch):
        await oidc.complete_sign_in(query(provider.sign_in(swapped, "alice")), sso)
    assert _failures() == ["nonce_mismatch"]
    assert audit_rows("auth.sign_in") == []


async def test_answer_naming_another_issuer_is_refused(sso, provider, person):
    person("alice@riverton.gov")
    req = await oidc.begin_sign_in(sso)
    params = query(provider.sign_in(req.url, "alice"))
    assert params["iss"] == sso.issuer  # oidc-provider sends RFC 9207's iss with every answer
    params["iss"] = "https://attacker.example"
    with pytest.raises(errors.IssuerMismatch):
        await oidc.complete_sign_in(params, sso)
    assert _failures() == ["issuer_mismatch"]


async def test_expired_state_is_refused(sso, provider, person):
    person("alice@riverton.gov")
    req = await oidc.begin_sign_in(sso)
    params = query(provider.sign_in(req.url, "alice"))
    with session_scope() as s:
        row = s.exec(select(OidcLoginState)).one()
        row.expires_at = row.created_at - timedelta(seconds=1)
    with pytest.raises(errors.StateExpired):
        await oidc.complete_sign_in(params, sso)


async def test_unknown_email_is_refused_unless_auto_create_is_on(sso, provider):
    with pytest.raises(errors.UnknownEmail, match="erin@riverton.gov"):
        await _sign_in(sso, provider, "erin")
    [row] = audit_rows("auth.sso_failed")
    assert row.detail == {"reason": "unknown_email", "issuer": sso.issuer, "email": "erin@riverton.gov"}

    created = await _sign_in(replace(sso, auto_create=True), provider, "erin")
    assert created.created and created.user.role == "publisher" and created.user.display_name == "Erin Newcomer"
    [made] = audit_rows("user.create")
    assert made.detail["source"] == "sso"


async def test_auto_create_refuses_people_outside_the_mapped_groups(sso, provider):
    with pytest.raises(errors.NotInMappedGroups):
        await _sign_in(replace(sso, auto_create=True, allowed_domains=()), provider, "carol")
    with session_scope() as s:
        assert s.exec(select(User)).all() == []


async def test_auto_create_respects_allowed_domains(sso, provider):
    with pytest.raises(errors.DomainNotAllowed, match="elsewhere.example"):
        await _sign_in(replace(sso, auto_create=True, allowed_domains=("riverton.gov",)), provider, "mallory")


async def test_unverified_email_is_refused(sso, provider, person):
    person("dave@riverton.gov", "responder")
    with pytest.raises(errors.EmailNotVerified):
        await _sign_in(sso, provider, "dave")
    assert _failures() == ["email_not_verified"]


async def test_a_user_removed_from_the_mapped_groups_is_refused_deactivated_and_signed_out(sso, provider, person):
    uid = person("bob@riverton.gov", "responder")
    first = await _sign_in(sso, provider, "bob")
    password_token, _ = auth.sign_in("bob@riverton.gov", PASSWORD)

    provider.set_account("bob", groups=["finance"])  # the agency moved Bob out of GovSocial's groups
    with pytest.raises(errors.NotInMappedGroups, match="Riverton ID"):
        await _sign_in(sso, provider, "bob")
    assert not _user("bob@riverton.gov").is_active
    assert auth.user_for_token(first.token) is None and auth.user_for_token(password_token) is None
    with pytest.raises(auth.AuthFailed):
        auth.sign_in("bob@riverton.gov", PASSWORD)  # the password does not get around it
    [off] = audit_rows("user.deactivate")
    assert off.detail["reason"] == "no mapped group" and off.object_id == str(uid)

    provider.set_account("bob", groups=["gs-publishers"])  # back in, with another role
    again = await _sign_in(sso, provider, "bob")
    assert again.user.role == "publisher" and _user("bob@riverton.gov").is_active
    [on] = audit_rows("user.activate")
    assert on.detail["reason"] == "back in a mapped group"


async def test_an_admin_deactivation_is_not_undone_by_single_sign_on(sso, provider, person):
    admin = person("root@riverton.gov", "admin")
    uid = person("bob@riverton.gov", "responder")
    await _sign_in(sso, provider, "bob")
    auth.set_active(uid, False, Actor(admin, "Root", "admin"))
    with pytest.raises(errors.AccountDeactivated):
        await _sign_in(sso, provider, "bob")
    assert not _user("bob@riverton.gov").is_active


async def test_break_glass_admin_outside_the_groups_is_refused_but_stays_active(sso, provider, person):
    uid = person("carol@riverton.gov", "admin")
    with session_scope() as s:
        s.add(Setting(key=policy.BREAK_GLASS_USERS, value=[uid]))
    with pytest.raises(errors.NotInMappedGroups):
        await _sign_in(sso, provider, "carol")
    assert _user("carol@riverton.gov").is_active
    token, user = auth.sign_in("carol@riverton.gov", PASSWORD)  # the password still works for break-glass
    assert user.id == uid


async def test_groups_are_ignored_when_no_mapping_is_set(sso, provider, person):
    person("carol@riverton.gov", "manager")
    result = await _sign_in(replace(sso, group_roles=()), provider, "carol")
    assert result.user.role == "manager" and result.previous_role is None


async def test_an_email_given_to_a_different_provider_account_is_refused(sso, provider, person):
    person("alice@riverton.gov", "admin")
    await _sign_in(sso, provider, "alice")
    provider.set_account("impostor", email="alice@riverton.gov", email_verified=True, groups=["gs-admins"])
    with pytest.raises(errors.IdentityConflict):
        await _sign_in(sso, provider, "impostor")
    assert _failures() == ["identity_conflict"]


async def test_person_cancelling_at_the_provider_gets_a_clear_error(sso, provider):
    req = await oidc.begin_sign_in(sso)
    with httpx.Client(timeout=10) as browser:
        r = browser.get(req.url)  # the provider's login page
        url = str(httpx.URL(req.url).join(r.headers["location"])) + "/abort"  # its "cancel" link
        for _ in range(5):
            r = browser.get(url)
            url = str(httpx.URL(url).join(r.headers["location"]))
            if not url.startswith(provider.issuer):
                break
    params = query(url)
    assert params["error"] == "access_denied"
    with pytest.raises(errors.ProviderError, match="access_denied"):
        await oidc.complete_sign_in(params, sso)


async def test_rp_initiated_logout_url_is_accepted_by_the_provider(sso, provider, person):
    person("alice@riverton.gov")
    result = await _sign_in(sso, provider, "alice")
    url = await oidc.logout_url(result.token, sso)
    q = query(url)
    assert url.startswith(sso.issuer + "/session/end?")
    assert q["client_id"] == sso.client_id and q["post_logout_redirect_uri"] == sso.post_logout_redirect_uri
    assert q["id_token_hint"].count(".") == 2
    page = httpx.get(url, timeout=10)
    # oidc-provider shows its "sign out?" confirmation: the hint and redirect were accepted, not an error page.
    assert page.status_code == 200 and "logout" in page.text.lower() and "error" not in page.text.lower()

    password_token, _ = auth.sign_in("alice@riverton.gov", PASSWORD)
    assert await oidc.logout_url(password_token, sso) is None  # a password session has no provider session
    assert await oidc.logout_url(result.token, replace(sso, logout_hint="client_id")) is not None
    assert "id_token_hint" not in query(await oidc.logout_url(result.token, replace(sso, logout_hint="client_id")))


async def test_provider_down_gives_a_clear_error_and_password_sign_in_still_works(sso, provider, person):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    person("root@riverton.gov", "admin")
    cfg = replace(sso, issuer=dead, timeout_s=2)
    with pytest.raises(errors.ProviderUnavailable, match="Riverton ID is not answering"):
        await oidc.begin_sign_in(cfg)
    assert _failures() == ["provider_unavailable"]
    assert auth.sign_in("root@riverton.gov", PASSWORD)[1].role == "admin"
    assert await oidc.logout_url("no-such-token", cfg) is None
