"""The sign-in parts of Admin → Users (rendered inside that page; AdminIdentityState holds them)."""

from __future__ import annotations

import reflex as rx

from govsocial_app.components.i18n import role_label, t
from govsocial_app.services.authz import ROLES
from govsocial_app.state.admin_identity import AdminIdentityState


def sign_in_cell(u) -> rx.Component:
    return rx.flex(
        rx.button(t("Reset two-factor"), variant="soft", size="1", min_height="44px",
                  aria_label=t("Reset two-factor") + " " + u["name"], on_click=AdminIdentityState.reset_two_factor(u["id"])),
        rx.button(t("Sign out everywhere"), variant="soft", color_scheme="red", size="1", min_height="44px",
                  aria_label=t("Sign out everywhere") + " " + u["name"], on_click=AdminIdentityState.revoke_sessions(u["id"])),
        gap="8px",
        wrap="wrap",
    )


def _check(name: str, label, checked) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, default_checked=checked, style={"width": "20px", "height": "20px"}),
        rx.text(label, size="2"),
        display="flex", gap="8px", align_items="center", min_height="44px",
    )


def sign_in_policy() -> rx.Component:
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading(t("Sign-in policy"), as_="h2", size="3"),
                rx.el.fieldset(
                    rx.el.legend(rx.text(t("Roles that must use two-factor sign-in"), size="2", weight="medium")),
                    rx.flex(*[_check(f"2fa_{r}", role_label(r), AdminIdentityState.two_factor_roles.contains(r)) for r in ROLES],
                            gap="16px", wrap="wrap"),
                    style={"border": "none", "padding": "0", "margin": "0"},
                ),
                rx.cond(
                    AdminIdentityState.sso_name != "",
                    rx.flex(
                        rx.el.fieldset(
                            rx.el.legend(rx.text(t("Password sign-in"), size="2", weight="medium")),
                            rx.el.label(rx.el.input(type="radio", name="password_mode", value="everyone",
                                                    default_checked=AdminIdentityState.password_mode == "everyone"),
                                        rx.text(t("Everyone"), size="2"), display="flex", gap="8px", align_items="center", min_height="44px"),
                            rx.el.label(rx.el.input(type="radio", name="password_mode", value="break_glass",
                                                    default_checked=AdminIdentityState.password_mode == "break_glass"),
                                        rx.text(t("Only break-glass admins (everyone else uses single sign-on)"), size="2"),
                                        display="flex", gap="8px", align_items="center", min_height="44px"),
                            style={"border": "none", "padding": "0", "margin": "0"},
                        ),
                        rx.el.fieldset(
                            rx.el.legend(rx.text(t("Break-glass admins"), size="2", weight="medium")),
                            rx.foreach(AdminIdentityState.admins,
                                       lambda a: _check("bg_" + a["id"], a["name"], AdminIdentityState.break_glass_ids.contains(a["id"]))),
                            style={"border": "none", "padding": "0", "margin": "0"},
                        ),
                        direction="column",
                        gap="2",
                    ),
                    rx.el.input(type="hidden", name="password_mode", value="everyone"),
                ),
                rx.button(t("Save sign-in policy"), type="submit", min_height="44px", align_self="start"),
                direction="column",
                gap="3",
            ),
            on_submit=AdminIdentityState.save_policy,
            reset_on_submit=False,
            # Rebuilt when the saved policy changes, so the default_checked boxes show it.
            key=AdminIdentityState.password_mode + AdminIdentityState.two_factor_roles.join(",") + AdminIdentityState.break_glass_ids.join(","),
        ),
        margin_top="12px",
    )
