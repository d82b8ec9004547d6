"""A profile whose credentials the network refused (in a poll, a search, a publish or a reply): mark it "needs
reconnecting", audit it, and alert the admins once (they are the ones who can reconnect it)."""

from __future__ import annotations

from datetime import datetime, timezone

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import SocialProfile
from govsocial_app.services import audit
from govsocial_app.services.alerting import alerts
from govsocial_app.services.authz import Actor


async def mark_needs_reconnect(profile_id: int, error: str, *, source: str, now: datetime | None = None) -> bool:
    """The network refused the profile's credentials (in a poll, search, publish or reply): mark the profile
    "needs reconnecting" and alert admins once. Returns True when this call changed the status."""
    now = now or datetime.now(timezone.utc)
    alert_id = None
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        if p is None or p.status in ("needs_reconnect", "disconnected"):
            return False
        p.last_error, p.last_error_at = error[:1000], now
        alert_id = needs_reconnect(s, p, error, now, source)
    alerts.announce([alert_id])
    await alerts.deliver([alert_id])
    return True


def needs_reconnect(s, p: SocialProfile, error: str, now: datetime, source: str = "poll") -> int:
    p.status = "needs_reconnect"
    actor = Actor.system("poller" if source == "poll" else source)
    audit.record(s, actor, "profile.needs_reconnect", "profile", p.id, error=error[:200], source=source)
    # Admins are the ones who can reconnect a profile: they get it by push, email and in the app.
    alert = alerts.create_alert(
        s,
        alerts.AlertSpec(
            kind="auth", severity="critical", title="{profile} needs reconnecting",
            body="{network} rejected the stored credentials: {error}",
            params={"profile": p.display_name or p.handle, "network": p.network, "error": error[:300]},
            link="/more/profiles", profile_id=p.id,
        ),
        alerts.Audience(roles=("admin",)),
        now,
    )
    return alert.id
