"""Single sign-on settings, read from GOVSOCIAL_OIDC_* environment variables and checked once, with clear errors."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from govsocial_app.config import get_settings
from govsocial_app.services.authz import ROLES

PREFIX = "GOVSOCIAL_OIDC_"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
LOGOUT_HINTS = ("id_token", "client_id")


class OidcConfigError(ValueError):
    """The GOVSOCIAL_OIDC_* settings are incomplete or contradict each other; the message names the variable."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    auth_method: str = "client_secret_basic"
    private_key_pem: str = field(default="", repr=False)
    private_key_id: str = ""  # the `kid` the provider knows the client's public key by, when it asks for one
    discovery_url: str = ""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    groups_claim: str = "groups"
    # (group, role) pairs. Empty: roles are managed in GovSocial and groups are ignored.
    group_roles: tuple[tuple[str, str], ...] = ()
    provider_name: str = "single sign-on"
    auto_create: bool = False
    default_role: str = "viewer"  # for users created on first sign-in when no group mapping is set
    allowed_domains: tuple[str, ...] = ()
    email_claim: str = "email"
    email_verified_claim: str = "email_verified"
    # Treat the email as verified when the provider does not say: only for a provider where the agency itself
    # assigns every address (a single-tenant Entra ID whose users' mail is managed by the agency).
    trust_email: bool = False
    acr_values: str = ""
    prompt: str = ""
    redirect_uri: str = ""
    post_logout_redirect_uri: str = ""
    logout_hint: str = "id_token"
    timeout_s: float = 10.0
    ca_file: str = ""
    state_ttl_s: int = 600

    @property
    def metadata_url(self) -> str:
        return self.discovery_url or self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def maps_groups(self) -> bool:
        return bool(self.group_roles)

    def role_for_groups(self, groups: list[str] | tuple[str, ...]) -> str | None:
        """The most privileged role any of `groups` maps to (ROLES is ordered most to least), or None."""
        have = set(groups)
        matched = {role for group, role in self.group_roles if group in have}
        for role in ROLES:
            if role in matched:
                return role
        return None


def _bool(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise OidcConfigError(f"{name} must be true or false, not {raw!r}")


def _list(raw: str) -> tuple[str, ...]:
    return tuple(x for x in (p.strip() for p in raw.replace(";", ",").replace(" ", ",").split(",")) if x)


def parse_group_roles(raw: str) -> tuple[tuple[str, str], ...]:
    """`group=role` pairs separated by `;` or `,`, or a JSON object {"group": "role"} for group names with commas."""
    raw = raw.strip()
    if not raw:
        return ()
    name = PREFIX + "GROUP_ROLES"
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise OidcConfigError(f"{name} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise OidcConfigError(f"{name} must be a JSON object of group: role")
        pairs = [(str(k).strip(), str(v).strip()) for k, v in data.items()]
    else:
        pairs = []
        for item in (p.strip() for p in raw.replace(";", ",").split(",")):
            if not item:
                continue
            group, sep, role = item.rpartition("=")
            if not sep or not group.strip():
                raise OidcConfigError(f"{name}: {item!r} is not group=role")
            pairs.append((group.strip(), role.strip()))
    for group, role in pairs:
        if role not in ROLES:
            raise OidcConfigError(f"{name}: group {group!r} maps to unknown role {role!r}; roles are {', '.join(ROLES)}")
    return tuple(pairs)


def load_config(env: Mapping[str, str] | None = None) -> OidcConfig | None:
    """The single sign-on configuration, or None when GOVSOCIAL_OIDC_ISSUER is not set (password sign-in only)."""
    env = os.environ if env is None else env

    def get(key: str, default: str = "") -> str:
        return (env.get(PREFIX + key) or default).strip()

    issuer = get("ISSUER").rstrip("/")
    if not issuer:
        return None
    if not issuer.startswith(("https://", "http://")):
        raise OidcConfigError(f"{PREFIX}ISSUER must be the provider's https:// address, not {issuer!r}")
    client_id = get("CLIENT_ID")
    if not client_id:
        raise OidcConfigError(f"{PREFIX}CLIENT_ID is required when {PREFIX}ISSUER is set")
    secret = get("CLIENT_SECRET")
    key_file = get("PRIVATE_KEY_FILE")
    method = get("AUTH_METHOD", "private_key_jwt" if key_file else "client_secret_basic")
    if method not in AUTH_METHODS:
        raise OidcConfigError(f"{PREFIX}AUTH_METHOD must be one of {', '.join(AUTH_METHODS)}, not {method!r}")
    pem = ""
    if method == "private_key_jwt":
        if not key_file:
            raise OidcConfigError(f"{PREFIX}AUTH_METHOD=private_key_jwt needs {PREFIX}PRIVATE_KEY_FILE (a PEM private key)")
        try:
            pem = Path(key_file).read_text()
        except OSError as exc:
            raise OidcConfigError(f"{PREFIX}PRIVATE_KEY_FILE {key_file!r} cannot be read: {exc.strerror}") from None
        if "PRIVATE KEY" not in pem:
            raise OidcConfigError(f"{PREFIX}PRIVATE_KEY_FILE {key_file!r} is not a PEM private key")
    elif not secret:
        raise OidcConfigError(f"{PREFIX}CLIENT_SECRET is required for {method} (or set {PREFIX}PRIVATE_KEY_FILE for private_key_jwt)")
    scopes = _list(get("SCOPES", "openid email profile"))
    if "openid" not in scopes:
        scopes = ("openid", *scopes)
    default_role = get("DEFAULT_ROLE", "viewer")
    if default_role not in ROLES:
        raise OidcConfigError(f"{PREFIX}DEFAULT_ROLE must be one of {', '.join(ROLES)}, not {default_role!r}")
    logout_hint = get("LOGOUT_HINT", "id_token")
    if logout_hint not in LOGOUT_HINTS:
        raise OidcConfigError(f"{PREFIX}LOGOUT_HINT must be id_token or client_id, not {logout_hint!r}")
    try:
        timeout = float(get("TIMEOUT", "10"))
    except ValueError:
        raise OidcConfigError(f"{PREFIX}TIMEOUT must be a number of seconds") from None
    public_url = get_settings().public_url
    return OidcConfig(
        issuer=issuer,
        client_id=client_id,
        client_secret=secret,
        auth_method=method,
        private_key_pem=pem,
        private_key_id=get("PRIVATE_KEY_ID"),
        discovery_url=get("DISCOVERY_URL"),
        scopes=scopes,
        groups_claim=get("GROUPS_CLAIM", "groups"),
        group_roles=parse_group_roles(get("GROUP_ROLES")),
        provider_name=get("PROVIDER_NAME", "single sign-on"),
        auto_create=_bool(get("AUTO_CREATE"), PREFIX + "AUTO_CREATE"),
        default_role=default_role,
        allowed_domains=tuple(d.lower().lstrip("@") for d in _list(get("ALLOWED_DOMAINS"))),
        email_claim=get("EMAIL_CLAIM", "email"),
        email_verified_claim=get("EMAIL_VERIFIED_CLAIM", "email_verified"),
        trust_email=_bool(get("TRUST_EMAIL"), PREFIX + "TRUST_EMAIL"),
        acr_values=get("ACR_VALUES"),
        prompt=get("PROMPT"),
        redirect_uri=get("REDIRECT_URI", public_url + "/auth/oidc/callback"),
        post_logout_redirect_uri=get("POST_LOGOUT_REDIRECT_URI", public_url + "/login"),
        logout_hint=logout_hint,
        timeout_s=max(1.0, timeout),
        ca_file=get("CA_FILE"),
    )


@lru_cache(maxsize=1)
def current() -> OidcConfig | None:
    """The process's configuration (read once; `reset_cache` after changing the environment in tests)."""
    return load_config()


def reset_cache() -> None:
    current.cache_clear()
