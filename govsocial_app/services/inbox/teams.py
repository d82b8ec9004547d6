"""Teams and round-robin assignment (issue 17 item 2).

Round-robin hands a team's next item to the member after the one who got the last, among the members who are
online (a signed-in session seen within ONLINE_WINDOW), and to nobody when none is online: the item then waits
for the team. The team row is locked while choosing, so two workers never hand out the same turn."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import Session, col, select

from govsocial_app.db.models import AuthSession, Team, TeamMember, User

ONLINE_WINDOW = timedelta(minutes=10)


def online_user_ids(s: Session, user_ids: list[int], now: datetime | None = None) -> set[int]:
    if not user_ids:
        return set()
    now = now or datetime.now(timezone.utc)
    rows = s.exec(select(AuthSession.user_id).where(
        col(AuthSession.user_id).in_(user_ids), col(AuthSession.revoked_at).is_(None),
        AuthSession.expires_at > now, AuthSession.last_seen_at >= now - ONLINE_WINDOW)).all()
    return set(rows)


def member_ids(s: Session, team_id: int) -> list[int]:
    rows = s.exec(select(TeamMember.user_id).join(User, User.id == TeamMember.user_id).where(
        TeamMember.team_id == team_id, col(User.is_active).is_(True))).all()
    return sorted(set(rows))


def pick_round_robin(s: Session, team_id: int, *, now: datetime | None = None,
                     online: set[int] | None = None) -> int | None:
    """The next online member after the last one served, wrapping around; records the choice on the team."""
    stmt = select(Team).where(Team.id == team_id, col(Team.deleted_at).is_(None))
    if s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    team = s.exec(stmt).first()
    if team is None:
        return None
    members = member_ids(s, team_id)
    candidates = [u for u in members if u in (online if online is not None else online_user_ids(s, members, now))]
    if not candidates:
        return None
    last = team.rr_last_user_id or 0
    chosen = next((u for u in candidates if u > last), candidates[0])
    team.rr_last_user_id = chosen
    s.add(team)
    return chosen
