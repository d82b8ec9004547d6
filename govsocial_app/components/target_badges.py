"""The inbox's response-target pieces: a card's priority and clock badges, the "Set priority" menu, and the
hidden minute clock that re-words the clocks (state/targets.py) without any server push."""

import reflex as rx

from govsocial_app.components.clock import timer
from govsocial_app.components.i18n import t
from govsocial_app.services.inbox.targets import PRIORITIES, PRIORITY_LABELS
from govsocial_app.state.inbox import InboxState

_HIDDEN = {"position": "absolute", "width": "1px", "height": "1px", "overflow": "hidden", "clip": "rect(0 0 0 0)", "white_space": "nowrap"}


def priority_badge(c) -> rx.Component:
    """Only when not normal: a short label ("Urgent"), read out as "Priority: Urgent"."""
    return rx.cond(
        c.priority_label != "",
        rx.badge(rx.icon("flag", size=10, aria_hidden="true"), rx.el.span(t("Priority") + ": ", style=_HIDDEN), c.priority_label,
                 color_scheme=rx.match(c.priority, ("urgent", "red"), ("high", "orange"), "gray"), variant="solid", size="1"),
    )


def clock_badge(c) -> rx.Component:
    """"12 min left" / "Overdue 5 min": the words carry the meaning, the colour repeats it (red overdue, amber
    under a quarter of the target left)."""
    return rx.cond(
        c.sla_text != "",
        rx.badge(
            # Two static icons, never rx.icon(<a var>): a var name pulls lucide's DynamicIcon, every icon (55 KB gzipped),
            # into the page's scripts (tests/browser/test_page_weight.py).
            rx.cond(c.sla_tone == "danger", rx.icon("alarm-clock-off", size=10, aria_hidden="true"), rx.icon("timer", size=10, aria_hidden="true")),
            c.sla_text,
            color_scheme=rx.match(c.sla_tone, ("danger", "red"), ("warning", "amber"), "gray"),
            variant=rx.cond(c.sla_tone == "danger", "solid", "soft"), size="1", class_name="gs-target-clock",
        ),
    )


def priority_menu() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=t("Set priority"), aria_label=t("Set priority"), min_height="44px"),
        rx.select.content(*[rx.select.item(t(PRIORITY_LABELS[p]), value=p) for p in PRIORITIES]),
        value="",
        on_change=InboxState.set_priority,
    )


def minute_clock() -> rx.Component:
    """Fires InboxState.tick_targets once a minute while the inbox is open; renders nothing. A timer of our own, not
    rx.moment, which put moment.js in the inbox's first scripts (tests/browser/test_page_weight.py)."""
    return timer(interval=60_000, on_tick=InboxState.tick_targets)
