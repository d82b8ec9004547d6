"""The shared publishing calendar: month and week grids on wide screens, a list on phones, filters, campaigns, and moving a post."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.pages.publish import publish_tabs
from govsocial_app.services.publishing.campaigns import COLORS
from govsocial_app.state.calendar import CalendarState, DayView, ItemView
from govsocial_app.state.publish import STATUS_LABELS

ROUTE = "/publish/calendar"
TITLE = "Calendar · GovSocial"
ON_LOAD = CalendarState.load
TAP = "44px"
PHONE_ONLY = ["block", "block", "none"]
WIDE_ONLY = ["none", "none", "block"]


def _chip(i: ItemView) -> rx.Component:
    return rx.el.button(
        rx.text(i.time, " ", i.excerpt, size="1", trim="both", overflow="hidden", text_overflow="ellipsis", white_space="nowrap"),
        on_click=CalendarState.open_post(i.id),
        title=i.status_label,
        aria_label=i.time + " " + i.status_label + ": " + i.excerpt,
        display="block", width="100%", text_align="start", padding="2px 6px", margin_bottom="2px", border_radius="4px", cursor="pointer",
        border="none", border_inline_start=f"3px solid {rx.color('gray', 9)}",
        background=rx.match(i.color, *[(c, rx.color(c, 3)) for c in ("gray", "amber", "blue", "cyan", "indigo", "green", "red", "orange")], rx.color("gray", 3)),
    )


def _campaign_bars(d: DayView) -> rx.Component:
    return rx.flex(
        rx.foreach(d.campaigns, lambda c: rx.box(height="4px", flex="1", border_radius="2px", title=c.label,
                                                 background=rx.match(c.value, *[(x, rx.color(x, 9)) for x in COLORS], rx.color("gray", 9)))),
        gap="2px", margin_bottom="2px",
    )


def _cell(d: DayView) -> rx.Component:
    return rx.box(
        _campaign_bars(d),
        rx.text(d.number, size="1", weight=rx.cond(d.today, "bold", "regular"),
                color=rx.cond(d.today, rx.color("accent", 11), rx.cond(d.in_month, rx.color("gray", 12), rx.color("gray", 9)))),
        rx.foreach(d.posts, _chip),
        rx.cond(d.more > 0, rx.text("+", d.more, " ", t("more"), size="1", color=rx.color("gray", 11))),
        min_height="96px", padding="4px", border=f"1px solid {rx.color('gray', 4)}",
        background=rx.cond(d.in_month, rx.color("gray", 1), rx.color("gray", 2)), min_width="0",
    )


WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def month_view() -> rx.Component:
    return rx.box(
        rx.grid(*[rx.text(t(n), size="1", weight="medium", text_align="center") for n in WEEKDAY_NAMES], columns="7"),
        rx.foreach(CalendarState.weeks, lambda w: rx.grid(rx.foreach(w, _cell), columns="7")),
        id="gs-month", role="grid", aria_label=t("Month"),
    )


def week_view() -> rx.Component:
    return rx.grid(
        rx.foreach(
            CalendarState.week_days,
            lambda d: rx.box(rx.text(d.label, size="2", weight="bold"), _campaign_bars(d), rx.foreach(d.posts, _chip),
                             rx.cond(d.more > 0, rx.text("+", d.more, size="1")), min_height="200px", padding="6px",
                             border=f"1px solid {rx.color('gray', 4)}", min_width="0"),
        ),
        columns=rx.breakpoints(initial="1", md="7"),
        id="gs-week",
    )


def _list_row(i: ItemView) -> rx.Component:
    return rx.el.button(
        rx.flex(
            rx.box(rx.text(i.day, size="1", color=rx.color("gray", 11)), rx.text(i.time, weight="bold", size="3"), min_width="72px"),
            rx.box(
                rx.flex(rx.badge(i.status_label, color_scheme=rx.match(i.color, *[(c, c) for c in ("amber", "blue", "cyan", "indigo", "green", "red", "orange")], "gray")),
                        rx.cond(i.campaign != "", rx.badge(i.campaign, variant="outline")),
                        rx.cond(i.flagged, rx.badge(t("Bypassed: review"), color_scheme="red")), gap="1", wrap="wrap"),
                rx.text(i.excerpt, size="2"),
                rx.text(i.profiles, size="1", color=rx.color("gray", 11)),
                flex="1", min_width="0",
            ),
            gap="3", align="start",
        ),
        on_click=CalendarState.open_post(i.id),
        display="block", width="100%", text_align="start", padding="10px 4px", min_height=TAP, cursor="pointer",
        background="transparent", border="none", border_bottom=f"1px solid {rx.color('gray', 4)}", color="inherit",
    )


def list_view() -> rx.Component:
    # A real list: every row a list item (a role="list" holding buttons and a "Show more" was invalid, axe critical).
    return rx.box(
        rx.cond(
            CalendarState.items.length() > 0,
            rx.el.ul(rx.foreach(CalendarState.items, lambda i: rx.el.li(_list_row(i))), aria_label=t("Planned posts"),
                     list_style="none", padding="0", margin="0"),
            rx.text(t("Nothing planned from this month on."), size="2", color=rx.color("gray", 11), padding="12px 0"),
        ),
        rx.cond(CalendarState.list_more, rx.button(t("Show more"), variant="soft", on_click=CalendarState.more_list, min_height=TAP, margin_top="8px")),
        id="gs-list",
    )


def _filter(key: str, label: str, any_label: str, options, static: bool = False) -> rx.Component:
    items = [rx.select.item(t(any_label), value="all")]
    items += [rx.select.item(t(text), value=value) for value, text in options] if static else [rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))]
    return rx.select.root(
        rx.select.trigger(aria_label=t(label), min_height=TAP),
        rx.select.content(*items),
        value=getattr(CalendarState, f"f_{key}"),
        on_change=lambda v: CalendarState.set_filter(key, v),
    )


def toolbar() -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.icon_button(rx.icon("chevron-left"), variant="soft", on_click=CalendarState.step(-1), aria_label=t("Previous"), min_width=TAP, min_height=TAP),
            rx.button(t("Today"), variant="soft", on_click=CalendarState.today, min_height=TAP),
            rx.icon_button(rx.icon("chevron-right"), variant="soft", on_click=CalendarState.step(1), aria_label=t("Next"), min_width=TAP, min_height=TAP),
            rx.heading(CalendarState.title, as_="h2", size="4"),
            gap="2", align="center",
        ),
        rx.segmented_control.root(
            rx.segmented_control.item(t("Month"), value="month"),
            rx.segmented_control.item(t("Week"), value="week"),
            rx.segmented_control.item(t("List"), value="list"),
            value=CalendarState.view, on_change=CalendarState.set_view,
        ),
        rx.flex(
            _filter("profile", "Profile", "All profiles", CalendarState.profile_opts),
            _filter("campaign", "Campaign", "All campaigns", CalendarState.campaign_opts),
            _filter("status", "Status", "Any status", list(STATUS_LABELS.items()), static=True),
            rx.el.label(rx.switch(checked=CalendarState.overlay, on_change=CalendarState.toggle_overlay), t("Campaigns"),
                        display="flex", gap="6px", align_items="center", min_height=TAP),
            gap="2", wrap="wrap", align="center",
        ),
        gap="3", wrap="wrap", align="center", justify="between", margin_bottom="8px",
    )


def _post_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("Post")),
            rx.flex(rx.badge(CalendarState.open_item.status_label), rx.text(CalendarState.open_item.day, " ", CalendarState.open_item.time, size="2"),
                    gap="2", align="center"),
            rx.text(CalendarState.open_item.profiles, size="1", color=rx.color("gray", 11)),
            rx.text(CalendarState.open_text, white_space="pre-wrap", size="2", margin_y="8px"),
            rx.cond(
                AppState.can_compose & ~CalendarState.open_item.status.contains("publish"),
                rx.box(
                    rx.text(t("Change the time"), weight="medium", size="2"),
                    rx.flex(
                        rx.input(type="date", value=CalendarState.new_day, on_change=CalendarState.set_new_day, aria_label=t("Date"), min_height=TAP),
                        rx.input(type="time", value=CalendarState.new_time, on_change=CalendarState.set_new_time, aria_label=t("Time"), min_height=TAP),
                        rx.button(t("Move"), on_click=CalendarState.move, min_height=TAP),
                        gap="2", wrap="wrap",
                    ),
                    rx.cond(CalendarState.open_error != "", rx.callout(CalendarState.open_error, color_scheme="red", role="alert", margin_top="6px")),
                ),
            ),
            rx.flex(
                rx.link(rx.button(t("Open in composer"), variant="soft", min_height=TAP), href="/publish?post=" + CalendarState.open_id),
                rx.dialog.close(rx.button(t("Close"), variant="ghost", min_height=TAP)),
                gap="2", justify="end", margin_top="12px",
            ),
            max_width="520px",
        ),
        open=CalendarState.open_id != "",
        on_open_change=CalendarState.close_post,
    )


def _extras() -> rx.Component:
    return rx.flex(
        rx.el.details(
            rx.el.summary(t("New campaign"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
            rx.form(
                rx.flex(
                    rx.input(name="name", placeholder=t("Campaign name"), aria_label=t("Campaign name"), min_height=TAP, required=True),
                    rx.select(list(COLORS), name="color", default_value="blue", aria_label=t("Colour")),
                    rx.el.label(t("Starts"), rx.input(name="starts", type="date", min_height=TAP), display="flex", flex_direction="column"),
                    rx.el.label(t("Ends"), rx.input(name="ends", type="date", min_height=TAP), display="flex", flex_direction="column"),
                    rx.button(t("Add campaign"), type="submit", min_height=TAP),
                    gap="2", wrap="wrap", align="end",
                ),
                on_submit=CalendarState.add_campaign,
                reset_on_submit=True,
            ),
            rx.cond(CalendarState.c_error != "", rx.callout(CalendarState.c_error, color_scheme="red", role="alert")),
        ),
        rx.el.details(
            rx.el.summary(t("Subscribe in Outlook or Google Calendar"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
            rx.text(t("This private address shows the publishing calendar in your own calendar app. Anyone with it can read the calendar: keep it to yourself."), size="2"),
            rx.cond(
                CalendarState.feed_url != "",
                rx.box(
                    rx.code(CalendarState.feed_url, word_break="break-all", size="1"),
                    rx.text(t("Copy it now: for your security it is not shown again."), size="2", weight="medium"),
                ),
                rx.cond(CalendarState.has_feed,
                        rx.text(t("Your address was made earlier and is not shown again. If you lost it, make a new one: the old one then stops working."),
                                size="2", color=rx.color("gray", 11))),
            ),
            rx.flex(
                rx.cond(CalendarState.feed_url != "",
                        rx.button(t("Copy"), variant="soft", on_click=rx.set_clipboard(CalendarState.feed_url), min_height=TAP)),
                rx.button(rx.cond(CalendarState.has_feed, t("Make a new address"), t("Make my calendar address")), variant="soft",
                          on_click=CalendarState.new_feed_url, min_height=TAP),
                gap="2", margin_top="6px",
            ),
        ),
        direction="column", gap="2", margin_top="16px",
    )


def _running() -> rx.Component:
    return rx.cond(
        CalendarState.running.length() > 0,
        rx.flex(rx.text(t("Campaigns:"), size="1"),
                rx.foreach(CalendarState.running, lambda c: rx.badge(c.label, color_scheme=rx.match(c.value, *[(x, x) for x in COLORS], "gray"))),
                gap="2", wrap="wrap", align="center", margin_bottom="6px"),
    )


def page() -> rx.Component:
    return shell(
        "publish",
        page_header("Calendar"),
        publish_tabs("calendar"),
        toolbar(),
        _running(),
        rx.match(
            CalendarState.view,
            ("month", month_view()),
            ("week", week_view()),
            ("list", list_view()),
            # Automatic: a phone gets the list, wider screens the month.
            rx.fragment(rx.box(list_view(), display=PHONE_ONLY), rx.box(month_view(), display=WIDE_ONLY)),
        ),
        _post_dialog(),
        _extras(),
    )


