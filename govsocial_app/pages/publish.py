"""Publish: the composer (profiles, text, per-network variants and previews, images with alt text), and what needs attention."""

import reflex as rx

from govsocial_app.components.i18n import t
from govsocial_app.components.layout import page_header, shell
from govsocial_app.state.app_state import AppState
from govsocial_app.components.emergency import checklist_panel, emergency_panel, follow_up_callout, published_warning
from govsocial_app.state.publish import CountView, MediaView, Option, ProfileOpt, PublishState, SuggestView, SummaryView

ROUTE = "/publish"
TITLE = "Publish · GovSocial"
ON_LOAD = PublishState.load
TAP = "44px"
UPLOAD_ID = "composer-images"


def _label(text: str, *children, **props) -> rx.Component:
    return rx.el.label(rx.text(t(text), size="2", weight="medium"), *children, display="flex", flex_direction="column", gap="4px", **props)


def publish_tabs(active: str) -> rx.Component:
    """Composer, calendar and approvals: the three rooms of publishing."""
    def tab(key: str, label: str, href: str, icon: str) -> rx.Component:
        on = key == active
        return rx.link(
            rx.flex(rx.icon(icon, size=16, aria_hidden="true"), t(label), gap="2", align="center"),
            href=href, underline="none", aria_current="page" if on else None, padding="8px 12px", min_height=TAP,
            display="flex", align_items="center", border_radius="8px",
            background=rx.color("accent", 4) if on else "transparent", color=rx.color("accent", 11) if on else rx.color("gray", 11),
        )

    return rx.flex(
        tab("compose", "Compose", "/publish", "pen-line"),
        tab("calendar", "Calendar", "/publish/calendar", "calendar-days"),
        tab("approvals", "Approvals", "/publish/approvals", "badge-check"),
        gap="1", wrap="wrap", role="navigation", aria_label=t("Publishing"), margin_bottom="8px",
    )


def _profile_chip(p: ProfileOpt) -> rx.Component:
    return rx.el.label(
        rx.checkbox(checked=PublishState.selected.contains(p.id), on_change=lambda _v: PublishState.toggle_profile(p.id),
                    aria_label=p.label + " (" + p.network_label + ")"),
        rx.text(p.label, size="2", weight="medium"),
        rx.badge(p.network_label, variant="soft", size="1"),
        display="flex", gap="8px", align_items="center", padding="8px 12px", min_height=TAP, cursor="pointer",
        border=f"1px solid {rx.color('gray', 6)}", border_radius="999px",
    )


def _counter(c: CountView) -> rx.Component:
    return rx.badge(
        c.label, ": ", c.used, " / ", c.limit,
        color_scheme=rx.cond(c.over, "red", "gray"), variant=rx.cond(c.over, "solid", "soft"), size="2",
    )


def _variant(n: Option) -> rx.Component:
    return _label(
        "Text for this network",
        rx.text(n.label, size="1", color=rx.color("gray", 11)),
        rx.text_area(
            value=PublishState.variants.get(n.value, ""), on_change=lambda v: PublishState.set_variant(n.value, v),
            placeholder=t("Leave empty to use the main text"), rows="3", aria_label=n.label,
        ),
    )


def _media_row(m: MediaView) -> rx.Component:
    return rx.flex(
        rx.icon("image", size=28, aria_hidden="true", color=rx.color("gray", 11)),
        rx.box(
            rx.text(m.name, " · ", m.size, size="1", color=rx.color("gray", 11)),
            rx.el.label(
                rx.text(t("Alt text (required)"), size="2", weight="medium"),
                rx.input(value=m.alt, on_change=lambda v: PublishState.set_alt(m.id, v),
                         placeholder=t("Describe the image for people who cannot see it"), min_height=TAP,
                         color_scheme=rx.cond(m.alt == "", "red", "gray")),
                display="flex", flex_direction="column", gap="2px",
            ),
            flex="1",
        ),
        rx.icon_button(rx.icon("x", size=16), variant="ghost", on_click=PublishState.remove_media(m.id), aria_label=t("Remove image"),
                       min_width=TAP, min_height=TAP),
        gap="3", align="center", padding="8px 0",
    )


def _labelled_upload(label, *children, **props) -> rx.Component:
    """rx.upload with a name on its file input too: react-dropzone's input is only visually hidden, so a screen
    reader meets it, and without a name it is an unlabelled field (axe: label, critical). rx.upload has no prop
    for the input, so the name goes on the Input it builds."""
    upload = rx.upload(*children, **props)
    zone = upload.children[0]
    file_input = zone.children[0]
    file_input.custom_attrs["aria-label"] = label
    return upload


def _images() -> rx.Component:
    return rx.box(
        rx.text(t("Images"), size="2", weight="medium"),
        rx.foreach(PublishState.media, _media_row),
        _labelled_upload(
            t("Attach images"),
            rx.button(rx.icon("image-plus", size=16, aria_hidden="true"), t("Attach images"), variant="soft", min_height=TAP, type="button"),
            id=UPLOAD_ID,
            accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/gif": [".gif"], "image/webp": [".webp"]},
            multiple=True,
            max_files=10,
            on_drop=PublishState.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
            border="none", padding="0",
        ),
        rx.text(t("Images stay private until the post is published."), size="1", color=rx.color("gray", 11)),
    )


def _preview(c: CountView) -> rx.Component:
    return rx.card(
        rx.flex(rx.text(c.label, weight="bold", size="2"), rx.spacer(), _counter(c), align="center"),
        rx.text(rx.cond(c.preview != "", c.preview, t("(empty)")), white_space="pre-wrap", size="2", margin_top="6px"),
        rx.cond(PublishState.media.length() > 0, rx.text(t("Images"), ": ", PublishState.media.length(), size="1", color=rx.color("gray", 11))),
    )


def _suggestion(sv: SuggestView) -> rx.Component:
    return rx.button(sv.label, variant="outline", size="2", min_height=TAP, on_click=PublishState.use_suggestion(sv.day, sv.time))


def _when() -> rx.Component:
    return rx.box(
        rx.flex(
            _label("Date", rx.input(type="date", value=PublishState.day, on_change=PublishState.set_day, min_height=TAP)),
            _label("Time", rx.input(type="time", value=PublishState.time, on_change=PublishState.set_time, min_height=TAP)),
            rx.button(rx.icon("sparkles", size=16, aria_hidden="true"), t("Suggest a time"), variant="soft", on_click=PublishState.suggest,
                      min_height=TAP, type="button"),
            gap="2", wrap="wrap", align="end",
        ),
        rx.text(t("Times are in your time zone:"), " ", AppState.user_tz, size="1", color=rx.color("gray", 11)),
        rx.cond(
            PublishState.suggest_text != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("sparkles", aria_hidden="true")),
                rx.callout.text(PublishState.suggest_text, size="2"),
                rx.flex(rx.foreach(PublishState.suggestions, _suggestion), gap="2", wrap="wrap"),
                margin_top="8px", color_scheme="indigo", id="gs-suggest",
            ),
        ),
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.button(rx.icon("send", size=16, aria_hidden="true"), t("Post now"), on_click=PublishState.post_now, min_height=TAP, size="3"),
        rx.button(rx.icon("calendar-clock", size=16, aria_hidden="true"), t("Schedule"), on_click=PublishState.schedule, variant="soft", min_height=TAP, size="3"),
        rx.button(rx.icon("list-plus", size=16, aria_hidden="true"), t("Add to queue"), on_click=PublishState.add_to_queue, variant="soft", min_height=TAP, size="3"),
        rx.button(rx.icon("save", size=16, aria_hidden="true"), t("Save draft"), on_click=PublishState.save_draft, variant="outline", min_height=TAP, size="3"),
        rx.cond(PublishState.post_id > 0, rx.button(t("Discard"), on_click=PublishState.discard, variant="ghost", color_scheme="red", min_height=TAP)),
        gap="2", wrap="wrap",
    )


def composer() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.flex(
                rx.heading(rx.cond(PublishState.post_id > 0, t("Edit post"), t("New post")), " ", PublishState.editing_label, as_="h2", size="4"),
                rx.cond(PublishState.post_status != "", rx.badge(PublishState.post_status_label)),
                rx.spacer(),
                rx.cond(PublishState.post_id > 0, rx.button(t("New post"), variant="ghost", on_click=PublishState.new_post, min_height=TAP)),
                align="center", gap="2",
            ),
            rx.cond(PublishState.post_note != "", rx.callout(PublishState.post_note, icon="info", color_scheme="amber")),
            follow_up_callout(),
            rx.box(
                rx.text(t("Post to"), size="2", weight="medium"),
                rx.flex(rx.foreach(PublishState.profiles, _profile_chip), gap="2", wrap="wrap", role="group", aria_label=t("Post to")),
            ),
            _label(
                "Post text",
                rx.text_area(value=PublishState.text, on_change=PublishState.set_text.debounce(250), rows="5", id="gs-post-text",
                             placeholder=t("What do you want to tell the public?")),
            ),
            rx.flex(rx.foreach(PublishState.counts, _counter), gap="2", wrap="wrap", aria_live="polite", id="gs-counters"),
            emergency_panel(),
            checklist_panel(),
            rx.cond(
                PublishState.selected_networks.length() > 0,
                rx.el.details(
                    rx.el.summary(t("Different text for one network"), min_height=TAP, display="flex", align_items="center", cursor="pointer"),
                    rx.flex(rx.foreach(PublishState.selected_networks, _variant), direction="column", gap="3"),
                ),
            ),
            _label("Link", rx.input(value=PublishState.link, on_change=PublishState.set_link.debounce(300), type="url",
                                    placeholder="https://", min_height=TAP)),
            _images(),
            _label(
                "Campaign",
                rx.select.root(
                    rx.select.trigger(min_height=TAP, aria_label=t("Campaign")),
                    rx.select.content(rx.select.item(t("No campaign"), value="none"),
                                      rx.foreach(PublishState.campaign_opts, lambda o: rx.select.item(o.label, value=o.value))),
                    value=PublishState.campaign, on_change=PublishState.set_campaign,
                ),
            ),
            _when(),
            rx.cond(
                PublishState.issues.length() > 0,
                rx.callout.root(
                    rx.callout.icon(rx.icon("triangle-alert", aria_hidden="true")),
                    rx.el.ul(rx.foreach(PublishState.issues, lambda i: rx.el.li(i)), margin="0", padding_inline_start="18px"),
                    color_scheme="red", role="alert", id="gs-issues",
                ),
            ),
            _actions(),
            published_warning(),
            rx.cond(
                PublishState.ext_waiting & AppState.can_compose,
                rx.button(t("Email the link again to external approvers"), variant="ghost", on_click=PublishState.resend_links, min_height=TAP),
            ),
            direction="column",
            gap="3",
        ),
    )


def _summary_row(s: SummaryView, actions: bool) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.badge(s.status_label, color_scheme=rx.match(s.status, ("failed", "red"), ("held", "amber"), ("published", "green"), "gray")),
            rx.text(s.meta, size="1", color=rx.color("gray", 11)),
            gap="2", align="center", wrap="wrap",
        ),
        rx.link(s.excerpt, href="/publish?post=" + s.id, size="2"),
        rx.cond(s.reason != "", rx.text(s.reason, size="1", color=rx.color("amber", 11))),
        rx.cond(
            actions,
            rx.flex(
                rx.cond(
                    s.status == "failed",
                    rx.button(t("Try again"), size="1", on_click=PublishState.retry(s.id), min_height="36px"),
                    rx.fragment(
                        rx.button(t("Publish now"), size="1", on_click=PublishState.held_choice(s.id, "publish_now"), min_height="36px"),
                        rx.button(t("Keep as draft"), size="1", variant="soft", on_click=PublishState.held_choice(s.id, "draft"), min_height="36px"),
                        rx.link(rx.button(t("Reschedule"), size="1", variant="soft", min_height="36px"), href="/publish/calendar?post=" + s.id),
                    ),
                ),
                gap="2", wrap="wrap", margin_top="4px",
            ),
        ),
        padding="8px 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def page() -> rx.Component:
    return shell(
        "publish",
        page_header("Publish"),
        publish_tabs("compose"),
        rx.cond(
            PublishState.attention.length() > 0,
            rx.card(
                rx.heading(t("Needs attention"), as_="h2", size="3"),
                rx.foreach(PublishState.attention, lambda s: _summary_row(s, AppState.can_compose)),
                margin_bottom="12px", id="gs-attention",
            ),
        ),
        rx.grid(
            rx.cond(AppState.can_compose, composer(),
                    rx.callout(t("Your role can read the calendar but not write posts."), icon="info")),
            rx.flex(
                rx.heading(t("Preview"), as_="h2", size="3"),
                rx.cond(PublishState.counts.length() > 0, rx.foreach(PublishState.counts, _preview),
                        rx.text(t("Choose profiles to see how the post will look on each network."), size="2", color=rx.color("gray", 11))),
                rx.heading(t("Recent posts"), as_="h2", size="3", margin_top="12px"),
                rx.foreach(PublishState.recent, lambda s: _summary_row(s, False)),
                direction="column", gap="2",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            gap="4",
        ),
    )
