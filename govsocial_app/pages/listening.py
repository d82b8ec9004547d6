"""Listening: topics with volume, networks, sentiment, trending terms, influential voices and concerns; the misinformation claim tracker."""

from __future__ import annotations

import plotly.graph_objects as go
import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.components.table import scroll_table, table_body, table_header
from govsocial_app.state.listening import ClaimRow, ConcernRow, ListeningState, MatchRow, TopicRow, TrendRow, VoiceRow

ROUTE = "/reports/listening"
TITLE = "Listening · GovSocial"
ON_LOAD = ListeningState.load
TAP = "44px"
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}


def _plot(title: str, fig) -> rx.Component:
    return rx.card(
        rx.heading(t(title), size="3", as_="h3", margin_bottom="4px"),
        rx.plotly.cartesian(data=fig.to(go.Figure), config=PLOT_CONFIG, use_resize_handler=True, width="100%", height="320px"),
        width="100%",
    )


def _topic_chip(topic: TopicRow) -> rx.Component:
    return rx.button(
        topic.name, " ", rx.badge(topic.matches, variant="surface"),
        variant=rx.cond(ListeningState.topic_id == topic.id, "solid", "soft"),
        on_click=ListeningState.select_topic(topic.id),
        min_height=TAP,
        title=topic.queries,
    )


def _voice_numbers(v: VoiceRow) -> rx.Component:
    """Reach as a list of its own: each number with its word, apart on screen (a dot between them) and for screen
    readers (list items), never "38,000 followers405 engagements" run together."""
    def item(*parts, first: bool = False) -> rx.Component:
        dot = rx.fragment() if first else rx.text("·", as_="span", aria_hidden="true", color=rx.color("gray", 11), margin_inline_end="8px")
        return rx.el.li(dot, rx.text(*parts, as_="span", white_space="nowrap"), display="inline-flex", align_items="baseline")

    return rx.el.ul(
        item(v.followers, " ", t("followers"), first=True),
        item(v.engagements, " ", t("engagements")),
        item(v.messages, " ", rx.cond(v.messages == 1, t("message"), t("messages"))),
        aria_label=t("Reach"),
        display="flex",
        flex_wrap="wrap",
        column_gap="8px",
        list_style="none",
        padding="0",
        margin="0",
        font_size="var(--font-size-1)",
    )


def _voice(v: VoiceRow) -> rx.Component:
    return rx.flex(
        rx.box(
            rx.text(v.name, weight="medium"),
            rx.text(v.handle, " · ", v.network, size="1", color=rx.color("gray", 11)),
            flex="1",
            min_width="150px",
        ),
        rx.foreach(v.vips, lambda name: rx.badge(rx.icon("star", size=12, aria_hidden="true"), name, color_scheme="amber")),
        _voice_numbers(v),
        gap="2",
        align="center",
        wrap="wrap",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _trend(x: TrendRow) -> rx.Component:
    return rx.table.row(rx.table.cell(x.term), rx.table.cell(x.count), rx.table.cell(x.baseline), rx.table.cell(x.score))


def _concern(c: ConcernRow) -> rx.Component:
    return rx.card(
        rx.flex(rx.text(c.label, weight="bold"), rx.badge(c.size), gap="2", align="center", wrap="wrap"),
        rx.foreach(c.examples, lambda e: rx.text("“", e, "”", size="1", color=rx.color("gray", 11))),
    )


def _topic_form() -> rx.Component:
    return rx.cond(
        AppState.can_compose,
        rx.el.details(
            rx.el.summary(t("New topic"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
            rx.form(
                rx.el.label(rx.text(t("Name"), size="1"), rx.input(name="name", required=True, min_height=TAP),
                            display="flex", flex_direction="column"),
                rx.el.label(
                    rx.text(t("Keyword queries, one per line (same syntax as brand keywords)"), size="1"),
                    rx.text_area(name="queries", required=True, placeholder='flood OR فيضان\n"boil water" -drill', min_height="80px"),
                    display="flex", flex_direction="column", margin_top="6px",
                ),
                rx.button(t("Save topic"), type="submit", min_height=TAP, margin_top="6px"),
                on_submit=ListeningState.create_topic,
                reset_on_submit=True,
            ),
        ),
    )


def _topics() -> rx.Component:
    return rx.flex(
        rx.heading(t("Topics"), size="5", as_="h2"),
        rx.flex(rx.foreach(ListeningState.topics, _topic_chip), gap="2", wrap="wrap"),
        _topic_form(),
        rx.flex(
            rx.el.label(
                rx.text(t("Period"), size="1"),
                rx.select.root(
                    rx.select.trigger(aria_label=t("Period"), min_height=TAP),
                    rx.select.content(rx.select.item(t("Last 7 days"), value="7"), rx.select.item(t("Last 30 days"), value="30"),
                                      rx.select.item(t("Last 90 days"), value="90")),
                    value=ListeningState.days,
                    on_change=ListeningState.set_days,
                ),
                display="flex", flex_direction="column",
            ),
            rx.el.label(
                rx.text(t("Network"), size="1"),
                rx.select.root(
                    rx.select.trigger(aria_label=t("Network"), min_height=TAP),
                    rx.select.content(rx.select.item(t("All networks"), value="all"),
                                      rx.foreach(ListeningState.network_opts, lambda o: rx.select.item(o.label, value=o.value))),
                    value=ListeningState.network,
                    on_change=ListeningState.set_network,
                ),
                display="flex", flex_direction="column",
            ),
            gap="2",
            wrap="wrap",
        ),
        rx.cond(
            ListeningState.topic_id > 0,
            rx.flex(
                rx.text(ListeningState.total, " ", t("matching messages in the period"), weight="medium"),
                _plot("Volume over time", ListeningState.fig_volume),
                _plot("Share by network", ListeningState.fig_networks),
                _plot("Sentiment over time", ListeningState.fig_sentiment),
                rx.callout(
                    t("Sentiment: English uses VADER; Arabic uses a small word list (standard Arabic and common Gulf, Levantine and "
                      "Egyptian words) with simple negation. Both miss sarcasm and unusual wording, and Arabic words outside the list "
                      "count as neutral. Read the trend, not single messages."),
                    icon="info", color_scheme="gray", size="1",
                ),
                rx.heading(t("Trending terms"), size="3", as_="h3"),
                rx.text(t("Terms mentioned far more in the last day than in each term's own previous seven days."), size="1",
                        color=rx.color("gray", 11)),
                scroll_table(
                    t("Trending terms"),
                    table_header(rx.table.row(
                        rx.table.column_header_cell(t("Term")), rx.table.column_header_cell(t("Last day")),
                        rx.table.column_header_cell(t("Daily average before")), rx.table.column_header_cell(t("Burst score")),
                    )),
                    table_body(rx.foreach(ListeningState.trends, _trend)),
                    size="1",
                ),
                rx.cond(ListeningState.trends.length() == 0, rx.text(t("Nothing is bursting right now."), size="2", color=rx.color("gray", 11))),
                rx.heading(t("Influential voices"), size="3", as_="h3"),
                rx.text(t("Ranked by reach × engagement: followers × (1 + likes, reposts and replies on their messages in this topic)."),
                        size="1", color=rx.color("gray", 11)),
                rx.foreach(ListeningState.voices, _voice),
                rx.heading(t("Constituent concerns"), size="3", as_="h3"),
                rx.text(t("Messages grouped into themes; each theme is named by its most telling words."), size="1",
                        color=rx.color("gray", 11)),
                rx.grid(rx.foreach(ListeningState.concerns, _concern), columns=rx.breakpoints(initial="1", md="2"), gap="2"),
                rx.cond(ListeningState.concerns.length() == 0, rx.text(t("Not enough messages to find themes."), size="2",
                                                                        color=rx.color("gray", 11))),
                direction="column",
                gap="3",
            ),
            rx.text(t("No topics yet."), color=rx.color("gray", 11)),
        ),
        direction="column",
        gap="3",
    )


def _claim_chip(c: ClaimRow) -> rx.Component:
    return rx.button(
        rx.text(c.text, trim="both", max_width="260px", overflow="hidden", text_overflow="ellipsis", white_space="nowrap"),
        rx.badge(c.matches, variant="surface"),
        variant=rx.cond(ListeningState.claim_id == c.id, "solid", "soft"),
        color_scheme="crimson",
        on_click=ListeningState.select_claim(c.id),
        min_height=TAP,
    )


def _match(m: MatchRow) -> rx.Component:
    return rx.card(
        rx.text(m.handle, " · ", m.when, size="1", color=rx.color("gray", 11)),
        rx.text(m.text, size="2"),
        rx.flex(
            rx.link(rx.button(rx.icon("reply", size=16, aria_hidden="true"), t("Reply with correction"), min_height=TAP), href=m.reply_href),
            rx.link(rx.button(t("Open in inbox"), variant="soft", min_height=TAP), href=m.open_href),
            gap="2",
            wrap="wrap",
            margin_top="6px",
        ),
    )


def _claim_form() -> rx.Component:
    return rx.cond(
        AppState.can_compose,
        rx.el.details(
            rx.el.summary(t("Register a false claim"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
            rx.form(
                rx.el.label(rx.text(t("The false claim, as people say it"), size="1"),
                            rx.input(name="text", required=True, placeholder="The dam has failed", min_height=TAP),
                            display="flex", flex_direction="column"),
                rx.el.label(rx.text(t("Language of the claim"), size="1"),
                            rx.el.select(rx.el.option("English", value="en"), rx.el.option("العربية", value="ar"), name="lang",
                                         style={"minHeight": TAP}),
                            display="flex", flex_direction="column", margin_top="6px"),
                rx.el.label(rx.text(t("Official correction"), size="1"),
                            rx.text_area(name="correction", required=True, min_height="70px"),
                            display="flex", flex_direction="column", margin_top="6px"),
                rx.el.label(rx.text(t("Link to the official source"), size="1"),
                            rx.input(name="link", type="url", placeholder="https://", min_height=TAP),
                            display="flex", flex_direction="column", margin_top="6px"),
                rx.button(t("Track this claim"), type="submit", min_height=TAP, margin_top="6px"),
                on_submit=ListeningState.create_claim,
                reset_on_submit=True,
            ),
        ),
    )


def _claims() -> rx.Component:
    return rx.flex(
        rx.heading(t("Misinformation tracker"), size="5", as_="h2"),
        rx.text(t("Messages similar to a registered false claim, in English or Arabic, are flagged here and labelled in the inbox."),
                size="2", color=rx.color("gray", 11)),
        rx.flex(rx.foreach(ListeningState.claims, _claim_chip), gap="2", wrap="wrap"),
        _claim_form(),
        rx.cond(
            ListeningState.claim_id > 0,
            rx.flex(
                rx.foreach(
                    ListeningState.claims,
                    lambda c: rx.cond(
                        c.id == ListeningState.claim_id,
                        rx.callout.root(
                            rx.callout.icon(rx.icon("shield-check", aria_hidden="true")),
                            rx.callout.text(t("Correction:"), " ", c.correction),
                            rx.cond(c.link != "", rx.link(c.link, href=c.link, is_external=True, size="1")),
                            color_scheme="green",
                        ),
                    ),
                ),
                _plot("Spread over time", ListeningState.fig_claim),
                rx.heading(t("Top spreaders"), size="3", as_="h3"),
                rx.foreach(ListeningState.spreaders, _voice),
                rx.heading(t("Matched messages"), size="3", as_="h3"),
                rx.foreach(ListeningState.matched, _match),
                rx.cond(ListeningState.matched.length() == 0, rx.text(t("No matching messages in this period."), size="2",
                                                                       color=rx.color("gray", 11))),
                rx.cond(AppState.can_compose,
                        rx.button(t("Stop tracking this claim"), variant="soft", color_scheme="gray", min_height=TAP,
                                  on_click=ListeningState.archive_claim(ListeningState.claim_id))),
                direction="column",
                gap="3",
            ),
        ),
        direction="column",
        gap="3",
    )


def page() -> rx.Component:
    return shell(
        "reports",
        page_header("Listening", rx.link(rx.button(rx.icon("chart-column", size=16, aria_hidden="true"), t("Reports"), variant="soft",
                                                   min_height=TAP), href="/reports")),
        rx.cond(ListeningState.error != "", rx.callout(ListeningState.error, icon="triangle-alert", color_scheme="red", role="alert")),
        rx.flex(_topics(), rx.separator(size="4"), _claims(), direction="column", gap="5", padding_bottom="24px"),
    )
