"""The composer's emergency-post parts: where the draft came from and when it expires, the Arabic version
(right-to-left) with counters per language and translation-memory suggestions, the accessibility checklist, and
the follow-up notice when the official alert changed after the post went out."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.state.publish import CheckView, LangCountView, PublishState, TMView

TAP = "44px"
STATUS_ICONS = {"pass": "circle-check", "fail": "circle-x", "n/a": "circle-minus"}


def _lang_counter(c: LangCountView) -> rx.Component:
    return rx.badge(c.label, ": ", c.used, " / ", c.limit, color_scheme=rx.cond(c.over, "red", "gray"),
                    variant=rx.cond(c.over, "solid", "soft"), size="2", dir="auto")


def _lang_preview(c: LangCountView) -> rx.Component:
    """One language's text on one network as it goes out: its own post (separate) or its part of the combined post."""
    return rx.box(
        rx.flex(rx.text(c.label, size="1", weight="medium", dir="auto"), _lang_counter(c), justify="between", gap="2", wrap="wrap"),
        rx.text(c.preview, size="2", dir=c.direction, lang=c.language, white_space="pre-wrap", overflow_wrap="anywhere",
                aria_label=c.label),
        padding="6px 8px", border=f"1px solid {rx.color('gray', 5)}", border_radius="6px",
    )


def _tm(s: TMView) -> rx.Component:
    return rx.flex(
        rx.box(rx.text(s.source, size="1", color=rx.color("gray", 11)), rx.text(s.target, size="2", dir="rtl", lang="ar"), flex="1"),
        rx.badge(s.score, "%", variant="soft"),
        rx.button(t("Use"), size="2", variant="soft", min_height=TAP, on_click=PublishState.use_translation(s.target),
                  aria_label=t("Use this translation") + ": " + s.target),
        gap="2", align="center", padding="4px 0",
    )


def emergency_panel() -> rx.Component:
    """Shown once the post comes from an official alert or has an Arabic version; an Arabic version can be added to any post."""
    return rx.box(
        rx.cond(
            PublishState.cap_alert_id > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("siren", aria_hidden="true")),
                rx.callout.text(
                    t("Drafted from an official alert."), " ",
                    rx.cond(PublishState.expires_label != "", rx.fragment(t("It expires at"), " ", PublishState.expires_label, ". ",
                                                                       t("The post cannot be scheduled after that."))),
                    size="2",
                ),
                color_scheme="red", id="gs-official-draft", margin_bottom="8px",
            ),
        ),
        rx.el.label(
            rx.text(t("Arabic text"), size="2", weight="medium"),
            rx.text_area(value=PublishState.second_text, on_change=PublishState.set_second_text.debounce(250), rows="5",
                         dir="rtl", lang="ar", id="gs-post-text-ar", placeholder=t("The Arabic version of the post (optional)")),
            display="flex", flex_direction="column", gap="4px",
        ),
        rx.text(t("Both versions are approved together. On each network they go out as one combined post or as one post per "
                  "language, as your admins chose."), size="1", color=rx.color("gray", 11)),
        rx.cond(PublishState.lang_counts.length() > 0,
                rx.flex(rx.foreach(PublishState.lang_counts, _lang_counter), gap="2", wrap="wrap", aria_live="polite", margin_top="4px")),
        rx.cond(PublishState.lang_counts.length() > 0,
                rx.el.details(
                    rx.el.summary(t("Preview each language on each network"), min_height=TAP, display="flex", align_items="center",
                                  cursor="pointer"),
                    rx.flex(rx.foreach(PublishState.lang_counts, _lang_preview), direction="column", gap="2"),
                    id="gs-twin-previews", margin_top="4px",
                )),
        rx.button(rx.icon("languages", size=16, aria_hidden="true"), t("Suggest translations"), variant="soft", size="2", min_height=TAP,
                  on_click=PublishState.suggest_translation, type="button", margin_top="6px"),
        rx.cond(PublishState.tm_suggestions.length() > 0, rx.box(rx.foreach(PublishState.tm_suggestions, _tm), margin_top="4px")),
    )


def _check(c: CheckView) -> rx.Component:
    return rx.el.li(
        rx.flex(
            # Static icon names only: rx.icon(<a var>) ships every lucide icon (DynamicIcon) with the page.
            rx.match(c.status,
                     ("pass", rx.icon("circle-check", size=16, aria_hidden="true", color=rx.color("green", 11))),
                     ("fail", rx.icon("circle-x", size=16, aria_hidden="true", color=rx.color("red", 11))),
                     rx.icon("circle-minus", size=16, aria_hidden="true", color=rx.color("gray", 10))),
            rx.box(
                rx.text(c.title, " (", c.language, ")", size="2", weight="medium"),
                rx.text(c.message, size="1", color=rx.color("gray", 11), dir="auto"),
                flex="1",
            ),
            rx.cond(c.blocking & (c.status == "fail"), rx.badge(t("Blocks publishing"), color_scheme="red")),
            gap="2", align="start",
        ),
        list_style="none", padding="4px 0",
    )


def checklist_panel() -> rx.Component:
    return rx.el.details(
        rx.el.summary(t("Accessibility checklist"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
        rx.el.ul(rx.foreach(PublishState.checklist, _check), padding="0", margin="0", aria_label=t("Accessibility checklist")),
        id="gs-checklist",
    )


def follow_up_callout() -> rx.Component:
    return rx.cond(
        PublishState.follow_up != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("flag", aria_hidden="true")),
            rx.callout.text(rx.cond(PublishState.follow_up == "cancel", t("Follow up: the official alert behind this post was cancelled."),
                                    t("Follow up: the official alert behind this post was updated.")), size="2"),
            rx.button(t("Mark as followed up"), size="2", variant="soft", min_height=TAP, on_click=PublishState.done_follow_up),
            color_scheme="amber", role="status", id="gs-follow-up",
        ),
    )


def published_warning() -> rx.Component:
    """A published emergency post: correct its warning (a CAP Update) or withdraw it (a CAP Cancel) in GovSocial's feed."""
    return rx.cond(
        PublishState.is_emergency & (PublishState.post_status == "published"),
        rx.card(
            rx.heading(t("Warning in the CAP feed"), as_="h3", size="3"),
            rx.cond(
                PublishState.withdrawn,
                rx.text(t("This warning was withdrawn."), size="2", color=rx.color("gray", 11)),
                rx.flex(
                    rx.text(t("Edit the texts above, then send the correction; the posts on the networks stay as they are."), size="1",
                            color=rx.color("gray", 11)),
                    rx.button(t("Send correction"), variant="soft", min_height=TAP, on_click=PublishState.correct_warning),
                    rx.el.label(rx.text(t("Why is it withdrawn?"), size="2"),
                                rx.input(value=PublishState.withdraw_note, on_change=PublishState.set_withdraw_note, min_height=TAP),
                                display="flex", flex_direction="column", gap="2px"),
                    rx.button(t("Withdraw the warning"), color_scheme="red", variant="soft", min_height=TAP, on_click=PublishState.withdraw_warning),
                    direction="column", gap="2",
                ),
            ),
            id="gs-cap-warning",
        ),
    )
