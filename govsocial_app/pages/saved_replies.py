"""More → Saved replies: the shared library of English and Arabic replies, with usage counts and tags; managers and
admins add, edit and delete, everyone on staff reads and searches."""

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.app_state import AppState
from govsocial_app.state.saved_replies import ReplyRow, SavedRepliesState

ROUTE = "/more/saved-replies"
TITLE = "Saved replies · GovSocial"
ON_LOAD = SavedRepliesState.load
TAP = "44px"
S = SavedRepliesState


def _row(r: ReplyRow) -> rx.Component:
    return rx.el.li(
        rx.card(
            rx.flex(
                rx.box(
                    rx.flex(
                        rx.text(r.name, weight="bold", dir="auto"),
                        rx.badge(t("Used"), " ", r.uses, size="1", variant="soft"),
                        rx.foreach(r.tags, lambda tag: rx.badge(tag, size="1", color_scheme="gray", dir="auto")),
                        gap="2", align="center", wrap="wrap",
                    ),
                    rx.cond(r.text_en != "", rx.text(r.text_en, size="2", dir="ltr", lang="en", class_name="gs-text")),
                    rx.cond(r.text_ar != "", rx.text(r.text_ar, size="2", dir="rtl", lang="ar", class_name="gs-text")),
                    flex="1", min_width="0",
                ),
                rx.cond(
                    S.can_curate,
                    rx.flex(
                        rx.button(t("Edit"), variant="soft", on_click=S.edit(r.id), min_height=TAP, aria_label=t("Edit") + " " + r.name),
                        rx.button(t("Delete"), color_scheme="red", variant="soft", on_click=S.delete(r.id), min_height=TAP, aria_label=t("Delete") + " " + r.name),
                        gap="2",
                    ),
                ),
                gap="3", wrap="wrap", align="start",
            ),
        ),
        list_style="none",
    )


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(t(label), size="2", weight="medium"), control, display="flex", flex_direction="column", gap="4px", flex="1", min_width="260px")


def _form() -> rx.Component:
    return rx.card(
        rx.heading(rx.cond(S.edit_id > 0, t("Edit saved reply"), t("New saved reply")), as_="h2", size="4", margin_bottom="8px"),
        rx.text(t("Variables: {author_name}, {agency}, {profile_handle}, {link}. They are filled when the reply is inserted."),
                size="1", color=rx.color("gray", 11)),
        rx.form(
            rx.flex(
                _field("Name", rx.input(name="name", default_value=S.f_name, min_height=TAP, dir="auto", max_length=120)),
                rx.flex(
                    _field("English text", rx.text_area(name="text_en", default_value=S.f_en, rows="5", dir="ltr", lang="en", font_size="16px")),
                    _field("Arabic text", rx.text_area(name="text_ar", default_value=S.f_ar, rows="5", dir="rtl", lang="ar", font_size="16px")),
                    gap="3", wrap="wrap",
                ),
                _field("Link", rx.input(name="link", default_value=S.f_link, type="url", dir="ltr", min_height=TAP, placeholder="https://")),
                _field("Tags (separated by commas)", rx.input(name="tags", default_value=S.f_tags, dir="auto", min_height=TAP)),
                rx.cond(S.form_error != "", rx.callout(S.form_error, icon="circle-x", color_scheme="red", role="alert")),
                rx.flex(
                    rx.button(t("Save"), type="submit", min_height=TAP),
                    rx.button(t("Cancel"), type="button", variant="soft", on_click=S.cancel, min_height=TAP),
                    gap="2",
                ),
                direction="column", gap="3", margin_top="8px",
            ),
            on_submit=S.save,
            key=S.form_key,
        ),
        margin_bottom="12px",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Saved replies"),
        rx.text(t("Type / in the inbox's reply box to insert one. The inbox picks the message's language."), size="2", color=rx.color("gray", 11)),
        rx.form(
            rx.flex(
                rx.input(name="q", default_value=S.q, placeholder=t("Search by name, text or tag"), aria_label=t("Search saved replies"), min_height=TAP, flex="1", dir="auto"),
                rx.button(rx.icon("search", size=14, aria_hidden="true"), t("Search"), type="submit", min_height=TAP),
                gap="2",
            ),
            on_submit=S.search,
            margin_y="12px",
        ),
        rx.cond(
            S.can_curate,
            rx.cond(S.form_open, _form(), rx.button(rx.icon("plus", size=14, aria_hidden="true"), t("New saved reply"), on_click=S.new, min_height=TAP, margin_bottom="12px")),
            rx.text(t("Only managers and admins change saved replies."), size="2", color=rx.color("gray", 11), margin_bottom="12px"),
        ),
        rx.text(S.range_text, size="2", color=rx.color("gray", 11), role="status", margin_bottom="8px"),
        rx.cond(
            S.rows.length() > 0,
            rx.el.ul(rx.foreach(S.rows, _row), aria_label=t("Saved replies"), display="flex", flex_direction="column", gap="8px", padding="0", margin="0"),
            rx.text(rx.cond(S.q != "", t("No saved reply matches this search."), t("No saved replies yet.")), size="2"),
        ),
        rx.cond(
            S.has_prev | S.has_next,
            rx.el.nav(
                rx.flex(
                    rx.button(t("Previous page"), variant="soft", on_click=S.prev_page, disabled=~S.has_prev, min_height=TAP),
                    rx.button(t("Next page"), variant="soft", on_click=S.next_page, disabled=~S.has_next, min_height=TAP),
                    gap="2", justify="between", margin_top="12px",
                ),
                aria_label=t("Saved reply pages"),
            ),
        ),
        allowed=AppState.can_act,
    )
