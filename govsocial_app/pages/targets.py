"""More → Response targets: per priority, how soon a message gets its first response and is completed."""

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.services.inbox.targets import PRIORITIES, PRIORITY_LABELS
from govsocial_app.state.targets import TargetsState

ROUTE = "/more/targets"
TITLE = "Response targets · GovSocial"
ON_LOAD = TargetsState.load
TAP = "44px"


def _row(i: int, priority: str) -> rx.Component:
    label = t(PRIORITY_LABELS[priority])
    row = TargetsState.rows[i]
    return rx.el.tr(
        rx.el.th(label, scope="row", style={"text_align": "start", "padding": "8px 4px"}),
        rx.el.td(rx.input(name=f"first_{priority}", type="number", min="1", step="1", default_value=row.first, input_mode="numeric",
                          aria_label=label + " – " + t("First response (minutes)"), disabled=~TargetsState.can_manage,
                          min_height=TAP, width="100%"), style={"padding": "4px"}),
        rx.el.td(rx.input(name=f"done_{priority}", type="number", min="0.25", step="0.25", default_value=row.done, input_mode="decimal",
                          aria_label=label + " – " + t("Completion (hours)"), disabled=~TargetsState.can_manage,
                          min_height=TAP, width="100%"), style={"padding": "4px"}),
    )


def _form() -> rx.Component:
    return rx.form(
        rx.el.table(
            rx.el.thead(rx.el.tr(
                rx.el.th(t("Priority"), scope="col", style={"text_align": "start", "padding": "4px"}),
                rx.el.th(t("First response (minutes)"), scope="col", style={"text_align": "start", "padding": "4px"}),
                rx.el.th(t("Completion (hours)"), scope="col", style={"text_align": "start", "padding": "4px"}),
            )),
            rx.el.tbody(*[_row(i, p) for i, p in enumerate(PRIORITIES)]),
            width="100%", style={"border_collapse": "collapse", "table_layout": "fixed"},
        ),
        rx.cond(TargetsState.can_manage, rx.button(t("Save targets"), type="submit", min_height=TAP, margin_top="12px")),
        on_submit=TargetsState.save,
        reset_on_submit=False,
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Response targets"),
        rx.text(t("Each message gets a first-response and a completion target from its priority. A missed target alerts the team's lead once, by push and email; without a lead, the admins and managers. An automatic reply from an inbox rule does not count as the first response: a person still has to answer."),
                size="2", color=rx.color("gray", 11), margin_bottom="12px"),
        rx.card(rx.cond(TargetsState.rows.length() > 0, _form(), rx.spinner(aria_label=t("Loading")))),
        rx.cond(TargetsState.error != "", rx.callout(TargetsState.error, icon="circle-x", color_scheme="red", role="alert", margin_top="8px")),
        rx.cond(TargetsState.notice != "", rx.callout(TargetsState.notice, icon="check", color_scheme="green", role="status", margin_top="8px")),
        rx.cond(~TargetsState.can_manage,
                rx.text(t("Only managers and admins change the targets."), size="2", color=rx.color("gray", 11), margin_top="12px")),
    )
