"""State for More → Teams (/more/teams): teams and their members (managers and admins change them; everyone else
reads), and the workload: open items per person and per team, and who is online now."""

from __future__ import annotations

import dataclasses

import reflex as rx

from govsocial_app.services.authz import can
from govsocial_app.services.errors import UserError
from govsocial_app.services.inbox import stream, teams
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires


@dataclasses.dataclass
class MemberRow:
    user_id: int = 0
    name: str = ""
    online: bool = False
    lead: bool = False


@dataclasses.dataclass
class TeamRow:
    id: int = 0
    label: str = ""  # in the reader's language
    name: str = ""
    name_ar: str = ""
    lead: str = ""
    members: list[MemberRow] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class PersonLoadRow:
    name: str = ""
    open_items: int = 0
    online: bool = False


@dataclasses.dataclass
class TeamLoadRow:
    team_id: int = 0
    label: str = ""
    open_items: int = 0
    waiting: int = 0
    online: str = ""  # "2 of 3"


@dataclasses.dataclass
class PersonOption:
    value: str = ""
    label: str = ""


def _int(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise UserError("Choose a team and a person from the lists.") from exc


class TeamsState(AppState):
    teams: list[TeamRow] = []
    people: list[PersonOption] = []
    load_people: list[PersonLoadRow] = []
    load_teams: list[TeamLoadRow] = []
    can_manage: bool = False
    notice: str = ""

    def _refresh(self) -> None:
        self._require("inbox.view")  # a helper that reads data checks for itself
        ar = self.lang == "ar"
        self.teams = [
            TeamRow(t.id, t.name_ar if ar and t.name_ar else t.name, t.name, t.name_ar, t.lead_name,
                    [MemberRow(m.user_id, m.name, m.online, m.lead) for m in t.members])
            for t in teams.list_teams()
        ]
        load = teams.workload()
        self.load_people = [PersonLoadRow(p.name, p.open_items, p.online) for p in load.people]
        self.load_teams = [TeamLoadRow(t.team_id, t.name_ar if ar and t.name_ar else t.name, t.open_items, t.waiting,
                                       self._("{online} of {members}", online=t.online, members=t.members)) for t in load.teams]
        self.people = [PersonOption(c.value, c.label) for c in stream.choices()["assignee"]]

    @rx.event
    @requires("inbox.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("inbox.view")
        self.can_manage = can(self.user_role, "teams.manage")
        self.notice = ""
        self._refresh()

    @rx.event
    @requires("teams.manage")
    def create(self, form: dict):
        actor = self._require("teams.manage")
        teams.create_team(form.get("name", ""), form.get("name_ar", ""), actor)
        self.notice = self._("Team created.")
        self._refresh()

    @rx.event
    @requires("teams.manage")
    def rename(self, form: dict):
        actor = self._require("teams.manage")
        teams.rename_team(_int(form.get("team_id")), form.get("name", ""), form.get("name_ar", ""), actor)
        self.notice = self._("Team renamed.")
        self._refresh()

    @rx.event
    @requires("teams.manage")
    def delete(self, team_id: int):
        actor = self._require("teams.manage")
        teams.delete_team(_int(team_id), actor)
        self.notice = self._("Team deleted. Its messages keep the team in their history.")
        self._refresh()

    @rx.event
    @requires("teams.manage")
    def add_member(self, team_id: int, user_id: str):
        actor = self._require("teams.manage")
        teams.add_member(_int(team_id), _int(user_id), actor)
        self._refresh()

    @rx.event
    @requires("teams.manage")
    def remove_member(self, team_id: int, user_id: int):
        actor = self._require("teams.manage")
        teams.remove_member(_int(team_id), _int(user_id), actor)
        self._refresh()

    @rx.event
    @requires("teams.manage")
    def make_lead(self, team_id: int, user_id: int):
        actor = self._require("teams.manage")
        teams.set_lead(_int(team_id), _int(user_id), actor)
        self._refresh()
