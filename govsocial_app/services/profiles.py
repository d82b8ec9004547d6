"""Connected social profiles: credentials (encrypted at rest), health, and the connector to talk to each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import col, select

from connectors.base import Connector, Credentials
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import SocialProfile
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.crypto import decrypt_json, encrypt_json
from govsocial_app.services.errors import UserError


@dataclass(frozen=True)
class ProfileSummary:
    id: int
    network: str
    handle: str
    display_name: str
    status: str
    last_success_at: datetime | None
    last_error: str


def credentials_for(profile: SocialProfile) -> Credentials:
    return Credentials(network=profile.network, config=dict(profile.config or {}), secrets=decrypt_json(profile.secrets_enc))


def connector_for(profile: SocialProfile, **kwargs) -> Connector:
    from connectors.registry import create_connector

    return create_connector(credentials_for(profile), **kwargs)


def active_profiles() -> list[SocialProfile]:
    with session_scope() as s:
        return list(
            s.exec(
                select(SocialProfile).where(col(SocialProfile.deleted_at).is_(None), SocialProfile.status != "disconnected").order_by(SocialProfile.id)
            ).all()
        )


def summaries() -> list[ProfileSummary]:
    with session_scope() as s:
        rows = s.exec(select(SocialProfile).where(col(SocialProfile.deleted_at).is_(None)).order_by(SocialProfile.id)).all()
        return [ProfileSummary(p.id, p.network, p.handle, p.display_name, p.status, p.last_success_at, p.last_error) for p in rows]


def now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- connect, check, disconnect (Settings → Profiles)


@dataclass(frozen=True)
class ProfileHealth:
    id: int
    network: str
    handle: str
    display_name: str
    status: str
    last_success_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    rate_remaining: int | None  # the network's rate-limit budget at the last poll, when it says
    rate_limit: int | None


def health() -> list[ProfileHealth]:
    with session_scope() as s:
        rows = s.exec(select(SocialProfile).where(col(SocialProfile.deleted_at).is_(None)).order_by(SocialProfile.id)).all()
        out = []
        for p in rows:
            rl = p.rate_limit or {}
            out.append(ProfileHealth(p.id, p.network, p.handle, p.display_name, p.status, p.last_success_at,
                                     p.last_error, p.last_error_at, rl.get("remaining"), rl.get("limit")))
        return out


def _split_fields(network: str, values: dict[str, str]) -> tuple[dict, dict]:
    from connectors.registry import NETWORKS

    info = NETWORKS.get(network)
    if info is None:
        raise UserError(f"Unknown network {network!r}.")
    config, secrets = {}, {}
    for f in info.fields:  # as the connector package declares them, secret or not
        value = (values.get(f.name) or "").strip()
        if f.required and not value:
            raise UserError(f"{f.label} is required for {info.label}.")
        if value:
            (secrets if f.secret else config)[f.name] = value
    return config, secrets


async def _check_server_addresses(config: dict) -> None:
    """A server address typed when connecting a profile must be a public one, or an allowed network
    (GOVSOCIAL_ALLOW_PRIVATE_NETWORKS): else the server could be made to call services on the internal network.
    Every connection is checked again when it is made (connectors/netguard.py); this says so clearly, up front."""
    import httpcore

    from connectors import netguard

    for key, value in config.items():
        if not key.endswith("_url") or not value:
            continue
        url = value if "://" in value else "https://" + value
        try:
            await netguard.check_url(url)
        except netguard.BlockedAddress:
            raise UserError(f"The server address {value} is on a private or local network. GovSocial connects only to public "
                            "servers; an administrator can allow a network with GOVSOCIAL_ALLOW_PRIVATE_NETWORKS.") from None
        except httpcore.ConnectError:
            pass  # the name does not resolve: the connection check below says so


async def connect(network: str, values: dict[str, str], actor: Actor, **connector_kwargs) -> int:
    """Check the credentials with the network first, then store them (secrets encrypted) and start polling."""
    from connectors.base import AuthError, ConnectorError, PermanentError
    from connectors.registry import create_connector

    require(actor, "profiles.manage")
    config, secrets = _split_fields(network, values)
    if network == "simulator":
        from govsocial_app.config import get_settings

        config.setdefault("profile_key", config["handle"].lstrip("@").lower())
        config.setdefault("state_path", str(get_settings().data_dir / "simulator.db"))
    await _check_server_addresses(config)
    connector = create_connector(Credentials(network=network, config=config, secrets=secrets), **connector_kwargs)
    try:
        account = await connector.check()
    except AuthError as exc:
        raise UserError(f"The network refused the credentials: {exc}") from exc
    except PermanentError as exc:
        # It answered, so it was reached: saying "could not reach" sent people checking their network.
        raise UserError(f"The network answered with an error while checking the connection: {exc}") from exc
    except ConnectorError as exc:
        raise UserError(f"Could not reach the network to check the connection: {exc}") from exc
    finally:
        await connector.aclose()
    with session_scope() as s:
        p = SocialProfile(
            network=network, handle=account.handle or config.get("handle", ""), display_name=account.display_name or values.get("display_name", ""),
            external_id=account.external_id, config=config, secrets_enc=encrypt_json(secrets), status="active",
        )
        s.add(p)
        s.flush()
        audit.record(s, actor, "profile.connect", "profile", p.id, network=network, handle=p.handle)
        return p.id


async def check_connection(profile_id: int, actor: Actor, **connector_kwargs) -> str:
    from connectors.base import AuthError, ConnectorError, PermanentError

    require(actor, "profiles.manage")
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        if p is None or p.deleted_at:
            raise UserError("That profile does not exist.")
        connector = connector_for(p, **connector_kwargs)
    status, error = "active", ""
    try:
        account = await connector.check()
    except AuthError as exc:
        status, error = "needs_reconnect", f"The network refused the stored credentials: {exc}"
    except PermanentError as exc:
        error = f"The network answered with an error: {exc}"
    except ConnectorError as exc:
        error = f"Could not reach the network: {exc}"
    finally:
        await connector.aclose()
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        p.status = status if p.status != "disconnected" else p.status
        p.last_error, p.last_error_at = (error, now()) if error else ("", p.last_error_at)
        if not error:
            p.display_name = account.display_name or p.display_name
        audit.record(s, actor, "profile.check", "profile", profile_id, ok=not error, error=error[:200])
    if error:
        raise UserError(error)
    return f"Connected as {account.handle}."


def disconnect(profile_id: int, actor: Actor) -> None:
    """Stop polling and publishing and forget the credentials; the profile's messages stay in the record."""
    require(actor, "profiles.manage")
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        if p is None or p.deleted_at:
            raise UserError("That profile does not exist.")
        p.status, p.secrets_enc, p.deleted_at = "disconnected", "", now()
        audit.record(s, actor, "profile.disconnect", "profile", profile_id, network=p.network, handle=p.handle)
