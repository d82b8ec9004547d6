"""Comment policy: numbered clauses in English and Arabic with version history, and the moderation settings."""

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.policy import PolicyState

ROUTE = "/more/policy"
TITLE = "Comment policy · GovSocial"
ON_LOAD = PolicyState.load
TAP = "44px"


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(t(label), size="1"), control, display="flex", flex_direction="column", gap="1", width="100%")


def _clause(c) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.text(c["number"], weight="bold", dir="ltr"),
            rx.text(c["title"], weight="bold", dir="auto", flex="1", min_width="0"),
            rx.cond(
                PolicyState.may_edit,
                rx.button(rx.icon("trash-2", size=16, aria_hidden="true"), variant="ghost", color_scheme="red",
                          on_click=PolicyState.remove_clause(c["number"]), min_height=TAP, min_width=TAP,
                          aria_label=t("Remove clause") + " " + c["number"]),
            ),
            gap="2", align="center",
        ),
        rx.cond(c["text"] != "", rx.text(c["text"], size="2", dir="auto", white_space="pre-wrap")),
        padding_y="8px", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _editor() -> rx.Component:
    return rx.card(
        rx.heading(t("Add or change a clause"), as_="h2", size="4", margin_bottom="8px"),
        rx.text(t("A clause with a number already in the policy replaces it. Every change publishes a new version."), size="2"),
        rx.form(
            rx.flex(
                _field("Clause number", rx.input(name="number", placeholder="3.2", aria_label=t("Clause number"), min_height=TAP, dir="ltr")),
                _field("Title (English)", rx.input(name="title_en", aria_label=t("Title (English)"), min_height=TAP, dir="ltr")),
                _field("Title (Arabic)", rx.input(name="title_ar", aria_label=t("Title (Arabic)"), min_height=TAP, dir="rtl")),
                _field("Text (English)", rx.text_area(name="text_en", aria_label=t("Text (English)"), dir="ltr")),
                _field("Text (Arabic)", rx.text_area(name="text_ar", aria_label=t("Text (Arabic)"), dir="rtl")),
                _field("What changed", rx.input(name="change_note", aria_label=t("What changed"), min_height=TAP)),
                rx.button(t("Publish clause"), type="submit", min_height=TAP),
                direction="column", gap="2",
            ),
            on_submit=PolicyState.save_clause, reset_on_submit=True,
        ),
        width="100%",
    )


def _version(v) -> rx.Component:
    return rx.flex(
        rx.text(t("Version"), " ", v["version"], weight="bold"),
        rx.text(v["at"], " · ", v["by"], size="2"),
        rx.text(v["note"], size="2", dir="auto", flex="1", min_width="0"),
        gap="2", wrap="wrap", padding_y="6px", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _settings() -> rx.Component:
    return rx.card(
        rx.heading(t("Moderation settings"), as_="h2", size="4", margin_bottom="8px"),
        rx.el.label(
            rx.switch(checked=PolicyState.second_person, on_change=PolicyState.set_second_person,
                      aria_label=t("Delete and block need a second person's confirmation")),
            rx.text(t("Delete and block need a second person's confirmation"), size="2"),
            display="flex", gap="2", align_items="center", min_height=TAP,
        ),
        width="100%",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Comment policy"),
        rx.flex(
            rx.cond(PolicyState.notice != "", rx.callout(PolicyState.notice, icon="info", role="status")),
            rx.card(
                rx.flex(
                    rx.heading(t("Current policy"), as_="h2", size="4"),
                    rx.cond(PolicyState.version > 0, rx.badge(t("Version"), " ", PolicyState.version)),
                    gap="2", align="center", wrap="wrap",
                ),
                rx.cond(PolicyState.intro != "", rx.text(PolicyState.intro, size="2", dir="auto", white_space="pre-wrap")),
                rx.cond(PolicyState.version == 0, rx.text(t("No comment policy has been published yet."), size="2")),
                rx.foreach(PolicyState.clauses, _clause),
                rx.link(t("Public text of the policy"), href=PolicyState.public_url, is_external=True, display="inline-block",
                        padding_y="12px", min_height=TAP),
                width="100%",
            ),
            rx.cond(PolicyState.may_edit, _editor()),
            rx.cond(PolicyState.may_configure, _settings()),
            rx.card(
                rx.heading(t("Version history"), as_="h2", size="4", margin_bottom="8px"),
                rx.foreach(PolicyState.versions, _version),
                width="100%",
            ),
            direction="column", gap="3", max_width="720px",
        ),
    )
