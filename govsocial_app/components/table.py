"""A data table whose sideways scroll a keyboard can reach, for tables wider than a phone."""

from __future__ import annotations

import reflex as rx


def scroll_table(label, *children: rx.Component, size: str = "2", variant: str = "ghost") -> rx.Component:
    """Radix Themes' table look without its ScrollArea: that viewport cannot take focus, so a keyboard user could not
    scroll a wide table (axe: scrollable-region-focusable, serious). Here the scroll box is a named, focusable region.

    `label` names the region for screen readers (usually the table's heading); children are rx.table.header/body."""
    return rx.el.div(
        rx.el.div(
            rx.el.table(*children, class_name="rt-reset rt-TableRootTable"),
            tab_index=0,
            role="region",
            aria_label=label,
            class_name="gs-scroll",
        ),
        class_name=f"rt-TableRoot rt-r-size-{size} rt-variant-{variant}",
        width="100%",
    )


def table_header(*rows: rx.Component) -> rx.Component:
    """Radix's table header look (rx.table.header may only sit in rx.table.root, whose scroll area is the problem)."""
    return rx.el.thead(*rows, class_name="rt-TableHeader")


def table_body(*rows: rx.Component) -> rx.Component:
    return rx.el.tbody(*rows, class_name="rt-TableBody")
