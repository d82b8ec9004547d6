"""The alert centre: alert history with filters, acknowledge (who and when), snooze a type for an hour, the numbers and top terms."""

from __future__ import annotations

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.alerts import KIND_LABELS, AlertsLive, AlertsState, AlertView, TermView

ROUTE = "/alerts"
TITLE = "Alerts · GovSocial"
ON_LOAD = AlertsState.load
TAP = "44px"
SEVERITY_COLORS = {"critical": "red", "warning": "amber", "info": "blue"}
ACK_OPTS = (("all", "Any"), ("no", "Not acknowledged"), ("yes", "Acknowledged"))


def link_button(label: str, href, icon: str, **props) -> rx.Component:
    """A link that looks like a button (never a button inside a link: nested controls confuse screen readers)."""
    return rx.button(rx.link(rx.icon(icon, size=16, aria_hidden="true"), t(label), href=href, underline="none"), as_child=True,
                     variant="soft", min_height=TAP, **props)


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(t(label), size="1", color=rx.color("gray", 11)), control, display="flex", flex_direction="column",
                       gap="2px", flex="1", min_width="140px")


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            _field("Type", rx.select.root(
                rx.select.trigger(aria_label=t("Type"), min_height=TAP, width="100%"),
                rx.select.content(rx.select.item(t("Any"), value="all"), *[rx.select.item(t(label), value=k) for k, label in KIND_LABELS.items()]),
                name="kind", value=AlertsState.f_kind, on_change=AlertsState.set_kind,
            )),
            _field("Status", rx.select.root(
                rx.select.trigger(aria_label=t("Status"), min_height=TAP, width="100%"),
                rx.select.content(*[rx.select.item(t(label), value=v) for v, label in ACK_OPTS]),
                name="ack", value=AlertsState.f_ack, on_change=AlertsState.set_ack,
            )),
            _field("From", rx.input(type="date", name="since", default_value=AlertsState.f_since, min_height=TAP)),
            _field("To", rx.input(type="date", name="until", default_value=AlertsState.f_until, min_height=TAP)),
            rx.button(rx.icon("filter", size=16, aria_hidden="true"), t("Apply"), type="submit", min_height=TAP),
            gap="2", wrap="wrap", align="end",
        ),
        on_submit=AlertsState.apply,
        reset_on_submit=False,
    )


def _term(term: TermView) -> rx.Component:
    return rx.link(rx.badge(term.term, variant="outline", size="2", dir="auto"), href=term.link, min_height=TAP,
                   display="inline-flex", align_items="center")


def _alert(a: AlertView) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.flex(
                rx.badge(a.severity_label, color_scheme=rx.match(a.severity, *SEVERITY_COLORS.items(), "gray"), variant="solid"),
                rx.badge(a.kind_label, variant="soft"),
                rx.spacer(),
                rx.text(a.when, size="1", color=rx.color("gray", 11), white_space="nowrap"),
                gap="2", align="center", wrap="wrap",
            ),
            rx.text(a.title, weight="bold", size="3", dir="auto", class_name="gs-text"),
            rx.cond(a.body != "", rx.text(a.body, size="2", dir="auto", class_name="gs-text")),
            rx.cond(a.numbers != "", rx.text(a.numbers, size="2", color=rx.color("gray", 11))),
            rx.cond(
                a.terms.length() > 0,
                rx.flex(rx.text(t("Top terms"), size="1", color=rx.color("gray", 11)), rx.foreach(a.terms, _term), gap="1", wrap="wrap", align="center"),
            ),
            rx.cond(
                a.deliveries.length() > 0,
                rx.el.details(
                    rx.el.summary(
                        rx.text(t("Delivery"), " ", rx.cond(a.delivery_problem, rx.badge(t("Problem"), color_scheme="red", size="1")), as_="span"),
                        min_height=TAP, display="flex", align_items="center", cursor="pointer",
                    ),
                    rx.foreach(a.deliveries, lambda line: rx.text(line, size="1", color=rx.color("gray", 11), class_name="gs-text")),
                ),
            ),
            rx.flex(
                rx.cond(
                    a.kind == "official",
                    rx.cond(a.link.contains("cap="), link_button("Draft a post", a.link, "pen-line"),
                            rx.cond(a.link.contains("post="), link_button("Open the post", a.link, "flag"))),
                    rx.cond(a.link != "", link_button("Open in inbox", a.link, "inbox")),
                ),
                rx.cond(
                    a.acked,
                    rx.text(rx.icon("check", size=14, aria_hidden="true"), " ", a.ack_text, size="2", color=rx.color("green", 11)),
                    rx.cond(AppState.can_ack, rx.button(rx.icon("check", size=16, aria_hidden="true"), t("Acknowledge"), min_height=TAP,
                                                           on_click=AlertsState.acknowledge(a.id))),
                ),
                rx.cond(
                    AlertsState.snoozed.contains(a.kind),
                    rx.text(t("Snoozed until"), " ", AlertsState.snoozed[a.kind], size="2", color=rx.color("gray", 11)),
                    rx.button(rx.icon("bell-off", size=16, aria_hidden="true"), t("Snooze this alert type for 1 h"), variant="outline",
                              min_height=TAP, on_click=AlertsState.snooze(a.kind)),
                ),
                gap="2", wrap="wrap", align="center",
            ),
            direction="column",
            gap="2",
        ),
        list_style="none",
        padding="12px",
        border=f"1px solid {rx.color('gray', 5)}",
        border_inline_start=rx.match(a.severity, ("critical", f"4px solid {rx.color('red', 9)}"), ("warning", f"4px solid {rx.color('amber', 9)}"),
                                     f"4px solid {rx.color('gray', 7)}"),
        border_radius="8px",
        background=rx.cond(a.acked, "transparent", rx.color("gray", 2)),
    )


def page() -> rx.Component:
    return shell(
        "alerts",
        page_header(
            "Alerts",
            rx.cond(AppState.can_configure_alerts, link_button("Alert settings", "/alerts/settings", "settings")),
            link_button("Notifications on this device", "/more/notifications", "smartphone"),
        ),
        # Re-read the list whenever the alerts bus bumps the shared revision (a new alert, an acknowledgement).
        rx.box(key=AlertsLive.rev.to_string(), on_mount=AlertsState.refresh, display="none"),
        rx.cond(
            AlertsState.follow_ups.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("flag", aria_hidden="true")),
                rx.callout.text(t("Posts to follow up"), weight="bold"),
                rx.el.ul(rx.foreach(AlertsState.follow_ups, lambda f: rx.el.li(rx.link(f["text"], href="/publish?post=" + f["post"], min_height=TAP,
                                                                                  display="inline-flex", align_items="center"))),
                         margin="0", padding_inline_start="18px"),
                color_scheme="amber", role="status", id="gs-follow-ups", margin_bottom="8px",
            ),
        ),
        _filters(),
        rx.cond(
            AlertsState.alerts.length() > 0,
            rx.el.ul(rx.foreach(AlertsState.alerts, _alert), aria_label=t("Alerts"), padding="0", margin="12px 0 0",
                     display="flex", flex_direction="column", gap="8px"),
            rx.center(rx.text(t("No alerts match these filters.")), padding="32px", color=rx.color("gray", 11)),
        ),
        rx.cond(AlertsState.has_more, rx.button(t("Older"), variant="soft", on_click=AlertsState.more, min_height=TAP, margin_top="12px")),
    )
