"""State for More → Response targets (/more/targets), and the inbox card's priority and target clock."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import reflex as rx

from govsocial_app.i18n import translate
from govsocial_app.services.authz import can
from govsocial_app.services.inbox import stream, targets
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires

# ---------------------------------------------------------------- the inbox card (state/inbox.py calls these)


def with_targets(view, c: stream.MessageCard, lang: str, now: datetime | None = None):
    """Fill a CardView's priority and clock from its MessageCard (computed in the page query: no extra reads)."""
    clock = targets.clock_for(c.received_at, c.status, c.first_response_at, c.sla_first_due_at, c.sla_done_due_at)
    view.priority = c.priority
    view.priority_label = translate(targets.PRIORITY_LABELS.get(c.priority, c.priority), lang) if c.priority != "normal" else ""
    view.sla_due = clock.due.astimezone(timezone.utc).isoformat() if clock.due else ""
    view.sla_phase, view.sla_total = clock.phase, clock.total_s
    view.sla_text, view.sla_tone = targets.time_left(clock, now or datetime.now(timezone.utc), lang)
    return view


def retick(cards: list, lang: str, now: datetime | None = None) -> tuple[list, bool]:
    """Re-word each card's clock for the time now, from what the card already holds; (cards, anything changed)."""
    now = now or datetime.now(timezone.utc)
    changed = False
    for v in cards:
        if not v.sla_due:
            continue
        clock = targets.Clock(datetime.fromisoformat(v.sla_due), v.sla_phase, v.sla_total)
        text, tone = targets.time_left(clock, now, lang)
        if (text, tone) != (v.sla_text, v.sla_tone):
            v.sla_text, v.sla_tone, changed = text, tone, True
    return cards, changed


# ---------------------------------------------------------------- the targets page


@dataclasses.dataclass
class TargetRow:
    priority: str = ""
    label: str = ""
    first: str = ""  # minutes
    done: str = ""  # hours


def _hours(minutes: int) -> str:
    h = minutes / 60
    return str(int(h)) if h == int(h) else f"{h:.2f}".rstrip("0")


class TargetsState(AppState):
    rows: list[TargetRow] = []
    can_manage: bool = False
    error: str = ""
    notice: str = ""

    def _refresh(self) -> None:
        self._require("inbox.view")  # a helper that reads data checks for itself
        table = targets.targets()
        self.rows = [TargetRow(p, self._(targets.PRIORITY_LABELS[p]), str(table[p][0]), _hours(table[p][1])) for p in targets.PRIORITIES]
        self.can_manage = can(self.user_role, "targets.manage")

    @rx.event
    @requires("inbox.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("inbox.view")
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    @requires("targets.manage")
    def save(self, form: dict):
        actor = self._require("targets.manage")
        try:
            targets.save_targets(targets.parse_form(form), actor)
        except targets.FormError as exc:
            self.error, self.notice = self._(exc.msgid, priority=self._(targets.PRIORITY_LABELS[exc.priority])), ""
            return
        self.error, self.notice = "", self._("Targets saved. New messages and priority changes use them.")
        self._refresh()
