"""More → Teams: the workload (open items per person and team, who is online) and the teams with their members."""

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.teams import MemberRow, PersonLoadRow, TeamLoadRow, TeamRow, TeamsState

ROUTE = "/more/teams"
TITLE = "Teams · GovSocial"
ON_LOAD = TeamsState.load
TAP = "44px"


def _online_dot(online) -> rx.Component:
    return rx.cond(
        online,
        rx.badge(t("Online"), color_scheme="green", size="1"),
        rx.text(t("Offline"), size="1", color=rx.color("gray", 11)),
    )


def _person_load(p: PersonLoadRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(p.name, dir="auto")),
        rx.table.cell(p.open_items, text_align="end"),
        rx.table.cell(_online_dot(p.online)),
    )


def _team_load(r: TeamLoadRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(rx.text(r.label, dir="auto"), href="/inbox?status=open&team=" + r.team_id.to_string())),
        rx.table.cell(r.open_items, text_align="end"),
        rx.table.cell(r.waiting, text_align="end"),
        rx.table.cell(r.online),
    )


def _workload() -> rx.Component:
    head = {"size": "1"}
    return rx.el.section(
        rx.heading(t("Workload"), as_="h2", size="4", margin_bottom="4px"),
        rx.text(t("Open messages per team and person. Online means signed in and active in the last 10 minutes."), size="1", color=rx.color("gray", 11)),
        rx.el.section(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell(t("Team")), rx.table.column_header_cell(t("Open"), text_align="end"),
                    rx.table.column_header_cell(t("Waiting"), text_align="end"), rx.table.column_header_cell(t("Online")),
                )),
                rx.table.body(rx.foreach(TeamsState.load_teams, _team_load)),
                width="100%", **head,
            ),
            aria_label=t("Open messages per team"), margin_top="8px",
        ),
        rx.el.section(
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell(t("Person")), rx.table.column_header_cell(t("Open"), text_align="end"),
                    rx.table.column_header_cell(t("Now")),
                )),
                rx.table.body(rx.foreach(TeamsState.load_people, _person_load)),
                width="100%", **head,
            ),
            aria_label=t("Open messages per person"), margin_top="12px",
        ),
        aria_label=t("Workload"),
    )


def _member(team: TeamRow, m: MemberRow) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.text(m.name, dir="auto", weight=rx.cond(m.lead, "bold", "regular")),
            rx.cond(m.lead, rx.badge(t("Lead"), size="1", color_scheme="indigo")),
            _online_dot(m.online),
            rx.spacer(),
            rx.cond(
                TeamsState.can_manage,
                rx.flex(
                    rx.cond(~m.lead, rx.button(t("Make lead"), size="1", variant="soft", min_height=TAP,
                                               aria_label=t("Make lead") + ": " + m.name,
                                               on_click=TeamsState.make_lead(team.id, m.user_id))),
                    rx.button(t("Remove"), size="1", variant="soft", color_scheme="red", min_height=TAP,
                              aria_label=t("Remove") + ": " + m.name + " · " + team.label,
                              on_click=TeamsState.remove_member(team.id, m.user_id)),
                    gap="1",
                ),
            ),
            gap="2", align="center", wrap="wrap",
        ),
        list_style="none", padding="4px 0", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _team(team: TeamRow) -> rx.Component:
    return rx.card(
        rx.heading(team.label, as_="h3", size="3", dir="auto"),
        rx.text(t("Lead"), ": ", rx.cond(team.lead != "", team.lead, t("nobody yet")), size="1", color=rx.color("gray", 11)),
        rx.el.ul(rx.foreach(team.members, lambda m: _member(team, m)), padding="0", margin="8px 0"),
        rx.cond(team.members.length() == 0, rx.text(t("No members yet."), size="2", color=rx.color("gray", 11))),
        rx.cond(
            TeamsState.can_manage,
            rx.flex(
                rx.select.root(
                    rx.select.trigger(placeholder=t("Add a member…"), aria_label=t("Add a member to") + " " + team.label, min_height=TAP),
                    rx.select.content(rx.foreach(TeamsState.people, lambda p: rx.select.item(p.label, value=p.value))),
                    value="",
                    on_change=lambda v: TeamsState.add_member(team.id, v),
                ),
                rx.form(
                    rx.flex(
                        rx.input(name="name", default_value=team.name, aria_label=t("English name of") + " " + team.label, min_height=TAP, width="120px"),
                        rx.input(name="name_ar", default_value=team.name_ar, aria_label=t("Arabic name of") + " " + team.label, dir="rtl", min_height=TAP, width="120px"),
                        rx.input(name="team_id", type="hidden", value=team.id.to_string()),
                        rx.button(t("Rename"), type="submit", variant="soft", min_height=TAP),
                        gap="1", wrap="wrap",
                    ),
                    on_submit=TeamsState.rename,
                    reset_on_submit=False,
                ),
                rx.button(t("Delete team"), color_scheme="red", variant="soft", min_height=TAP,
                          aria_label=t("Delete team") + " " + team.label, on_click=TeamsState.delete(team.id)),
                gap="2", wrap="wrap", direction="column", align="start",
            ),
        ),
        rx.link(t("Open messages of this team"), href="/inbox?status=open&team=" + team.id.to_string(), size="2"),
    )


def _create() -> rx.Component:
    return rx.card(
        rx.heading(t("New team"), as_="h3", size="3", margin_bottom="4px"),
        rx.form(
            rx.flex(
                rx.input(name="name", placeholder=t("e.g. Roads"), aria_label=t("Team name in English"), min_height=TAP),
                rx.input(name="name_ar", placeholder="الطرق", aria_label=t("Team name in Arabic"), dir="rtl", min_height=TAP),
                rx.button(t("Create team"), type="submit", min_height=TAP),
                direction="column", gap="2",
            ),
            on_submit=TeamsState.create,
            reset_on_submit=True,
        ),
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Teams"),
        rx.flex(
            rx.cond(TeamsState.notice != "", rx.callout(TeamsState.notice, icon="check", color_scheme="green", role="status")),
            _workload(),
            rx.el.section(
                rx.heading(t("Teams"), as_="h2", size="4", margin_bottom="4px"),
                rx.flex(rx.foreach(TeamsState.teams, _team), direction="column", gap="2"),
                rx.cond(TeamsState.can_manage, _create(),
                        rx.text(t("Only managers and admins change teams."), size="2", color=rx.color("gray", 11))),
                aria_label=t("Teams"),
            ),
            direction="column", gap="4", max_width="640px", width="100%",
        ),
    )
