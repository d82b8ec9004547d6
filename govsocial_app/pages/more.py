"""More: language, theme, the signed-in account, admin pages and sign-out."""

import reflex as rx
from reflex_base.style import set_color_mode

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.pages.login import language_switch
from govsocial_app.state.app_state import AppState

ROUTE = "/more"
TITLE = "More · GovSocial"
ON_LOAD = AppState.check_login


def _link_row(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(
        rx.flex(rx.icon(icon, size=18, aria_hidden="true"), rx.text(t(label)), rx.spacer(), rx.icon("chevron-right", size=16, aria_hidden="true"), align="center", gap="3"),
        href=href,
        underline="none",
        display="block",
        padding="12px",
        min_height="44px",
        border_radius="8px",
        _hover={"background": rx.color("gray", 3)},
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("More"),
        rx.flex(
            rx.card(
                rx.flex(
                    rx.avatar(fallback=AppState.user_initials, size="4", radius="full"),
                    rx.box(
                        rx.text(AppState.user_name, weight="bold"),
                        rx.text(AppState.user_email, size="2", color=rx.color("gray", 11), dir="ltr"),
                        rx.badge(AppState.user_role),
                    ),
                    gap="3",
                    align="center",
                ),
                _link_row("Change password", "/more/password", "key-round"),
                _link_row("Two-factor authentication", "/more/two-factor", "shield-check"),
                _link_row("Your sessions", "/more/sessions", "monitor-smartphone"),
            ),
            rx.card(
                rx.heading(t("Language"), as_="h2", size="3", margin_bottom="8px"),
                language_switch(),
            ),
            rx.card(
                rx.heading(t("Appearance"), as_="h2", size="3", margin_bottom="8px"),
                rx.flex(
                    rx.button(rx.icon("sun", size=16, aria_hidden="true"), t("Light"), variant="soft", on_click=[set_color_mode("light"), AppState.set_theme("light")], min_height="44px"),
                    rx.button(rx.icon("moon", size=16, aria_hidden="true"), t("Dark"), variant="soft", on_click=[set_color_mode("dark"), AppState.set_theme("dark")], min_height="44px"),
                    gap="2",
                ),
            ),
            rx.card(
                rx.heading(t("Settings"), as_="h2", size="3", margin_bottom="4px"),
                _link_row("Notifications", "/more/notifications", "bell-ring"),
                _link_row("Alert settings", "/alerts/settings", "siren"),
                _link_row("Brand keywords", "/more/keywords", "search"),
                _link_row("VIP lists", "/more/vips", "star"),
                _link_row("Inbox rules", "/more/rules", "workflow"),
                _link_row("Saved replies", "/more/saved-replies", "message-square-text"),
                _link_row("Teams and workload", "/more/teams", "users-round"),
                _link_row("Response targets", "/more/targets", "timer"),
                rx.cond(AppState.can_manage_profiles, _link_row("Profiles", "/more/profiles", "at-sign")),
                rx.cond(AppState.can_manage_users, _link_row("Users", "/admin/users", "users")),
                rx.cond(AppState.can_manage_settings, _link_row("Official alerts", "/admin/cap", "siren")),
                rx.cond(AppState.can_view_audit, _link_row("Audit log", "/admin/audit", "scroll-text")),
                rx.cond(AppState.can_records, _link_row("Records", "/more/records", "archive")),
                _link_row("Comment policy", "/more/policy", "scale"),
            ),
            rx.button(rx.icon("log-out", size=16, aria_hidden="true"), t("Sign out"), color_scheme="red", variant="soft", on_click=AppState.sign_out, min_height="44px", size="3"),
            direction="column",
            gap="3",
            max_width="560px",
        ),
    )
