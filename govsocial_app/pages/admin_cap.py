"""Admin: official alert sources (CAP feeds) with their status, the jurisdiction boundary and thresholds, and the
accessibility checks that block publishing."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.pages.publish import _labelled_upload
from govsocial_app.state.admin_cap import CapAdminState

ROUTE = "/admin/cap"
TITLE = "Official alerts · GovSocial"
ON_LOAD = CapAdminState.load
TAP = "44px"
UPLOAD_ID = "cap-boundary"


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(t(label), size="1"), control, display="flex", flex_direction="column", gap="2px", flex="1", min_width="160px")


def _select(label: str, name: str, options, default: str) -> rx.Component:
    return _field(label, rx.select.root(
        rx.select.trigger(aria_label=t(label), min_height=TAP, width="100%"),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o, value=o))),
        name=name, default_value=default,
    ))


def _source(s) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.text(s["name"], weight="bold"),
            rx.badge(s["status_label"], color_scheme=rx.match(s["status"], ("error", "red"), ("new", "gray"), "green")),
            rx.spacer(),
            rx.text(s["polled"], size="1", color=rx.color("gray", 11)),
            gap="2", align="center", wrap="wrap",
        ),
        rx.text(s["url"], size="1", color=rx.color("gray", 11), dir="ltr", class_name="gs-text", word_break="break-all"),
        rx.text(t("Every"), " ", s["interval"], " s", size="1"),
        rx.cond(s["message"] != "", rx.text(s["message"], size="1", color=rx.color("red", 11), class_name="gs-text", white_space="pre-wrap")),
        rx.flex(
            rx.button(rx.cond(s["enabled"] == "yes", t("Pause polling"), t("Resume polling")), variant="soft", size="2", min_height=TAP,
                      on_click=CapAdminState.toggle_source(s["id"], s["enabled"]), aria_label=t("Pause or resume") + " " + s["name"]),
            rx.button(t("Remove"), variant="ghost", color_scheme="red", size="2", min_height=TAP,
                      on_click=CapAdminState.remove_source(s["id"]), aria_label=t("Remove") + " " + s["name"]),
            gap="2", margin_top="4px",
        ),
        list_style="none", padding="8px 0", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _add_source() -> rx.Component:
    return rx.form(
        rx.flex(
            _field("Name", rx.input(name="name", required=True, min_height=TAP)),
            _field("Feed address (Atom, RSS or one CAP document)", rx.input(name="url", type="url", required=True, min_height=TAP, dir="ltr")),
            _field("Polling interval (seconds)", rx.input(name="interval", type="number", min="5", max="3600", default_value="60", min_height=TAP)),
            _field("Other hosts its entries may link to", rx.input(name="hosts", min_height=TAP, dir="ltr")),
            rx.button(t("Add source"), type="submit", min_height=TAP),
            gap="2", wrap="wrap", align="end",
        ),
        on_submit=CapAdminState.add_source, reset_on_submit=True,
    )


def _boundary() -> rx.Component:
    return rx.box(
        rx.cond(CapAdminState.jurisdiction != "", rx.text(CapAdminState.jurisdiction, size="2"),
                rx.text(t("No jurisdiction yet: official alerts are stored but not raised."), size="2", color=rx.color("amber", 11))),
        rx.form(
            rx.flex(
                _field("Name", rx.input(name="name", min_height=TAP)),
                _select("Lowest severity", "severity", CapAdminState.severities, "Moderate"),
                _select("Lowest urgency", "urgency", CapAdminState.urgencies, "Expected"),
                _select("Lowest certainty", "certainty", CapAdminState.certainties, "Likely"),
                gap="2", wrap="wrap", align="end",
            ),
            _field("Boundary (GeoJSON)", rx.text_area(name="geojson", rows="4", dir="ltr", required=True)),
            rx.button(t("Save jurisdiction"), type="submit", min_height=TAP, margin_top="6px"),
            on_submit=CapAdminState.save_boundary_text, reset_on_submit=False, margin_top="8px",
        ),
        _labelled_upload(
            t("Upload a GeoJSON file"),
            rx.button(rx.icon("upload", size=16, aria_hidden="true"), t("Upload a GeoJSON file"), variant="soft", min_height=TAP, type="button"),
            id=UPLOAD_ID, accept={"application/geo+json": [".geojson"], "application/json": [".json"]}, multiple=False, max_files=1,
            on_drop=CapAdminState.upload_boundary(rx.upload_files(upload_id=UPLOAD_ID)), border="none", padding="0", margin_top="6px",
        ),
    )


def _blocking() -> rx.Component:
    return rx.flex(
        rx.foreach(CapAdminState.checks, lambda c: rx.el.label(
            rx.checkbox(checked=CapAdminState.blocking.contains(c["key"]), on_change=lambda _v: CapAdminState.toggle_blocking(c["key"]),
                        aria_label=c["title"]),
            rx.text(c["title"], size="2"),
            display="flex", gap="8px", align_items="center", min_height=TAP, cursor="pointer",
        )),
        direction="column",
    )


def _twin_mode(row) -> rx.Component:
    return rx.el.li(
        rx.el.fieldset(
            rx.el.legend(row["label"], style={"fontWeight": "500", "padding": "0"}),
            rx.radio_group.root(
                rx.flex(
                    rx.el.label(rx.radio_group.item(value="combined", aria_label=row["label"] + ": " + t("One combined post")),
                                rx.text(t("One combined post"), size="2"),
                                display="flex", gap="8px", align_items="center", min_height=TAP, cursor="pointer"),
                    rx.el.label(rx.radio_group.item(value="separate", aria_label=row["label"] + ": " + t("Separate posts, one per language")),
                                rx.text(t("Separate posts, one per language"), size="2"),
                                display="flex", gap="8px", align_items="center", min_height=TAP, cursor="pointer"),
                    direction="row", wrap="wrap", column_gap="16px",
                ),
                value=row["mode"], on_change=lambda mode: CapAdminState.set_twin_mode(row["network"], mode),
            ),
            border="none", padding="0", margin="0",
        ),
        list_style="none", padding="4px 0", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _twin_modes() -> rx.Component:
    return rx.box(
        rx.text(t("An English and Arabic post can go out as one post carrying both, or as one post per language, each with the "
                  "network's whole length. Both are approved together either way."), size="2", color=rx.color("gray", 11)),
        rx.el.ul(rx.foreach(CapAdminState.twin_modes, _twin_mode), padding="0", margin="8px 0 0",
                 aria_label=t("Bilingual posts on each network")),
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Official alerts"),
        rx.cond(CapAdminState.error != "", rx.callout(CapAdminState.error, color_scheme="red", icon="triangle-alert", role="alert", margin_bottom="8px")),
        rx.cond(CapAdminState.notice != "", rx.callout(CapAdminState.notice, color_scheme="green", icon="check", role="status", margin_bottom="8px")),
        rx.card(rx.heading(t("Alert sources"), as_="h2", size="3", margin_bottom="8px"), _add_source(),
                rx.el.ul(rx.foreach(CapAdminState.sources, _source), padding="0", margin="8px 0 0", aria_label=t("Alert sources"))),
        rx.card(rx.heading(t("Jurisdiction"), as_="h2", size="3", margin_bottom="8px"), _boundary(), margin_top="12px"),
        rx.card(rx.heading(t("Accessibility checks that block publishing"), as_="h2", size="3", margin_bottom="8px"), _blocking(), margin_top="12px"),
        rx.card(rx.heading(t("Bilingual posts on each network"), as_="h2", size="3", margin_bottom="8px"), _twin_modes(), margin_top="12px",
                id="gs-twin-modes"),
        allowed=AppState.can_manage_settings,
    )
