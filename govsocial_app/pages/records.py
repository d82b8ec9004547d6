"""Records: legal holds, retention schedules, disposal proposals to approve, and public-records requests (records officers)."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.records import RecordsState

ROUTE = "/more/records"
TITLE = "Records · GovSocial"
ON_LOAD = RecordsState.load
TAP = "44px"


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(t(label), size="1"), control, display="flex", flex_direction="column", gap="1", min_width="140px", flex="1")


def _input(label: str, name: str, **kw) -> rx.Component:
    return _field(label, rx.input(name=name, aria_label=t(label), min_height=TAP, **kw))


def _choose(label: str, name: str, items, none_label: str = "Any") -> rx.Component:
    return _field(label, rx.select.root(
        rx.select.trigger(aria_label=t(label), min_height=TAP),
        rx.select.content(rx.select.item(t(none_label), value="none"), rx.foreach(items, lambda c: rx.select.item(c["label"], value=c["value"]))),
        name=name, default_value="none",
    ))


def _section(title: str, *children) -> rx.Component:
    return rx.card(rx.heading(t(title), as_="h2", size="4", margin_bottom="8px"), *children, width="100%")


# ---------------------------------------------------------------- holds


def _hold_row(h) -> rx.Component:
    return rx.box(
        rx.flex(rx.text(h["matter"], weight="bold"), rx.cond(h["released"] != "", rx.badge(t("Released"), color_scheme="gray"), rx.badge(t("Active"), color_scheme="red")), gap="2", wrap="wrap"),
        rx.text(h["scope"], size="1", color=rx.color("gray", 11), dir="auto"),
        rx.cond(
            h["released"] == "",
            rx.form(
                rx.flex(
                    rx.input(type="hidden", name="hold_id", value=h["id"]),
                    rx.input(name="reason", placeholder=t("Why it is released"), aria_label=t("Why it is released"), min_height=TAP, flex="1"),
                    rx.button(t("Release hold"), type="submit", variant="soft", min_height=TAP),
                    gap="2", wrap="wrap",
                ),
                on_submit=RecordsState.release_hold, reset_on_submit=True,
            ),
        ),
        padding_y="8px", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _holds() -> rx.Component:
    return _section(
        "Legal holds",
        rx.form(
            rx.flex(
                _input("Matter", "matter", placeholder="Smith v. City"),
                _input("Authors (comma-separated)", "authors"),
                _choose("Profile", "profile", RecordsState.profiles),
                _choose("Tag", "tag", RecordsState.tags),
                _choose("Saved search", "view", RecordsState.views, "None"),
                _input("From", "since", type="date"),
                _input("To", "until", type="date"),
                _input("Reason", "reason"),
                rx.button(t("Place hold"), type="submit", min_height=TAP),
                gap="2", wrap="wrap", align="end",
            ),
            on_submit=RecordsState.place_hold, reset_on_submit=True,
        ),
        rx.foreach(RecordsState.hold_rows, _hold_row),
    )


# ---------------------------------------------------------------- schedules and disposal


def _schedule_row(x) -> rx.Component:
    return rx.form(
        rx.flex(
            rx.input(type="hidden", name="record_type", value=x["type"]),
            rx.text(x["label"], weight="bold", min_width="140px", flex="1"),
            rx.input(name="years", type="number", min="1", max="100", default_value=x["years"], aria_label=t("Years to keep") + " " + x["label"], min_height=TAP, width="90px"),
            rx.el.label(rx.checkbox(name="year_end", default_checked=x["year_end"] == "yes", aria_label=t("after the end of the calendar year") + " " + x["label"]), rx.text(t("after the end of the calendar year"), size="2"), display="flex", gap="2", align_items="center", min_height=TAP),
            rx.button(t("Save"), type="submit", variant="soft", min_height=TAP, aria_label=t("Save schedule") + " " + x["label"]),
            gap="2", wrap="wrap", align="center",
        ),
        on_submit=RecordsState.set_schedule, padding_y="6px",
    )


def _proposal_row(p) -> rx.Component:
    return rx.flex(
        rx.box(rx.text("#", p["id"], " · ", p["at"], " · ", p["status"], weight="bold"), rx.text(p["counts"], size="1"), flex="1", min_width="0"),
        rx.cond(
            p["status"] == "proposed",
            rx.flex(
                rx.button(t("Approve disposal"), color_scheme="red", on_click=RecordsState.approve(p["id"]), min_height=TAP, aria_label=t("Approve disposal") + " #" + p["id"]),
                rx.button(t("Reject"), variant="soft", on_click=RecordsState.reject(p["id"]), min_height=TAP, aria_label=t("Reject") + " #" + p["id"]),
                gap="2",
            ),
        ),
        rx.cond(p["certificate"] != "", rx.button(t("Certificate"), variant="soft", on_click=RecordsState.download_certificate(p["certificate"]), min_height=TAP, aria_label=t("Certificate") + " #" + p["id"])),
        gap="2", wrap="wrap", align="center", padding_y="8px", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _retention() -> rx.Component:
    return _section(
        "Retention and disposal",
        rx.text(t("Nothing is destroyed until a records officer approves; records on hold are always kept."), size="2"),
        rx.foreach(RecordsState.schedule_rows, _schedule_row),
        rx.button(t("Find records past their schedule"), on_click=RecordsState.propose, variant="soft", min_height=TAP, margin_y="8px"),
        rx.foreach(RecordsState.proposal_rows, _proposal_row),
    )


# ---------------------------------------------------------------- requests


def _request_row(r) -> rx.Component:
    return rx.flex(
        rx.box(
            rx.text(r["requester"], weight="bold", dir="auto"),
            rx.text(t("Received"), " ", r["received"], " · ", t("Due"), " ", r["due"], " · ", r["status"], size="1"),
            flex="1", min_width="0",
        ),
        rx.button(t("Open"), variant="soft", on_click=RecordsState.open_request(r["id"]), min_height=TAP, aria_label=t("Open request") + " " + r["requester"]),
        gap="2", align="center", padding_y="8px", border_bottom=f"1px solid {rx.color('gray', 5)}",
    )


def _preview_row(p) -> rx.Component:
    return rx.box(
        rx.text("#", p["id"], " · ", p["network"], " · ", p["author"], " · ", p["when"], size="1", color=rx.color("gray", 11)),
        rx.text(p["text"], size="2", dir="auto"),
        padding_y="6px", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _redaction_row(x) -> rx.Component:
    return rx.flex(
        rx.text(x["kind"], " · ", x["reason"], " ", x["selection"], " ", x["record"], size="2", flex="1", dir="auto"),
        rx.button(t("Remove"), variant="soft", on_click=RecordsState.remove_redaction(x["id"]), min_height=TAP, aria_label=t("Remove redaction") + " " + x["id"]),
        gap="2", align="center",
    )


def _selected_request() -> rx.Component:
    return rx.box(
        rx.heading(t("Request"), " #", RecordsState.selected, as_="h3", size="3", margin_top="12px"),
        rx.text(t("Matching records"), ": ", RecordsState.preview_total, size="2"),
        rx.foreach(RecordsState.preview, _preview_row),
        rx.heading(t("Redactions (export copy only)"), as_="h3", size="3", margin_top="12px"),
        rx.form(
            rx.flex(
                _field("Redact", rx.select.root(
                    rx.select.trigger(aria_label=t("Redact"), min_height=TAP),
                    rx.select.content(rx.select.item(t("Email addresses"), value="emails"), rx.select.item(t("Phone numbers"), value="phones"), rx.select.item(t("Selected text"), value="text")),
                    name="kind", default_value="emails",
                )),
                _field("Reason code", rx.select.root(
                    rx.select.trigger(aria_label=t("Reason code"), min_height=TAP),
                    rx.select.content(rx.foreach(RecordsState.reason_codes, lambda c: rx.select.item(c, value=c))),
                    name="reason", default_value="personal_privacy",
                )),
                _input("Selected text", "selection"),
                _input("Record number (empty: all)", "record", input_mode="numeric"),
                rx.button(t("Add redaction"), type="submit", min_height=TAP),
                gap="2", wrap="wrap", align="end",
            ),
            on_submit=RecordsState.add_redaction, reset_on_submit=True,
        ),
        rx.foreach(RecordsState.redactions, _redaction_row),
        rx.flex(
            rx.button(rx.cond(RecordsState.exporting, t("Exporting…"), t("Export ZIP")), on_click=RecordsState.export_request, loading=RecordsState.exporting, min_height=TAP),
            rx.button(rx.icon("download", size=16, aria_hidden="true"), t("Download export"), variant="soft", on_click=RecordsState.download_export, min_height=TAP),
            rx.button(t("Mark produced"), variant="soft", on_click=RecordsState.set_request_status("produced"), min_height=TAP),
            rx.button(t("Close request"), variant="soft", on_click=RecordsState.set_request_status("closed"), min_height=TAP),
            gap="2", wrap="wrap", margin_top="12px",
        ),
    )


def _requests() -> rx.Component:
    return _section(
        "Public-records requests",
        rx.form(
            rx.flex(
                _input("Requester", "requester"),
                _input("Contact", "contact", type="email"),
                _input("Date received", "received", type="date"),
                _choose("Saved search (scope)", "view", RecordsState.views, "Every record"),
                rx.button(t("Record request"), type="submit", min_height=TAP),
                gap="2", wrap="wrap", align="end",
            ),
            on_submit=RecordsState.create_request, reset_on_submit=True,
        ),
        rx.foreach(RecordsState.request_rows, _request_row),
        rx.cond(RecordsState.selected != "", _selected_request()),
    )


def page() -> rx.Component:
    return shell(
        "more",
        page_header("Records"),
        rx.cond(RecordsState.notice != "", rx.callout(RecordsState.notice, icon="info", margin_bottom="8px", role="status")),
        rx.flex(_holds(), _retention(), _requests(), direction="column", gap="3", max_width="900px"),
        allowed=AppState.can_records,
    )
