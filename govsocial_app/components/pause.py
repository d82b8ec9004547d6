"""The pause-all banner (live on every client) and the "Pause all publishing" / "Resume publishing" button with its dialogs."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.clock import local_time
from govsocial_app.components.i18n import t
from govsocial_app.state.app_state import AppState
from govsocial_app.state.pause import MissedView, PauseBanner, PauseState

TAP = "44px"


def pause_banner() -> rx.Component:
    """Put once in the shell. It joins the pause banner's live updates when it mounts (see alert_banner for why not
    in the load chain)."""
    return rx.box(
        rx.cond(
            PauseBanner.paused,
            rx.flex(
                rx.icon("octagon-pause", size=20, aria_hidden="true"),
                rx.box(
                    rx.text(t("Publishing is paused"), weight="bold", size="3"),
                    rx.text(
                        t("Paused by"), " ", PauseBanner.by, " · ",
                        local_time(value=PauseBanner.at, lang=AppState.lang),  # not rx.moment: moment.js on every signed-in page
                        rx.cond(PauseBanner.reason != "", rx.fragment(" · ", t("Reason:"), " ", PauseBanner.reason)),
                        size="2",
                    ),
                    rx.cond(
                        PauseBanner.holds_replies,
                        rx.text(t("Nothing goes out, replies included: replies written now wait and are sent when publishing resumes."), size="2"),
                    ),
                    flex="1",
                ),
                id="gs-pause-banner",
                role="status",
                aria_live="polite",
                gap="3",
                align="center",
                padding="10px 14px",
                background=rx.color("red", 9),
                color="white",
                position="sticky",
                top="0",
                z_index="25",
            ),
        ),
        on_mount=PauseBanner.join,
    )


def _confirm_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("Pause all publishing?")),
            rx.dialog.description(
                t("Nothing will go out until someone resumes: no scheduled or queued posts, no newly approved posts and no replies. Replies written meanwhile wait and are sent when publishing resumes. Everyone sees a banner."),
                size="2",
            ),
            rx.el.label(
                rx.text(t("Reason (optional, shown to everyone)"), size="2", weight="medium"),
                rx.text_area(value=PauseState.reason, on_change=PauseState.set_reason, rows="2", width="100%", max_length=500),
                display="flex", flex_direction="column", gap="4px", margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button(t("Cancel"), variant="soft", color_scheme="gray", min_height=TAP)),
                rx.button(
                    rx.icon("octagon-pause", size=16, aria_hidden="true"), t("Pause now"),
                    color_scheme="red", on_click=PauseState.confirm_pause, loading=PauseState.working, min_height=TAP,
                ),
                gap="3", justify="end", margin_top="16px",
            ),
            max_width="480px",
        ),
        open=PauseState.confirm_open,
        on_open_change=PauseState.set_confirm_open,
    )


def _choice_buttons(m: MissedView) -> rx.Component:
    return rx.flex(
        rx.segmented_control.root(
            rx.segmented_control.item(t("Publish now"), value="publish_now"),
            rx.segmented_control.item(t("Reschedule"), value="reschedule"),
            rx.segmented_control.item(t("Keep as draft"), value="draft"),
            value=PauseState.choices[m.id],
            on_change=lambda v: PauseState.choose(m.id, v),
            size="1",
        ),
        rx.cond(
            PauseState.choices[m.id] == "reschedule",
            rx.input(type="datetime-local", value=PauseState.times[m.id], on_change=lambda v: PauseState.set_time(m.id, v),
                     aria_label=t("New date and time"), min_height=TAP),
        ),
        gap="2", wrap="wrap", align="center",
    )


def _missed_row(m: MissedView) -> rx.Component:
    return rx.box(
        rx.text(m.excerpt, size="2"),
        rx.text(m.due, " · ", m.profiles, size="1", color=rx.color("gray", 11)),
        _choice_buttons(m),
        padding="8px 0",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _resume_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("Resume publishing")),
            rx.cond(
                PauseState.missed.length() > 0,
                rx.box(
                    rx.dialog.description(t("These posts' time passed during the pause. Choose what happens to each one, or to all of them."), size="2"),
                    rx.flex(
                        rx.text(t("All:"), size="2", weight="medium"),
                        rx.button(t("Publish all now"), size="1", variant="soft", on_click=PauseState.choose_all("publish_now"), min_height="36px"),
                        rx.button(t("Keep all as drafts"), size="1", variant="soft", on_click=PauseState.choose_all("draft"), min_height="36px"),
                        gap="2", align="center", wrap="wrap", margin_y="8px",
                    ),
                    rx.box(rx.foreach(PauseState.missed, _missed_row), id="gs-missed-posts", max_height="50vh", overflow_y="auto"),
                    rx.cond(PauseState.missed_more > 0, rx.text(t("More posts not shown will be held for a decision:"), " ", PauseState.missed_more, size="1")),
                ),
                rx.dialog.description(t("No posts were due during the pause."), size="2"),
            ),
            rx.cond(PauseState.notice != "", rx.callout(PauseState.notice, color_scheme="red", role="alert", margin_top="8px")),
            rx.flex(
                rx.dialog.close(rx.button(t("Stay paused"), variant="soft", color_scheme="gray", min_height=TAP)),
                rx.button(rx.icon("play", size=16, aria_hidden="true"), t("Resume now"), on_click=PauseState.confirm_resume, min_height=TAP),
                gap="3", justify="end", margin_top="16px",
            ),
            max_width="640px",
        ),
        open=PauseState.resume_open,
        on_open_change=PauseState.set_resume_open,
    )


def pause_control() -> rx.Component:
    """The one-tap control for page headers: "Pause all publishing", or "Resume publishing" while paused."""
    return rx.fragment(
        rx.cond(
            PauseState.can_pause,
            rx.cond(
                PauseBanner.paused,
                rx.button(rx.icon("play", size=16, aria_hidden="true"), t("Resume publishing"), on_click=PauseState.open_resume,
                          color_scheme="green", min_height=TAP),
                rx.button(rx.icon("octagon-pause", size=16, aria_hidden="true"), t("Pause all publishing"), on_click=PauseState.open_confirm,
                          color_scheme="red", variant="soft", min_height=TAP),
            ),
        ),
        _confirm_dialog(),
        _resume_dialog(),
        rx.box(on_mount=PauseState.init, display="none"),
    )
