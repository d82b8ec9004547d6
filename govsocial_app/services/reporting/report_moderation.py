"""The moderation report: actions by clause, moderator, network and period, with the moderated content and whether
each was undone: the evidence that the comment policy is applied the same way every time. It reads the moderation
tables directly (records/moderation.py writes them; reporting sits below records in the domain order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from govsocial_app.db import sql
from govsocial_app.db.models import Message, ModerationAction, User
from govsocial_app.services.reporting.report_base import (
    TOP_SERIES, Chart, Column, KeyNumber, Report, ReportFilters, Series, Table, daily, say, session_or_new, x_labels,
)
from govsocial_app.services.textnorm import excerpt

ACTIONS = ("hide", "unhide", "delete", "block", "mute", "report")
ACTION_LABELS = {"hide": "Hide", "unhide": "Unhide", "delete": "Delete", "block": "Block the author", "mute": "Mute the author",
                 "report": "Report to the network"}
LIST_LIMIT = 5000


@dataclass(frozen=True)
class ActionRow:
    id: int
    at: datetime
    network: str
    action: str
    mode: str
    clause: str
    clause_title: str
    moderator: str
    confirmed_by: str
    status: str
    undone: bool
    author: str
    content: str
    note: str


@dataclass
class ModerationReport(Report):
    actions: list[ActionRow] = field(default_factory=list)
    prev_done: int = 0
    prev_undone: int = 0
    daily_by_action: dict[str, list[int]] = field(default_factory=dict)

    @property
    def done(self) -> list[ActionRow]:
        return [a for a in self.actions if a.status == "done"]

    def _count(self, key) -> list[tuple[str, int, int]]:
        counts: dict[str, list[int]] = {}
        for a in self.done:
            c = counts.setdefault(key(a), [0, 0])
            c[0] += 1
            c[1] += int(a.undone)
        return sorted(((k, n, u) for k, (n, u) in counts.items()), key=lambda r: (-r[1], r[0]))

    def key_numbers(self) -> list[KeyNumber]:
        done = self.done
        return [
            KeyNumber("actions", "Moderation actions", len(done), self.prev_done),
            KeyNumber("hidden", "Hidden", sum(1 for a in done if a.action == "hide"), None),
            KeyNumber("undone", "Undone", sum(1 for a in done if a.undone), self.prev_undone),
            KeyNumber("failed", "Refused by the network", sum(1 for a in self.actions if a.status == "failed"), None),
        ]

    def charts(self) -> list[Chart]:
        clauses = self._count(lambda a: a.clause)[:TOP_SERIES * 2]
        return [
            Chart("moderation_daily", "Moderation actions per day", "stacked", x_labels(self.filters),
                  tuple(Series(ACTION_LABELS[k], tuple(v)) for k, v in self.daily_by_action.items())),
            Chart("moderation_clauses", "Actions by policy clause", "hbar", tuple(c for c, _, _ in clauses),
                  (Series("Actions", tuple(n for _, n, _ in clauses)), Series("Undone", tuple(u for _, _, u in clauses)))),
        ]

    def tables(self) -> list[Table]:
        count_cols = (Column("actions", "Actions", "int"), Column("undone", "Undone", "int"))
        titles = {a.clause: a.clause_title for a in self.actions}
        return [
            Table("actions", "Moderation actions", (
                Column("at", "When", "datetime"), Column("network", "Network"), Column("action", "Action"),
                Column("clause", "Clause"), Column("moderator", "Moderator"), Column("confirmed_by", "Confirmed by"),
                Column("status", "Status"), Column("undone", "Undone"), Column("author", "Author"),
                Column("content", "Content"), Column("note", "Note"),
            ), tuple((a.at, a.network, a.action + (" (GovSocial only)" if a.mode == "in_app" else ""), a.clause, a.moderator,
                      a.confirmed_by, a.status, "yes" if a.undone else "", a.author, a.content, a.note) for a in self.actions)),
            Table("clauses", "By clause", (Column("clause", "Clause"), Column("title", "Title"), *count_cols),
                  tuple((c, titles.get(c, ""), n, u) for c, n, u in self._count(lambda a: a.clause))),
            Table("moderators", "By moderator", (Column("moderator", "Moderator"), *count_cols),
                  tuple(self._count(lambda a: a.moderator))),
            Table("networks", "By network", (Column("network", "Network"), *count_cols), tuple(self._count(lambda a: a.network))),
        ]

    def summary(self) -> str:
        k = {n.key: n for n in self.key_numbers()}
        top = ", ".join(f"{c} ({n:,})" for c, n, _ in self._count(lambda a: a.clause)[:3]) or "none"
        return (f"From {self.filters.label()}, moderators took {say(k['actions'])} actions, of which {say(k['undone'])} "
                f"were undone. Most cited clauses: {top}. Changes compare with {self.compared()}.")


def _rows(s: Session, f: ReportFilters) -> list[ActionRow]:
    scope = f.scope()
    q = (select(ModerationAction, Message.author_handle, Message.text)
         .join(Message, Message.id == ModerationAction.message_id)
         .where(*scope.conditions(Message, at=ModerationAction.requested_at), ModerationAction.status != "declined")
         .order_by(col(ModerationAction.requested_at).desc()).limit(LIST_LIMIT))
    rows = s.execute(q).all()
    ids = {a.requested_by for a, _, _ in rows} | {a.confirmed_by for a, _, _ in rows}
    names = dict(s.execute(select(User.id, User.display_name).where(col(User.id).in_([i for i in ids if i]))).all()) if ids else {}
    return [ActionRow(a.id, a.requested_at, a.network, a.action, a.mode, a.clause, a.clause_title,
                      names.get(a.requested_by, "system"), names.get(a.confirmed_by, ""), a.status, a.undone_by_id is not None,
                      handle, excerpt(text or "", 280), a.note) for a, handle, text in rows]


def moderation_report(f: ReportFilters, *, session: Session | None = None) -> ModerationReport:
    prev = f.previous()
    with session_or_new(session) as s:
        actions = _rows(s, f)
        prev_rows = s.execute(select(func.count(ModerationAction.id), func.count(ModerationAction.undone_by_id))
                              .join(Message, Message.id == ModerationAction.message_id)
                              .where(*prev.scope().conditions(Message, at=ModerationAction.requested_at),
                                     ModerationAction.status == "done")).one()
        hour = sql.hour_bucket(s, ModerationAction.requested_at)
        per_hour = s.execute(select(ModerationAction.action, hour, func.count(ModerationAction.id))
                             .join(Message, Message.id == ModerationAction.message_id)
                             .where(*f.scope().conditions(Message, at=ModerationAction.requested_at), ModerationAction.status == "done")
                             .group_by(ModerationAction.action, hour)).all()
    report = ModerationReport("moderation", f, actions=actions, prev_done=int(prev_rows[0] or 0), prev_undone=int(prev_rows[1] or 0))
    for action in ACTIONS:
        by_hour = {h: int(n) for a, h, n in per_hour if a == action}
        if by_hour:
            report.daily_by_action[action] = daily(by_hour, f)
    return report
