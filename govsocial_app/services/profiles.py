"""Connected social profiles: credentials (encrypted at rest), health, and the connector to talk to each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import col, select

from connectors.base import Connector, Credentials
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import SocialProfile
from govsocial_app.services.crypto import decrypt_json


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
