"""Composer state: one post to several profiles, per-network variants, live counters and previews, images with alt text."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import reflex as rx

from govsocial_app.services import timefmt
from govsocial_app.services.publishing import actions, approval_external, campaigns, composer, pause, slots, views
from govsocial_app.services.authz import can
from govsocial_app.services.cap import emergency
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing.composer import ComposerInput, MediaRef
from govsocial_app.services.timefmt import zone
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState

STATUS_LABELS = {
    "draft": "Draft", "pending_approval": "Awaiting approval", "scheduled": "Scheduled", "queued": "Queued",
    "publishing": "Publishing", "published": "Published", "failed": "Failed", "held": "Held",
}
MAX_MEDIA = 10
UNCERTAIN = {
    "unknown": "{handle}: checking with the network whether this was published; it will not be sent twice",
    "check": "{handle}: we could not confirm whether this was published. Look on the network before trying again",
}
LANGUAGE_NAMES = {"en": "English", "ar": "العربية"}  # each language named in itself, as the language switch does


@dataclasses.dataclass
class ProfileOpt:
    id: str = ""
    label: str = ""
    handle: str = ""
    network: str = ""
    network_label: str = ""


@dataclasses.dataclass
class CountView:
    network: str = ""
    label: str = ""
    used: int = 0
    limit: int = 0
    over: bool = False
    preview: str = ""


@dataclasses.dataclass
class MediaView:
    id: str = ""
    name: str = ""
    size: str = ""
    alt: str = ""


@dataclasses.dataclass
class Option:
    value: str = ""
    label: str = ""


@dataclasses.dataclass
class SuggestView:
    label: str = ""
    day: str = ""
    time: str = ""


@dataclasses.dataclass
class SummaryView:
    id: str = ""
    status: str = ""
    status_label: str = ""
    excerpt: str = ""
    when: str = ""
    profiles: str = ""
    reason: str = ""
    meta: str = ""


@dataclasses.dataclass
class LangCountView:
    language: str = ""
    direction: str = "ltr"
    label: str = ""
    used: int = 0
    limit: int = 0
    over: bool = False
    preview: str = ""  # that language's text as it goes out on the network, in the network's mode
    mode: str = ""  # "combined" (the shared budget of one post) or "separate" (its own post, the whole limit)


@dataclasses.dataclass
class CheckView:
    key: str = ""
    language: str = ""
    status: str = ""  # pass, fail, n/a
    title: str = ""
    message: str = ""
    blocking: bool = False


@dataclasses.dataclass
class TMView:
    source: str = ""
    target: str = ""
    score: str = ""


def size_label(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{max(1, round(n / 1000))} KB"


def summary_view(p: views.PostSummary, tz_name: str, translate) -> SummaryView:
    when = p.when.astimezone(zone(tz_name)).strftime("%Y-%m-%d %H:%M") if p.when else ""
    profiles = ", ".join(p.profiles)
    # Fixed reasons (held, not sent) are catalogue entries; free text (a rejection's comment) comes back as it is.
    return SummaryView(str(p.id), p.status, translate(STATUS_LABELS.get(p.status, p.status)), p.excerpt, when, profiles, translate(p.reason),
                       " · ".join(x for x in (when, profiles) if x))


class PublishState(AppState):
    profiles: list[ProfileOpt] = []
    selected: list[str] = []
    text: str = ""
    link: str = ""
    variants: dict[str, str] = {}
    counts: list[CountView] = []
    media: list[MediaView] = []
    campaign: str = "none"
    campaign_opts: list[Option] = []
    day: str = ""
    time: str = ""
    issues: list[str] = []
    post_id: int = 0
    post_status: str = ""
    post_status_label: str = ""  # set with post_status, in the reader's language (a computed var reading `lang` would load this state on every page's events)
    post_note: str = ""
    suggestions: list[SuggestView] = []
    suggest_text: str = ""
    attention: list[SummaryView] = []
    recent: list[SummaryView] = []
    uploading: bool = False
    ext_waiting: bool = False  # the post waits on a step with external approvers
    # ---- emergency posts (cap-wire): the official alert, its expiry, the Arabic version, the checklist
    cap_alert_id: int = 0
    second_text: str = ""
    expires_label: str = ""
    lang_counts: list[LangCountView] = []
    checklist: list[CheckView] = []
    tm_suggestions: list[TMView] = []
    follow_up: str = ""  # "", "update", "cancel": the official alert changed after this post went out
    is_emergency: bool = False  # a saved emergency post: once published, its CAP warning can be corrected or withdrawn
    withdrawn: bool = False
    withdraw_note: str = ""

    # ---------------------------------------------------------------- derived

    @rx.var
    def selected_networks(self) -> list[Option]:
        by_id = {p.id: p for p in self.profiles}
        seen: dict[str, str] = {}
        for pid in self.selected:
            if pid in by_id:
                seen.setdefault(by_id[pid].network, by_id[pid].network_label)
        return [Option(n, label) for n, label in seen.items()]

    @rx.var
    def editing_label(self) -> str:
        return f"#{self.post_id}" if self.post_id else ""

    # ---------------------------------------------------------------- helpers

    def _networks(self) -> list[str]:
        by_id = {p.id: p.network for p in self.profiles}
        return [by_id[p] for p in self.selected if p in by_id]

    def _input(self) -> ComposerInput:
        return ComposerInput(
            text=self.text, link=self.link.strip(), profile_ids=[int(p) for p in self.selected],
            variants={k: v for k, v in self.variants.items() if v.strip()},
            media=[MediaRef(int(m.id), m.alt) for m in self.media],
            campaign_id=int(self.campaign) if self.campaign.isdigit() else None,
        )

    def _recount(self) -> None:
        self.counts = [CountView(c.network, c.label, c.used, c.limit, c.over, c.preview) for c in composer.counters(self._input(), self._networks())]
        self._recheck()

    # ---------------------------------------------------------------- emergency posts (services/cap/emergency.py)

    def _texts(self) -> dict[str, str]:
        return {"en": self.text, "ar": self.second_text} if self.second_text.strip() else {"en": self.text}

    def _recheck(self) -> None:
        """Counters per language and the accessibility checklist (each language), recomputed as the author types."""
        texts = self._texts()
        if len(texts) > 1:
            modes = {"combined": self._("one combined post"), "separate": self._("its own post")}
            self.lang_counts = [
                LangCountView(c.language, c.direction, f"{LANGUAGE_NAMES.get(c.language, c.language)} · "
                              f"{views.network_label(c.network)} ({modes[c.mode]})", c.used, c.limit, c.over, c.preview, c.mode)
                for c in emergency.language_counts(texts, self.link.strip(), self._networks())
            ]
        else:
            self.lang_counts = []
        from govsocial_app.services.cap.accessibility import TITLES

        blocking = set(emergency.blocking_items())
        checks = emergency.checklists({k: v for k, v in texts.items() if v.strip()}, [m.alt for m in self.media])
        self.checklist = [
            CheckView(item.key, lang, item.status, self._(TITLES[item.key]), self._(item.msgid, **item.params), item.key in blocking)
            for lang, checklist in checks.items() for item in checklist.items
        ]

    def _open_emergency(self, post_id: int) -> None:
        em = emergency.view(post_id)
        self.is_emergency, self.withdrawn, self.withdraw_note = em is not None, bool(em and em.withdrawn), ""
        if em is None:
            self.cap_alert_id, self.second_text, self.expires_label, self.follow_up = 0, "", "", ""
            return
        self.cap_alert_id, self.second_text, self.follow_up = em.cap_alert_id or 0, em.second_text, em.follow_up
        self.expires_label = em.expires.astimezone(zone(self.user_tz)).strftime("%Y-%m-%d %H:%M") if em.expires else ""

    def _open_alert(self, cap_alert_id: int) -> None:
        """One tap on an official alert: the draft per language, its link and its expiry."""
        draft = emergency.draft_for_alert(self._require("publish.compose"), cap_alert_id)
        self.cap_alert_id = cap_alert_id
        self.text, self.second_text, self.link = draft.texts.get("en", ""), draft.texts.get("ar", ""), draft.link
        if not self.text and self.second_text:  # an Arabic-only alert
            self.text, self.second_text = self.second_text, ""
        self.expires_label = draft.expires.astimezone(zone(self.user_tz)).strftime("%Y-%m-%d %H:%M") if draft.expires else ""
        self.selected = [p.id for p in self.profiles]

    @rx.event
    @requires("publish.compose")
    def set_second_text(self, value: str):
        self._require("publish.compose")
        self.second_text = value
        self._recount()

    @rx.event
    @requires("publish.compose")
    def suggest_translation(self):
        self._require("publish.compose")
        self.tm_suggestions = [TMView(src, tgt, f"{score:.0f}") for src, tgt, score in emergency.suggestions(self.text)]
        if not self.tm_suggestions:
            return rx.toast.info(self._("No earlier translation is close to this text."), position="top-center")

    @rx.event
    @requires("publish.compose")
    def use_translation(self, target: str):
        self._require("publish.compose")
        self.second_text = (self.second_text.rstrip() + " " + target).strip() if self.second_text.strip() else target
        self._recount()

    @rx.event
    @requires("publish.compose")
    def done_follow_up(self):
        actor = self._require("publish.compose")
        if self.post_id:
            emergency.acknowledge_follow_up(actor, self.post_id)
        self.follow_up = ""

    @rx.event
    @requires("publish.compose")
    def set_withdraw_note(self, value: str):
        self._require("publish.compose")
        self.withdraw_note = value[:500]

    @rx.event
    @requires("publish.compose")
    def correct_warning(self):
        """A published emergency post's warning, corrected: GovSocial's CAP feed carries an Update."""
        actor = self._require("publish.compose")
        try:
            emergency.update_published(actor, self.post_id, self._texts())
        except UserError as exc:
            return rx.toast.error(self._(str(exc)), position="top-center")
        return rx.toast.success(self._("The correction goes out in the CAP feed as an Update."), position="top-center")

    @rx.event
    @requires("publish.compose")
    def withdraw_warning(self):
        actor = self._require("publish.compose")
        try:
            emergency.withdraw(actor, self.post_id, self.withdraw_note)
        except UserError as exc:
            return rx.toast.error(self._(str(exc)), position="top-center")
        self.withdrawn = True
        return rx.toast.success(self._("The warning is withdrawn: the CAP feed carries a Cancel."), position="top-center")

    def _save_call(self, actor, action: str, when):
        if self.cap_alert_id or self.second_text.strip():
            return emergency.save(actor, self._input(), action=action, second_text=self.second_text,
                                  cap_alert_id=self.cap_alert_id or None, when=when, post_id=self.post_id or None)
        if emergency.blocking_items() and action != "draft":
            return emergency.save(actor, self._input(), action=action, when=when, post_id=self.post_id or None)
        return composer.save(actor, self._input(), action=action, when=when, post_id=self.post_id or None)

    def _lists(self) -> None:
        self._require("publish.view")  # a helper that reads data checks for itself
        self.attention = [summary_view(p, self.user_tz, self._) for p in views.needs_attention()]
        self.recent = [summary_view(p, self.user_tz, self._) for p in views.recent_posts(limit=10)]

    def _reset(self) -> None:
        self.selected, self.text, self.link, self.variants, self.media = [], "", "", {}, []
        self.campaign, self.day, self.time, self.issues = "none", "", "", []
        self.post_id, self.post_status, self.post_note, self.suggestions, self.suggest_text = 0, "", "", [], ""
        self.post_status_label = ""
        self.ext_waiting = False
        self.cap_alert_id, self.second_text, self.expires_label, self.follow_up = 0, "", "", ""
        self.lang_counts, self.checklist, self.tm_suggestions = [], [], []
        self.is_emergency, self.withdrawn, self.withdraw_note = False, False, ""

    def _open(self, post_id: int) -> None:
        self._require("publish.view")  # a helper that reads data checks for itself
        view = views.post_view(post_id)
        if view is None:
            raise UserError("This post no longer exists.")
        tz = zone(self.user_tz)
        self.post_id, self.post_status = view.id, view.status
        self.ext_waiting = view.status in ("pending_approval", "held") and approval_external.step_has_externals(view.id)
        self.post_status_label = self._(STATUS_LABELS.get(view.status, view.status)) if view.status else ""
        self.text, self.link = view.text, view.link
        self.selected = list(dict.fromkeys(str(t.profile_id) for t in view.targets))
        # A twin post's texts per network are made from the two versions at each save (emergency.twin_input), not kept as variants.
        self.variants = {t.network: t.text_override for t in view.targets if t.text_override and not t.language}
        self.media = [MediaView(str(m.id), m.name, size_label(m.size_bytes), m.alt_text) for m in view.media]
        self.campaign = str(view.campaign_id) if view.campaign_id else "none"
        local = view.scheduled_at.astimezone(tz) if view.scheduled_at else None
        self.day, self.time = (local.strftime("%Y-%m-%d"), local.strftime("%H:%M")) if local else ("", "")
        failed = [f"{t.label}: {t.error}" for t in view.targets if t.status == "failed" and t.error]
        # The network's answer was lost after sending (publisher.py): it is being checked, or needs a person to look.
        failed += [self._(UNCERTAIN[t.status], handle=t.label) for t in view.targets if t.status in UNCERTAIN]
        self.post_note = self._(view.held_reason) if view.held_reason else "; ".join(failed)
        self.issues = []
        self._open_emergency(post_id)

    # ---------------------------------------------------------------- loading

    @rx.event
    @requires("publish.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("publish.view")
        self.profiles = [ProfileOpt(str(p.id), p.label, p.handle, p.network, views.network_label(p.network)) for p in views.profile_choices()]
        self.campaign_opts = [Option(str(c.id), c.name) for c in campaigns.list_active()]
        self._reset()
        raw = self.router.url.query_parameters.get("post", "")
        if raw.isdigit():
            try:
                self._open(int(raw))
            except UserError as exc:
                self.issues = [self._(str(exc))]
        cap = self.router.url.query_parameters.get("cap", "")
        if cap.isdigit() and not raw and can(self.user_role, "publish.compose"):
            try:
                self._open_alert(int(cap))
            except UserError as exc:
                self.issues = [self._(str(exc))]
        self._recount()
        self._lists()

    # ---------------------------------------------------------------- editing

    @rx.event
    @requires("publish.compose")
    def set_text(self, value: str):
        self.text = value
        self._recount()

    @rx.event
    @requires("publish.compose")
    def set_link(self, value: str):
        self.link = value
        self._recount()

    @rx.event
    @requires("publish.compose")
    def set_variant(self, network: str, value: str):
        self.variants[network] = value
        self._recount()

    @rx.event
    @requires("publish.compose")
    def toggle_profile(self, profile_id: str):
        self.selected = [p for p in self.selected if p != profile_id] if profile_id in self.selected else self.selected + [profile_id]
        self._recount()

    @rx.event
    @requires("publish.compose")
    def set_campaign(self, value: str):
        self.campaign = value

    @rx.event
    @requires("publish.compose")
    def set_day(self, value: str):
        self.day = value

    @rx.event
    @requires("publish.compose")
    def set_time(self, value: str):
        self.time = value

    @rx.event
    @requires("publish.compose")
    def set_alt(self, media_id: str, value: str):
        self.media = [dataclasses.replace(m, alt=value[:1500]) if m.id == media_id else m for m in self.media]

    @rx.event
    @requires("publish.compose")
    def remove_media(self, media_id: str):
        self.media = [m for m in self.media if m.id != media_id]

    @rx.event
    @requires("publish.compose")
    async def handle_upload(self, files: list[rx.UploadFile]):
        actor = self._require("publish.compose")
        if len(self.media) + len(files) > MAX_MEDIA:
            raise UserError("Attach at most 10 images.")
        for f in files:
            data = await f.read()
            info = composer.store_media(actor, f.name or "image", data)
            self.media = self.media + [MediaView(str(info.id), info.name, size_label(info.size_bytes), "")]
        self._recount()

    @rx.event
    @requires("publish.view")
    def new_post(self):
        self._require("publish.view")
        self._reset()
        self._recount()
        return rx.redirect("/publish")

    # ---------------------------------------------------------------- saving

    def _when(self) -> datetime | None:
        if not (self.day and self.time):
            return None
        return timefmt.local_to_utc(self.day, self.time, self.user_tz)

    def _save(self, action: str):
        actor = self._require("publish.compose")
        when = self._when() if action in ("schedule", "draft") else None
        if action == "schedule" and when is None:
            self.issues = [self._("Pick a date and a time.")]
            return None
        try:
            result = self._save_call(actor, action, when)
        except composer.ComposerInvalid as exc:
            self.issues = [self._(i.msgid, **i.params) for i in exc.issues]
            return None
        except UserError as exc:
            self.issues = [self._(str(exc))]
            return None
        self.issues = []
        self._open(result.post_id)
        self._lists()
        if result.status == "pending_approval":
            msg = self._("Sent for approval ({workflow}). The approvers have been told.", workflow=result.workflow)
        elif action == "draft":
            msg = self._("Draft saved.")
        elif pause.status().paused and result.status in ("scheduled", "queued") and action == "now":
            msg = self._("Publishing is paused: this post waits until someone resumes.")
        elif action == "now":
            msg = self._("Publishing now. It goes out within a few seconds unless publishing is paused.")
        else:
            first = min(result.due.values()).astimezone(zone(self.user_tz)).strftime("%Y-%m-%d %H:%M") if result.due else ""
            msg = self._("Scheduled for {when}.", when=first) if action == "schedule" else self._("Added to the queue: first slot {when}.", when=first)
        return rx.toast.success(msg, position="top-center")

    @rx.event
    @requires("publish.compose")
    def save_draft(self):
        return self._save("draft")

    @rx.event
    @requires("publish.compose")
    def post_now(self):
        return self._save("now")

    @rx.event
    @requires("publish.compose")
    def schedule(self):
        return self._save("schedule")

    @rx.event
    @requires("publish.compose")
    def add_to_queue(self):
        return self._save("queue")

    @rx.event
    @requires("publish.compose")
    def suggest(self):
        self._require("publish.compose")
        sug = slots.suggest_times([int(p) for p in self.selected], user_tz=self.user_tz)
        tz = zone(self.user_tz)
        self.suggestions = [
            SuggestView(t.astimezone(tz).strftime("%a %d %b, %H:%M"), t.astimezone(tz).strftime("%Y-%m-%d"), t.astimezone(tz).strftime("%H:%M"))
            for t in sug.times
        ]
        self.suggest_text = self._(sug.msgid, **sug.params)

    @rx.event
    @requires("publish.compose")
    def use_suggestion(self, day: str, time: str):
        self.day, self.time = day, time

    @rx.event
    @requires("publish.compose")
    def discard(self):
        actor = self._require("publish.compose")
        if self.post_id:
            actions.discard(actor, self.post_id)
        self._reset()
        self._recount()
        self._lists()
        return rx.toast.info(self._("Post discarded."), position="top-center")

    @rx.event
    @requires("publish.compose")
    async def resend_links(self):
        """Email the current step's link again to its external approvers. Staff never see the link itself."""
        actor = self._require("publish.compose")
        try:
            ids = approval_external.resend(actor, self.post_id)
        except UserError as exc:
            return rx.toast.info(self._(str(exc)), position="top-center")
        report = await approval_external.deliver(ids)
        if report.failed:
            return rx.toast.error(self._("The link could not be emailed yet; it is tried again automatically: {error}",
                                         error="; ".join(report.errors)[:300]), position="top-center")
        return rx.toast.success(self._("The link was emailed again to {n} external approvers. Earlier links no longer work.", n=str(report.sent)),
                                position="top-center")

    # ---------------------------------------------------------------- needs attention

    @rx.event
    @requires("publish.compose")
    def held_choice(self, post_id: str, action: str):
        actor = self._require("publish.compose")
        try:
            actions.decide_held(actor, int(post_id), action)
        except UserError as exc:
            return rx.toast.error(self._(str(exc)), position="top-center")
        self._lists()

    @rx.event
    @requires("publish.compose")
    def retry(self, post_id: str):
        actor = self._require("publish.compose")
        actions.retry_failed(actor, int(post_id))
        self._lists()
        return rx.toast.success(self._("Trying again now."), position="top-center")
