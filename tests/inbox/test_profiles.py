"""Settings → Profiles: connect (credentials checked first, secrets encrypted), check, and disconnect."""

from __future__ import annotations

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, SocialProfile
from govsocial_app.services import profiles
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError


async def test_admin_connects_checks_and_disconnects_a_profile(db, actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = await profiles.connect("simulator", {"handle": "@riverton_parks", "display_name": "Riverton Parks"}, admin)
    health = {h.id: h for h in profiles.health()}
    assert health[pid].status == "active" and health[pid].handle.lower().endswith("riverton_parks")
    assert await profiles.check_connection(pid, admin) == f"Connected as {health[pid].handle}."
    profiles.disconnect(pid, admin)
    assert pid not in {h.id for h in profiles.health()}
    with session_scope() as s:
        row = s.get(SocialProfile, pid)
        assert row.status == "disconnected" and row.secrets_enc == ""  # credentials forgotten, record kept
        actions = s.exec(select(AuditLog.action).where(AuditLog.object_id == str(pid))).all()
    assert {"profile.connect", "profile.check", "profile.disconnect"} <= set(actions)


async def test_missing_required_fields_get_a_clear_message(db, actor_factory):
    with pytest.raises(UserError, match="Server address is required"):
        await profiles.connect("mastodon", {"access_token": "x"}, actor_factory("admin"))


async def test_rejected_credentials_are_not_stored(db, actor_factory, loopback_peers):
    # Nothing listens on this port (loopback allowed, as for an on-premises server): the check fails, nothing is saved.
    with pytest.raises(UserError, match="Could not reach|refused"):
        await profiles.connect("mastodon", {"instance_url": "http://127.0.0.1:9", "access_token": "x"}, actor_factory("admin"))
    assert profiles.health() == []


@pytest.mark.parametrize("role", ["manager", "publisher", "responder", "viewer"])
async def test_only_admins_manage_profiles(db, actor_factory, role):
    with pytest.raises(PermissionDenied):
        await profiles.connect("simulator", {"handle": "@x"}, actor_factory(role))
