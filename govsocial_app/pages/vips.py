"""Settings → VIP lists: reporters, elected officials and partner agencies, labelled wherever they appear."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.vips import VipListRow, VipState

ROUTE = "/more/vips"
TITLE = "VIP lists · GovSocial"
ON_LOAD = VipState.load
TAP = "44px"


def _row(v: VipListRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.box(
                rx.text(v.name, weight="bold"),
                rx.text(v.members, " ", t("members"), size="1", color=rx.color("gray", 11)),
                rx.link(t("Messages from this list"), href="/inbox?vip=" + v.id.to_string(), size="1"),
                flex="1",
            ),
            rx.cond(
                AppState.can_edit_vips,
                rx.flex(
                    rx.form(
                        rx.flex(
                            rx.input(name="name", placeholder=t("New name"), aria_label=t("New name for") + " " + v.name, min_height=TAP, width="140px"),
                            rx.input(name="list_id", type="hidden", value=v.id.to_string()),
                            rx.button(t("Rename"), type="submit", variant="soft", min_height=TAP),
                            gap="1",
                        ),
                        on_submit=VipState.rename,
                        reset_on_submit=True,
                    ),
                    rx.button(t("Delete"), color_scheme="red", variant="soft", on_click=VipState.delete(v.id), min_height=TAP, aria_label=t("Delete") + " " + v.name),
                    gap="2", wrap="wrap",
                ),
            ),
            gap="3", wrap="wrap", align="center",
        ),
    )


def _import() -> rx.Component:
    return rx.card(
        rx.heading(t("Import from CSV"), as_="h2", size="4", margin_bottom="4px"),
        rx.text(t("One row per person: network, handle, and optionally a name. A bad row stops the whole import, so nothing is half-imported."), size="1", color=rx.color("gray", 11)),
        rx.form(
            rx.flex(
                rx.el.label(
                    rx.text(t("List"), size="2"),
                    rx.select.root(
                        rx.select.trigger(placeholder=t("Choose a list"), aria_label=t("List"), min_height=TAP),
                        rx.select.content(rx.foreach(VipState.lists, lambda v: rx.select.item(v.name, value=v.id.to_string()))),
                        name="list_id",
                    ),
                    display="flex", flex_direction="column", gap="4px",
                ),
                rx.el.label(
                    rx.text(t("CSV rows"), size="2"),
                    rx.text_area(name="csv", rows="6", placeholder="network,handle,name\nmastodon,@dana@news.example,Dana Whitfield", dir="ltr", font_family="monospace"),
                    display="flex", flex_direction="column", gap="4px",
                ),
                rx.button(t("Import"), type="submit", min_height=TAP),
                direction="column", gap="3", margin_top="8px",
            ),
            on_submit=VipState.import_csv,
            reset_on_submit=False,
        ),
        rx.cond(
            VipState.import_errors.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-x", aria_hidden="true")),
                rx.callout.text(t("Nothing was imported. Fix these rows and try again:")),
                rx.el.ul(rx.foreach(VipState.import_errors, lambda e: rx.el.li(rx.text(e, size="2")))),
                color_scheme="red", role="alert", margin_top="8px",
            ),
        ),
        rx.cond(VipState.import_result != "", rx.callout(VipState.import_result, icon="check", color_scheme="green", role="status", margin_top="8px")),
        margin_top="16px",
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("VIP lists"),
        rx.flex(rx.foreach(VipState.lists, _row), direction="column", gap="2"),
        rx.cond(
            AppState.can_edit_vips,
            rx.box(
                rx.card(
                    rx.form(
                        rx.flex(
                            rx.input(name="name", placeholder=t("e.g. Reporters"), aria_label=t("New list name"), min_height=TAP, flex="1"),
                            rx.button(t("Create list"), type="submit", min_height=TAP),
                            gap="2",
                        ),
                        on_submit=VipState.create,
                        reset_on_submit=True,
                    ),
                    margin_top="16px",
                ),
                _import(),
            ),
            rx.text(t("Only managers and admins edit VIP lists."), size="2", color=rx.color("gray", 11), margin_top="12px"),
        ),
    )
