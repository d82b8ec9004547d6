"""ID token checks that a well-behaved provider never fails on its own: expired tokens, another issuer, another
audience, a bad or missing signature, a provider that is down. The provider here is respx answering discovery,
JWKS and token requests with tokens signed locally with joserfc (the JOSE library Authlib itself uses)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuthSession
from govsocial_app.services import auth
from govsocial_app.services.identity import errors, oidc
from govsocial_app.services.identity.oidc_config import OidcConfig
from tests.identity.helpers import audit_rows, query

ISSUER = "https://id.riverton.example"
CLIENT_ID = "govsocial-unit"
REDIRECT = "https://social.riverton.example/auth/oidc/callback"


@lru_cache(maxsize=None)
def _provider_key() -> RSAKey:
    # One key for the module: RSA key generation is the slow part of these tests.
    return RSAKey.generate_key(2048, private=True, parameters={"kid": "k1", "use": "sig"})


@dataclass
class FakeProvider:
    mock: respx.MockRouter
    key: RSAKey = field(default_factory=_provider_key)
    published: list = field(default_factory=list)  # the keys the JWKS endpoint serves
    claims: dict = field(default_factory=dict)
    userinfo: dict | None = None
    token_requests: list = field(default_factory=list)
    signer: RSAKey | None = None
    metadata_issuer: str = ISSUER

    def __post_init__(self):
        self.published = [self.key]
        m = self.mock
        m.get(f"{ISSUER}/.well-known/openid-configuration").mock(side_effect=lambda r: httpx.Response(200, json={
            "issuer": self.metadata_issuer, "authorization_endpoint": f"{ISSUER}/authorize", "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "userinfo_endpoint": f"{ISSUER}/userinfo",
            "end_session_endpoint": f"{ISSUER}/logout",
        }))
        m.get(f"{ISSUER}/jwks").mock(side_effect=lambda r: httpx.Response(200, json=KeySet(self.published).as_dict(private=False)))
        self.token_route = m.post(f"{ISSUER}/token").mock(side_effect=self._token)
        self.userinfo_route = m.get(f"{ISSUER}/userinfo").mock(
            side_effect=lambda r: httpx.Response(200, json=self.userinfo if self.userinfo is not None else {"sub": self.claims.get("sub")}))

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(dict(parse_qsl(request.content.decode())) | {"_auth": request.headers.get("authorization", "")})
        key = self.signer or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, self.claims, key)
        return httpx.Response(200, json={"access_token": "at-1", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

    def good_claims(self, nonce: str, **over) -> dict:
        now = int(time.time())
        return {"iss": ISSUER, "sub": "u-42", "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce,
                "email": "ana@riverton.gov", "email_verified": True, "groups": ["gs-responders"], **over}


@pytest.fixture
def idp(db):
    oidc.reset_clients()
    with respx.mock(assert_all_called=False) as mock:
        yield FakeProvider(mock)
    oidc.reset_clients()


@pytest.fixture
def cfg() -> OidcConfig:
    return OidcConfig(issuer=ISSUER, client_id=CLIENT_ID, client_secret="s3cret", redirect_uri=REDIRECT,
                      provider_name="Riverton ID", group_roles=(("gs-responders", "responder"),))


@pytest.fixture
def ana(person):
    return person("ana@riverton.gov", "responder")


async def _callback(idp: FakeProvider, cfg: OidcConfig, **claims):
    req = await oidc.begin_sign_in(cfg)
    idp.claims = {**idp.good_claims(query(req.url)["nonce"]), **claims}
    return await oidc.complete_sign_in({"code": "code-1", "state": req.state}, cfg)


def _reasons() -> list[str]:
    return [r.detail["reason"] for r in audit_rows("auth.sso_failed")]


async def test_a_good_token_signs_in_without_asking_userinfo(idp, cfg, ana):
    result = await _callback(idp, cfg)
    assert result.user.id == ana and result.user.role == "responder"
    assert not idp.userinfo_route.called  # the ID token carried email, email_verified and groups
    [req] = idp.token_requests
    assert req["grant_type"] == "authorization_code" and req["code"] == "code-1" and len(req["code_verifier"]) >= 43
    assert req["_auth"].startswith("Basic ")  # client_secret_basic


async def test_expired_id_token_is_refused(idp, cfg, ana):
    past = int(time.time()) - 3600
    with pytest.raises(errors.TokenExpired):
        await _callback(idp, cfg, iat=past - 300, exp=past)
    assert _reasons() == ["token_expired"]


async def test_id_token_from_another_issuer_is_refused(idp, cfg, ana):
    with pytest.raises(errors.IssuerMismatch):
        await _callback(idp, cfg, iss="https://evil.example")
    assert _reasons() == ["issuer_mismatch"]


async def test_discovery_document_naming_another_issuer_is_refused(idp, cfg):
    idp.metadata_issuer = "https://evil.example"
    with pytest.raises(errors.IssuerMismatch):
        await oidc.begin_sign_in(cfg)
    assert _reasons() == ["issuer_mismatch"]


async def test_id_token_for_another_client_is_refused(idp, cfg, ana):
    with pytest.raises(errors.TokenInvalid):
        await _callback(idp, cfg, aud="some-other-app", azp=CLIENT_ID)
    assert _reasons() == ["token_invalid"]


async def test_id_token_signed_with_a_key_the_provider_does_not_publish_is_refused(idp, cfg, ana):
    idp.signer = RSAKey.generate_key(2048, private=True, parameters={"kid": "k1"})  # same kid, other key
    with pytest.raises(errors.TokenInvalid):
        await _callback(idp, cfg)
    with session_scope() as s:
        assert s.exec(select(AuthSession)).all() == []


async def test_unsigned_id_token_is_refused(idp, cfg, ana):
    req = await oidc.begin_sign_in(cfg)
    claims = idp.good_claims(query(req.url)["nonce"])

    def b64(d: dict) -> str:
        import base64

        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    idp.token_route.mock(return_value=httpx.Response(200, json={
        "access_token": "at", "token_type": "Bearer", "id_token": f"{b64({'alg': 'none'})}.{b64(claims)}."}))
    with pytest.raises(errors.TokenInvalid):
        await oidc.complete_sign_in({"code": "c", "state": req.state}, cfg)


async def test_wrong_nonce_in_a_signed_token_is_refused(idp, cfg, ana):
    with pytest.raises(errors.NonceMismatch):
        await _callback(idp, cfg, nonce="not-the-nonce-we-sent")


async def test_a_rotated_signing_key_is_fetched_again(idp, cfg, ana):
    await _callback(idp, cfg)  # caches the JWKS
    idp.key = RSAKey.generate_key(2048, private=True, parameters={"kid": "k2", "use": "sig"})
    idp.published = [idp.key]
    assert (await _callback(idp, cfg)).user.id == ana


async def test_a_used_state_is_refused_even_if_the_provider_would_answer_again(idp, cfg, ana):
    req = await oidc.begin_sign_in(cfg)
    idp.claims = idp.good_claims(query(req.url)["nonce"])
    await oidc.complete_sign_in({"code": "c", "state": req.state}, cfg)
    with pytest.raises(errors.CodeReplayed):
        await oidc.complete_sign_in({"code": "c", "state": req.state}, cfg)
    assert idp.token_route.call_count == 1  # refused before asking the provider


async def test_token_endpoint_down_or_failing_gives_provider_unavailable(idp, cfg, ana):
    idp.token_route.mock(return_value=httpx.Response(503, text="maintenance"))
    with pytest.raises(errors.ProviderUnavailable, match="Riverton ID is not answering"):
        await _callback(idp, cfg)
    idp.token_route.mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(errors.ProviderUnavailable):
        await _callback(idp, cfg)
    assert _reasons() == ["provider_unavailable", "provider_unavailable"]


async def test_discovery_unreachable_gives_provider_unavailable(idp, cfg):
    idp.mock.get(f"{ISSUER}/.well-known/openid-configuration").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(errors.ProviderUnavailable):
        await oidc.begin_sign_in(cfg)


async def test_claims_missing_from_the_id_token_come_from_userinfo_for_the_same_subject(idp, cfg, ana):
    req = await oidc.begin_sign_in(cfg)
    idp.claims = {k: v for k, v in idp.good_claims(query(req.url)["nonce"]).items() if k not in ("email", "email_verified", "groups")}
    idp.userinfo = {"sub": "u-42", "email": "ana@riverton.gov", "email_verified": True, "groups": ["gs-responders"]}
    assert (await oidc.complete_sign_in({"code": "c", "state": req.state}, cfg)).user.id == ana

    req = await oidc.begin_sign_in(cfg)
    idp.claims = {k: v for k, v in idp.good_claims(query(req.url)["nonce"]).items() if k != "email"}
    idp.userinfo = {"sub": "someone-else", "email": "ana@riverton.gov", "email_verified": True}
    with pytest.raises(errors.TokenInvalid):
        await oidc.complete_sign_in({"code": "c", "state": req.state}, cfg)


async def test_email_verification_rules(idp, cfg, ana):
    no_flag = {"email_verified": None}
    with pytest.raises(errors.EmailNotVerified):
        await _callback(idp, replace(cfg, email_verified_claim="xms_edov"), **no_flag)
    # Trusted only when the provider says nothing, never when it says "no".
    assert (await _callback(idp, replace(cfg, email_verified_claim="xms_edov", trust_email=True))).user.id == ana
    with pytest.raises(errors.EmailNotVerified):
        await _callback(idp, replace(cfg, trust_email=True), email_verified=False)
    assert (await _callback(idp, cfg, email_verified="true")).user.id == ana  # some providers send a string


async def test_private_key_jwt_assertion_is_signed_for_the_token_endpoint(idp, cfg, ana):
    key = RSAKey.generate_key(2048, private=True)
    pem = key.as_pem(private=True).decode()
    pk = replace(cfg, client_secret="", auth_method="private_key_jwt", private_key_pem=pem, private_key_id="govsocial-2026")
    await _callback(idp, pk)
    [req] = idp.token_requests
    assert req["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert not req["_auth"] and "client_secret" not in req
    token = jwt.decode(req["client_assertion"], key)
    assert token.header["kid"] == "govsocial-2026" and token.header["alg"] == "RS256"
    c = token.claims
    assert c["iss"] == c["sub"] == CLIENT_ID and c["aud"] == f"{ISSUER}/token" and c["jti"] and c["exp"] > time.time()


async def test_authorization_url_carries_acr_values_and_prompt(idp, cfg):
    req = await oidc.begin_sign_in(replace(cfg, acr_values="http://idmanagement.gov/ns/assurance/ial/1", prompt="select_account"))
    q = query(req.url)
    assert q["acr_values"] == "http://idmanagement.gov/ns/assurance/ial/1" and q["prompt"] == "select_account"
    assert q["redirect_uri"] == REDIRECT and q["client_id"] == CLIENT_ID


@pytest.mark.parametrize("target,kept", [
    ("/inbox", "/inbox"), ("/publish?day=2026-12-01", "/publish?day=2026-12-01"),
    ("//evil.example/x", ""), ("https://evil.example", ""), ("/\\evil.example", ""), ("", ""),
])
async def test_return_to_is_a_path_on_this_site_only(idp, cfg, ana, target, kept):
    req = await oidc.begin_sign_in(cfg, return_to=target)
    idp.claims = idp.good_claims(query(req.url)["nonce"])
    assert (await oidc.complete_sign_in({"code": "c", "state": req.state}, cfg)).return_to == kept


async def test_sso_disabled_says_so(db, monkeypatch):
    from govsocial_app.services.identity import oidc_config

    monkeypatch.delenv("GOVSOCIAL_OIDC_ISSUER", raising=False)
    oidc_config.reset_cache()
    with pytest.raises(errors.SsoNotConfigured):
        await oidc.begin_sign_in()
    assert await oidc.logout_url("anything") is None


def test_password_session_is_unaffected(ana):
    from tests.identity.helpers import PASSWORD

    assert auth.sign_in("ana@riverton.gov", PASSWORD)[1].id == ana
