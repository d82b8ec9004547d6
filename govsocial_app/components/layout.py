"""The app shell: side navigation on tablet and desktop, bottom navigation on a phone, connection banner."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import connection_error, has_connection_errors

from govsocial_app.components.alert_banner import alert_banner, alert_space, alerts_badge
from govsocial_app.components.i18n import role_label, t
from govsocial_app.components.pause import pause_banner, pause_control
from govsocial_app.state.app_state import AppState

NAV = (
    ("inbox", "Inbox", "/inbox", "inbox"),
    ("publish", "Publish", "/publish", "send"),
    ("alerts", "Alerts", "/alerts", "bell"),
    ("reports", "Reports", "/reports", "chart-column"),
    ("more", "More", "/more", "menu"),
)

# Radix breakpoints: index 2 is 768 px, so phones get the bottom bar and tablets up get the side bar.
PHONE_ONLY = ["flex", "flex", "none"]
WIDE_ONLY = ["none", "none", "flex"]
TAP = "44px"
MAIN_PADDING = ["0 12px 96px", "0 16px 96px", "0 24px 24px"]


def _nav_link(key: str, label: str, href: str, icon: str, active: str, *, vertical: bool) -> rx.Component:
    is_active = key == active
    return rx.link(
        rx.flex(
            rx.icon(icon, size=20, aria_hidden="true"),
            rx.text(t(label), size="1" if vertical else "2", weight="medium"),
            alerts_badge() if key == "alerts" else rx.fragment(),
            direction="column" if vertical else "row",
            align="center",
            gap="1" if vertical else "3",
        ),
        href=href,
        aria_current="page" if is_active else None,
        underline="none",
        color=rx.color("accent", 11) if is_active else rx.color("gray", 11),
        background=rx.color("accent", 3) if is_active and not vertical else "transparent",
        border_radius="8px",
        padding="8px 12px" if not vertical else "6px 4px",
        min_height=TAP,
        min_width=TAP,
        flex="1" if vertical else None,
        display="flex",
        align_items="center",
        justify_content="center" if vertical else "start",
        _focus_visible={"outline": f"2px solid {rx.color('accent', 8)}"},
    )


def side_nav(active: str, *, with_user: bool = True) -> rx.Component:
    return rx.el.nav(
        rx.flex(
            rx.flex(
                rx.icon("megaphone", size=22, aria_hidden="true", color=rx.color("accent", 10)),
                rx.text("GovSocial", size="4", weight="bold"),  # the brand, not a heading: each page has its own h1
                align="center",
                gap="2",
                padding="8px 12px 16px",
            ),
            *[_nav_link(k, label, href, icon, active, vertical=False) for k, label, href, icon in NAV],
            rx.spacer(),
            rx.flex(
                rx.avatar(fallback=AppState.user_initials, size="2", radius="full"),
                rx.box(
                    rx.text(AppState.user_name, size="2", weight="medium", trim="both"),
                    rx.text(role_label(AppState.user_role), size="1", color=rx.color("gray", 11)),
                ),
                gap="2",
                align="center",
                padding="12px",
            )
            if with_user
            else rx.fragment(),
            direction="column",
            gap="1",
            height="100%",
        ),
        aria_label="Main",
        display=WIDE_ONLY,
        position="sticky",
        top="0",
        height="100dvh",
        width="220px",
        flex_shrink="0",
        padding="12px 8px",
        border_inline_end=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )


def bottom_nav(active: str, *, docked: bool = False) -> rx.Component:
    """The phone's navigation, fixed at the bottom; `docked`: inside the shell's bottom dock, which is fixed instead."""
    return rx.el.nav(
        rx.flex(
            *[_nav_link(k, label, href, icon, active, vertical=True) for k, label, href, icon in NAV],
            justify="between",
            width="100%",
        ),
        aria_label="Main",
        display=PHONE_ONLY,
        **({} if docked else {"position": "fixed", "bottom": "0", "left": "0", "right": "0", "z_index": "20"}),
        padding="4px 4px calc(4px + env(safe-area-inset-bottom))",
        background=rx.color("gray", 1),
        border_top=f"1px solid {rx.color('gray', 5)}",
    )


def connection_banner() -> rx.Component:
    return rx.cond(
        has_connection_errors,
        rx.flex(
            rx.spinner(size="1"),
            # A worker that sheds load refuses new connections with "busy" (govsocial_app/loadshed.py).
            rx.cond(
                connection_error == "busy",
                rx.text(t("Busy — reconnecting in a moment"), size="2", weight="medium"),
                rx.text(t("Connection lost. Reconnecting…"), size="2", weight="medium"),
            ),
            id="gs-offline",
            # assets/connection.js says this once the connection is back, in the reader's language.
            custom_attrs={"data-reconnected": t("Reconnected")},
            role="status",
            aria_live="polite",
            gap="2",
            align="center",
            justify="center",
            padding="8px",
            background=rx.color("amber", 4),
            color=rx.color("amber", 12),
            position="sticky",
            top="0",
            z_index="30",
        ),
    )


def page_header(title: str, *actions: rx.Component) -> rx.Component:
    return rx.flex(
        rx.heading(t(title), as_="h1", size="6"),
        rx.spacer(),
        *actions,
        pause_control(),
        align="center",
        gap="2",
        padding_y="12px",
        # As tall as a row with a 44 px button from the start: the pause control appears for the roles that may
        # pause once PauseState.init answers, after the first paint, and pushed the whole page down 14 px.
        min_height=f"calc({TAP} + 24px)",
        wrap="wrap",
    )


def no_access() -> rx.Component:
    """What a person sees on a page their role may not open (a deep link, a bookmark): a plain statement and a way
    on, instead of the page's empty forms behind a refusal toast. The server refuses the page's data either way."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("lock", aria_hidden="true")),
        rx.callout.text(t("You do not have access to this page."), weight="bold"),
        rx.callout.text(t("Ask an administrator if your work needs it.")),
        rx.link(t("Go to the inbox"), href="/inbox", min_height="44px", display="inline-flex", align_items="center"),
        color_scheme="gray",
        role="status",
        id="gs-no-access",
        margin_top="16px",
    )


# Runs while the prerendered page is parsed, before its first paint: a browser with no session token (a signed-out
# visitor, on the way to sign-in) or set to a language other than English (the frame's words are English until the
# server answers, and left to right) gets the plain spinner instead of the loading frame (app.css, `gs-frame`).
# No double quotes, `<`, `>` or `&` (tests/unit/test_loading_frame.py): the prerendered HTML carries the script's text
# as written; the CSP allows it by its hash (http_security.py). A script React adds later, on a page reached
# in the app, does not run: the attribute from the first page load stays, which only ever hides the frame.
FRAME_CHECK = (
    "try{var s=window.localStorage;if(!s.getItem('gs_session')||(s.getItem('gs_lang')||'en')!='en')"
    "document.documentElement.setAttribute('data-gs-frame','off')}catch(e){"
    "document.documentElement.setAttribute('data-gs-frame','off')}"
)


def loading_frame(active: str, title: str, loading: str) -> rx.Component:
    """What a page with a frame shows until the server has confirmed the session: the same layout as the signed-in
    page (navigation, the page's header) with a status where the content will be. Nothing in it is private (no
    data, no name), so the prerendered HTML paints it at once instead of a blank page with a spinner. (The phone's
    bottom navigation of the frame is in the shell's dock, where the signed-in page's is.)"""
    return rx.fragment(
        rx.el.script(FRAME_CHECK),
        rx.flex(
            side_nav(active, with_user=False),
            _main(
                page_header(title),
                rx.flex(
                    rx.spinner(size="2"),
                    rx.text(t(loading), size="2", color=rx.color("gray", 11)),
                    role="status",
                    gap="2",
                    align="center",
                    padding_y="16px",
                ),
            ),
            width="100%",
            class_name="gs-frame",
        ),
        _spinner(class_name="gs-frame-off"),  # shown instead where FRAME_CHECK turned the frame off
    )


def _main(*children: rx.Component) -> rx.Component:
    """The page's main landmark (the skip link's target), the same in the loading frame and the signed-in page."""
    return rx.el.main(*children, id="main", flex="1", min_width="0", padding=MAIN_PADDING, max_width="1200px")


def _spinner(**props) -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="60vh", role="status", aria_label=t("Loading"), **props)


def shell(
    active: str,
    *children: rx.Component,
    allowed: rx.Var | None = None,
    frame: tuple[str, str] | None = None,
) -> rx.Component:
    """Wrap a signed-in page. Until the server has confirmed the session: a spinner, or with `frame` (the page's
    title, the words of its loading status) `loading_frame()`; a signed-out person gets the spinner on the way to
    sign-in. `allowed` (one of AppState's permission flags) replaces the page's content with `no_access()` for a
    role without it."""
    if allowed is not None:
        children = (rx.cond(allowed, rx.fragment(*children), no_access()),)
    waiting = _spinner() if frame is None else rx.cond(AppState.checked, _spinner(), loading_frame(active, *frame))
    # The frame's bottom navigation sits in the dock, where the signed-in page's will be.
    frame_nav = rx.fragment() if frame is None else rx.cond(
        AppState.checked, rx.fragment(), rx.box(bottom_nav(active, docked=True), class_name="gs-frame"))
    # The banners mount with the page, before the server has confirmed the session (AppState.checked): their join
    # re-checks the token itself and shows nothing to a signed-out client.
    banners = AppState.signed_in | ~AppState.checked
    return rx.box(
        rx.el.a(t("Skip to content"), href="#main", class_name="gs-skip"),
        connection_banner(),
        rx.cond(banners, pause_banner()),
        rx.cond(
            AppState.signed_in,
            rx.flex(
                side_nav(active),
                _main(*children),
                width="100%",
            ),
            waiting,
        ),
        rx.cond(banners, alert_space()),
        # The bottom dock: critical alerts above the phone's navigation. Fixed, so an alert that arrives after the
        # messages covers the foot of the page (alert_space keeps the last message reachable) instead of pushing
        # the list down under a finger about to tap. On a wide screen it starts after the side navigation.
        rx.box(
            rx.cond(banners, alert_banner()),
            rx.cond(AppState.signed_in, bottom_nav(active, docked=True), frame_nav),
            position="fixed",
            bottom="0",
            inset_inline_start=["0", "0", "220px"],
            inset_inline_end="0",
            z_index="20",
        ),
        dir=AppState.dir,
        lang=AppState.lang,
        min_height="100dvh",
        padding_top="env(safe-area-inset-top)",
    )


def not_built(what: str, issue: str) -> rx.Component:
    """An honest placeholder for a part of the product that is not built yet."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("construction", aria_hidden="true")),
        rx.callout.text(t(what)),
        rx.callout.text(t("Not built yet."), " ", issue, size="1", color=rx.color("gray", 11)),
        color_scheme="gray",
        role="note",
    )
