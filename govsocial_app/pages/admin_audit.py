"""Admin: read, filter and export the audit log."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.components.table import scroll_table, table_body, table_header
from govsocial_app.state.admin_audit import AuditState

ROUTE = "/admin/audit"
TITLE = "Audit log · GovSocial"
ON_LOAD = AuditState.load


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.el.label(rx.text(t("Action"), size="1"), rx.select.root(
                rx.select.trigger(aria_label=t("Action"), min_height="44px"),
                rx.select.content(rx.select.item(t("All actions"), value="all"), rx.foreach(AuditState.action_choices, lambda a: rx.select.item(a, value=a))),
                name="action", default_value="all",
            ), display="flex", flex_direction="column"),
            rx.el.label(rx.text(t("Who"), size="1"), rx.input(name="actor", placeholder=t("name or email"), min_height="44px"), display="flex", flex_direction="column"),
            rx.el.label(rx.text(t("From"), size="1"), rx.input(name="since", type="date", min_height="44px"), display="flex", flex_direction="column"),
            rx.el.label(rx.text(t("To"), size="1"), rx.input(name="until", type="date", min_height="44px"), display="flex", flex_direction="column"),
            rx.button(t("Filter"), type="submit", min_height="44px"),
            gap="2", wrap="wrap", align="end",
        ),
        on_submit=AuditState.apply,
    )


def _row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(r["at"], size="1", dir="ltr")),
        rx.table.cell(rx.text(r["actor"], size="2")),
        rx.table.cell(rx.code(r["action"])),
        rx.table.cell(rx.text(r["object"], size="2")),
        rx.table.cell(rx.text(r["detail"], size="1", color=rx.color("gray", 11))),
        rx.table.cell(rx.text(r["client"], size="1", color=rx.color("gray", 11))),
    )


def _head(h) -> rx.Component:
    return rx.box(
        rx.text(rx.cond(h["chain"] == "audit", t("Audit log"), t("Message archive")), " #", h["seq"], " · ", h["at"], size="2", weight="bold"),
        rx.code(h["hash"], size="1", style={"word_break": "break-all"}, dir="ltr"),
    )


def _chain_heads() -> rx.Component:
    return rx.card(
        rx.heading(t("Today's chain head"), size="3", as_="h2"),
        rx.text(t("Write these down or send them outside the agency: `python -m govsocial_app.cli verify-audit --anchor chain:number:hash` proves later that nothing before them changed."), size="1", color=rx.color("gray", 11)),
        rx.foreach(AuditState.chain_heads, _head),
        margin_bottom="12px",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Audit log", rx.button(rx.icon("download", size=16, aria_hidden="true"), t("Export CSV"), on_click=AuditState.export_csv, variant="soft", min_height="44px")),
        _chain_heads(),
        _filters(),
        rx.box(
            scroll_table(
                t("Audit log"),
                table_header(rx.table.row(*[rx.table.column_header_cell(t(h)) for h in ("When (UTC)", "Who", "Action", "Object", "Detail", "Client")])),
                table_body(rx.foreach(AuditState.rows, _row)),
                size="1",
            ),
            margin_top="12px",
        ),
        rx.cond(AuditState.has_more, rx.button(t("Load more"), on_click=AuditState.more, variant="soft", margin_top="12px", min_height="44px")),
        allowed=AppState.can_view_audit,
    )
