"""The inbox report's "within target": per team, person (the assignee) and priority, the share of messages that
got their first response and their completion within their response-time targets, counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from govsocial_app.db.models import Message, Team, User
from govsocial_app.services.reporting.metrics import Scope

PRIORITY_ORDER = ("urgent", "high", "normal", "low")
PRIORITY_NAMES = {"urgent": "Urgent", "high": "High", "normal": "Normal", "low": "Low"}
NO_TEAM = "No team"
UNASSIGNED = "Unassigned"


@dataclass(frozen=True)
class TargetStats:
    label: str
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
        select(Message.team_id, Team.name, *_counts()).select_from(Message).outerjoin(Team, Team.id == Message.team_id)
        .where(*where).group_by(Message.team_id, Team.name)).all())
    person_rows = list(s.execute(
        select(Message.assignee_id, User.display_name, *_counts()).select_from(Message).outerjoin(User, User.id == Message.assignee_id)
        .where(*where).group_by(Message.assignee_id, User.display_name)).all())
    priority_rows = list(s.execute(select(Message.priority, *_counts()).where(*where).group_by(Message.priority)).all())

    def stats(label: str, n, a, c) -> TargetStats:
        return TargetStats(label, int(n or 0), int(a or 0), int(c or 0))

    by_team = sorted((stats(name or NO_TEAM, n, a, c) for _, name, n, a, c in team_rows), key=lambda t: (-t.messages, t.label))
    by_person = sorted((stats(name or UNASSIGNED, n, a, c) for _, name, n, a, c in person_rows), key=lambda t: (-t.messages, t.label))
    order = {p: i for i, p in enumerate(PRIORITY_ORDER)}
    by_priority = [stats(PRIORITY_NAMES.get(p, p), n, a, c) for p, n, a, c in sorted(priority_rows, key=lambda r: order.get(r[0], 99))]
    return WithinTarget(by_team, by_person, by_priority)
