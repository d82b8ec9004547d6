"""OpenID Connect sign-in through Authlib: the authorization URL (PKCE, state, nonce), the callback, and provider logout.

Authlib does the protocol: discovery (and its validation), the PKCE challenge, the token request (client secret or
private_key_jwt), the ID token's signature against the provider's JWKS, and its iss/aud/exp/nonce claims. This module
keeps the one-time state server-side, turns every failure into a typed error with an audit row, and applies the
account rules (verified email, group mapping) in `_admit`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import ssl
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from authlib.integrations.base_client import BaseApp, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import errors as jose_errors
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import update
from sqlmodel import col, select

from govsocial_app.db.engine import session_scope

with warnings.catch_warnings():
    # Authlib 1.9 would rather use the httpx2 fork and says so at import; GovSocial uses httpx itself (and respx).
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from govsocial_app.db.models import AuthSession, OidcLoginState, User, UserIdentity
from govsocial_app.services import audit, auth, crypto
from govsocial_app.services.authz import Actor
from govsocial_app.services.identity import errors, policy, sessions
from govsocial_app.services.identity.oidc_config import OidcConfig, current

log = logging.getLogger(__name__)

METADATA_TTL_S = 3600
CLOCK_LEEWAY_S = 60


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str  # send the browser here
    state: str  # also inside `url`; returned for tests and logs, never needed by the page
    expires_at: datetime


@dataclass(frozen=True)
class SsoSignIn:
    token: str  # the new GovSocial session's bearer token (store it like the password sign-in's)
    user: auth.SignedInUser
    return_to: str  # the relative path the person started from, or ""
    created: bool  # the account was created by this sign-in
    previous_role: str | None  # set when the groups changed the role at this sign-in


class _ProviderClient(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    """Authlib's asynchronous OpenID Connect client (the same mixins its Starlette integration combines)."""

    client_cls = AsyncOAuth2Client


_clients: dict[OidcConfig, tuple[_ProviderClient, float]] = {}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _client_secret(cfg: OidcConfig) -> Any:
    if cfg.auth_method != "private_key_jwt":
        return cfg.client_secret
    try:
        return RSAKey.import_key(cfg.private_key_pem)
    except Exception:  # noqa: BLE001 - not RSA: try EC before giving up
        return ECKey.import_key(cfg.private_key_pem)


def _build_client(cfg: OidcConfig) -> _ProviderClient:
    kwargs: dict[str, Any] = {
        "scope": " ".join(cfg.scopes),
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": cfg.auth_method,
        "timeout": cfg.timeout_s,
    }
    if cfg.ca_file:
        kwargs["verify"] = ssl.create_default_context(cafile=cfg.ca_file)
    auth_methods = None
    secret = _client_secret(cfg)
    if cfg.auth_method == "private_key_jwt":
        alg = "RS256" if isinstance(secret, RSAKey) else {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[secret.curve_name]
        headers = {"kid": cfg.private_key_id} if cfg.private_key_id else None
        auth_methods = [PrivateKeyJWT(headers=headers, alg=alg)]
    return _ProviderClient(
        framework=None, name="govsocial-oidc", client_id=cfg.client_id, client_secret=secret,
        server_metadata_url=cfg.metadata_url, client_kwargs=kwargs, client_auth_methods=auth_methods,
        user_agent="GovSocial",
    )


def _client(cfg: OidcConfig) -> _ProviderClient:
    entry = _clients.get(cfg)
    if entry is None or time.monotonic() - entry[1] > METADATA_TTL_S:
        entry = (_build_client(cfg), time.monotonic())
        _clients[cfg] = entry
    return entry[0]


def reset_clients() -> None:
    """Forget cached discovery documents and keys (tests; or after the provider rotated everything)."""
    _clients.clear()


def _config(config: OidcConfig | None) -> OidcConfig:
    cfg = config or current()
    if cfg is None:
        raise errors.SsoNotConfigured()
    return cfg


def _unavailable(cfg: OidcConfig, exc: BaseException) -> errors.ProviderUnavailable:
    log.warning("identity provider %s unavailable: %s", cfg.issuer, exc)
    _clients.pop(cfg, None)  # rediscover next time: the provider may have moved its endpoints
    return errors.ProviderUnavailable(provider=cfg.provider_name)


async def _metadata(cfg: OidcConfig) -> dict:
    client = _client(cfg)
    try:
        metadata = await client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        raise _unavailable(cfg, exc) from exc
    if metadata.get("issuer", "").rstrip("/") != cfg.issuer.rstrip("/"):
        _clients.pop(cfg, None)
        raise errors.IssuerMismatch()
    try:
        OpenIDProviderMetadata(metadata).validate()
    except ValueError as exc:
        _clients.pop(cfg, None)
        log.warning("identity provider %s published invalid metadata: %s", cfg.issuer, exc)
        raise errors.ProviderError(provider=cfg.provider_name, detail="invalid discovery document") from exc
    return metadata


def _audit_failure(exc: errors.SsoError, cfg: OidcConfig | None, who: str, client_ip: str, user_agent: str, **detail: Any) -> None:
    with session_scope() as s:
        audit.record(s, Actor(None, who or "single sign-on", None, client_ip, user_agent), "auth.sso_failed", "user",
                     detail.pop("user_id", ""), reason=exc.code, issuer=cfg.issuer if cfg else "", **detail)


def _safe_return_to(path: str) -> str:
    # Only a path on this site: "//evil.example" and "https://..." would make the callback an open redirect.
    path = (path or "").strip()
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 500 else ""


async def begin_sign_in(config: OidcConfig | None = None, *, return_to: str = "", client_ip: str = "", user_agent: str = "") -> AuthorizationRequest:
    """Create the provider's authorization URL; `state`, `nonce` and the PKCE verifier stay in the database."""
    cfg = _config(config)
    try:
        await _metadata(cfg)
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        extra = {k: v for k, v in (("acr_values", cfg.acr_values), ("prompt", cfg.prompt)) if v}
        rv = await _client(cfg).create_authorization_url(cfg.redirect_uri, state=state, nonce=nonce, code_verifier=verifier, **extra)
    except errors.SsoError as exc:
        await asyncio.to_thread(_audit_failure, exc, cfg, "", client_ip, user_agent, step="start")
        raise
    expires = _now() + timedelta(seconds=cfg.state_ttl_s)

    def store() -> None:
        with session_scope() as s:
            s.add(OidcLoginState(
                state_hash=_hash(state), secrets_enc=crypto.encrypt_json({"nonce": nonce, "code_verifier": verifier}),
                redirect_uri=cfg.redirect_uri, return_to=_safe_return_to(return_to), client_ip=(client_ip or "")[:64],
                expires_at=expires,
            ))

    await asyncio.to_thread(store)
    return AuthorizationRequest(rv["url"], state, expires)


def _consume_state(state: str) -> OidcLoginState:
    """Mark the state used (once, even under two concurrent callbacks) and return it; raise if it cannot be used."""
    if not state or len(state) > 200:
        raise errors.StateMismatch()
    h = _hash(state)
    now = _now()
    with session_scope() as s:
        taken = s.exec(
            update(OidcLoginState).where(col(OidcLoginState.state_hash) == h, col(OidcLoginState.used_at).is_(None)).values(used_at=now)
        ).rowcount
        row = s.exec(select(OidcLoginState).where(OidcLoginState.state_hash == h)).first()
    if row is None:
        raise errors.StateMismatch()
    if not taken:
        raise errors.CodeReplayed()
    if row.expires_at <= now:
        raise errors.StateExpired()
    return row


def _jose_error(exc: Exception) -> errors.SsoError:
    if isinstance(exc, jose_errors.ExpiredTokenError):
        return errors.TokenExpired()
    if isinstance(exc, jose_errors.ClaimError):
        if exc.claim == "iss":
            return errors.IssuerMismatch()
        if exc.claim == "nonce":
            return errors.NonceMismatch()
    return errors.TokenInvalid()


async def _exchange(cfg: OidcConfig, row: OidcLoginState, code: str) -> tuple[dict, dict]:
    """Code for tokens, then the verified ID token's claims (with userinfo's where the ID token lacks them)."""
    client = _client(cfg)
    metadata = await _metadata(cfg)
    secret = crypto.decrypt_json(row.secrets_enc)
    try:
        token = await client.fetch_access_token(redirect_uri=row.redirect_uri, code=code, code_verifier=secret["code_verifier"])
    except OAuthError as exc:
        if exc.error == "invalid_grant":  # used before, expired, or not issued for this verifier
            raise errors.CodeReplayed() from exc
        raise errors.ProviderError(provider=cfg.provider_name, detail=exc.error or "token request refused") from exc
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code >= 500:
            raise _unavailable(cfg, exc) from exc
        raise errors.ProviderError(provider=cfg.provider_name, detail=f"HTTP {exc.response.status_code}") from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise _unavailable(cfg, exc) from exc
    if not token.get("id_token"):
        raise errors.TokenInvalid()
    options = {"iss": {"essential": True, "value": cfg.issuer}, "aud": {"essential": True, "value": cfg.client_id}}
    try:
        claims = dict(await client.parse_id_token(token, nonce=secret["nonce"], claims_options=options, leeway=CLOCK_LEEWAY_S))
    except jose_errors.JoseError as exc:
        raise _jose_error(exc) from exc
    except httpx.HTTPError as exc:  # the JWKS could not be fetched
        raise _unavailable(cfg, exc) from exc
    wanted = (cfg.email_claim, cfg.email_verified_claim, cfg.groups_claim)
    if metadata.get("userinfo_endpoint") and token.get("access_token") and any(k not in claims for k in wanted):
        try:
            info = dict(await client.userinfo(token=token))
        except (httpx.HTTPError, OAuthError, ValueError) as exc:
            raise _unavailable(cfg, exc) from exc
        if info.get("sub") != claims.get("sub"):  # OpenID Connect Core 5.3.2: otherwise the answer must not be used
            raise errors.TokenInvalid()
        claims = {**info, **claims}
    return token, claims


async def complete_sign_in(
    params: Mapping[str, str], config: OidcConfig | None = None, *, client_ip: str = "", user_agent: str = ""
) -> SsoSignIn:
    """Handle the provider's redirect back (its query parameters) and open a GovSocial session.
    Every refusal raises an `errors.SsoError` after writing an `auth.sso_failed` audit row."""
    cfg = _config(config)
    claims: dict = {}
    try:
        row = await asyncio.to_thread(_consume_state, params.get("state", ""))
        if params.get("iss") and params["iss"].rstrip("/") != cfg.issuer.rstrip("/"):
            raise errors.IssuerMismatch()  # RFC 9207: the answer came from another provider (a mix-up attack)
        if params.get("error"):
            raise errors.ProviderError(provider=cfg.provider_name, detail=str(params["error"])[:80])
        if not params.get("code"):
            raise errors.ProviderError(provider=cfg.provider_name, detail="no code")
        token, claims = await _exchange(cfg, row, params["code"])
        return await asyncio.to_thread(_admit, cfg, token, claims, row.return_to, client_ip, user_agent)
    except errors.SsoError as exc:
        email = str(claims.get(cfg.email_claim, ""))[:320]
        detail = {"email": email} if email else {}
        detail.update(getattr(exc, "audit_detail", {}))
        await asyncio.to_thread(_audit_failure, exc, cfg, email, client_ip, user_agent, **detail)
        raise


def _groups(cfg: OidcConfig, claims: dict) -> list[str]:
    raw = claims.get(cfg.groups_claim, [])
    if isinstance(raw, str):
        raw = [raw]
    return [str(g) for g in raw if isinstance(g, (str, int))][:500] if isinstance(raw, list) else []


def _verified_email(cfg: OidcConfig, claims: dict) -> str:
    email = auth.normalize_email(str(claims.get(cfg.email_claim) or ""))
    flag = claims.get(cfg.email_verified_claim)
    verified = flag is True or (isinstance(flag, str) and flag.lower() == "true")
    if flag is None and cfg.trust_email:
        verified = True
    if not email or "@" not in email or not verified:
        raise errors.EmailNotVerified(provider=cfg.provider_name)
    domain = email.rsplit("@", 1)[1]
    if cfg.allowed_domains and domain not in cfg.allowed_domains:
        raise errors.DomainNotAllowed(domain=domain)
    return email


def _admit(cfg: OidcConfig, token: dict, claims: dict, return_to: str, client_ip: str, user_agent: str) -> SsoSignIn:
    """The account rules. Refusals that change the account (deactivation) commit before the error is raised."""
    email = _verified_email(cfg, claims)
    subject = str(claims.get("sub", ""))[:255]
    groups = _groups(cfg, claims)
    role = cfg.role_for_groups(groups) if cfg.maps_groups else None
    system = Actor(None, f"single sign-on ({cfg.provider_name})", "system", client_ip, user_agent)
    refusal: errors.SsoError | None = None
    result: SsoSignIn | None = None
    now = _now()
    with session_scope() as s:
        user = s.exec(select(User).where(User.email == email, col(User.deleted_at).is_(None))).first()
        identity = s.exec(select(UserIdentity).where(UserIdentity.issuer == cfg.issuer, UserIdentity.subject == subject)).first()
        linked = None
        if user is not None:
            linked = s.exec(select(UserIdentity).where(UserIdentity.user_id == user.id, UserIdentity.issuer == cfg.issuer)).first()
        created = False
        previous_role = None
        if (identity and (user is None or identity.user_id != user.id)) or (linked and linked.subject != subject):
            # The provider gave this email to a different person (or this person a different email): never merge.
            refusal = errors.IdentityConflict(email=email, provider=cfg.provider_name)
        elif user is None:
            if not cfg.auto_create:
                refusal = errors.UnknownEmail(email=email)
            elif cfg.maps_groups and role is None:
                refusal = errors.NotInMappedGroups(provider=cfg.provider_name)
            else:
                user = User(
                    email=email, display_name=str(claims.get("name") or email.split("@")[0])[:120],
                    # Nobody knows this password: the account signs in through the provider only, until an admin
                    # or a reset gives it one.
                    password_hash=auth.hash_password(secrets.token_urlsafe(32)),
                    role=role or cfg.default_role,  # the iCal address is made when first asked for
                )
                s.add(user)
                s.flush()
                created = True
                audit.record(s, system, "user.create", "user", user.id, email=email, role=user.role, source="sso", groups=groups)
        elif cfg.maps_groups and role is None:
            refusal = errors.NotInMappedGroups(provider=cfg.provider_name)
            if user.is_active and not policy.is_break_glass(user.id, session=s):
                # Removed from every mapped group: the account is switched off and its sessions end now. A later
                # sign-in with a mapped group switches it back on (see _reactivate); an admin's own deactivation
                # is never undone this way. Break-glass admins are refused but stay active for password sign-in.
                user.is_active = False
                for sess in s.exec(select(AuthSession).where(AuthSession.user_id == user.id, col(AuthSession.revoked_at).is_(None))):
                    sess.revoked_at = now
                if linked is not None:
                    linked.deprovisioned_at = now
                audit.record(s, system, "user.deactivate", "user", user.id, reason="no mapped group", groups=groups)
            refusal.audit_detail = {"user_id": user.id}
        elif not user.is_active:
            if linked is not None and linked.deprovisioned_at is not None and (role is not None or not cfg.maps_groups):
                user.is_active = True
                linked.deprovisioned_at = None
                audit.record(s, system, "user.activate", "user", user.id, reason="back in a mapped group", groups=groups)
            else:
                refusal = errors.AccountDeactivated()
                refusal.audit_detail = {"user_id": user.id}
        if refusal is None:
            if role is not None and user.role != role and not created:
                previous_role, user.role = user.role, role
                audit.record(s, system, "user.role", "user", user.id, old=previous_role, new=role, source="sso groups")
            if identity is None:
                identity = UserIdentity(user_id=user.id, issuer=cfg.issuer, subject=subject)
                s.add(identity)
                audit.record(s, system, "auth.sso_link", "user", user.id, issuer=cfg.issuer, subject=subject)
            identity.email, identity.groups, identity.last_sign_in_at = email, groups, now
            session_token = sessions.open_session(
                s, user, client_ip=client_ip, user_agent=user_agent, method="sso", provider=cfg.provider_name,
                id_token=token.get("id_token", ""),
            )
            signed_in = auth._signed_in(user)
            audit.record(s, signed_in.actor(client_ip, user_agent), "auth.sign_in", "user", user.id, method="sso",
                         provider=cfg.provider_name, groups=groups)
            result = SsoSignIn(session_token, signed_in, return_to, created, previous_role)
    if refusal is not None:
        raise refusal
    assert result is not None
    return result


async def logout_url(token: str, config: OidcConfig | None = None, *, state: str = "") -> str | None:
    """Where to send the browser after signing it out of GovSocial so the provider's session ends too
    (RP-initiated logout), or None: a password session, no end_session_endpoint, or the provider is down."""
    cfg = config or current()
    if cfg is None:
        return None
    details = await asyncio.to_thread(sessions.sso_details, token)
    if details is None:
        return None
    _provider, id_token = details
    try:
        metadata = await _metadata(cfg)
    except errors.SsoError:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    hint = id_token if cfg.logout_hint == "id_token" and id_token else None
    rv = await _client(cfg).create_logout_url(
        post_logout_redirect_uri=cfg.post_logout_redirect_uri, id_token_hint=hint, state=state or None, client_id=cfg.client_id,
    )
    return rv["url"]


def purge_login_states(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete finished or abandoned sign-in states (a housekeeping job; they hold nothing worth keeping)."""
    from sqlalchemy import delete

    with session_scope() as s:
        return s.exec(delete(OidcLoginState).where(OidcLoginState.expires_at < _now() - older_than)).rowcount
