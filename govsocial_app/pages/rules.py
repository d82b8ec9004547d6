"""More → Inbox rules: an ordered list of rules that tag, assign, prioritise, complete, hide, alert or answer new messages."""

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.rules import ChoiceRow, ExampleRow, RuleRow, RulesState

ROUTE = "/more/rules"
TITLE = "Inbox rules · GovSocial"
ON_LOAD = RulesState.load
TAP = "44px"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NETWORK_LABELS = (("x", "X"), ("bluesky", "Bluesky"), ("mastodon", "Mastodon"), ("meta", "Facebook and Instagram"), ("simulator", "Simulator"))
KIND_LABELS = (("mention", "Mention"), ("comment", "Comment"), ("dm", "Direct message"), ("reply", "Reply"))
PRIORITIES = (("urgent", "Urgent"), ("high", "High"), ("normal", "Normal"), ("low", "Low"))
SEVERITIES = (("info", "Information"), ("warning", "Warning"), ("critical", "Critical"))


def _row(r: RuleRow, i) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.flex(
                rx.text(r.name, weight="bold", dir="auto"),
                rx.cond(~r.enabled, rx.badge(t("Off"), color_scheme="gray")),
                rx.cond(r.stop, rx.badge(t("Stops further rules"), color_scheme="amber")),
                gap="2", align="center", wrap="wrap",
            ),
            rx.text(r.summary, size="2", dir="auto"),
            rx.text(t("Matches"), ": ", r.matches, " · ", t("Errors"), ": ", r.errors, size="1", color=rx.color("gray", 11)),
            rx.cond(r.last_error != "", rx.text(t("Last error"), ": ", r.last_error, size="1", color=rx.color("red", 11), dir="auto")),
            rx.cond(
                RulesState.can_manage,
                rx.flex(
                    rx.button(rx.icon("arrow-up", size=16, aria_hidden="true"), on_click=RulesState.move(r.id, -1), variant="soft",
                              min_height=TAP, min_width=TAP, aria_label=t("Move up") + " " + r.name, disabled=i == 0),
                    rx.button(rx.icon("arrow-down", size=16, aria_hidden="true"), on_click=RulesState.move(r.id, 1), variant="soft",
                              min_height=TAP, min_width=TAP, aria_label=t("Move down") + " " + r.name, disabled=i == RulesState.rows.length() - 1),
                    rx.button(rx.cond(r.enabled, t("Turn off"), t("Turn on")), on_click=RulesState.toggle(r.id, ~r.enabled), variant="soft",
                              min_height=TAP, aria_label=rx.cond(r.enabled, t("Turn off"), t("Turn on")) + " " + r.name),
                    rx.button(t("Edit"), on_click=RulesState.edit(r.id), variant="soft", min_height=TAP, aria_label=t("Edit") + " " + r.name),
                    rx.button(t("Delete"), on_click=RulesState.delete(r.id), color_scheme="red", variant="soft", min_height=TAP,
                              aria_label=t("Delete") + " " + r.name),
                    gap="2", wrap="wrap",
                ),
            ),
            direction="column", gap="2",
        ),
    )


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(t(label), size="2", weight="medium"), control, display="flex", flex_direction="column", gap="4px", width="100%")


def _select(label: str, name: str, any_label: str, fixed=(), dynamic=None) -> rx.Component:
    options = [rx.el.option(t(any_label), value="any")] + [rx.el.option(t(label), value=value) for value, label in fixed]
    if dynamic is not None:
        options.append(rx.foreach(dynamic, lambda c: rx.el.option(c.label, value=c.value)))
    return rx.el.select(*options, name=name, default_value=RulesState.defaults.get(name, "any"), aria_label=t(label), class_name="gs-native-select",
                        style={"minHeight": TAP, "width": "100%", "padding": "0 8px"})


def _text(label: str, name: str, placeholder: str = "", kind: str = "text", dir_: str = "auto") -> rx.Component:
    return rx.input(name=name, aria_label=t(label), default_value=RulesState.defaults.get(name, ""), placeholder=placeholder, type=kind, min_height=TAP,
                    width="100%", dir=dir_)


def _check(name: str, label: str) -> rx.Component:
    return rx.el.label(rx.checkbox(name=name, default_checked=RulesState.defaults.get(name, "") == "on", size="3"), rx.text(t(label), size="2"),
                       display="flex", gap="8px", align_items="center", min_height=TAP)


def _conditions() -> rx.Component:
    return rx.flex(
        rx.heading(t("When a new message"), as_="h3", size="3"),
        _field("Keyword query", _text("Keyword query", "query", "pothole OR حفرة")),
        rx.cond(
            RulesState.error_position > 0,
            rx.text(t("The problem is at character"), " ", RulesState.error_position, size="1", color=rx.color("red", 11)),
        ),
        _field("Network", _select("Network", "network", "Any network", NETWORK_LABELS)),
        _field("Profile", _select("Profile", "profile_id", "Any profile", dynamic=RulesState.profiles)),
        _field("Message type", _select("Message type", "kind", "Any type", KIND_LABELS)),
        _field("Languages (codes, for example en, ar)", _text("Languages (codes, for example en, ar)", "langs", "en, ar", dir_="ltr")),
        _field("Author on VIP list", _select("Author on VIP list", "vip_list_id", "Anyone", dynamic=RulesState.vip_lists)),
        _field("Matches a misinformation claim", _select("Matches a misinformation claim", "claim", "Not needed", (("anyclaim", "Any claim"),), RulesState.claims)),
        rx.flex(_field("Sentiment from (-1 to 1)", _text("Sentiment from (-1 to 1)", "sentiment_min", "-1", "number")),
                _field("Sentiment to", _text("Sentiment to", "sentiment_max", "1", "number")), gap="2"),
        rx.flex(_field("Followers at least", _text("Followers at least", "followers_min", "", "number")),
                _field("Followers at most", _text("Followers at most", "followers_max", "", "number")), gap="2"),
        rx.el.fieldset(
            rx.el.legend(rx.text(t("Office hours (the agency's time zone)"), size="2", weight="medium")),
            rx.flex(*[_check(f"day{d}", name) for d, name in enumerate(DAYS)], wrap="wrap", column_gap="12px"),
            rx.flex(_field("From", _text("From", "time_from", "08:00", "time")), _field("To", _text("To", "time_to", "16:00", "time")), gap="2"),
            _check("outside", "Only outside these hours"),
            style={"border": "none", "padding": 0, "margin": 0},
        ),
        direction="column", gap="3",
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.heading(t("Then"), as_="h3", size="3"),
        _field("Tag", _text("Tag", "tag", "Roads")),
        _field("Assign to", _select("Assign to", "assign", "Nobody", dynamic=RulesState.assignees)),
        _field("Set priority", _select("Set priority", "priority", "Leave as it is", PRIORITIES)),
        _check("complete", "Complete it (spam)"),
        _field("Hide it, citing the policy clause", _select("Hide it, citing the policy clause", "clause", "Do not hide", dynamic=RulesState.clauses)),
        _field("Alert (push and email)", _select("Alert (push and email)", "alert", "No alert", SEVERITIES)),
        _field("Automatic reply (saved reply)", _select("Automatic reply (saved reply)", "saved_reply_id", "No automatic reply", dynamic=RulesState.saved_replies)),
        rx.text(t("Automatic replies are sent only when an admin has turned them on, never while publishing is paused, never to VIP authors, and at most once per author per conversation per day."),
                size="1", color=rx.color("gray", 11)),
        direction="column", gap="3",
    )


def _example(e: ExampleRow) -> rx.Component:
    return rx.el.li(rx.text(rx.el.strong(e.author, dir="auto"), " · ", rx.el.span(e.text, dir="auto"), size="2"))


def _form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading(rx.cond(RulesState.edit_id > 0, t("Edit rule"), t("New rule")), as_="h2", size="4"),
                _field("Rule name", _text("Rule name", "name", "Potholes")),
                _conditions(),
                _actions(),
                _check("stop", "Stop processing further rules"),
                _check("disabled", "Turned off"),
                rx.cond(RulesState.error != "", rx.callout(RulesState.error, icon="circle-x", color_scheme="red", role="alert")),
                rx.cond(
                    RulesState.dry_text != "",
                    rx.callout.root(
                        rx.callout.text(RulesState.dry_text),
                        rx.el.ul(rx.foreach(RulesState.examples, _example)),
                        color_scheme="blue", role="status",
                    ),
                ),
                rx.flex(
                    rx.button(t("Dry run"), type="submit", variant="soft", on_click=RulesState.set_intent("dry"), min_height=TAP),
                    rx.button(t("Save rule"), type="submit", on_click=RulesState.set_intent("save"), min_height=TAP),
                    rx.button(t("Cancel"), type="button", variant="ghost", on_click=RulesState.cancel, min_height=TAP),
                    gap="2", wrap="wrap",
                ),
                direction="column", gap="3",
            ),
            key=RulesState.form_key.to_string(),
            on_submit=RulesState.submit,
            reset_on_submit=False,
        ),
        margin_top="16px",
    )


def _admin() -> rx.Component:
    return rx.card(
        rx.heading(t("Settings for every rule"), as_="h2", size="4"),
        rx.el.label(
            rx.checkbox(checked=RulesState.auto_reply_on, on_change=RulesState.set_auto_reply, size="3"),
            rx.text(t("Allow automatic replies"), size="2"),
            display="flex", gap="8px", align_items="center", min_height=TAP,
        ),
        rx.form(
            rx.flex(
                _field("Agency time zone (for office hours)", rx.input(name="timezone", default_value=RulesState.agency_tz, key=RulesState.agency_tz,
                                                                        placeholder="Asia/Dubai", min_height=TAP, width="100%", dir="ltr")),
                rx.button(t("Save time zone"), type="submit", variant="soft", min_height=TAP),
                direction="column", gap="2",
            ),
            on_submit=RulesState.save_timezone,
            reset_on_submit=False,
        ),
        margin_top="16px",
    )


def page() -> rx.Component:
    return shell(
        "more",
        rx.box(
        page_header("Inbox rules"),
        rx.text(t("Rules run in this order on every new message. Each one whose conditions all hold does its actions."),
                size="2", color=rx.color("gray", 11), margin_bottom="8px"),
        rx.flex(rx.foreach(RulesState.rows, _row), direction="column", gap="2"),
        rx.cond(RulesState.rows.length() == 0, rx.text(t("No rules yet."), size="2")),
        rx.cond(
            RulesState.can_manage,
            rx.cond(RulesState.editing, _form(),
                    rx.button(rx.icon("plus", size=16, aria_hidden="true"), t("New rule"), on_click=RulesState.new_rule, min_height=TAP, margin_top="16px")),
            rx.text(t("Only managers and admins change rules."), size="2", color=rx.color("gray", 11), margin_top="12px"),
        ),
        rx.cond(RulesState.is_admin, _admin()),
        max_width="640px",
        ),
    )
