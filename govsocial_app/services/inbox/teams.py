"""Teams, team-aware assignment with round-robin, and the workload view (issue 17 item 2).

Round-robin hands a team's next item to the member after the one who got the last, among the members who are
online (a signed-in session seen within ONLINE_WINDOW), and to nobody when none is online: the item then waits
for the team. The team row is locked while choosing, so two workers never hand out the same turn.

"Online" reads AuthSession.last_seen_at, which services/auth.user_for_token moves forward on every signed-in event
at most every 5 minutes (auth._touch_every); ONLINE_WINDOW is twice that, so someone working is never missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuthSession, Message, Team, TeamMember, User
from govsocial_app.services import audit, bus
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import InboxChanged

ONLINE_WINDOW = timedelta(minutes=10)
NAME_MAX = 80
MAX_MESSAGES = 200


def online_user_ids(s: Session, user_ids: list[int], now: datetime | None = None) -> set[int]:
    if not user_ids:
        return set()
    now = now or datetime.now(timezone.utc)
    rows = s.exec(select(AuthSession.user_id).where(
        col(AuthSession.user_id).in_(user_ids), col(AuthSession.revoked_at).is_(None),
        AuthSession.expires_at > now, AuthSession.last_seen_at >= now - ONLINE_WINDOW)).all()
    return set(rows)


def _assignable():
    """Members who can take work: active, not deleted, and not viewers (who cannot reply)."""
    return (col(User.is_active).is_(True), col(User.deleted_at).is_(None), User.role != "viewer")


def _current():
    """Memberships in force: a removed member's row stays for the record (removed_at set) but counts for nothing."""
    return col(TeamMember.removed_at).is_(None)


def member_ids(s: Session, team_id: int) -> list[int]:
    rows = s.exec(select(TeamMember.user_id).join(User, User.id == TeamMember.user_id).where(
        TeamMember.team_id == team_id, _current(), *_assignable())).all()
    return sorted(set(rows))


def pick_round_robin(s: Session, team_id: int, *, now: datetime | None = None,
                     online: set[int] | None = None) -> int | None:
    """The next online member after the last one served, wrapping around; records the choice on the team.
    On PostgreSQL the team row stays locked until the caller's transaction ends, so a second worker waits and then
    reads the turn this one recorded (populate_existing: a Team already in the session is re-read, not trusted)."""
    stmt = select(Team).where(Team.id == team_id, col(Team.deleted_at).is_(None)).execution_options(populate_existing=True)
    if s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    team = s.exec(stmt).first()
    if team is None:
        return None
    members = member_ids(s, team_id)
    live = online if online is not None else online_user_ids(s, members, now)
    candidates = [u for u in members if u in live]
    if not candidates:
        return None
    last = team.rr_last_user_id or 0
    chosen = next((u for u in candidates if u > last), candidates[0])
    team.rr_last_user_id = chosen
    s.add(team)
    s.flush()
    return chosen


# ---------------------------------------------------------------- teams and members


@dataclass(frozen=True)
class MemberView:
    user_id: int
    name: str
    role: str
    online: bool
    lead: bool


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    name_ar: str
    lead_name: str
    members: tuple[MemberView, ...]


def _live_team(s: Session, team_id: int) -> Team:
    team = s.get(Team, team_id) if team_id else None
    if team is None or team.deleted_at is not None:
        raise UserError("That team does not exist.")
    return team


def _clean_names(s: Session, name: str, name_ar: str, *, except_id: int | None = None) -> tuple[str, str]:
    name, name_ar = " ".join((name or "").split()), " ".join((name_ar or "").split())
    if not name:
        raise UserError("A team needs an English name.")
    if len(name) > NAME_MAX or len(name_ar) > NAME_MAX:
        raise UserError("Team names are at most 80 characters.")
    clash = s.exec(select(Team.id).where(func.lower(Team.name) == name.lower(), col(Team.deleted_at).is_(None))).all()
    if [i for i in clash if i != except_id]:
        raise UserError(f"There is already a team called “{name}”.")
    return name, name_ar


def create_team(name: str, name_ar: str, actor: Actor) -> int:
    require(actor, "teams.manage")
    with session_scope() as s:
        name, name_ar = _clean_names(s, name, name_ar)
        team = Team(name=name, name_ar=name_ar)
        s.add(team)
        s.flush()
        audit.record(s, actor, "team.create", "team", team.id, name=name, name_ar=name_ar)
        return team.id


def rename_team(team_id: int, name: str, name_ar: str, actor: Actor) -> None:
    require(actor, "teams.manage")
    with session_scope() as s:
        team = _live_team(s, team_id)
        name, name_ar = _clean_names(s, name, name_ar, except_id=team.id)
        before = (team.name, team.name_ar)
        team.name, team.name_ar = name, name_ar
        audit.record(s, actor, "team.rename", "team", team.id, before=list(before), name=name, name_ar=name_ar)


def delete_team(team_id: int, actor: Actor) -> None:
    """Soft delete: messages keep the team they had (the archive stays true); it leaves every menu and filter."""
    require(actor, "teams.manage")
    with session_scope() as s:
        team = _live_team(s, team_id)
        team.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "team.delete", "team", team.id, name=team.name)


def _member_user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id) if user_id else None
    if user is None or not user.is_active or user.deleted_at is not None:
        raise UserError("That person cannot join a team.")
    if user.role == "viewer":
        raise UserError("Viewers cannot be team members; they cannot take messages.")
    return user


def _link(s: Session, team_id: int, user_id: int) -> TeamMember | None:
    """The person's membership row in the team, current or removed (one per pair: uq_teammember)."""
    return s.exec(select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)).first()


def _join(s: Session, team_id: int, user_id: int) -> bool:
    """Makes the person a current member: a new row, or their removed row made current again (True then)."""
    link = _link(s, team_id, user_id)
    if link is None:
        s.add(TeamMember(team_id=team_id, user_id=user_id))
        return False
    link.removed_at, link.removed_by, link.added_at = None, None, datetime.now(timezone.utc)
    s.add(link)
    return True


def add_member(team_id: int, user_id: int, actor: Actor) -> None:
    """Adds the person; someone removed earlier comes back on their old row (removal cleared, added again now)."""
    require(actor, "teams.manage")
    with session_scope() as s:
        team = _live_team(s, team_id)
        user = _member_user(s, user_id)
        link = _link(s, team.id, user.id)
        if link is not None and link.removed_at is None:
            raise UserError(f"{user.display_name} is already in this team.")
        again = _join(s, team.id, user.id)
        audit.record(s, actor, "team.member_add", "team", team.id, team=team.name, user_id=user.id, user=user.display_name,
                     **({"rejoined": True} if again else {}))


def remove_member(team_id: int, user_id: int, actor: Actor) -> None:
    """A soft removal: the row stays with when and by whom (and the audit log says so); the person stops counting for
    round-robin, workload, online members and "My teams", and a removed lead stops being lead."""
    require(actor, "teams.manage")
    with session_scope() as s:
        team = _live_team(s, team_id)
        link = _link(s, team.id, user_id)
        if link is None or link.removed_at is not None:
            raise UserError("That person is not in this team.")
        link.removed_at, link.removed_by = datetime.now(timezone.utc), actor.user_id
        s.add(link)
        if team.lead_user_id == user_id:
            team.lead_user_id = None
        user = s.get(User, user_id)
        audit.record(s, actor, "team.member_remove", "team", team.id, team=team.name, user_id=user_id,
                     user=user.display_name if user else "")


def set_lead(team_id: int, user_id: int | None, actor: Actor) -> None:
    """The lead gets the team's response-time escalations. Naming a lead who is not yet a member adds them."""
    require(actor, "teams.manage")
    with session_scope() as s:
        team = _live_team(s, team_id)
        label = "nobody"
        if user_id:
            user = _member_user(s, user_id)
            link = _link(s, team.id, user.id)
            if link is None or link.removed_at is not None:
                _join(s, team.id, user.id)
            label = user.display_name
        team.lead_user_id = user_id or None
        audit.record(s, actor, "team.lead", "team", team.id, team=team.name, lead=label)


def list_teams(now: datetime | None = None) -> list[TeamView]:
    """Every live team with its members (and who is online): three queries, whatever the number of teams."""
    with session_scope() as s:
        teams = s.exec(select(Team).where(col(Team.deleted_at).is_(None)).order_by(Team.name)).all()
        if not teams:
            return []
        rows = s.exec(select(TeamMember.team_id, User.id, User.display_name, User.role)
                      .join(User, User.id == TeamMember.user_id)
                      .where(col(TeamMember.team_id).in_([t.id for t in teams]), _current(), *_assignable())
                      .order_by(User.display_name)).all()
        online = online_user_ids(s, sorted({r[1] for r in rows}), now)
        lead_of = {t.id: t.lead_user_id for t in teams}
        by_team: dict[int, list[MemberView]] = {}
        names = {}
        for team_id, uid, name, role in rows:
            by_team.setdefault(team_id, []).append(MemberView(uid, name, role, uid in online, lead_of[team_id] == uid))
            names[uid] = name
        return [TeamView(t.id, t.name, t.name_ar, names.get(t.lead_user_id, "") if t.lead_user_id else "",
                         tuple(by_team.get(t.id, ()))) for t in teams]


@dataclass(frozen=True)
class TeamChoice:
    id: int
    name: str
    name_ar: str

    def label(self, lang: str) -> str:
        return self.name_ar if lang == "ar" and self.name_ar else self.name


def _read_team_choices() -> list[TeamChoice]:
    with session_scope() as s:
        return [TeamChoice(t.id, t.name, t.name_ar) for t in
                s.exec(select(Team).where(col(Team.deleted_at).is_(None)).order_by(Team.name)).all()]


# The team menus of the inbox: read on every page load (each "open inbox" and "open message" of everyone), changed
# by an admin now and then: kept per process like the inbox's other menus (stream.choices_and_version).
CHOICES_TTL_S = 15.0
_team_choices = audit.KeptUntilAudited(("team", "demo"), CHOICES_TTL_S, _read_team_choices)


def team_choices() -> list[TeamChoice]:
    return list(_team_choices.get())


def team_names(s: Session, team_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(English, Arabic) names of these teams in one query: the inbox cards of one page."""
    if not team_ids:
        return {}
    return {i: (n, a) for i, n, a in s.exec(select(Team.id, Team.name, Team.name_ar).where(col(Team.id).in_(sorted(team_ids)))).all()}


def my_team_ids(user_id: int):
    """A subquery of the teams this person belongs to, for the inbox's "My teams" filter."""
    return select(TeamMember.team_id).where(TeamMember.user_id == user_id, _current())


# ---------------------------------------------------------------- assignment


@dataclass(frozen=True)
class AssignResult:
    words: str  # "assigned to Roads team (round-robin: Riley)": the audit log's and the rule trail's words
    people: tuple[str, ...] = ()  # who got the items
    waiting: bool = False  # round-robin found nobody online: the items wait for the team


def assign_in_session(s: Session, message_ids: list[int], *, user_id: int | None = None, team_id: int | None = None,
                      round_robin: bool = False, actor: Actor, now: datetime | None = None) -> str:
    """Assign inside the caller's transaction (no commit): to a person, to a team (nobody in it yet), to a team and
    a person, or to a team's next online member (round-robin, one turn per message). Returns what was done, in
    words for the audit log and the rule trail: "assigned to Roads team (round-robin: Riley)". The caller
    announces the change after its commit."""
    return _assign(s, message_ids, user_id=user_id, team_id=team_id, round_robin=round_robin, actor=actor, now=now).words


def _assign(s: Session, message_ids: list[int], *, user_id: int | None, team_id: int | None,
            round_robin: bool, actor: Actor, now: datetime | None = None) -> AssignResult:
    require(actor, "inbox.act")
    ids = sorted({int(i) for i in message_ids or []})
    if not ids:
        raise UserError("Select at least one message.")
    if len(ids) > MAX_MESSAGES:
        raise UserError("Bulk actions take at most 200 messages at a time.")
    if round_robin and not team_id:
        raise UserError("Round-robin needs a team.")
    if round_robin and user_id:
        raise UserError("Choose a person or round-robin, not both.")
    if not user_id and not team_id:
        raise UserError("Choose a person or a team.")
    rows = s.exec(select(Message).where(col(Message.id).in_(ids), col(Message.deleted_at).is_(None))
                  .order_by(Message.id)).all()
    if len(rows) != len(ids):
        raise UserError("Some of the selected messages no longer exist.")
    team = _live_team(s, team_id) if team_id else None
    person = None
    if user_id:
        person = s.get(User, user_id)
        if person is None or not person.is_active or person.deleted_at:
            raise UserError("That person cannot be assigned messages.")
        if person.role == "viewer":
            raise UserError("Viewers cannot be assigned messages; pick someone who can reply.")
    if not round_robin:
        for m in rows:
            if team is not None:
                m.team_id = team.id
            m.assignee_id = person.id if person else None
        if team is None:
            words = f"assigned to {person.display_name}"
        else:
            words = f"assigned to {team.name} team" + (f" ({person.display_name})" if person else "")
        audit.record(s, actor, "message.assign", "message", ",".join(map(str, ids[:50])), count=len(ids),
                     assignee=person.display_name if person else "", team=team.name if team else "", description=words)
        return AssignResult(words, (person.display_name,) if person else ())
    chosen: list[str] = []
    online = online_user_ids(s, member_ids(s, team.id), now)
    names: dict[int, str] = {}
    for m in rows:
        pick = pick_round_robin(s, team.id, now=now, online=online)
        m.team_id, m.assignee_id = team.id, pick
        if pick is not None and pick not in names:
            names[pick] = s.get(User, pick).display_name
        who = names[pick] if pick is not None else ""
        words = (f"assigned to {team.name} team (round-robin: {who})" if pick is not None
                 else f"assigned to {team.name} team (round-robin: nobody in the team is online, so it waits for the team)")
        audit.record(s, actor, "message.assign", "message", m.id, count=1, assignee=who, team=team.name,
                     round_robin=True, description=words)
        chosen.append(who)
    picked = tuple(c for c in dict.fromkeys(chosen) if c)
    if not picked:
        return AssignResult(f"assigned to {team.name} team (round-robin: nobody in the team is online, so it waits for the team)",
                            (), True)
    return AssignResult(f"assigned to {team.name} team (round-robin: {', '.join(picked)})", picked, "" in chosen)


def assign(message_ids: list[int], *, user_id: int | None = None, team_id: int | None = None,
           round_robin: bool = False, actor: Actor, now: datetime | None = None) -> AssignResult:
    """The same assignment in its own transaction, then the live update for everyone looking at these messages."""
    with session_scope() as s:
        result = _assign(s, message_ids, user_id=user_id, team_id=team_id, round_robin=round_robin, actor=actor, now=now)
    bus.publish(InboxChanged.of(changed_ids=message_ids))
    return result


# ---------------------------------------------------------------- workload


@dataclass(frozen=True)
class PersonLoad:
    user_id: int
    name: str
    open_items: int
    online: bool


@dataclass(frozen=True)
class TeamLoad:
    team_id: int
    name: str
    name_ar: str
    open_items: int
    waiting: int  # open, in the team, with no person yet
    members: int
    online: int


@dataclass(frozen=True)
class Workload:
    people: list[PersonLoad]
    teams: list[TeamLoad]


def _open():
    return (Message.direction == "in", Message.status == "open", col(Message.deleted_at).is_(None))


def workload(now: datetime | None = None) -> Workload:
    """Open inbound items per person and per team, and who is online: a fixed number of aggregate queries."""
    with session_scope() as s:
        per_person = dict(s.exec(select(Message.assignee_id, func.count()).where(*_open(), col(Message.assignee_id).is_not(None))
                                 .group_by(Message.assignee_id)).all())
        per_team = {t: (n, w) for t, n, w in s.exec(
            select(Message.team_id, func.count(), func.sum(case((col(Message.assignee_id).is_(None), 1), else_=0)))
            .where(*_open(), col(Message.team_id).is_not(None)).group_by(Message.team_id)).all()}
        users = s.exec(select(User.id, User.display_name).where(*_assignable()).order_by(User.display_name)).all()
        online = online_user_ids(s, [u for u, _ in users], now)
        teams = s.exec(select(Team).where(col(Team.deleted_at).is_(None)).order_by(Team.name)).all()
        links = s.exec(select(TeamMember.team_id, TeamMember.user_id).join(User, User.id == TeamMember.user_id)
                       .where(_current(), *_assignable())).all()
        members: dict[int, set[int]] = {}
        for team_id, uid in links:
            members.setdefault(team_id, set()).add(uid)
        people = [PersonLoad(uid, name, int(per_person.get(uid, 0)), uid in online) for uid, name in users]
        people.sort(key=lambda p: (-p.open_items, p.name))
        return Workload(people, [
            TeamLoad(t.id, t.name, t.name_ar, int(per_team.get(t.id, (0, 0))[0]), int(per_team.get(t.id, (0, 0))[1] or 0),
                     len(members.get(t.id, ())), len(members.get(t.id, set()) & online)) for t in teams])


# ---------------------------------------------------------------- demo data

DEMO_TEAMS = (
    ("Roads", "الطرق", "responder@demo.gov", ("responder@demo.gov", "responder2@demo.gov", "manager@demo.gov")),
    ("Water", "المياه", "responder2@demo.gov", ("responder2@demo.gov", "publisher@demo.gov")),
    ("Emergency", "الطوارئ", "manager@demo.gov", ("manager@demo.gov", "responder@demo.gov", "admin@demo.gov")),
)
DEMO_TEAM_WORDS = {"Roads": ("pothole", "road", "traffic", "street"), "Water": ("water", "pipe", "leak", "مياه"),
                   "Emergency": ("flood", "fire", "storm", "فيضان", "سيول")}


def seed_teams(s: Session) -> None:
    """The demo's Roads, Water and Emergency teams (with Arabic names, leads and members), and a few open messages
    that mention their subjects assigned to them, some to a person and some waiting for the team."""
    actor = Actor.system("demo seed")
    users = {e: i for e, i in s.exec(select(User.email, User.id)).all()}
    for name, name_ar, lead, emails in DEMO_TEAMS:
        if s.exec(select(Team.id).where(Team.name == name, col(Team.deleted_at).is_(None))).first():
            continue
        team = Team(name=name, name_ar=name_ar, lead_user_id=users.get(lead))
        s.add(team)
        s.flush()
        for email in emails:
            if email in users:
                s.add(TeamMember(team_id=team.id, user_id=users[email]))
        audit.record(s, actor, "team.create", "team", team.id, name=name, name_ar=name_ar)
        s.flush()
        words = DEMO_TEAM_WORDS[name]
        rows = s.exec(select(Message).where(*_open(), col(Message.team_id).is_(None),
                                            func.lower(Message.text).contains(words[0]) | func.lower(Message.text).contains(words[1]))
                      .order_by(col(Message.id).desc()).limit(4)).all()
        members = sorted(users[e] for e in emails if e in users)
        for n, m in enumerate(rows):
            m.team_id = team.id
            m.assignee_id = None if n % 2 else members[n % len(members)] if members else None
        if rows:
            audit.record(s, actor, "message.assign", "message", ",".join(str(m.id) for m in rows), count=len(rows),
                         team=name, description=f"assigned to {name} team")
