"""Approvals: the approver's queue (approve or reject with a comment), admin bypass and review, and workflow set-up."""

import reflex as rx

from govsocial_app.state.app_state import AppState

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.pages.publish import publish_tabs
from govsocial_app.state.approvals import NOBODY_LEFT, STEPS_IN_FORM, ApprovalsState, ImageView, NetworkView, QueueView, WorkflowRow
from govsocial_app.state.publish import Option, SummaryView

ROUTE = "/publish/approvals"
TITLE = "Approvals · GovSocial"
ON_LOAD = ApprovalsState.load
TAP = "44px"
ROLE_CHOICES = (("none", "No role"), ("admin", "Admins"), ("manager", "Managers"), ("publisher", "Publishers"), ("responder", "Responders"))


def _network(n: NetworkView) -> rx.Component:
    return rx.box(
        rx.text(n.label, size="1", weight="bold", color=rx.color("gray", 11), dir="auto"),
        # Social content is in any language: each paragraph takes its own direction (Arabic right to left), whatever the page's.
        rx.foreach(n.paragraphs, lambda p: rx.text(p.text, white_space="pre-wrap", size="3", overflow_wrap="anywhere", margin_top="2px",
                                                   dir=p.dir, lang=p.lang, class_name="gs-approval-text")),
        rx.cond(n.note != "", rx.text(n.note, size="1", color=rx.color("gray", 11), margin_top="2px")),
        border_inline_start=f"3px solid {rx.color('accent', 7)}", padding_inline_start="10px", margin_y="10px",
    )


def _image(i: ImageView) -> rx.Component:
    return rx.el.figure(
        rx.image(src=i.url, alt=i.alt, width="100%", max_height="360px", object_fit="contain", border_radius="8px",
                 border=f"1px solid {rx.color('gray', 6)}", loading="lazy"),
        rx.el.figcaption(rx.text(i.caption, " ", rx.el.bdi(i.alt), size="1", color=rx.color("gray", 11))),
        margin="8px 0",
    )


def _post_card(q: QueueView, decide: bool) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.cond(q.held, rx.badge(t("Held: its time has passed"), color_scheme="orange")),
            rx.badge(q.workflow, variant="soft"),
            rx.badge(q.version, variant="outline", color_scheme="gray"),
            rx.text(q.when, size="1", color=rx.color("gray", 11)),
            gap="2", wrap="wrap", align="center",
        ),
        rx.text(q.step, size="1", color=rx.color("gray", 11), margin_top="4px"),
        rx.cond(q.changes != "", rx.callout(q.changes, icon="history", color_scheme="amber", size="1", margin_top="8px")),
        rx.text(t("What each network will receive"), as_="p", size="2", weight="bold", margin_top="10px"),
        rx.foreach(q.networks, _network),
        rx.foreach(q.images, _image),
        rx.el.details(
            rx.el.summary(t("Accessibility checklist"), min_height="44px", display="flex", align_items="center", cursor="pointer"),
            rx.foreach(q.checklist, lambda line: rx.text(line, size="1", dir="auto", class_name="gs-text")),
        ),
        rx.text(t("By"), " ", q.author, " · ", q.profiles, size="1", color=rx.color("gray", 11)),
        rx.cond(q.editors != "", rx.text(q.editors, size="1", color=rx.color("gray", 11))),
        rx.foreach(q.decisions, lambda d: rx.text("✓ ", d, size="1")),
        rx.cond(q.externals.length() > 0, rx.box(rx.text(t("External approvers:"), size="1", weight="bold"),
                                                  rx.foreach(q.externals, lambda e: rx.text(e, size="1")))),
        rx.cond(q.nobody_left, rx.callout(t(NOBODY_LEFT), icon="triangle_alert", color_scheme="red", size="1", margin_top="6px")),
        rx.cond(q.blocked != "", rx.callout(q.blocked, icon="info", color_scheme="gray", size="1", margin_top="6px")),
        rx.text(t("Content fingerprint"), " ", rx.code(q.fingerprint, size="1"), size="1", color=rx.color("gray", 10), margin_top="4px"),
        *([rx.box(
                rx.text_area(value=ApprovalsState.comments.get(q.id, ""), on_change=lambda v: ApprovalsState.set_comment(q.id, v),
                             placeholder=t("Comment (needed to reject)"), aria_label=t("Comment"), rows="2", margin_top="8px"),
                rx.flex(
                    rx.button(rx.icon("check", size=16, aria_hidden="true"), t("Approve"), color_scheme="green", on_click=ApprovalsState.decide(q.id, "approved"), min_height=TAP),
                    rx.button(rx.icon("x", size=16, aria_hidden="true"), t("Reject"), color_scheme="red", variant="soft", on_click=ApprovalsState.decide(q.id, "rejected"), min_height=TAP),
                    gap="2", margin_top="6px",
                ),
            )] if decide else []),
        rx.flex(
            *([] if decide else [rx.cond(AppState.can_bypass, rx.button(
                t("Publish past the workflow"), color_scheme="red", variant="outline", on_click=ApprovalsState.open_bypass(q.id), min_height=TAP))]),
            rx.cond(AppState.can_compose & (q.externals.length() > 0),
                    rx.button(t("Email the link again"), variant="ghost", on_click=ApprovalsState.resend_links(q.id), min_height=TAP)),
            gap="2", wrap="wrap", margin_top="6px",
        ),
    )


def _bypass_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("Publish past the workflow?")),
            rx.dialog.description(t("For emergencies only. The post goes out without the remaining approvals, is flagged for review, and the approvers are told. Your reason is kept in the audit log."), size="2"),
            rx.text_area(value=ApprovalsState.bypass_reason, on_change=ApprovalsState.set_bypass_reason, placeholder=t("Reason"),
                         aria_label=t("Reason"), rows="3", margin_top="8px"),
            rx.flex(
                rx.dialog.close(rx.button(t("Cancel"), variant="soft", color_scheme="gray", min_height=TAP)),
                rx.button(t("Publish past the workflow"), color_scheme="red", on_click=ApprovalsState.confirm_bypass, min_height=TAP),
                gap="2", justify="end", margin_top="12px",
            ),
            max_width="480px",
        ),
        open=ApprovalsState.bypass_id != "",
        on_open_change=ApprovalsState.close_bypass,
    )


def _flagged_row(s: SummaryView) -> rx.Component:
    return rx.flex(
        rx.box(rx.link(s.excerpt, href="/publish?post=" + s.id, size="2"), rx.text(s.meta, size="1", color=rx.color("gray", 11)), flex="1"),
        rx.button(t("Mark reviewed"), size="1", variant="soft", on_click=ApprovalsState.reviewed(s.id), min_height="36px"),
        gap="2", align="center", padding="6px 0",
    )


def _step_fields(i: int) -> rx.Component:
    return rx.flex(
        rx.text(t("Step"), " ", str(i), weight="bold", size="2"),
        rx.input(name=f"name{i}", placeholder=t("Step name"), aria_label=t("Step name"), min_height=TAP),
        rx.select.root(
            rx.select.trigger(aria_label=t("Any one or all"), min_height=TAP),
            rx.select.content(rx.select.item(t("Any one approver"), value="any"), rx.select.item(t("Every approver"), value="all")),
            name=f"mode{i}", default_value="any",
        ),
        rx.select.root(
            rx.select.trigger(aria_label=t("Approving role"), min_height=TAP),
            rx.select.content(*[rx.select.item(t(label), value=value) for value, label in ROLE_CHOICES]),
            name=f"role{i}", default_value="manager" if i == 1 else "none",
        ),
        rx.input(name=f"people{i}", placeholder=t("People (emails, comma-separated)"), aria_label=t("People"), min_height=TAP),
        rx.input(name=f"externals{i}", placeholder="Mayor's office <mayor@city.gov>", aria_label=t("External approvers"), min_height=TAP),
        gap="2", wrap="wrap", align="center",
    )


def _assignment(o: Option) -> rx.Component:
    return rx.flex(
        rx.text(o.label, size="2", min_width="160px"),
        rx.select.root(
            rx.select.trigger(aria_label=o.label, min_height=TAP),
            rx.select.content(rx.select.item(t("No approval needed"), value="none"),
                              rx.foreach(ApprovalsState.workflow_opts, lambda w: rx.select.item(w.label, value=w.value))),
            value=ApprovalsState.assigned.get(o.value, "none"),
            on_change=lambda v: ApprovalsState.assign(o.value, v),
        ),
        gap="2", align="center",
    )


def _workflow_row(w: WorkflowRow) -> rx.Component:
    return rx.flex(
        rx.box(rx.text(w.name, weight="bold", size="2"), rx.text(w.steps, size="1", color=rx.color("gray", 11)), flex="1"),
        rx.button(t("Archive"), size="1", variant="ghost", color_scheme="red", on_click=ApprovalsState.archive(w.id), min_height="36px"),
        gap="2", align="center", padding="6px 0",
    )


def _setup() -> rx.Component:
    return rx.card(
        rx.heading(t("Workflows"), as_="h2", size="3"),
        rx.foreach(ApprovalsState.workflows, _workflow_row),
        rx.el.details(
            rx.el.summary(t("New workflow"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
            rx.form(
                rx.flex(
                    rx.input(name="name", placeholder=t("Workflow name"), aria_label=t("Workflow name"), required=True, min_height=TAP),
                    *[_step_fields(i) for i in range(1, STEPS_IN_FORM + 1)],
                    rx.button(t("Save workflow"), type="submit", min_height=TAP),
                    direction="column", gap="2",
                ),
                on_submit=ApprovalsState.save_workflow,
                reset_on_submit=True,
            ),
            rx.cond(ApprovalsState.wf_error != "", rx.callout(ApprovalsState.wf_error, color_scheme="red", role="alert")),
        ),
        rx.heading(t("Which profiles need approval"), as_="h3", size="2", margin_top="12px"),
        rx.foreach(ApprovalsState.assignments, _assignment),
        rx.heading(t("User groups"), as_="h3", size="2", margin_top="12px"),
        rx.text(t("Every post written by a member of a group goes through the group's workflow."), size="1", color=rx.color("gray", 11)),
        rx.foreach(ApprovalsState.groups, lambda g: rx.text(rx.text.strong(g.name), " · ", g.steps, size="2")),
        rx.el.details(
            rx.el.summary(t("New user group"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
            rx.form(
                rx.flex(
                    rx.input(name="name", placeholder=t("Group name"), aria_label=t("Group name"), required=True, min_height=TAP),
                    rx.input(name="members", placeholder=t("People (emails, comma-separated)"), aria_label=t("People"), required=True, min_height=TAP),
                    rx.select.root(
                        rx.select.trigger(aria_label=t("Workflow"), min_height=TAP),
                        rx.select.content(rx.select.item(t("No approval needed"), value="none"),
                                          rx.foreach(ApprovalsState.workflow_opts, lambda w: rx.select.item(w.label, value=w.value))),
                        name="workflow", default_value="none",
                    ),
                    rx.button(t("Save group"), type="submit", min_height=TAP),
                    gap="2", wrap="wrap", align="center",
                ),
                on_submit=ApprovalsState.save_group,
                reset_on_submit=True,
            ),
        ),
        margin_top="16px",
    )


def page() -> rx.Component:
    return shell(
        "publish",
        page_header("Approvals"),
        publish_tabs("approvals"),
        rx.heading(t("Waiting for you"), as_="h2", size="4", margin_bottom="8px"),
        rx.cond(
            ApprovalsState.mine.length() > 0,
            rx.grid(rx.foreach(ApprovalsState.mine, lambda q: _post_card(q, True)), columns=rx.breakpoints(initial="1", md="2"), gap="3"),
            rx.text(t("Nothing is waiting for your approval."), size="2", color=rx.color("gray", 11)),
        ),
        rx.cond(
            ApprovalsState.blocked.length() > 0,
            rx.box(
                rx.heading(t("Waiting for others"), as_="h2", size="4", margin_y="12px"),
                rx.text(t("You would approve these, but you wrote or changed them, so someone else decides."), size="2",
                        color=rx.color("gray", 11), margin_bottom="8px"),
                rx.grid(rx.foreach(ApprovalsState.blocked, lambda q: _post_card(q, False)), columns=rx.breakpoints(initial="1", md="2"), gap="3"),
            ),
        ),
        rx.cond(
            AppState.can_bypass,
            rx.box(
                rx.heading(t("All posts awaiting approval"), as_="h2", size="4", margin_y="12px"),
                rx.grid(rx.foreach(ApprovalsState.others, lambda q: _post_card(q, False)), columns=rx.breakpoints(initial="1", md="2"), gap="3"),
                rx.cond(
                    ApprovalsState.flagged.length() > 0,
                    rx.card(rx.heading(t("Published past the workflow: review"), as_="h2", size="3"), rx.foreach(ApprovalsState.flagged, _flagged_row),
                            margin_top="12px"),
                ),
                _setup(),
            ),
        ),
        _bypass_dialog(),
    )
