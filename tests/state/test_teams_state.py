"""The teams page and the inbox's team assignment, on the real state classes: roles are checked on the server
(a responder cannot manage teams, a viewer cannot assign), and an Arabic reader sees Arabic team names."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import ReflexURL, RouterData

from govsocial_app.services import auth
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from govsocial_app.services.inbox import teams
from tests.inbox.conftest import msg

PASSWORD = "correct horse battery"


@pytest.fixture
def as_role(db, actor_factory):
    from govsocial_app.state.app_state import AppState

    def signed_in(role: str, path: str = "/more/teams", lang: str = "en"):
        actor = actor_factory(role, f"{role.title()} Person")
        if lang != "en":
            auth.update_preferences(actor.user_id, actor, locale=lang)
        root = rx.State(_reflex_internal_init=True)
        root.router = RouterData(url=ReflexURL(f"http://127.0.0.1:3000{path}"))
        app_state = root.substates[AppState.get_name()]
        app_state.auth_token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
        return actor, app_state

    return signed_in


def _teams_state(app_state):
    from govsocial_app.state.teams import TeamsState

    return app_state.substates[TeamsState.get_name()]


def _inbox_state(app_state):
    from govsocial_app.state.inbox import InboxState

    return app_state.substates[InboxState.get_name()]


@pytest.mark.parametrize("role", ["admin", "manager", "responder", "viewer"])
def test_only_managers_and_admins_change_teams(as_role, role, actor_factory):
    boss = actor_factory("manager")
    tid = teams.create_team("Roads", "الطرق", boss)
    actor, app_state = as_role(role)
    page = _teams_state(app_state)
    page.load()
    assert [t.label for t in page.teams] == ["Roads"]  # everyone reads
    assert page.can_manage is (role in ("admin", "manager"))
    if role in ("admin", "manager"):
        page.create({"name": "Water", "name_ar": "المياه"})
        page.add_member(tid, str(actor.user_id))
        page.make_lead(tid, actor.user_id)
        assert [t.label for t in page.teams] == ["Roads", "Water"]
        assert page.teams[0].lead == actor.label.split(" <")[0]
        page.remove_member(tid, actor.user_id)
        assert page.teams[0].members == []
    else:
        for call in (lambda: page.create({"name": "Water", "name_ar": ""}), lambda: page.add_member(tid, str(boss.user_id)),
                     lambda: page.remove_member(tid, boss.user_id), lambda: page.make_lead(tid, boss.user_id),
                     lambda: page.rename({"team_id": str(tid), "name": "X", "name_ar": ""}), lambda: page.delete(tid)):
            with pytest.raises(PermissionDenied):
                call()
        assert [t.name for t in teams.list_teams()] == ["Roads"]


def test_a_viewer_cannot_assign_to_a_team_and_a_responder_can(as_role, actor_factory, store):
    boss = actor_factory("manager")
    tid = teams.create_team("Roads", "الطرق", boss)
    (mid,) = store([msg(1)])
    _viewer, viewer_state = as_role("viewer", "/inbox")
    inbox = _inbox_state(viewer_state)
    inbox.open_id = mid
    with pytest.raises(PermissionDenied):
        inbox.assign_to(f"rr:{tid}")
    with pytest.raises(PermissionDenied):
        inbox.assign_to(f"team:{tid}")
    _resp, resp_state = as_role("responder", "/inbox", lang="ar")
    inbox = _inbox_state(resp_state)
    inbox.load()
    assert [o.label for o in inbox.team_opts] == ["فريق الطرق"]
    assert [o.value for o in inbox.team_rr_opts] == [str(tid)]
    inbox.open_id = mid
    inbox.assign_to(f"rr:{tid}")  # nobody in the team: it waits for the team
    card = next(c for c in inbox.cards if c.id == mid)
    assert card.team == "الطرق" and card.assignee == ""
    with pytest.raises(UserError, match="اختر فريقًا"):  # a bad value gets a clear message, in the reader's language
        inbox.assign_to("team:roads")


def test_the_workload_rows_read_in_the_readers_language(as_role, actor_factory, store):
    boss = actor_factory("manager")
    tid = teams.create_team("Roads", "الطرق", boss)
    ids = store([msg(1), msg(2)])
    teams.assign(ids, team_id=tid, actor=boss)
    _a, app_state = as_role("responder", lang="ar")
    page = _teams_state(app_state)
    page.load()
    assert [(r.label, r.open_items, r.waiting, r.online) for r in page.load_teams] == [("الطرق", 2, 2, "0 من 0")]


def test_removing_a_member_is_soft_audited_and_they_can_come_back(as_role, actor_factory, store):
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import AuditLog, Message, TeamMember

    boss, app_state = as_role("manager")
    page = _teams_state(app_state)
    page.load()
    riley, sam = actor_factory("responder", "Riley Roads"), actor_factory("responder", "Sam Streets")
    tid = teams.create_team("Roads", "الطرق", boss)
    for who in (riley, sam):
        page.add_member(tid, str(who.user_id))
    page.make_lead(tid, riley.user_id)
    (mid,) = store([msg(40)])
    teams.assign([mid], user_id=riley.user_id, team_id=tid, actor=boss)
    both = {riley.user_id, sam.user_id}
    with session_scope() as s:
        assert teams.member_ids(s, tid) == sorted(both)
    assert teams.workload().teams[0].members == 2

    page.remove_member(tid, riley.user_id)
    # The row stays, saying when and by whom; the audit log says so too.
    with session_scope() as s:
        link = s.exec(select(TeamMember).where(TeamMember.team_id == tid, TeamMember.user_id == riley.user_id)).one()
        assert link.removed_at is not None and link.removed_by == boss.user_id
        logged = s.exec(select(AuditLog).where(AuditLog.action == "team.member_remove")).all()
        assert len(logged) == 1 and logged[0].actor_id == boss.user_id and logged[0].detail["user_id"] == riley.user_id
        # Round-robin, "online members" and workload count only Sam now, even with Riley online.
        assert teams.member_ids(s, tid) == [sam.user_id]
        assert teams.pick_round_robin(s, tid, online=both) == sam.user_id
        assert teams.pick_round_robin(s, tid, online=both) == sam.user_id
        assert teams.pick_round_robin(s, tid, online={riley.user_id}) is None  # Riley online, but no longer a member
        # "My teams" no longer shows Roads' messages to Riley.
        mine = set(s.exec(select(Message.id).where(col_in_teams(Message, teams.my_team_ids(riley.user_id)))).all())
        assert mid not in mine
    load = teams.workload().teams[0]
    assert load.members == 1
    assert [(m.name, m.lead) for t in page.teams if t.id == tid for m in t.members] == [("Sam Streets", False)]  # the page: current members only
    assert teams.list_teams()[0].lead_name == ""  # a removed lead stops being lead
    with pytest.raises(UserError):
        teams.remove_member(tid, riley.user_id, boss)  # already removed

    # Adding Riley again works (no unique-constraint crash): the same row, current again.
    page.add_member(tid, str(riley.user_id))
    with session_scope() as s:
        links = s.exec(select(TeamMember).where(TeamMember.team_id == tid, TeamMember.user_id == riley.user_id)).all()
        assert len(links) == 1 and links[0].removed_at is None and links[0].removed_by is None
        assert teams.member_ids(s, tid) == sorted(both)
        rejoin = s.exec(select(AuditLog).where(AuditLog.action == "team.member_add").order_by(AuditLog.id.desc())).first()
        assert rejoin.detail.get("rejoined") is True
    assert {m.name for t in page.teams if t.id == tid for m in t.members} == {"Riley Roads", "Sam Streets"}
    with pytest.raises(UserError):
        teams.add_member(tid, riley.user_id, boss)  # already a current member

    # Naming a removed person lead brings them back too.
    page.remove_member(tid, sam.user_id)
    page.make_lead(tid, sam.user_id)
    with session_scope() as s:
        assert teams.member_ids(s, tid) == sorted(both)
    assert teams.list_teams()[0].lead_name == "Sam Streets"


def col_in_teams(model, subquery):
    from sqlmodel import col

    return col(model.team_id).in_(subquery)
