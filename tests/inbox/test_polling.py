"""Polling through the simulator: resume from the cursor, dedupe, and record failures on the profile's health."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import func, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Alert, AuditLog, Message, SocialProfile
from govsocial_app.services import profiles
from govsocial_app.services.intake import polling


def _profile(profile_id: int) -> SocialProfile:
    with session_scope() as s:
        return s.get(SocialProfile, profile_id)


def _count() -> int:
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(Message)).one()


def _inject(profile_id: int, faults: list[str]) -> None:
    profiles.connector_for(_profile(profile_id)).inject_faults(faults)


def _lively() -> dict:
    """Simulator settings under which a first poll (the last 15 minutes) is sure to find mentions, whatever the
    wall clock says: the profile's local time is about midday, and a flood began an hour ago (20x the volume).
    An ordinary night hour has under one mention per 15 minutes, and these tests used to fail at night."""
    now = datetime.now(timezone.utc)
    offset = (12 - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    zone = "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-3 is three hours ahead of UTC
    return {"timezone": zone, "scenario": "flood", "scenario_started_at": (now - timedelta(hours=1)).isoformat()}


def _rate_limit_off(profile_id: int, **extra) -> None:
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        p.config = {**p.config, "rate_limit": 0, **extra}


async def test_poll_stores_mentions_and_a_second_poll_adds_no_duplicates(profile):
    _rate_limit_off(profile, **_lively())
    first = await polling.poll_profile(profile)
    assert first.error == "" and first.new > 0
    stored = _count()
    again = await polling.poll_profile(profile)
    assert again.new == 0 and _count() == stored
    p = _profile(profile)
    assert p.cursor and p.last_success_at is not None and p.last_error == ""


async def test_rate_limit_is_honoured_and_shown(profile):
    _rate_limit_off(profile)
    _inject(profile, ["429:120"])
    now = datetime.now(timezone.utc)
    outcome = await polling.poll_profile(profile, now=now)
    assert "rate limited" in outcome.error
    p = _profile(profile)
    next_poll = p.next_poll_at if p.next_poll_at.tzinfo else p.next_poll_at.replace(tzinfo=timezone.utc)
    assert next_poll >= now + timedelta(seconds=119)
    assert profile not in polling.due_profile_ids(now + timedelta(seconds=60))


async def test_server_errors_are_surfaced_on_the_profile_and_lose_nothing(profile):
    _rate_limit_off(profile, **_lively())
    _inject(profile, ["503"])
    outcome = await polling.poll_profile(profile)
    assert outcome.error and _count() == 0
    assert _profile(profile).last_error
    # The next poll, after the outage, starts from the same cursor and gets everything.
    recovered = await polling.poll_profile(profile)
    assert recovered.error == "" and recovered.new > 0 and _profile(profile).last_error == ""


async def test_401_marks_the_profile_for_reconnection_and_alerts_admins(profile):
    _rate_limit_off(profile)
    _inject(profile, ["401"])
    await polling.poll_profile(profile)
    assert _profile(profile).status == "needs_reconnect"
    assert profile not in polling.due_profile_ids()
    with session_scope() as s:
        assert s.exec(select(Alert).where(Alert.kind == "auth", Alert.profile_id == profile)).one().severity == "critical"
        assert s.exec(select(AuditLog).where(AuditLog.action == "profile.needs_reconnect")).one()
