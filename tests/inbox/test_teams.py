"""Teams and team assignment (issue 17 item 2): round-robin fairness among online members, nobody online, the
row lock under two concurrent PostgreSQL sessions, audit, role refusals, the workload counts and the Team filter."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, AuthSession, Message, Team, User
from govsocial_app.services import auth
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from govsocial_app.services.inbox import stream, teams
from tests.inbox.conftest import msg

NOW = datetime.now(timezone.utc)


def online(*user_ids: int, seen: datetime | None = None) -> None:
    """A signed-in session for each person, last seen at `seen` (now by default)."""
    seen = seen or datetime.now(timezone.utc)
    with session_scope() as s:
        for uid in user_ids:
            s.add(AuthSession(token_hash=uuid.uuid4().hex, user_id=uid, created_at=seen, last_seen_at=seen,
                              expires_at=seen + timedelta(days=1)))


def assignees(ids: list[int]) -> list[int | None]:
    with session_scope() as s:
        rows = {m.id: m for m in s.exec(select(Message).where(col(Message.id).in_(ids))).all()}
        return [rows[i].assignee_id for i in ids]


@pytest.fixture
def crew(actor_factory):
    """A manager, and the Roads team of four responders (ids ascending) of whom three are online."""
    manager = actor_factory("manager", "Morgan Manager")
    people = [actor_factory("responder", f"Responder {n}") for n in range(4)]
    team_id = teams.create_team("Roads", "الطرق", manager)
    for p in people:
        teams.add_member(team_id, p.user_id, manager)
    online(*(p.user_id for p in people[:3]))
    return manager, [p.user_id for p in people], team_id


def test_round_robin_spreads_items_evenly_over_online_members_and_wraps_around(store, crew):
    manager, people, team_id = crew
    ids = store([msg(n) for n in range(10)])
    for mid in ids[:9]:  # one at a time, as items arrive
        teams.assign([mid], team_id=team_id, round_robin=True, actor=manager)
    got = assignees(ids[:9])
    assert got == people[:3] * 3  # in turn, member after member; the offline fourth is skipped
    # A batch continues the same turn order and wraps around.
    result = teams.assign([ids[9]], team_id=team_id, round_robin=True, actor=manager)
    assert assignees([ids[9]]) == [people[0]]
    assert result.people == ("Responder 0",) and not result.waiting
    with session_scope() as s:
        assert {m.team_id for m in s.exec(select(Message).where(col(Message.id).in_(ids))).all()} == {team_id}


def test_a_batch_of_n_items_spreads_over_k_online_members(store, crew):
    manager, people, team_id = crew
    ids = store([msg(n) for n in range(7)])
    result = teams.assign(ids, team_id=team_id, round_robin=True, actor=manager)
    got = assignees(ids)
    counts = sorted(got.count(u) for u in people[:3])
    assert counts == [2, 2, 3] and people[3] not in got
    assert result.words == "assigned to Roads team (round-robin: Responder 0, Responder 1, Responder 2)"


def test_removed_members_are_skipped_and_the_turn_moves_on(store, crew):
    manager, people, team_id = crew
    ids = store([msg(n) for n in range(4)])
    teams.assign(ids[:2], team_id=team_id, round_robin=True, actor=manager)  # people 0 and 1
    teams.remove_member(team_id, people[1], manager)  # the last one served leaves
    teams.remove_member(team_id, people[2], manager)  # and the next one too
    teams.assign(ids[2:], team_id=team_id, round_robin=True, actor=manager)
    assert assignees(ids) == [people[0], people[1], people[0], people[0]]


def test_nobody_online_leaves_the_item_with_the_team_and_says_so(store, actor_factory):
    manager = actor_factory("manager")
    member = actor_factory("responder", "Riley Responder")
    team_id = teams.create_team("Water", "المياه", manager)
    teams.add_member(team_id, member.user_id, manager)
    online(member.user_id, seen=datetime.now(timezone.utc) - teams.ONLINE_WINDOW - timedelta(minutes=1))
    (a,) = store([msg(1)])
    result = teams.assign([a], team_id=team_id, round_robin=True, actor=manager)
    assert result.waiting and result.people == ()
    assert "nobody in the team is online" in result.words
    with session_scope() as s:
        m = s.get(Message, a)
        assert (m.team_id, m.assignee_id) == (team_id, None)


def test_every_assignment_is_audited_in_words(store, crew):
    manager, people, team_id = crew
    a, b, c = store([msg(1), msg(2), msg(3)])
    teams.assign([a], team_id=team_id, round_robin=True, actor=manager)
    teams.assign([b], team_id=team_id, actor=manager)
    teams.assign([c], team_id=team_id, user_id=people[3], actor=manager)
    with session_scope() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == "message.assign").order_by(AuditLog.id)).all()
        got = [(r.object_id, r.detail["description"]) for r in rows]
    assert got == [(str(a), "assigned to Roads team (round-robin: Responder 0)"), (str(b), "assigned to Roads team"),
                   (str(c), "assigned to Roads team (Responder 3)")]
    assert assignees([b, c]) == [None, people[3]]


def test_assign_in_session_works_inside_the_callers_transaction(store, crew):
    manager, people, team_id = crew
    (a,) = store([msg(1)])
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            words = teams.assign_in_session(s, [a], team_id=team_id, round_robin=True, actor=manager)
            assert words == "assigned to Roads team (round-robin: Responder 0)"
            assert s.get(Message, a).assignee_id == people[0]
            raise RuntimeError("the caller's rule fails later: everything rolls back")
    assert assignees([a]) == [None]
    with session_scope() as s:
        assert s.get(Team, team_id).rr_last_user_id is None  # the turn was not used up
        assert not s.exec(select(AuditLog).where(AuditLog.action == "message.assign")).all()


def test_bad_assignments_get_clear_messages(store, crew, actor_factory):
    manager, people, team_id = crew
    (a,) = store([msg(1)])
    viewer = actor_factory("viewer")
    for kwargs, words in [({"round_robin": True}, "needs a team"), ({}, "person or a team"),
                          ({"team_id": 999}, "does not exist"), ({"user_id": viewer.user_id}, "Viewers cannot"),
                          ({"team_id": team_id, "user_id": people[0], "round_robin": True}, "not both")]:
        with pytest.raises(UserError, match=words):
            teams.assign([a], actor=manager, **kwargs)
    with pytest.raises(UserError, match="no longer exist"):
        teams.assign([a, 10_000], team_id=team_id, actor=manager)


def test_roles_are_refused_on_the_server(store, crew, actor_factory):
    manager, people, team_id = crew
    responder, viewer = actor_factory("responder"), actor_factory("viewer")
    (a,) = store([msg(1)])
    for call in (lambda: teams.create_team("Parks", "", responder), lambda: teams.add_member(team_id, people[0], responder),
                 lambda: teams.remove_member(team_id, people[0], responder), lambda: teams.set_lead(team_id, people[0], responder),
                 lambda: teams.rename_team(team_id, "X", "", responder), lambda: teams.delete_team(team_id, responder)):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(PermissionDenied):
        teams.assign([a], team_id=team_id, round_robin=True, actor=viewer)
    assert assignees([a]) == [None]
    teams.assign([a], team_id=team_id, round_robin=True, actor=responder)  # a responder may assign
    assert assignees([a]) == [people[0]]


def test_team_management_is_audited_and_validated(actor_factory):
    manager = actor_factory("manager")
    riley, vic = actor_factory("responder", "Riley"), actor_factory("viewer")
    tid = teams.create_team("  Roads  ", "الطرق", manager)
    with pytest.raises(UserError, match="already a team"):
        teams.create_team("roads", "", manager)
    with pytest.raises(UserError, match="English name"):
        teams.create_team(" ", "فريق", manager)
    with pytest.raises(UserError, match="at most 80"):
        teams.create_team("x" * 81, "", manager)
    with pytest.raises(UserError, match="Viewers cannot"):
        teams.add_member(tid, vic.user_id, manager)
    teams.set_lead(tid, riley.user_id, manager)  # a lead who was not a member joins
    with pytest.raises(UserError, match="already in this team"):
        teams.add_member(tid, riley.user_id, manager)
    teams.rename_team(tid, "Roads and bridges", "الطرق والجسور", manager)
    (view,) = teams.list_teams()
    assert (view.name, view.name_ar, view.lead_name) == ("Roads and bridges", "الطرق والجسور", "Riley")
    assert [(m.name, m.lead) for m in view.members] == [("Riley", True)]
    teams.remove_member(tid, riley.user_id, manager)
    assert teams.list_teams()[0].lead_name == ""
    teams.delete_team(tid, manager)
    assert teams.list_teams() == [] and teams.team_choices() == []
    with session_scope() as s:
        assert s.get(Team, tid).deleted_at is not None  # soft delete
        actions = s.exec(select(AuditLog.action).where(AuditLog.object_type == "team").order_by(AuditLog.id)).all()
    assert actions == ["team.create", "team.lead", "team.rename", "team.member_remove", "team.delete"]


def test_online_means_a_session_seen_within_the_window_and_activity_keeps_it_fresh(actor_factory):
    riley = actor_factory("responder")
    old = datetime.now(timezone.utc) - timedelta(minutes=11)
    online(riley.user_id, seen=old)
    with session_scope() as s:
        assert teams.online_user_ids(s, [riley.user_id]) == set()
    # Signing in and using the app moves last_seen_at forward at most every few minutes: within the window.
    for hours in (0.05, 1, 12, 24 * 30):
        assert auth._touch_every(timedelta(hours=hours)) * 2 <= teams.ONLINE_WINDOW
    email = riley.label.split("<")[1].rstrip(">")
    token, _ = auth.sign_in(email, "correct horse battery")
    with session_scope() as s:
        for row in s.exec(select(AuthSession).where(AuthSession.user_id == riley.user_id)).all():
            row.last_seen_at = old
    with session_scope() as s:
        assert teams.online_user_ids(s, [riley.user_id]) == set()
    assert auth.user_for_token(token) is not None  # an event from the signed-in tab
    with session_scope() as s:
        assert teams.online_user_ids(s, [riley.user_id]) == {riley.user_id}


def test_workload_counts_open_items_per_person_and_team(store, crew):
    manager, people, team_id = crew
    water = teams.create_team("Water", "المياه", manager)
    ids = store([msg(n) for n in range(8)])
    teams.assign(ids[:3], team_id=team_id, round_robin=True, actor=manager)  # people 0, 1, 2
    teams.assign(ids[3:5], team_id=team_id, actor=manager)  # waiting in Roads
    teams.assign(ids[5:6], team_id=water, user_id=people[0], actor=manager)
    stream.assign(ids[6:7], people[0], manager)  # a person, no team
    stream.set_status(ids[1:2], "completed", manager)  # done items do not count
    load = teams.workload()
    per_person = {p.user_id: (p.open_items, p.online) for p in load.people}
    assert per_person[people[0]] == (3, True)
    assert per_person[people[1]] == (0, True)
    assert per_person[people[2]] == (1, True)
    assert per_person[people[3]] == (0, False)
    assert per_person[manager.user_id] == (0, False)
    per_team = {t.name: (t.open_items, t.waiting, t.members, t.online) for t in load.teams}
    assert per_team == {"Roads": (4, 2, 4, 3), "Water": (1, 0, 0, 0)}


def test_team_filter_and_card_badge(store, crew):
    manager, people, team_id = crew
    other = teams.create_team("Water", "المياه", manager)
    a, b, c = store([msg(1), msg(2), msg(3)])
    teams.assign([a], team_id=team_id, actor=manager)
    teams.assign([b], team_id=other, actor=manager)
    f = stream.filter_from_params({"team": str(team_id)})
    assert f.to_params() == {"team": str(team_id)}
    page = stream.list_page(f, manager.user_id)
    assert [(x.id, x.team, x.team_ar) for x in page.cards] == [(a, "Roads", "الطرق")]
    assert [x.id for x in stream.list_page(stream.filter_from_params({"team": "mine"}), people[0]).cards] == [a]
    assert [x.id for x in stream.list_page(stream.filter_from_params({"team": "mine"}), manager.user_id).cards] == []
    assert {x.id for x in stream.list_page(stream.filter_from_params({"team": "all"}), 0).cards} == {a, b, c}
    assert {x.id: x.team for x in stream.list_page(stream.InboxFilter(), 0).cards}[c] == ""
    with pytest.raises(UserError, match="team filter must be a number"):
        stream.filter_from_params({"team": "roads"})


@pytest.mark.services
def test_two_workers_picking_at_once_on_postgresql_get_different_members(pg_db, actor_factory):
    manager = actor_factory("manager")
    a, b = actor_factory("responder", "A"), actor_factory("responder", "B")
    tid = teams.create_team("Roads", "", manager)
    teams.add_member(tid, a.user_id, manager)
    teams.add_member(tid, b.user_id, manager)
    online(a.user_id, b.user_id)
    with session_scope() as s:
        rows = [Message(network="simulator", external_id=f"pg-{n}", text="pothole", created_at=NOW) for n in range(2)]
        s.add_all(rows)
        s.flush()
        ids = [m.id for m in rows]
    first_picked, second_started = threading.Event(), threading.Event()
    got: dict[str, str] = {}
    errors: list[BaseException] = []

    def worker_one():
        try:
            with session_scope() as s:
                got["one"] = teams.assign_in_session(s, [ids[0]], team_id=tid, round_robin=True, actor=manager)
                first_picked.set()
                second_started.wait(5)
                threading.Event().wait(0.5)  # worker two is now waiting on the team row's lock
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            first_picked.set()

    def worker_two():
        try:
            first_picked.wait(5)
            second_started.set()
            with session_scope() as s:
                got["two"] = teams.assign_in_session(s, [ids[1]], team_id=tid, round_robin=True, actor=manager)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker_one), threading.Thread(target=worker_two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert {got["one"], got["two"]} == {"assigned to Roads team (round-robin: A)", "assigned to Roads team (round-robin: B)"}
    with session_scope() as s:
        assert sorted(s.get(Message, i).assignee_id for i in ids) == sorted([a.user_id, b.user_id])


def test_demo_teams_have_arabic_names_leads_members_and_some_messages(store):
    from govsocial_app.services.authz import Actor
    from govsocial_app.services.demo import DEMO_USERS

    for email, name, role in DEMO_USERS:
        auth.create_user(email, name, "correct horse battery", role, Actor.system("test"))
    store([msg(1, "Huge pothole on Main road"), msg(2, "Water main leak on 5th"), msg(3, "Flood warning downtown"),
           msg(4, "Another pothole near the school")])
    with session_scope() as s:
        teams.seed_teams(s)
    with session_scope() as s:
        teams.seed_teams(s)  # a second run adds nothing
    views = {t.name: t for t in teams.list_teams()}
    assert {n: v.name_ar for n, v in views.items()} == {"Emergency": "الطوارئ", "Roads": "الطرق", "Water": "المياه"}
    assert views["Roads"].lead_name == "Riley Responder"
    assert {m.name for m in views["Roads"].members} == {"Riley Responder", "Sam Responder", "Morgan Manager"}
    with session_scope() as s:
        roads = s.exec(select(Message).where(Message.team_id == views["Roads"].id)).all()
        names = dict(s.exec(select(User.id, User.display_name)).all())
    assert sorted(m.text for m in roads) == ["Another pothole near the school", "Huge pothole on Main road"]
    assert any(m.assignee_id for m in roads) and any(m.assignee_id is None for m in roads)
    assert all(names[m.assignee_id] in {"Riley Responder", "Sam Responder", "Morgan Manager"} for m in roads if m.assignee_id)
