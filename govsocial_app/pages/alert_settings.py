"""Alert settings: spike rules per profile with where each stream stands against its threshold, keyword cool-downs, recipients, email."""

from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.pages.alerts import link_button
from govsocial_app.state.alert_settings import AlertSettingsState, KeywordRow, RuleRow

ROUTE = "/alerts/settings"
TITLE = "Alert settings · GovSocial"
ON_LOAD = AlertSettingsState.load
TAP = "44px"


def _number(label: str, name: str, value, **props) -> rx.Component:
    return rx.el.label(
        rx.text(t(label), size="1", color=rx.color("gray", 11)),
        rx.input(name=name, default_value=value, type="number", min_height=TAP, width="110px", **props),
        display="flex", flex_direction="column", gap="2px",
    )


def _check(name, label, checked) -> rx.Component:
    return rx.el.label(rx.checkbox(name=name, default_checked=checked, size="2", aria_label=label), rx.text(label, size="2"),
                       display="inline-flex", align_items="center", gap="6px", min_height=TAP, padding_inline_end="8px")


def _audience(roles, user_ids) -> rx.Component:
    return rx.box(
        rx.text(t("Who is alerted"), size="1", color=rx.color("gray", 11)),
        # The loop variables must not be called like the rule's (`r` in _rule): Reflex compiles each foreach to a JS
        # arrow function named after the Python parameter, and an inner `r` shadowed the rule, so `r.roles` was
        # undefined and the whole page crashed ("Cannot read properties of undefined (reading 'includes')").
        rx.flex(rx.foreach(AlertSettingsState.roles, lambda role: _check("role_" + role, role, roles.contains(role))), wrap="wrap"),
        rx.el.details(
            rx.el.summary(t("Named people"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
            rx.flex(rx.foreach(AlertSettingsState.people, lambda person: _check("user_" + person.id, person.name, user_ids.contains(person.id))),
                    wrap="wrap"),
        ),
    )


def _rule(r: RuleRow) -> rx.Component:
    return rx.card(
        rx.form(
            rx.el.input(type="hidden", name="rule_id", value=r.rule_id.to_string()),
            rx.flex(
                rx.heading(r.label, as_="h3", size="3", dir="auto"),
                rx.spacer(),
                rx.el.label(rx.switch(name="enabled", default_checked=r.enabled), rx.text(t("Alerts on"), size="2"),
                            display="inline-flex", align_items="center", gap="6px", min_height=TAP),
                align="center", wrap="wrap", gap="2",
            ),
            rx.text(r.status, size="2", weight="medium"),
            rx.text(r.method, size="1", color=rx.color("gray", 11)),
            rx.cond(r.last_alert != "", rx.text(t("Last alert"), " ", r.last_alert, size="1", color=rx.color("gray", 11))),
            rx.flex(
                _number("Sensitivity (×)", "sensitivity", r.sensitivity, step="0.1", min="1.1", max="20"),
                _number("Minimum count", "min_count", r.min_count, min="1"),
                _number("Cool-down (minutes)", "cooldown", r.cooldown, min="5", max="1440"),
                gap="3", wrap="wrap", margin_y="8px",
            ),
            _audience(r.roles, r.user_ids),
            rx.button(t("Save"), type="submit", min_height=TAP, margin_top="8px"),
            on_submit=AlertSettingsState.save_rule,
            reset_on_submit=False,
        ),
    )


def _keyword(k: KeywordRow) -> rx.Component:
    return rx.form(
        rx.el.input(type="hidden", name="keyword_id", value=k.id.to_string()),
        rx.flex(
            rx.box(
                rx.text(k.name, weight="medium", dir="auto"),
                rx.badge(k.priority, color_scheme=rx.cond(k.priority == "crisis", "red", "amber")),
                rx.cond(k.last_alert != "", rx.text(t("Last alert"), " ", k.last_alert, size="1", color=rx.color("gray", 11))),
                flex="1", min_width="160px",
            ),
            _number("Cool-down (minutes)", "cooldown", k.cooldown, min="0", max="1440"),
            rx.button(t("Save"), type="submit", min_height=TAP),
            gap="3", align="end", wrap="wrap",
        ),
        on_submit=AlertSettingsState.save_keyword_cooldown,
        reset_on_submit=False,
        padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(t(label), size="1", color=rx.color("gray", 11)), control, display="flex", flex_direction="column", gap="2px",
                       flex="1", min_width="200px")


def _mail() -> rx.Component:
    return rx.card(
        rx.heading(t("Email (SMTP)"), as_="h2", size="3", margin_bottom="8px"),
        rx.form(
            rx.flex(
                _field("Server", rx.input(name="host", default_value=AlertSettingsState.smtp_host, min_height=TAP, dir="ltr")),
                _field("Port", rx.input(name="port", type="number", default_value=AlertSettingsState.smtp_port, min_height=TAP)),
                _field("User name", rx.input(name="username", default_value=AlertSettingsState.smtp_username, min_height=TAP, dir="ltr",
                                             auto_complete="off")),
                _field("Password", rx.input(name="password", type="password", min_height=TAP, auto_complete="new-password",
                                            placeholder=rx.cond(AlertSettingsState.smtp_has_password, t("Unchanged"), ""))),
                _field("From", rx.input(name="sender", default_value=AlertSettingsState.smtp_sender, min_height=TAP, dir="ltr",
                                        placeholder="GovSocial <alerts@example.gov>")),
                gap="3", wrap="wrap",
            ),
            rx.el.label(rx.switch(name="starttls", default_checked=AlertSettingsState.smtp_starttls), rx.text(t("Use STARTTLS"), size="2"),
                        display="inline-flex", align_items="center", gap="6px", min_height=TAP),
            rx.flex(
                rx.button(t("Save"), type="submit", min_height=TAP),
                rx.button(t("Send a test email to me"), type="button", variant="soft", min_height=TAP, on_click=AlertSettingsState.send_test_email),
                gap="2", wrap="wrap",
            ),
            on_submit=AlertSettingsState.save_smtp,
            reset_on_submit=False,
        ),
    )


def page() -> rx.Component:
    return shell(
        "alerts",
        page_header("Alert settings", link_button("Alert centre", "/alerts", "bell")),
        rx.flex(
            rx.card(
                rx.heading(t("Where each stream stands"), as_="h2", size="3"),
                rx.text(t("Messages in the last 60 minutes against the alert threshold and the usual level for this hour."), size="2",
                        color=rx.color("gray", 11)),
                rx.plotly.basic(data=AlertSettingsState.figure.to(go.Figure), config={"displayModeBar": False, "responsive": True}, width="100%"),
            ),
            rx.heading(t("Spike alerts"), as_="h2", size="4"),
            rx.foreach(AlertSettingsState.rules, _rule),
            rx.card(
                rx.heading(t("Keyword alerts"), as_="h2", size="3", margin_bottom="4px"),
                rx.text(t("A match on a priority or crisis keyword alerts at once; then that keyword waits for its cool-down."), size="2",
                        color=rx.color("gray", 11)),
                rx.foreach(AlertSettingsState.keywords, _keyword),
                rx.form(
                    _audience(AlertSettingsState.keyword_roles, AlertSettingsState.keyword_user_ids),
                    rx.button(t("Save recipients"), type="submit", min_height=TAP, margin_top="8px"),
                    on_submit=AlertSettingsState.save_keyword_audience,
                    reset_on_submit=False,
                    margin_top="8px",
                ),
            ),
            rx.cond(AppState.can_manage_settings, _mail()),
            direction="column",
            gap="3",
            max_width="860px",
        ),
        allowed=AppState.can_configure_alerts,
    )
