"""The reply box's "/" list of saved replies (state/reply_picker.py): a labelled list of buttons, each named by the
reply and the start of its text, tap- and keyboard-selectable; at most eight, searched on the server."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.state.inbox import InboxState
from govsocial_app.state.reply_picker import PickOption, ReplyPickerState

TAP = "44px"


def _option(o: PickOption) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            rx.text(o.name, weight="bold", size="2", dir="auto"),
            rx.text(o.preview, size="1", color=rx.color("gray", 11), dir="auto", class_name="gs-text"),
            on_click=ReplyPickerState.pick(o.id),
            aria_label=o.label,
            type="button",
            lang=o.lang,
            width="100%", min_height=TAP, text_align="start", padding="6px 10px", border_radius="6px",
            background="transparent", cursor="pointer", display="flex", flex_direction="column", gap="2px",
            _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
            _hover={"background": rx.color("gray", 3)},
        ),
        list_style="none",
    )


def reply_picker() -> rx.Component:
    return rx.cond(
        (ReplyPickerState.for_id > 0) & (ReplyPickerState.for_id == InboxState.open_id),
        rx.box(
            # The options first, so Tab from the reply box lands on the first one; then the way out.
            rx.cond(
                ReplyPickerState.options.length() > 0,
                rx.el.ul(rx.foreach(ReplyPickerState.options, _option), aria_label=t("Saved replies"), margin="0", padding="0"),
                rx.text(t("No saved reply matches. Keep typing to write your own."), size="2", role="status", padding="8px 2px"),
            ),
            rx.flex(
                rx.link(t("Manage saved replies"), href="/more/saved-replies", size="1"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=14, aria_hidden="true"), on_click=ReplyPickerState.close, variant="ghost",
                               aria_label=t("Close saved replies"), min_width=TAP, min_height=TAP),
                align="center", gap="2",
            ),
            border=f"1px solid {rx.color('gray', 6)}", border_radius="8px", padding="4px 8px", margin_top="6px",
            background=rx.color("gray", 1), max_height="50vh", overflow_y="auto",
        ),
    )
