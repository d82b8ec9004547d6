"""Calendar state: month, week and list views in the user's time zone, filters, campaigns, the open post and its new time."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import reflex as rx

from govsocial_app.services import timefmt
from govsocial_app.services.publishing import actions, calendar, campaigns, ical, views
from govsocial_app.services.publishing.calendar import CalendarFilter
from govsocial_app.services.errors import UserError
from govsocial_app.services.timefmt import zone
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState
from govsocial_app.state.publish import STATUS_LABELS, Option

PER_DAY = 4  # posts shown in a month cell; the rest are "+N more"
LIST_PAGE = 30
STATUS_COLORS = {"draft": "gray", "pending_approval": "amber", "scheduled": "blue", "queued": "cyan", "publishing": "indigo",
                 "published": "green", "failed": "red", "held": "orange"}


@dataclasses.dataclass
class ItemView:
    id: str = ""
    time: str = ""
    day: str = ""
    status: str = ""
    status_label: str = ""
    color: str = "gray"
    excerpt: str = ""
    profiles: str = ""
    campaign: str = ""
    campaign_color: str = ""
    flagged: bool = False


@dataclasses.dataclass
class DayView:
    key: str = ""
    number: str = ""
    label: str = ""
    in_month: bool = True
    today: bool = False
    posts: list[ItemView] = dataclasses.field(default_factory=list)
    more: int = 0
    campaigns: list[Option] = dataclasses.field(default_factory=list)  # value = colour, label = name


class CalendarState(AppState):
    view: str = ""  # "" = automatic: list on a phone, month on wider screens
    anchor: str = ""  # a day in the period shown, YYYY-MM-DD
    title: str = ""
    weeks: list[list[DayView]] = []
    week_days: list[DayView] = []
    items: list[ItemView] = []
    list_more: bool = False
    f_profile: str = "all"
    f_campaign: str = "all"
    f_status: str = "all"
    overlay: bool = True
    profile_opts: list[Option] = []
    campaign_opts: list[Option] = []
    running: list[Option] = []
    # the open post
    open_id: str = ""
    open_item: ItemView = ItemView()
    open_text: str = ""
    new_day: str = ""
    new_time: str = ""
    open_error: str = ""
    # campaigns and the feed
    feed_url: str = ""  # only right after it is made: the server keeps a hash, never the address
    has_feed: bool = False
    c_error: str = ""

    # ---------------------------------------------------------------- helpers

    def _filter(self) -> CalendarFilter:
        return CalendarFilter(
            profile_ids=(int(self.f_profile),) if self.f_profile.isdigit() else (),
            campaign_id=int(self.f_campaign) if self.f_campaign.isdigit() else None,
            statuses=(self.f_status,) if self.f_status in STATUS_LABELS else (),
        )

    def _item(self, i: calendar.CalendarItem) -> ItemView:
        local = i.when.astimezone(zone(self.user_tz))
        return ItemView(str(i.post_id), local.strftime("%H:%M"), local.strftime("%a %d %b"), i.status, self._(STATUS_LABELS.get(i.status, i.status)),
                        STATUS_COLORS.get(i.status, "gray"), i.excerpt, ", ".join(i.profiles), i.campaign_name, i.campaign_color, i.flagged)

    def _day(self, d: calendar.Day) -> DayView:
        items = [self._item(i) for i in d.items]
        return DayView(d.day.isoformat(), str(d.day.day), d.day.strftime("%a %d %b"), d.in_month, d.is_today, items[:PER_DAY],
                       max(0, len(items) - PER_DAY), [Option(c.color, c.name) for c in d.campaigns] if self.overlay else [])

    def _anchor(self) -> date:
        try:
            return date.fromisoformat(self.anchor)
        except ValueError:
            return datetime.now(zone(self.user_tz)).date()

    def _refresh(self) -> None:
        self._require("publish.view")  # a helper that reads data checks for itself
        a, f, tz = self._anchor(), self._filter(), self.user_tz
        m = calendar.month(a.year, a.month, tz, f)
        self.weeks = [[self._day(d) for d in w] for w in m.weeks]
        self.running = [Option(c.color, c.name) for c in m.campaigns] if self.overlay else []
        self.week_days = [self._day(d) for d in calendar.week(a, tz, f).days]
        self.title = a.strftime("%B %Y")
        start = datetime.combine(a.replace(day=1), datetime.min.time(), tzinfo=zone(tz))
        rows = calendar.upcoming(f, since=start, limit=LIST_PAGE + 1)
        self.items = [self._item(i) for i in rows[:LIST_PAGE]]
        self.list_more = len(rows) > LIST_PAGE

    # ---------------------------------------------------------------- loading and navigation

    @rx.event
    @requires("publish.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("publish.view")
        self.profile_opts = [Option(str(p.id), p.handle) for p in views.profile_choices()]
        self.campaign_opts = [Option(str(c.id), c.name) for c in campaigns.list_active()]
        self.feed_url, self.has_feed = "", ical.has_feed(self.user_id)
        self.anchor = datetime.now(zone(self.user_tz)).date().isoformat()
        self.open_id = ""
        self._refresh()
        raw = self.router.url.query_parameters.get("post", "")
        if raw.isdigit():
            return CalendarState.open_post(raw)

    @rx.event
    @requires("publish.view")
    def set_view(self, view: str | list[str]):
        if isinstance(view, str) and view in ("month", "week", "list"):
            self.view = view

    @rx.event
    @requires("publish.view")
    def step(self, direction: int):
        a = self._anchor()
        if self.view == "week":
            a = a + timedelta(days=7 * direction)
        else:
            first = a.replace(day=1)
            a = (first + timedelta(days=32)).replace(day=1) if direction > 0 else (first - timedelta(days=1)).replace(day=1)
        self.anchor = a.isoformat()
        self._refresh()

    @rx.event
    @requires("publish.view")
    def today(self):
        self.anchor = datetime.now(zone(self.user_tz)).date().isoformat()
        self._refresh()

    @rx.event
    @requires("publish.view")
    def set_filter(self, key: str, value: str):
        if key not in ("profile", "campaign", "status"):
            raise UserError("Unknown filter.")
        setattr(self, f"f_{key}", value)
        self._refresh()

    @rx.event
    @requires("publish.view")
    def toggle_overlay(self, value: bool):
        self.overlay = value
        self._refresh()

    @rx.event
    @requires("publish.view")
    def more_list(self):
        if not self.items:
            return
        last = views.post_view(int(self.items[-1].id))
        if last is None or last.scheduled_at is None:
            return
        rows = calendar.upcoming(self._filter(), after=(last.scheduled_at, last.id), limit=LIST_PAGE + 1)
        self.items = self.items + [self._item(i) for i in rows[:LIST_PAGE]]
        self.list_more = len(rows) > LIST_PAGE

    # ---------------------------------------------------------------- one post

    @rx.event
    @requires("publish.view")
    def open_post(self, post_id: str):
        self._require("publish.view")
        view = views.post_view(int(post_id))
        if view is None:
            return rx.toast.error(self._("This post no longer exists."), position="top-center")
        local = view.scheduled_at.astimezone(zone(self.user_tz)) if view.scheduled_at else None
        self.open_id, self.open_text, self.open_error = post_id, view.text, ""
        self.open_item = ItemView(post_id, local.strftime("%H:%M") if local else "", local.strftime("%a %d %b %Y") if local else "",
                                  view.status, self._(STATUS_LABELS.get(view.status, view.status)), STATUS_COLORS.get(view.status, "gray"),
                                  "", ", ".join(t.handle for t in view.targets), "", "", view.flagged_for_review)
        self.new_day, self.new_time = (local.strftime("%Y-%m-%d"), local.strftime("%H:%M")) if local else ("", "")

    @rx.event
    @requires("publish.view")
    def close_post(self, value: bool = False):
        if not value:
            self.open_id = ""

    @rx.event
    @requires("publish.view")
    def set_new_day(self, value: str):
        self.new_day = value

    @rx.event
    @requires("publish.view")
    def set_new_time(self, value: str):
        self.new_time = value

    @rx.event
    @requires("publish.compose")
    def move(self):
        actor = self._require("publish.compose")
        try:
            when = timefmt.local_to_utc(self.new_day, self.new_time, self.user_tz)
            moved = actions.reschedule(actor, int(self.open_id), when)
        except UserError as exc:
            self.open_error = self._(str(exc))
            return
        self.open_id = ""
        self._refresh()
        msg = self._("Moved to {when}.", when=f"{self.new_day} {self.new_time}")
        if moved.needs_approval:
            msg += " " + self._("The new time needs approval again.")
        return rx.toast.success(msg, position="top-center")

    # ---------------------------------------------------------------- campaigns and the feed

    @rx.event
    @requires("campaigns.edit")
    def add_campaign(self, form: dict):
        actor = self._require("campaigns.edit")
        try:
            starts = date.fromisoformat(form["starts"]) if form.get("starts") else None
            ends = date.fromisoformat(form["ends"]) if form.get("ends") else None
            campaigns.save(actor, form.get("name", ""), form.get("color", "blue"), starts, ends)
        except (UserError, ValueError) as exc:
            self.c_error = self._(str(exc)) if isinstance(exc, UserError) else self._("Dates must look like 2026-11-24.")
            return
        self.c_error = ""
        self.campaign_opts = [Option(str(c.id), c.name) for c in campaigns.list_active()]
        self._refresh()

    @rx.event
    @requires("publish.view")
    def new_feed_url(self):
        actor = self._require("publish.view")
        had = self.has_feed
        self.feed_url, self.has_feed = ical.rotate(actor), True
        if had:
            return rx.toast.success(self._("A new address was made. The old one no longer works."), position="top-center")
