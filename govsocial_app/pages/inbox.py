"""The smart inbox: filters, the live message list, and the message with its thread, actions and reply box."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.deferred import staged, when_open
from govsocial_app.services.inbox.stream import PAGE_SIZE
from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.components.target_badges import clock_badge, minute_clock, priority_badge, priority_menu
from govsocial_app.state.app_state import AppState
from govsocial_app.state.inbox import CardView, InboxMenus, InboxState, Option
from govsocial_app.components import reply_picker as picker_ui
from govsocial_app.components.reply_picker import reply_picker
from govsocial_app.state.reply_picker import ReplyPickerState

ROUTE = "/inbox"
TITLE = "Inbox · GovSocial"
ON_LOAD = [InboxState.load]
TAP = "44px"
STATUS_OPTS = (("all", "Any status"), ("open", "Open"), ("completed", "Completed"))
ASSIGNED_OPTS = (("all", "Anyone"), ("me", "Assigned to me"), ("unassigned", "Unassigned"))
TARGET_OPTS = (("all", "Any"), ("overdue", "Overdue"))
# The cards rendered with the page: more than a phone or a laptop shows above the fold. The rest of a page's cards
# follow in groups of LATER_GROUP, each built in a short task of its own (components/deferred.py): at 4x CPU slowdown
# a card costs about 10 ms to build, and a task over 50 ms blocks input (Lighthouse's total blocking time).
FIRST_CARDS = 8
LATER_GROUP = 4
# (start, end) of each later group; the last one takes whatever a page holds beyond PAGE_SIZE.
_LATER_CARDS = [(lo, lo + LATER_GROUP if lo + LATER_GROUP < PAGE_SIZE else None) for lo in range(FIRST_CARDS, PAGE_SIZE, LATER_GROUP)]
KIND_OPTS = (("all", "Any type"), ("mention", "Mention"), ("comment", "Comment"), ("dm", "Direct message"), ("reply", "Reply"), ("keyword", "Keyword match"))


# ---------------------------------------------------------------- small pieces


def _select(key: str, label: str, static: tuple = (), dynamic: str = "", any_label: str = "Any") -> rx.Component:
    items = [rx.select.item(t(text), value=value) for value, text in static]
    if dynamic:
        items = [rx.select.item(t(any_label), value="all"), rx.foreach(InboxMenus.opts[dynamic], lambda o: rx.select.item(o.label, value=o.value))]
    return rx.el.label(
        rx.text(t(label), size="1", color=rx.color("gray", 11)),
        rx.select.root(
            rx.select.trigger(aria_label=t(label), min_height=TAP, width="100%"),
            rx.select.content(*items),
            value=rx.cond(InboxState.params[key], InboxState.params[key], "all"),
            on_change=lambda v: InboxState.set_filter(key, v),
        ),
        display="flex",
        flex_direction="column",
        gap="2px",
        min_width="150px",
        flex="1",
    )


def _team_items() -> list[rx.Component]:
    """Assign menus: each team's queue, then each team's next online member (services/inbox/teams.py)."""
    return [
        rx.select.separator(),
        rx.foreach(InboxState.team_opts, lambda o: rx.select.item(o.label, value="team:" + o.value)),
        rx.foreach(InboxState.team_rr_opts, lambda o: rx.select.item(o.label, value="rr:" + o.value)),
    ]


def _team_filter() -> rx.Component:
    return rx.el.label(
        rx.text(t("Team"), size="1", color=rx.color("gray", 11)),
        rx.select.root(
            rx.select.trigger(aria_label=t("Team"), min_height=TAP, width="100%"),
            rx.select.content(
                rx.select.item(t("Any team"), value="all"),
                rx.select.item(t("My teams"), value="mine"),
                rx.foreach(InboxState.team_opts, lambda o: rx.select.item(o.label, value=o.value)),
            ),
            value=rx.cond(InboxState.params["team"], InboxState.params["team"], "all"),
            on_change=lambda v: InboxState.set_filter("team", v),
        ),
        display="flex", flex_direction="column", gap="2px", min_width="150px", flex="1",
    )


def _filters() -> rx.Component:
    return rx.box(
        rx.form(
            rx.flex(
                rx.input(
                    name="q", default_value=InboxState.params["q"], placeholder=t("Search text or author"),
                    aria_label=t("Search messages"), type="search", min_height=TAP, flex="1", min_width="180px",
                ),
                rx.button(rx.icon("search", size=16, aria_hidden="true"), t("Search"), type="submit", min_height=TAP),
                gap="2",
                width="100%",
            ),
            on_submit=InboxState.apply_search,
            reset_on_submit=False,
        ),
        rx.el.details(
            rx.el.summary(
                rx.text(t("Filters"), " ", rx.cond(InboxState.filter_count > 0, rx.badge(InboxState.filter_count)), as_="span"),
                min_height=TAP, display="flex", align_items="center", cursor="pointer",
            ),
            # Ten menus and three forms, closed until asked for: built when the filters first open.
            when_open(_filter_fields()),
            margin_top="8px",
        ),
        rx.cond(InboxState.error != "", rx.callout(InboxState.error, icon="triangle-alert", color_scheme="red", role="alert", margin_top="8px")),
        padding_bottom="8px",
    )


def _filter_fields() -> rx.Component:
    return rx.fragment(
        rx.flex(
            _select("status", "Status", STATUS_OPTS),
            _select("assigned", "Assignment", ASSIGNED_OPTS),
            _team_filter(),
            _select("kind", "Message type", KIND_OPTS),
            _select("target", "Response target", TARGET_OPTS),
            _select("network", "Network", dynamic="network", any_label="All networks"),
            _select("profile", "Profile", dynamic="profile", any_label="All profiles"),
            _select("tag", "Tag", dynamic="tag", any_label="Any tag"),
            _select("vip", "VIP list", dynamic="vip", any_label="Everyone"),
            _select("lang", "Language", dynamic="lang", any_label="Any language"),
            gap="2",
            wrap="wrap",
        ),
        rx.form(
            rx.flex(
                rx.el.label(rx.text(t("From"), size="1"), rx.input(name="since", type="datetime-local", default_value=InboxState.params["since"], min_height=TAP), display="flex", flex_direction="column"),
                rx.el.label(rx.text(t("To"), size="1"), rx.input(name="until", type="datetime-local", default_value=InboxState.params["until"], min_height=TAP), display="flex", flex_direction="column"),
                rx.input(name="q", type="hidden", value=InboxState.params["q"]),
                rx.button(t("Apply dates"), type="submit", variant="soft", min_height=TAP),
                gap="2", wrap="wrap", align="end", margin_top="8px",
            ),
            on_submit=InboxState.apply_search,
            reset_on_submit=False,
        ),
        rx.flex(
            rx.button(t("Clear filters"), variant="ghost", on_click=InboxState.clear_filters, min_height=TAP),
            rx.form(
                rx.flex(
                    rx.input(name="name", placeholder=t("Name this view"), aria_label=t("View name"), min_height=TAP),
                    rx.button(t("Save view"), type="submit", variant="soft", min_height=TAP),
                    gap="2",
                ),
                on_submit=InboxState.save_view,
                reset_on_submit=True,
            ),
            gap="2", wrap="wrap", margin_top="8px", justify="between",
        ),
    )


def _views() -> rx.Component:
    return rx.flex(
        rx.link(rx.badge(t("All messages"), size="2", variant="soft", padding="8px 10px"), href="/inbox", min_height=TAP, display="flex", align_items="center"),
        rx.foreach(
            InboxState.views,
            lambda v: rx.link(rx.badge(v.label, size="2", variant="soft", padding="8px 10px"), href="/inbox?" + v.value, min_height=TAP, display="flex", align_items="center"),
        ),
        gap="2",
        overflow_x="auto",
        aria_label=t("Saved views"),
        role="navigation",
    )


def presence_chips(message_key) -> rx.Component:
    """Who else is on this message right now (never yourself)."""
    return rx.foreach(
        InboxState.presence.get(message_key, []),
        lambda e: rx.cond(
            e["user_id"] != AppState.user_id.to_string(),
            rx.flex(
                rx.avatar(fallback=e["initials"], size="1", radius="full", color_scheme="orange"),
                # The name, then what they are doing in the reader's language (catalogue msgids, Arabic included).
                rx.text(e["name"], " ", rx.cond(e["status"] == "replying", t("is replying…"), t("is viewing")), size="1", weight="medium"),
                gap="1", align="center", role="status", aria_live="polite",
                background=rx.color("orange", 3), color=rx.color("orange", 11), padding="2px 8px 2px 2px", border_radius="999px",
            ),
        ),
    )


def vip_badges(vips) -> rx.Component:
    return rx.foreach(vips, lambda name: rx.badge(rx.icon("star", size=10, aria_hidden="true"), t("VIP"), " · ", name, color_scheme="amber", variant="solid", size="1"))


def _avatar(initials) -> rx.Component:
    """Radix Themes' avatar markup (its classes, so it looks the same) without its component, which mounts an image
    loader with effects in each of a page's 50 cards for an avatar that only ever shows initials."""
    return rx.el.span(
        rx.el.span(initials, class_name=rx.cond(initials.length() == 1, "rt-AvatarFallback rt-one-letter", "rt-AvatarFallback rt-two-letters")),
        class_name="rt-reset rt-AvatarRoot rt-r-size-3 rt-variant-soft",
        custom_attrs={"data-radius": "full"},
    )


def _card(c: CardView) -> rx.Component:
    """One message in the list. A phone's first paint renders 50 of these at once, so the card is plain elements with
    Radix Themes' classes and app.css classes (.gs-card…) instead of styled components: each style prop is a
    CSS-in-JS rule serialised for every card on every render (Lighthouse mobile, tests/bench/bench_paint.py)."""
    selected = InboxState.selected.contains(c.id)
    return rx.el.li(
        rx.el.div(
            rx.cond(
                AppState.can_act,
                rx.el.label(
                    # A native checkbox: Radix's measures itself in a layout effect and renders again, per card.
                    rx.el.input(type="checkbox", checked=selected, on_change=lambda _v: InboxState.toggle_select(c.id),
                                aria_label=t("Select message from") + " " + c.author, class_name="gs-check"),
                    class_name="gs-select",
                ),
            ),
            rx.link(
                rx.el.div(
                    _avatar(c.initials),
                    rx.el.div(
                        rx.el.div(
                            rx.el.p(c.author, dir="auto", class_name="rt-Text rt-r-size-2 rt-r-weight-bold rt-r-lt-both"),
                            vip_badges(c.vips),
                            rx.el.p(c.when, class_name="rt-Text rt-r-size-1 gs-muted gs-when"),
                            class_name="gs-card-top",
                        ),
                        rx.el.p(rx.el.bdi(c.handle, dir="ltr"), " · ", rx.el.bdi(c.profile), " · ", c.kind, class_name="rt-Text rt-r-size-1 rt-r-lt-both gs-muted"),
                        rx.el.p(c.excerpt, dir="auto", class_name="rt-Text rt-r-size-2 gs-text gs-excerpt"),
                        rx.el.div(
                            priority_badge(c), clock_badge(c),
                            rx.cond(c.status == "completed", rx.badge(rx.icon("check", size=10, aria_hidden="true"), t("Completed"), color_scheme="green", size="1")),
                            rx.cond(c.assignee != "", rx.badge(rx.icon("user", size=10, aria_hidden="true"), c.assignee, size="1", color_scheme="blue")),
                            rx.cond(c.team != "", rx.badge(rx.icon("users", size=10, aria_hidden="true"), rx.el.span(t("Team") + ": ", class_name="gs-sr-only"), c.team, size="1", color_scheme="violet", dir="auto")),
                            rx.foreach(c.tags, lambda tag: rx.badge(tag, size="1", variant="outline")),
                            rx.foreach(c.claims, lambda claim: rx.badge(rx.icon("shield-alert", size=10, aria_hidden="true"), claim, size="1", color_scheme="crimson")),
                            rx.cond(c.edited, rx.badge(t("Edited"), size="1", color_scheme="gray")),
                            rx.cond(c.deleted, rx.badge(t("Deleted on network"), size="1", color_scheme="red")),
                            rx.cond(c.moderation != "", rx.badge(rx.icon("eye-off", size=10, aria_hidden="true"), c.moderation_label, size="1", color_scheme="orange")),
                            rx.cond(c.replied != "", rx.badge(rx.icon("reply", size=10, aria_hidden="true"), c.replied, size="1", color_scheme="green", variant="soft")),
                            presence_chips(c.key),
                            class_name="gs-card-badges",
                        ),
                        rx.foreach(c.rule_notes, lambda note: rx.el.p(rx.icon("workflow", size=10, aria_hidden="true"), " ", note, dir="auto", class_name="rt-Text rt-r-size-1 gs-muted")),
                        class_name="gs-card-body",
                    ),
                    class_name="gs-card-row",
                ),
                href=InboxState.open_prefix + c.key,
                underline="none",
                class_name="gs-card-link",
            ),
            class_name="gs-card-inner",
        ),
        class_name=rx.cond(InboxState.open_id == c.id, "gs-card gs-card-open", rx.cond(selected, "gs-card gs-card-selected", "gs-card")),
    )


def _bulk_bar() -> rx.Component:
    return rx.cond(
        InboxState.selected.length() > 0,
        rx.flex(
            rx.text(InboxState.selected.length(), " ", t("selected"), weight="bold", size="2"),
            rx.button(t("Complete"), size="2", on_click=InboxState.set_status("completed"), min_height=TAP),
            rx.select.root(
                rx.select.trigger(placeholder=t("Assign to…"), aria_label=t("Assign selected"), min_height=TAP),
                rx.select.content(rx.select.item(t("Me"), value="me"), rx.foreach(InboxMenus.opts["assignee"], lambda o: rx.select.item(o.label, value=o.value)),
                                  *_team_items()),
                on_change=InboxState.assign_to,
            ),
            rx.form(
                rx.flex(
                    rx.input(name="tag", placeholder=t("Tag"), aria_label=t("Tag selected"), list="gs-tags", min_height=TAP, width="120px"),
                    rx.button(t("Add tag"), type="submit", variant="soft", min_height=TAP),
                    gap="1",
                ),
                on_submit=InboxState.add_tag,
                reset_on_submit=True,
            ),
            rx.button(t("Clear"), variant="ghost", on_click=InboxState.clear_selection, min_height=TAP),
            gap="2", wrap="wrap", align="center", padding="8px",
            background=rx.color("accent", 3), border_radius="8px", position="sticky", top="0", z_index="5",
        ),
    )


def _list_pane() -> rx.Component:
    return rx.box(
        _views(),
        _filters(),
        _bulk_bar(),
        rx.cond(
            InboxState.new_count > 0,
            rx.center(
                rx.button(rx.icon("arrow-up", size=14, aria_hidden="true"), InboxState.new_count, " ", t("new"), on_click=InboxState.show_new, radius="full", min_height=TAP),
                position="sticky", top="8px", z_index="6",
            ),
        ),
        rx.cond(
            InboxState.cards.length() > 0,
            rx.el.ul(
                rx.foreach(InboxState.cards[:FIRST_CARDS], _card),
                staged(*[rx.foreach(InboxState.cards[lo:hi], _card) for lo, hi in _LATER_CARDS]),
                padding="0", margin="0", aria_label=t("Messages"),
            ),
            rx.center(rx.text(t("No messages match these filters.")), padding="32px", color=rx.color("gray", 11)),
        ),
        rx.flex(
            rx.cond(InboxState.page_starts.length() > 0, rx.button(t("Newer"), variant="soft", on_click=InboxState.newer, min_height=TAP)),
            rx.spacer(),
            rx.cond(InboxState.next_before > 0, rx.button(t("Older"), variant="soft", on_click=InboxState.older, min_height=TAP)),
            padding_y="12px",
        ),
        rx.el.datalist(rx.foreach(InboxMenus.opts["tag"], lambda o: rx.el.option(value=o.label)), id="gs-tags"),
        # Media queries in app.css: with a message open, the list hides on phones and tablets and
        # narrows to a column on desktops (responsive props cannot sit inside rx.cond).
        class_name=rx.cond(InboxState.open_id > 0, "gs-list gs-has-open", "gs-list"),
        min_width="0",
    )


# ---------------------------------------------------------------- the open message


def _thread_item(item) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.text(item.author, weight="bold", size="1", dir="auto"),
            rx.cond(item.outbound, rx.badge(t("Our reply"), size="1", color_scheme="green")),
            rx.cond(item.status == "failed", rx.badge(t("Not sent"), size="1", color_scheme="red")),
            rx.cond(item.status == "sending", rx.badge(t("Sending…"), size="1")),
            rx.cond(item.status == "queued", rx.badge(t("Queued: publishing is paused"), size="1", color_scheme="orange")),
            rx.cond(item.status == "unknown", rx.badge(t("Checking whether it was sent"), size="1", color_scheme="orange")),
            rx.spacer(),
            rx.text(item.when, size="1", color=rx.color("gray", 11)),
            gap="2", align="center",
        ),
        rx.text(item.text, size="2", class_name="gs-text", dir="auto"),
        padding="8px 10px",
        border_radius="8px",
        background=rx.cond(item.outbound, rx.color("green", 2), rx.color("gray", 2)),
        margin_inline_start=rx.cond(item.outbound, "24px", "0"),
        id="thread-" + item.id.to_string(),
    )


def _actions() -> rx.Component:
    return rx.cond(
        AppState.can_act,
        rx.flex(
            rx.cond(
                InboxState.d_card.status == "completed",
                rx.button(rx.icon("rotate-ccw", size=14, aria_hidden="true"), t("Reopen"), variant="soft", on_click=InboxState.set_status("open"), min_height=TAP),
                rx.button(rx.icon("check", size=14, aria_hidden="true"), t("Mark complete"), on_click=InboxState.set_status("completed"), min_height=TAP),
            ),
            rx.select.root(
                rx.select.trigger(placeholder=t("Assign to…"), aria_label=t("Assign to"), min_height=TAP),
                rx.select.content(
                    rx.select.item(t("Me"), value="me"),
                    rx.select.item(t("Nobody"), value="none"),
                    rx.foreach(InboxMenus.opts["assignee"], lambda o: rx.select.item(o.label, value=o.value)),
                    *_team_items(),
                ),
                value=rx.cond(InboxState.d_assignee != "", InboxState.d_assignee, ""),
                on_change=InboxState.assign_to,
            ),
            rx.cond(InboxState.d_card.team != "", rx.badge(rx.icon("users", size=12, aria_hidden="true"), rx.el.span(t("Team") + ": ", class_name="gs-sr-only"), InboxState.d_card.team, color_scheme="violet", dir="auto", size="2")),
            priority_menu(),
            rx.cond(
                AppState.can_edit_vips,
                rx.select.root(
                    rx.select.trigger(placeholder=t("Add sender to VIP list…"), aria_label=t("Add sender to VIP list"), min_height=TAP),
                    rx.select.content(rx.foreach(InboxMenus.opts["vip"], lambda o: rx.select.item(o.label, value=o.value))),
                    value="",
                    on_change=InboxState.add_to_vip,
                ),
            ),
            gap="2", wrap="wrap",
        ),
    )


def _tags() -> rx.Component:
    return rx.flex(
        rx.foreach(
            InboxState.d_card.tags,
            lambda tag: rx.badge(
                tag,
                rx.cond(
                    AppState.can_act,
                    rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", aria_label=t("Remove tag") + " " + tag, on_click=InboxState.remove_tag(tag), min_width="28px", min_height="28px"),
                ),
                size="2", variant="outline",
            ),
        ),
        rx.cond(
            AppState.can_act,
            rx.form(
                rx.flex(
                    rx.input(name="tag", placeholder=t("Add a tag"), aria_label=t("New tag"), list="gs-tags", min_height=TAP, width="140px"),
                    rx.button(t("Add tag"), type="submit", variant="soft", min_height=TAP),
                    gap="1",
                ),
                on_submit=InboxState.add_tag,
                reset_on_submit=True,
            ),
        ),
        gap="2", wrap="wrap", align="center",
    )


def _reply_box() -> rx.Component:
    return rx.cond(
        AppState.can_act,
        rx.box(
            rx.cond(
                InboxState.held_id > 0,
                rx.callout.root(
                    rx.callout.icon(rx.icon("triangle-alert", aria_hidden="true")),
                    rx.callout.text(t("Replied by"), " ", InboxState.held_by, " · ", InboxState.held_when, weight="bold"),
                    rx.callout.text(InboxState.held_text, class_name="gs-text", dir="auto"),
                    rx.callout.text(t("Your reply has not been sent. Send it anyway, or discard it?")),
                    rx.flex(
                        rx.button(t("Send anyway"), color_scheme="orange", on_click=InboxState.send_anyway, min_height=TAP),
                        rx.button(t("Discard"), variant="soft", on_click=InboxState.discard_held, min_height=TAP),
                        gap="2",
                    ),
                    color_scheme="orange", role="alert", margin_bottom="8px",
                ),
            ),
            rx.el.label(
                rx.text(t("Reply"), weight="medium", size="2"),
                rx.text_area(
                    value=InboxState.draft, on_change=ReplyPickerState.type_draft.debounce(250), rows="3", resize="vertical",
                    dir="auto", width="100%", placeholder=t("Write a public reply…"), font_size="16px",
                    # The "/" list's keyboard: the highlighted option is named to screen readers (components/reply_picker.py).
                    id=picker_ui.BOX_ID, aria_activedescendant=picker_ui.active_descendant(), aria_controls=picker_ui.controls(),
                ),
                display="flex", flex_direction="column", gap="4px",
            ),
            reply_picker(),  # typing "/" offers saved replies (components/reply_picker.py)
            rx.flex(
                rx.text(
                    InboxState.used, " / ", InboxState.limit,
                    color=rx.cond(InboxState.over_limit, rx.color("red", 11), rx.color("gray", 11)),
                    size="2", aria_label=t("Characters used"), aria_live="polite",
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("send", size=14, aria_hidden="true"), t("Send reply"),
                    on_click=InboxState.send_reply, loading=InboxState.sending,
                    disabled=InboxState.over_limit | (InboxState.draft.strip() == ""), min_height=TAP,
                ),
                align="center", margin_top="6px",
            ),
            rx.cond(InboxState.reply_error != "", rx.callout(InboxState.reply_error, icon="circle-x", color_scheme="red", role="alert", margin_top="8px")),
            position="sticky", bottom=["64px", "64px", "0"], background=rx.color("gray", 1),
            padding="10px 0", border_top=f"1px solid {rx.color('gray', 5)}",
        ),
    )


def _moderation_sheet() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("Moderate…")),
            rx.dialog.description(t("Every action cites a clause of the comment policy and is kept in the archive."), size="2"),
            rx.form(
                rx.flex(
                    rx.el.fieldset(
                        rx.el.legend(rx.text(t("Action"), size="2", weight="bold")),
                        rx.foreach(InboxState.mod_options, lambda o: rx.box(
                            rx.el.label(
                                rx.el.input(type="radio", name="action", value=o.value, checked=InboxState.mod_action == o.value,
                                            disabled=~o.enabled, on_change=InboxState.set_mod_action(o.value), style={"width": "20px", "height": "20px"}),
                                rx.text(o.label, size="2"),
                                display="flex", gap="8px", align_items="center", min_height="44px",
                            ),
                            rx.cond(o.reason != "", rx.text(o.reason, size="1", color=rx.color("gray", 11), padding_inline_start="28px")),
                        )),
                        border="none", padding="0", margin="0",
                    ),
                    rx.el.label(
                        rx.text(t("Policy clause (required)"), size="2", weight="bold"),
                        rx.select.root(
                            rx.select.trigger(placeholder=t("Choose a clause"), aria_label=t("Policy clause (required)"), min_height=TAP),
                            rx.select.content(rx.foreach(InboxState.mod_clauses, lambda o: rx.select.item(o.label, value=o.value))),
                            name="clause", required=True,
                        ),
                        display="flex", flex_direction="column", gap="4px",
                    ),
                    rx.el.label(
                        rx.text(t("Note (optional)"), size="2", weight="bold"),
                        rx.text_area(name="note", aria_label=t("Note (optional)"), max_length=2000),
                        display="flex", flex_direction="column", gap="4px",
                    ),
                    rx.cond(InboxState.mod_result != "", rx.callout(InboxState.mod_result, icon="info", role="status", size="1")),
                    rx.flex(
                        rx.dialog.close(rx.button(t("Close"), variant="soft", type="button", min_height=TAP, on_click=InboxState.close_moderation)),
                        rx.button(t("Apply"), type="submit", color_scheme="orange", min_height=TAP),
                        gap="2", justify="end",
                    ),
                    direction="column", gap="3",
                ),
                on_submit=InboxState.moderate,
            ),
            max_width="480px",
        ),
        open=InboxState.mod_open,
        on_open_change=InboxState.mod_open_change,
    )


def _moderation() -> rx.Component:
    return rx.cond(
        AppState.can_moderate & InboxState.d_moderatable,
        rx.box(
            rx.button(rx.icon("shield", size=14, aria_hidden="true"), t("Moderate…"), variant="outline", color_scheme="orange",
                      on_click=InboxState.open_moderation, min_height=TAP),
            rx.foreach(InboxState.mod_awaiting, lambda a: rx.flex(
                rx.text(t("Waiting for a second person to confirm."), " ", a.label, size="2", flex="1", min_width="0"),
                rx.cond(AppState.can_confirm_moderation, rx.flex(
                    rx.button(t("Confirm"), color_scheme="red", on_click=InboxState.confirm_moderation(a.value), min_height=TAP,
                              aria_label=t("Confirm") + " " + a.label),
                    rx.button(t("Decline"), variant="soft", on_click=InboxState.decline_moderation(a.value), min_height=TAP,
                              aria_label=t("Decline") + " " + a.label),
                    gap="2",
                )),
                gap="2", wrap="wrap", align="center", margin_top="8px",
            )),
            _moderation_sheet(),
            margin_top="8px",
        ),
    )


def _detail_pane() -> rx.Component:
    c = InboxState.d_card
    return rx.cond(
        InboxState.open_id > 0,
        rx.el.section(
            rx.flex(
                rx.link(rx.icon("arrow-left", size=16, aria_hidden="true"), t("Back to inbox"), href=InboxState.list_href, min_height=TAP, display="flex", align_items="center", gap="4px"),
                rx.spacer(),
                rx.cond(InboxState.d_url != "", rx.link(t("Open on network"), href=InboxState.d_url, is_external=True, size="2")),
                align="center",
            ),
            rx.flex(
                rx.avatar(fallback=c.initials, size="4", radius="full"),
                rx.box(
                    rx.flex(rx.heading(c.author, as_="h2", size="4", dir="auto"), vip_badges(c.vips), gap="2", align="center", wrap="wrap"),
                    rx.text(rx.el.bdi(c.handle, dir="ltr"), " · ", rx.el.bdi(c.profile), " · ", c.kind, " · ", c.when, size="1", color=rx.color("gray", 11)),
                ),
                gap="3", align="center", margin_top="8px",
            ),
            rx.flex(priority_badge(c), clock_badge(c), presence_chips(c.key), rx.cond(c.replied != "", rx.badge(rx.icon("reply", size=12, aria_hidden="true"), c.replied, color_scheme="green", size="2")), gap="2", wrap="wrap", margin_y="8px"),
            rx.text(InboxState.d_text, size="3", class_name="gs-text", dir="auto"),
            rx.flex(rx.foreach(c.claims, lambda claim: rx.badge(rx.icon("shield-alert", size=12, aria_hidden="true"), claim, size="2", color_scheme="crimson")), gap="2", wrap="wrap", margin_top="6px"),
            rx.cond(c.deleted, rx.callout(t("The author deleted this on the network. GovSocial keeps the record."), icon="archive", color_scheme="gray", size="1", margin_top="8px")),
            rx.cond(c.moderation != "", rx.callout(c.moderation_label, icon="eye-off", color_scheme="orange", size="1", margin_top="8px", role="status")),
            rx.box(_tags(), margin_top="12px"),
            rx.box(_actions(), margin_top="8px"),
            _moderation(),
            rx.cond(
                InboxState.thread.length() > 1,
                rx.box(rx.heading(t("Conversation"), as_="h3", size="3", margin_y="8px"), rx.flex(rx.foreach(InboxState.thread, _thread_item), direction="column", gap="2"), margin_top="12px"),
            ),
            rx.box(
                rx.heading(t("Internal notes"), as_="h3", size="3", margin_y="8px"),
                rx.foreach(InboxState.notes, lambda n: rx.box(rx.text(n.author, " · ", n.when, size="1", weight="bold"), rx.text(n.text, size="2", class_name="gs-text", dir="auto"), padding="6px 10px", background=rx.color("yellow", 2), border_radius="6px", margin_bottom="4px")),
                rx.cond(
                    AppState.can_act,
                    rx.form(
                        rx.flex(
                            rx.input(name="note", placeholder=t("Add an internal note (not public)"), aria_label=t("Internal note"), min_height=TAP, flex="1"),
                            rx.button(t("Add note"), type="submit", variant="soft", min_height=TAP),
                            gap="2",
                        ),
                        on_submit=InboxState.add_note,
                        reset_on_submit=True,
                    ),
                ),
                margin_top="12px",
            ),
            rx.cond(
                InboxState.history.length() > 0,
                rx.el.details(
                    rx.el.summary(t("Archive: earlier versions"), min_height=TAP, display="flex", align_items="center"),
                    rx.foreach(InboxState.history, lambda v: rx.box(rx.text("v", v.id, " · ", v.author, " · ", v.when, size="1", weight="bold"), rx.text(v.text, size="2", class_name="gs-text", dir="auto"), padding="4px 0")),
                    margin_top="12px",
                ),
            ),
            rx.box(_reply_box(), margin_top="12px"),
            aria_label=t("Message"),
            flex="1",
            min_width="0",
            padding_inline_start=["0", "0", "0", "20px"],
            border_inline_start=["none", "none", "none", f"1px solid {rx.color('gray', 5)}"],
        ),
    )


def page() -> rx.Component:
    return shell(
        "inbox",
        page_header("Inbox"),
        rx.flex(_list_pane(), _detail_pane(), gap="0", align="start"),
        # assets/presence.js clicks these when the page is hidden or shown (a locked phone, another tab), so the
        # others on a message stop seeing this person "viewing" it at once; not shown, not in the a11y tree.
        rx.el.button(id="gs-page-hidden", aria_label="Page hidden", on_click=InboxState.page_hidden, display="none", type="button"),
        rx.el.button(id="gs-page-visible", aria_label="Page visible", on_click=InboxState.page_visible, display="none", type="button"),
        minute_clock(),
        frame=("Inbox", "Loading messages…"),
    )


__all__ = ["ROUTE", "page", "ON_LOAD", "Option"]
