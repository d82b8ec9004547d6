"""Admin: the team's accounts and their roles."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import role_label, t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.components.table import scroll_table, table_body, table_header
from govsocial_app.state.admin_users import UsersState
from govsocial_app.state.admin_identity import AdminIdentityState
from govsocial_app.pages.admin_identity import sign_in_cell, sign_in_policy

ROUTE = "/admin/users"
TITLE = "Users · GovSocial"
ON_LOAD = [UsersState.load, AdminIdentityState.load]


def _user_row(u) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(u["name"], weight="medium"), rx.text(u["email"], size="1", color=rx.color("gray", 11), dir="ltr")),
        rx.table.cell(
            rx.select.root(
                rx.select.trigger(aria_label=t("Role of") + " " + u["name"], min_height="44px"),
                rx.select.content(rx.foreach(UsersState.roles, lambda role: rx.select.item(role_label(role), value=role))),
                value=u["role"],
                on_change=lambda role: UsersState.change_role(u["id"], role),
            ),
        ),
        rx.table.cell(
            rx.cond(
                u["role"] == "admin",
                rx.el.label(
                    rx.checkbox(checked=u["records"] == "yes", on_change=lambda v: UsersState.set_records_grant(u["id"], v),
                                aria_label=t("Records officer") + " " + u["name"], size="3"),
                    rx.text(t("Records officer"), size="1"),
                    display="flex", gap="2", align_items="center", min_height="44px",
                ),
            )
        ),
        rx.table.cell(
            rx.button(
                rx.cond(u["active"] == "yes", t("Deactivate"), t("Activate")),
                variant="soft", size="1", min_height="44px",
                on_click=UsersState.toggle_active(u["id"], u["active"]),
            )
        ),
        rx.table.cell(sign_in_cell(u)),
    )


def _create_form() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.el.label(rx.text(t("Name"), size="1"), rx.input(name="name", required=True, min_height="44px"), display="flex", flex_direction="column"),
            rx.el.label(rx.text(t("Email"), size="1"), rx.input(name="email", type="email", required=True, min_height="44px"), display="flex", flex_direction="column"),
            rx.el.label(rx.text(t("Password"), size="1"), rx.input(name="password", type="password", required=True, min_height="44px", auto_complete="new-password"), display="flex", flex_direction="column"),
            rx.el.label(
                rx.text(t("Role"), size="1"),
                rx.select.root(
                    rx.select.trigger(aria_label=t("Role"), min_height="44px"),
                    rx.select.content(rx.foreach(UsersState.roles, lambda role: rx.select.item(role_label(role), value=role))),
                    name="role", default_value="responder",
                ),
                display="flex", flex_direction="column",
            ),
            rx.button(t("Add user"), type="submit", min_height="44px"),
            gap="2", wrap="wrap", align="end",
        ),
        on_submit=UsersState.create,
        reset_on_submit=True,
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Users"),
        rx.card(rx.heading(t("Add a user"), as_="h2", size="3", margin_bottom="8px"), _create_form()),
        rx.cond(UsersState.error != "", rx.callout(UsersState.error, color_scheme="red", icon="triangle-alert", role="alert", margin_top="8px")),
        rx.cond(UsersState.notice != "", rx.callout(UsersState.notice, color_scheme="green", icon="check", role="status", margin_top="8px")),
        rx.cond(AdminIdentityState.error != "", rx.callout(AdminIdentityState.error, color_scheme="red", icon="triangle-alert", role="alert", margin_top="8px")),
        rx.cond(AdminIdentityState.notice != "", rx.callout(AdminIdentityState.notice, color_scheme="green", icon="check", role="status", margin_top="8px")),
        rx.box(
            scroll_table(
                t("Users"),
                table_header(rx.table.row(rx.table.column_header_cell(t("User")), rx.table.column_header_cell(t("Role")), rx.table.column_header_cell(t("Records")), rx.table.column_header_cell(t("Status")), rx.table.column_header_cell(t("Sign-in")))),
                table_body(rx.foreach(UsersState.users, _user_row)),
            ),
            margin_top="12px",
        ),
        sign_in_policy(),
        allowed=AppState.can_manage_users,
    )
