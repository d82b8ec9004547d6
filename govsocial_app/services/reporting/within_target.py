"""The inbox report's "within target": per team, person (the assignee) and priority, the share of messages that
got their first response and their completion within their response-time targets, counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from govsocial_app.db.models import Message, Team, User
from govsocial_app.services.reporting.metrics import Scope
from govsocial_app.services.reporting.report_base import Words, word

PRIORITY_ORDER = ("urgent", "high", "normal", "low")
PRIORITY_NAMES = {"urgent": "Urgent", "high": "High", "normal": "Normal", "low": "Low"}
NO_TEAM = "No team"
UNASSIGNED = "Unassigned"


@dataclass(frozen=True)
class TargetStats:
    label: Words  # English text; on the page, the reader's language (a team's Arabic name, a translated word)
    messages: int  # inbound messages in the period that have due times
    answered_within: int  # first response at or before sla_first_due_at
    completed_within: int  # completed at or before sla_done_due_at

    @property
    def answered_share(self) -> float | None:
        return self.answered_within / self.messages if self.messages else None

    @property
    def completed_share(self) -> float | None:
        return self.completed_within / self.messages if self.messages else None


@dataclass(frozen=True)
class WithinTarget:
    by_team: list[TargetStats]
    by_person: list[TargetStats]
    by_priority: list[TargetStats]


def _counts(m=Message) -> list:
    answered = and_(col(m.first_response_at).is_not(None), m.first_response_at <= m.sla_first_due_at)
    completed = and_(m.status == "completed", col(m.completed_at).is_not(None), col(m.sla_done_due_at).is_not(None),
                     m.completed_at <= m.sla_done_due_at)
    return [func.count(m.id), func.sum(case((answered, 1), else_=0)), func.sum(case((completed, 1), else_=0))]


def within_target(s: Session, scope: Scope) -> WithinTarget:
    """Messages stored before targets existed (no due times) are left out: they were never promised anything."""
    where = [Message.direction == "in", col(Message.sla_first_due_at).is_not(None), *scope.conditions()]

    team_rows = list(s.execute(
        select(Message.team_id, Team.name, Team.name_ar, *_counts()).select_from(Message).outerjoin(Team, Team.id == Message.team_id)
        .where(*where).group_by(Message.team_id, Team.name, Team.name_ar)).all())
    person_rows = list(s.execute(
        select(Message.assignee_id, User.display_name, *_counts()).select_from(Message).outerjoin(User, User.id == Message.assignee_id)
        .where(*where).group_by(Message.assignee_id, User.display_name)).all())
    priority_rows = list(s.execute(select(Message.priority, *_counts()).where(*where).group_by(Message.priority)).all())

    def stats(label: Words, n, a, c) -> TargetStats:
        return TargetStats(label, int(n or 0), int(a or 0), int(c or 0))

    by_team = sorted((stats(Words(name, ar=name_ar or "") if name else word(NO_TEAM), n, a, c) for _, name, name_ar, n, a, c in team_rows),
                     key=lambda t: (-t.messages, str(t.label)))
    # People's display names have no Arabic form: they read as written.
    by_person = sorted((stats(Words(name) if name else word(UNASSIGNED), n, a, c) for _, name, n, a, c in person_rows),
                       key=lambda t: (-t.messages, str(t.label)))
    order = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    by_priority = [stats(word(PRIORITY_NAMES[p]) if p in PRIORITY_NAMES else Words(p), n, a, c)
                   for p, n, a, c in sorted(priority_rows, key=lambda r: order.get(r[0], 99))]
    return WithinTarget(by_team, by_person, by_priority)
