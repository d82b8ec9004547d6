"""The reply box's "/" list of saved replies (state/reply_picker.py): a listbox of options, each named by the reply and
the start of its text, tap-selectable; from the reply box, Up/Down highlight an option (the box's
aria-activedescendant names it to screen readers), Enter inserts it and Escape closes the list (assets/reply_picker.js
turns those keys into clicks on the hidden buttons here). At most eight, searched on the server."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.state.inbox import InboxState
from govsocial_app.state.reply_picker import PickOption, ReplyPickerState

TAP = "44px"
LIST_ID = "gs-pick-list"
BOX_ID = "gs-reply-box"  # the reply box's id (pages/inbox.py), which assets/reply_picker.js listens on


def is_open() -> rx.Var:
    return (ReplyPickerState.for_id > 0) & (ReplyPickerState.for_id == InboxState.open_id)


def active_descendant() -> rx.Var:
    """The highlighted option's id for the reply box's aria-activedescendant ("" when none)."""
    return rx.cond(is_open() & (ReplyPickerState.active >= 0), "gs-pick-" + ReplyPickerState.active.to_string(), "")


def controls() -> rx.Var:
    return rx.cond(is_open() & (ReplyPickerState.options.length() > 0), LIST_ID, "")


def _option(o: PickOption, i: rx.Var) -> rx.Component:
    on = ReplyPickerState.active == i
    # Named by what it shows, the reply's name then the start of its text (no aria-label: the visible words are the
    # name, as WCAG's "label in name" asks); the listbox's own name says these are saved replies.
    return rx.el.li(
        rx.text(o.name, weight="bold", size="2", dir="auto"),
        rx.text(o.preview, size="1", color=rx.color("gray", 11), dir="auto", class_name="gs-text"),
        id="gs-pick-" + i.to_string(),
        role="option",
        aria_selected=rx.cond(on, "true", "false"),
        on_click=ReplyPickerState.pick(o.id),
        lang=o.lang,
        list_style="none", width="100%", min_height=TAP, text_align="start", padding="6px 10px", border_radius="6px",
        cursor="pointer", display="flex", flex_direction="column", gap="2px",
        background=rx.cond(on, rx.color("accent", 4), "transparent"),
        outline=rx.cond(on, f"2px solid {rx.color('accent', 8)}", "none"),
    )


def reply_picker() -> rx.Component:
    return rx.cond(
        is_open(),
        rx.box(
            rx.cond(
                ReplyPickerState.options.length() > 0,
                rx.el.ul(rx.foreach(ReplyPickerState.options, _option), id=LIST_ID, role="listbox", aria_label=t("Saved replies"),
                         margin="0", padding="0"),
                rx.text(t("No saved reply matches. Keep typing to write your own."), size="2", role="status", padding="8px 2px"),
            ),
            rx.flex(
                rx.text(t("Up and Down choose, Enter inserts, Escape closes."), size="1", color=rx.color("gray", 11)),
                rx.spacer(),
                rx.link(t("Manage saved replies"), href="/more/saved-replies", size="1"),
                rx.icon_button(rx.icon("x", size=14, aria_hidden="true"), on_click=ReplyPickerState.close, variant="ghost",
                               aria_label=t("Close saved replies"), min_width=TAP, min_height=TAP),
                align="center", gap="2", wrap="wrap",
            ),
            # assets/reply_picker.js clicks these for the reply box's Up, Down, Enter and Escape while the list is open;
            # not shown, not in the a11y tree.
            rx.el.button(id="gs-pick-down", aria_label="Next saved reply", on_click=ReplyPickerState.move(1), display="none", type="button"),
            rx.el.button(id="gs-pick-up", aria_label="Previous saved reply", on_click=ReplyPickerState.move(-1), display="none", type="button"),
            rx.el.button(id="gs-pick-enter", aria_label="Insert the highlighted saved reply", on_click=ReplyPickerState.choose, display="none", type="button"),
            rx.el.button(id="gs-pick-escape", aria_label="Close saved replies", on_click=ReplyPickerState.close, display="none", type="button"),
            id="gs-picker",
            border=f"1px solid {rx.color('gray', 6)}", border_radius="8px", padding="4px 8px", margin_top="6px",
            background=rx.color("gray", 1), max_height="50vh", overflow_y="auto",
        ),
    )
