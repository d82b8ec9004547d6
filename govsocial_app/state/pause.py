"""The pause banner on every signed-in screen (pushed by each worker to its own clients on the "pause" bus topic)
and the pause/resume controls."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import datetime, timezone

import reflex as rx

from govsocial_app.services.publishing import pause
from govsocial_app.services.errors import UserError
from govsocial_app.services.timefmt import zone
from govsocial_app.state.guard import SIGNED_IN, requires
from govsocial_app.state.app_state import AppState

log = logging.getLogger(__name__)

CACHE_S = 30.0  # the bus keeps every worker's copy current; this only bounds a missed event


class PauseBanner(rx.State):
    """What every signed-in client shows while publishing is paused. A projection of the pause row."""

    paused: bool = False
    by: str = ""
    at: str = ""  # ISO 8601, UTC; shown in each browser's local time
    at_label: str = ""
    reason: str = ""
    holds_replies: bool = False  # the banner then says that replies wait too

    @rx.event
    @requires(SIGNED_IN, signed_out="ignore")
    async def join(self):
        await _apply(self, await _projection(), joining=True)


_cached: tuple[float, dict] | None = None


async def _projection(fresh: bool = False) -> dict:
    """The pause row as banners show it, read once per worker per change rather than once per screen."""
    global _cached
    if fresh or _cached is None or time.monotonic() - _cached[0] > CACHE_S:
        _cached = (time.monotonic(), await asyncio.to_thread(pause.pause_projection))
    return _cached[1]


async def _apply(banner: PauseBanner, projection: dict, joining: bool = False) -> None:
    from govsocial_app.state import watchers

    app = await banner.get_state(AppState)
    actor = await watchers.session_actor(app.auth_token)
    if actor is None or actor.user_id != watchers.signed_in_as(app, actor, joining):
        projection = {}  # a signed-out tab (or a revoked session) is told nothing about who paused and why
    for name in ("paused", "by", "at", "at_label", "reason", "holds_replies"):
        value = projection.get(name, False if name in ("paused", "holds_replies") else "")
        if getattr(banner, name) != value:
            setattr(banner, name, value)


async def relay_pause():
    """For the bus relay (state/relay.py), on every "pause" event: read the pause row once, and return what
    to apply to each client's banner."""
    projection = await _projection(fresh=True)
    return lambda banner: _apply(banner, projection)


@dataclasses.dataclass
class MissedView:
    id: str = ""
    excerpt: str = ""
    due: str = ""
    profiles: str = ""


class PauseState(AppState):
    can_pause: bool = False
    confirm_open: bool = False
    resume_open: bool = False
    reason: str = ""
    missed: list[MissedView] = []
    missed_more: int = 0
    choices: dict[str, str] = {}  # post id → publish_now, reschedule, draft
    times: dict[str, str] = {}  # post id → "YYYY-MM-DDTHH:MM" in the user's zone, for reschedule
    working: bool = False
    notice: str = ""

    @rx.event
    @requires(SIGNED_IN, signed_out="ignore")
    def init(self):
        if self.user_id:
            self.can_pause = pause.may_pause(self._current_actor())

    @rx.event
    @requires("publish.pause")
    def open_confirm(self):
        self._require("publish.pause")
        self.reason, self.notice, self.confirm_open = "", "", True

    @rx.event
    @requires("publish.pause")
    def set_confirm_open(self, value: bool):
        self.confirm_open = value

    @rx.event
    @requires("publish.pause")
    def set_reason(self, value: str):
        self.reason = value[:500]

    @rx.event
    @requires("publish.pause")
    async def confirm_pause(self):
        actor = self._require("publish.pause")
        self.working = True
        yield
        try:
            ack = await asyncio.to_thread(pause.pause, actor, self.reason)
        finally:
            self.working = False
        await _apply(await self.get_state(PauseBanner), await _projection(fresh=True))
        self.confirm_open = False
        msg = self._("Publishing is paused. Nothing more will go out.")
        if ack.in_flight:
            msg += " " + self._("{n} posts already being sent when you paused were finished first.", n=ack.in_flight)
        yield rx.toast.success(msg, position="top-center")

    @rx.event
    @requires("publish.pause")
    async def open_resume(self):
        self._require("publish.pause")
        missed = await asyncio.to_thread(pause.missed_posts)
        tz = zone(self.user_tz)
        self.missed = [
            MissedView(str(m.post_id), m.excerpt, m.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), ", ".join(m.profiles))
            for m in missed[:50]
        ]
        self.missed_more = max(0, len(missed) - 50)
        self.choices = {m.id: "publish_now" for m in self.missed}
        self.times, self.notice, self.resume_open = {}, "", True

    @rx.event
    @requires("publish.pause")
    def set_resume_open(self, value: bool):
        self.resume_open = value

    @rx.event
    @requires("publish.pause")
    def choose(self, post_id: str, action: str | list[str]):
        if isinstance(action, str) and action in ("publish_now", "reschedule", "draft"):
            self.choices[post_id] = action

    @rx.event
    @requires("publish.pause")
    def choose_all(self, action: str):
        if action in ("publish_now", "reschedule", "draft"):
            self.choices = {k: action for k in self.choices}

    @rx.event
    @requires("publish.pause")
    def set_time(self, post_id: str, value: str):
        self.times[post_id] = value

    def _choices(self) -> dict[int, pause.Choice]:
        tz = zone(self.user_tz)
        out = {}
        for key, action in self.choices.items():
            when = None
            if action == "reschedule":
                raw = self.times.get(key, "")
                try:
                    when = datetime.fromisoformat(raw).replace(tzinfo=tz).astimezone(timezone.utc) if raw else None
                except ValueError as exc:
                    raise UserError("Pick a new date and time to reschedule.") from exc
            out[int(key)] = pause.Choice(action, when)
        return out

    @rx.event
    @requires("publish.pause")
    async def confirm_resume(self):
        actor = self._require("publish.pause")
        try:
            choices = self._choices()
            # Posts that became due while this dialog was open have no choice yet: they are held, never sent unasked.
            result = await asyncio.to_thread(pause.resume, actor, choices)
        except UserError as exc:
            self.notice = self._(str(exc))
            return
        await _apply(await self.get_state(PauseBanner), await _projection(fresh=True))
        self.resume_open = False
        counts = result.counts
        yield rx.toast.success(
            self._("Publishing resumed. Publishing now: {now}. Rescheduled: {later}. Kept as drafts: {draft}. Held for a decision: {held}.",
                   now=counts.get("publish_now", 0), later=counts.get("reschedule", 0), draft=counts.get("draft", 0),
                   held=counts.get("hold", 0)),
            position="top-center",
        )
