"""Reports: tag, post, profile and inbox reports with period comparison, filters, charts, tables, CSV/PDF and email subscriptions."""

from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.components.table import scroll_table, table_body, table_header
from govsocial_app.state.reports import KeyView, ReportsState, SendRow, SubView, TableView

ROUTE = "/reports"
TITLE = "Reports · GovSocial"
ON_LOAD = ReportsState.load
TAP = "44px"
KINDS = (("tags", "Tags"), ("posts", "Posts"), ("profiles", "Profiles"), ("inbox", "Inbox"), ("moderation", "Moderation"))
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}


def _kind_tabs() -> rx.Component:
    return rx.flex(
        *[
            rx.button(
                t(label),
                on_click=ReportsState.set_kind(key),
                variant=rx.cond(ReportsState.kind == key, "solid", "soft"),
                aria_pressed=rx.cond(ReportsState.kind == key, "true", "false"),
                min_height=TAP,
                flex="1",
            )
            for key, label in KINDS
        ],
        gap="2",
        width="100%",
        role="group",
        aria_label=t("Report"),
    )


def _select(label: str, value, options, on_change, any_label: str) -> rx.Component:
    return rx.el.label(
        rx.text(t(label), size="1", color=rx.color("gray", 11)),
        rx.select.root(
            rx.select.trigger(aria_label=t(label), min_height=TAP, width="100%"),
            rx.select.content(rx.select.item(t(any_label), value="all"), rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))),
            value=value,
            on_change=on_change,
        ),
        display="flex",
        flex_direction="column",
        gap="2px",
        flex="1",
        min_width="150px",
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.flex(
            *[rx.button(t(label), variant="outline", on_click=ReportsState.set_preset(days), min_height=TAP)
              for days, label in (("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"))],
            gap="2",
            wrap="wrap",
        ),
        rx.form(
            rx.flex(
                rx.el.label(rx.text(t("From"), size="1"), rx.input(name="start", type="date", default_value=ReportsState.start,
                                                                   key=ReportsState.start, min_height=TAP),
                            display="flex", flex_direction="column"),
                rx.el.label(rx.text(t("To"), size="1"), rx.input(name="end", type="date", default_value=ReportsState.end,
                                                                 key=ReportsState.end, min_height=TAP),
                            display="flex", flex_direction="column"),
                rx.button(t("Apply dates"), type="submit", variant="soft", min_height=TAP),
                gap="2",
                wrap="wrap",
                align="end",
            ),
            on_submit=ReportsState.apply_dates,
            reset_on_submit=False,
        ),
        rx.flex(
            _select("Profile", ReportsState.profile, ReportsState.profile_opts, ReportsState.set_profile, "All profiles"),
            _select("Network", ReportsState.network, ReportsState.network_opts, ReportsState.set_network, "All networks"),
            gap="2",
            wrap="wrap",
            width="100%",
        ),
        direction="column",
        gap="3",
    )


def _number(k: KeyView) -> rx.Component:
    return rx.card(
        rx.text(k.label, size="2", color=rx.color("gray", 11)),
        rx.heading(k.value, size="6", as_="p"),
        rx.flex(
            rx.badge(k.change, color_scheme=k.tone, variant="soft"),
            rx.text(t("Before:"), " ", k.previous, size="1", color=rx.color("gray", 11)),
            gap="2",
            align="center",
            wrap="wrap",
        ),
    )


def _chart(title, fig) -> rx.Component:
    return rx.card(
        rx.heading(title, size="3", as_="h2", margin_bottom="4px"),
        rx.plotly.cartesian(data=fig.to(go.Figure), config=PLOT_CONFIG, use_resize_handler=True, width="100%", height="320px"),
        width="100%",
    )


def _header_cell(table: TableView, label, i) -> rx.Component:
    key = table.sort_keys[i]
    return rx.table.column_header_cell(
        rx.cond(
            key != "",
            rx.button(label, rx.cond(ReportsState.sort == key, rx.cond(ReportsState.descending, rx.icon("arrow-down", size=14), rx.icon("arrow-up", size=14))),
                      variant="ghost", size="1", on_click=ReportsState.sort_by(key), min_height=TAP,
                      aria_label=label),
            rx.text(label),
        ),
        white_space="nowrap",
    )


def _table(table: TableView) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.heading(table.title, size="3", as_="h2"),
            rx.spacer(),
            rx.button(rx.icon("download", size=16, aria_hidden="true"), t("CSV"), variant="soft", min_height=TAP,
                      on_click=ReportsState.download_csv(table.key), aria_label=t("Download this table as CSV")),
            align="center",
            gap="2",
        ),
        rx.box(
            scroll_table(
                table.title,
                table_header(rx.table.row(rx.foreach(table.headers, lambda h, i: _header_cell(table, h, i)))),
                table_body(rx.foreach(table.rows, lambda row: rx.table.row(rx.foreach(row, lambda cell: rx.table.cell(cell))))),
                size="1",
                variant="surface",
            ),
            width="100%",
            margin_top="6px",
        ),
        rx.cond(table.rows.length() == 0, rx.text(t("No rows in this period."), size="2", color=rx.color("gray", 11))),
        rx.cond(table.note != "", rx.text(table.note, size="1", color=rx.color("gray", 11))),
        width="100%",
    )


def _sub_row(s: SubView) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.box(
                rx.text(s.report, weight="medium"),
                rx.text(s.schedule, size="2"),
                rx.text(s.recipients, size="1", color=rx.color("gray", 11), word_break="break-all"),
                rx.text(t("Next:"), " ", s.next_run, " · ", s.owner, size="1", color=rx.color("gray", 11)),
                flex="1",
                min_width="200px",
            ),
            rx.button(t("Send now"), variant="soft", on_click=ReportsState.send_now(s.id), min_height=TAP),
            rx.button(t("Cancel"), variant="soft", color_scheme="red", on_click=ReportsState.unsubscribe(s.id), min_height=TAP,
                      aria_label=t("Cancel this subscription")),
            gap="2",
            wrap="wrap",
            align="center",
        ),
    )


def _send_row(x: SendRow) -> rx.Component:
    return rx.flex(
        rx.badge(x.status, color_scheme=x.tone),
        rx.text(x.report, " · ", x.period, size="2"),
        rx.text(x.detail, size="1", color=rx.color("gray", 11), flex="1", min_width="160px"),
        rx.cond(x.can_retry, rx.button(t("Retry"), size="1", variant="soft", on_click=ReportsState.retry_send(x.id), min_height=TAP)),
        gap="2",
        align="center",
        wrap="wrap",
        padding_y="4px",
    )


def _recipient_domains() -> rx.Component:
    return rx.form(
        rx.el.label(
            rx.text(t("Other domains that may receive emailed reports (administrators only)"), size="1"),
            rx.input(name="domains", default_value=ReportsState.recipient_domains, placeholder="agency.gov, partner.example",
                     min_height=TAP, dir="ltr", key=ReportsState.recipient_domains),
            display="flex", flex_direction="column",
        ),
        rx.button(t("Save domains"), type="submit", variant="soft", min_height=TAP, margin_top="6px"),
        on_submit=ReportsState.save_recipient_domains,
        margin_top="12px",
    )


def _subscribe() -> rx.Component:
    return rx.cond(
        AppState.can_compose,
        rx.card(
            rx.heading(t("Email this report"), size="3", as_="h2"),
            rx.text(t("The PDF of this report, with the filters above, for the week or month just ended."), size="2",
                    color=rx.color("gray", 11)),
            rx.form(
                rx.flex(
                    rx.el.label(
                        rx.text(t("How often"), size="1"),
                        rx.el.select(rx.el.option(t("Weekly, on Monday"), value="weekly"), rx.el.option(t("Monthly, on the 1st"), value="monthly"),
                                     name="cadence", style={"minHeight": TAP, "padding": "0 8px"}),
                        display="flex", flex_direction="column",
                    ),
                    rx.el.label(rx.text(t("At"), size="1"), rx.input(name="time", type="time", default_value="08:00", min_height=TAP),
                                display="flex", flex_direction="column"),
                    rx.el.label(rx.text(t("Time zone"), size="1"), rx.input(name="tz", default_value=ReportsState.tz, min_height=TAP),
                                display="flex", flex_direction="column"),
                    gap="2",
                    wrap="wrap",
                ),
                rx.el.label(
                    rx.text(t("Recipients (email addresses, separated by commas)"), size="1"),
                    rx.text_area(name="recipients", placeholder="leader@agency.gov, deputy@agency.gov", required=True, min_height="60px"),
                    rx.text(t("People with a GovSocial account, or addresses in a domain an administrator allowed."), size="1",
                            color=rx.color("gray", 11)),
                    display="flex", flex_direction="column", margin_top="8px",
                ),
                rx.button(t("Subscribe"), type="submit", min_height=TAP, margin_top="8px"),
                on_submit=ReportsState.subscribe,
                reset_on_submit=True,
            ),
            rx.cond(AppState.can_manage_settings, _recipient_domains()),
            rx.cond(ReportsState.subs.length() > 0, rx.heading(t("Subscriptions"), size="2", as_="h3", margin_top="12px")),
            rx.flex(rx.foreach(ReportsState.subs, _sub_row), direction="column", gap="2"),
            rx.cond(ReportsState.sends.length() > 0, rx.heading(t("Recent sends"), size="2", as_="h3", margin_top="12px")),
            rx.foreach(ReportsState.sends, _send_row),
            width="100%",
        ),
    )


def page() -> rx.Component:
    return shell(
        "reports",
        page_header(
            "Reports",
            rx.link(rx.button(rx.icon("radar", size=16, aria_hidden="true"), t("Listening"), variant="soft", min_height=TAP), href="/reports/listening"),
            rx.button(rx.icon("file-down", size=16, aria_hidden="true"), t("PDF"), on_click=ReportsState.download_pdf, min_height=TAP,
                      aria_label=t("Download this report as PDF")),
        ),
        rx.flex(
            _kind_tabs(),
            _filters(),
            rx.box(
                rx.text(ReportsState.period_label, weight="bold"),
                rx.text(ReportsState.compare_label, size="2", color=rx.color("gray", 11)),
            ),
            rx.cond(ReportsState.error != "", rx.callout(ReportsState.error, icon="triangle-alert", color_scheme="red", role="alert")),
            rx.cond(ReportsState.summary != "", rx.callout(ReportsState.summary, icon="info", color_scheme="gray")),
            rx.grid(rx.foreach(ReportsState.numbers, _number), columns=rx.breakpoints(initial="2", md="4"), gap="2", width="100%"),
            _chart(ReportsState.chart1_title, ReportsState.fig1),
            _chart(ReportsState.chart2_title, ReportsState.fig2),
            rx.foreach(ReportsState.tables, _table),
            _subscribe(),
            direction="column",
            gap="4",
            padding_bottom="24px",
        ),
    )
