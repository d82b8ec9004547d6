"""Settings → Brand keywords: saved searches that run continuously on every network with search."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.keywords import KeywordRow, KeywordsState

ROUTE = "/more/keywords"
TITLE = "Brand keywords · GovSocial"
ON_LOAD = KeywordsState.load
TAP = "44px"


def _row(k: KeywordRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.box(
                rx.flex(
                    rx.text(k.name, weight="bold"),
                    rx.match(k.priority, ("crisis", rx.badge(t("Crisis"), color_scheme="red")), ("priority", rx.badge(t("Priority"), color_scheme="orange")), rx.fragment()),
                    rx.cond(~k.active, rx.badge(t("Paused"), color_scheme="gray")),
                    gap="2", align="center", wrap="wrap",
                ),
                rx.code(k.query, dir="auto"),
                rx.text(k.networks, " · ", t("every"), " ", k.interval, " s · ", k.matches, " ", t("matches"), " · ", t("last run"), " ", k.last_run, size="1", color=rx.color("gray", 11)),
                rx.cond(k.last_error != "", rx.text(k.last_error, size="1", color=rx.color("red", 11))),
                rx.link(t("Show matches in the inbox"), href="/inbox?q=&kind=keyword", size="1"),
                flex="1", min_width="0",
            ),
            rx.cond(
                AppState.can_edit_keywords,
                rx.flex(
                    rx.button(rx.cond(k.active, t("Pause"), t("Resume")), variant="soft", on_click=KeywordsState.set_active(k.id, ~k.active), min_height=TAP),
                    rx.button(t("Delete"), variant="soft", color_scheme="red", on_click=KeywordsState.delete(k.id), min_height=TAP),
                    gap="2",
                ),
            ),
            gap="3", wrap="wrap", align="center",
        ),
    )


def _form() -> rx.Component:
    return rx.card(
        rx.heading(t("New keyword"), as_="h2", size="4", margin_bottom="8px"),
        rx.form(
            rx.flex(
                rx.el.label(rx.text(t("Name (matches are tagged with it)"), size="2"), rx.input(name="name", required=True, min_height=TAP), display="flex", flex_direction="column", gap="4px"),
                rx.el.label(rx.text(t("Search"), size="2"), rx.input(name="query", required=True, min_height=TAP, dir="auto", placeholder='flood OR فيضان -recipe lang:en'), display="flex", flex_direction="column", gap="4px"),
                rx.el.details(rx.el.summary(t("Search syntax"), min_height=TAP, display="flex", align_items="center"), rx.text(KeywordsState.syntax, size="1", white_space="pre-wrap")),
                rx.el.fieldset(
                    rx.el.legend(rx.text(t("Networks"), size="2")),
                    rx.flex(
                        rx.foreach(
                            KeywordsState.network_options,
                            lambda n: rx.el.label(rx.checkbox(checked=KeywordsState.chosen.contains(n), on_change=lambda _v: KeywordsState.toggle_network(n), aria_label=n), rx.text(n), display="flex", gap="6px", align_items="center", min_height=TAP),
                        ),
                        gap="3", wrap="wrap",
                    ),
                    border="none", padding="0",
                ),
                rx.flex(
                    rx.el.label(rx.text(t("Priority"), size="2"), rx.select(["normal", "priority", "crisis"], name="priority", default_value="normal"), display="flex", flex_direction="column", gap="4px"),
                    rx.el.label(rx.text(t("Run every (seconds)"), size="2"), rx.input(name="interval", type="number", min="30", default_value="120", min_height=TAP), display="flex", flex_direction="column", gap="4px"),
                    gap="3", wrap="wrap",
                ),
                rx.text(t("Priority and crisis keywords raise an alert as soon as a message matches."), size="1", color=rx.color("gray", 11)),
                rx.button(t("Save keyword"), type="submit", min_height=TAP),
                direction="column", gap="3",
            ),
            on_submit=KeywordsState.create,
            reset_on_submit=True,
        ),
        margin_top="16px",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Brand keywords"),
        rx.flex(rx.foreach(KeywordsState.rows, _row), direction="column", gap="2"),
        rx.cond(AppState.can_edit_keywords, _form()),
    )
