"""The tag report: inbound and outbound messages per tag, the share of inbound that is tagged, against the
previous period."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from govsocial_app.db import sql
from govsocial_app.db.models import Message, MessageTag, Tag
from govsocial_app.services.reporting.metrics import Scope, period_change
from govsocial_app.services.reporting.report_base import (
    TOP_SERIES, Chart, Column, KeyNumber, Report, ReportFilters, Series, Table, daily, say, session_or_new, x_labels,
)



@dataclass(frozen=True)
class TagRow:
    tag_id: int
    name: str
    inbound: int
    outbound: int
    prev_inbound: int
    prev_outbound: int

    @property
    def change(self) -> float | None:
        return period_change(self.inbound, self.prev_inbound)


@dataclass
class TagReport(Report):
    rows: list[TagRow] = field(default_factory=list)
    inbound_total: int = 0
    prev_inbound_total: int = 0
    tagged_inbound: int = 0
    prev_tagged_inbound: int = 0
    daily_in: dict[str, list[int]] = field(default_factory=dict)  # top tags only
    daily_out: dict[str, list[int]] = field(default_factory=dict)

    def key_numbers(self) -> list[KeyNumber]:
        out = sum(r.outbound for r in self.rows)
        prev_out = sum(r.prev_outbound for r in self.rows)
        used = sum(1 for r in self.rows if r.inbound or r.outbound)
        prev_used = sum(1 for r in self.rows if r.prev_inbound or r.prev_outbound)
        return [
            KeyNumber("inbound", "Inbound messages", self.inbound_total, self.prev_inbound_total),
            KeyNumber("tagged", "Tagged inbound messages", self.tagged_inbound, self.prev_tagged_inbound),
            KeyNumber("outbound", "Replies to tagged messages", out, prev_out),
            KeyNumber("tags_used", "Tags in use", used, prev_used),
        ]

    def charts(self) -> list[Chart]:
        top = self.rows[:TOP_SERIES]
        return [
            Chart("tags_daily", "Inbound messages per tag per day", "stacked", x_labels(self.filters),
                  tuple(Series(name, tuple(v)) for name, v in self.daily_in.items())),
            Chart("tags_top", "Top tags: inbound and outbound", "hbar", tuple(r.name for r in top),
                  (Series("Inbound", tuple(r.inbound for r in top)), Series("Outbound", tuple(r.outbound for r in top)))),
        ]

    def tables(self) -> list[Table]:
        cols = (Column("tag", "Tag"), Column("inbound", "Inbound", "int"), Column("outbound", "Outbound", "int"),
                Column("prev_inbound", "Inbound, previous period", "int"), Column("change", "Change", "pct"))
        return [Table("tags", "Tags", cols, tuple((r.name, r.inbound, r.outbound, r.prev_inbound, r.change) for r in self.rows))]

    def summary(self) -> str:
        k = {n.key: n for n in self.key_numbers()}
        top = ", ".join(f"{r.name} ({r.inbound:,})" for r in self.rows[:3] if r.inbound) or "none"
        return (
            f"From {self.filters.label()}, {say(k['inbound'])} inbound messages arrived, of which {say(k['tagged'])} were tagged; "
            f"the team sent {say(k['outbound'])} replies to tagged messages. Top tags: {top}. "
            f"Changes compare with {self.compared()}."
        )


def _tag_counts(s: Session, scope: Scope, *, by_hour: bool) -> tuple[dict, dict]:
    """Inbound messages per tag, and outbound replies to messages carrying the tag (optionally per UTC hour)."""
    tagged = and_(MessageTag.message_id == Message.id, col(MessageTag.removed_at).is_(None))
    hour_in = sql.hour_bucket(s, Message.received_at)
    keys_in = [MessageTag.tag_id, hour_in] if by_hour else [MessageTag.tag_id]
    inbound = s.execute(
        select(*keys_in, func.count(Message.id)).join(MessageTag, tagged).where(Message.direction == "in", *scope.conditions()).group_by(*keys_in)
    ).all()
    parent = aliased(Message)
    out_tag = and_(MessageTag.message_id == parent.id, col(MessageTag.removed_at).is_(None))
    hour_out = sql.hour_bucket(s, Message.created_at)
    keys_out = [MessageTag.tag_id, hour_out] if by_hour else [MessageTag.tag_id]
    outbound = s.execute(
        select(*keys_out, func.count(Message.id))
        .join(parent, and_(parent.network == Message.network, parent.external_id == Message.in_reply_to_external_id))
        .join(MessageTag, out_tag)
        .where(Message.direction == "out", Message.status != "failed", *scope.conditions(at=Message.created_at))
        .group_by(*keys_out)
    ).all()
    pack = (lambda r: ((r[0], r[1]), int(r[2]))) if by_hour else (lambda r: (r[0], int(r[1])))
    return dict(map(pack, inbound)), dict(map(pack, outbound))


def _inbound_and_tagged(s: Session, scope: Scope) -> tuple[int, int]:
    """(inbound messages, those carrying at least one tag) in one pass."""
    exists_tag = select(MessageTag.id).where(MessageTag.message_id == Message.id, col(MessageTag.removed_at).is_(None)).exists()
    n, tagged = s.execute(
        select(func.count(Message.id), func.sum(case((exists_tag, 1), else_=0))).where(Message.direction == "in", *scope.conditions())
    ).one()
    return int(n or 0), int(tagged or 0)


def tag_report(f: ReportFilters, *, session: Session | None = None) -> TagReport:
    prev = f.previous()
    with session_or_new(session) as s:
        names = dict(s.execute(select(Tag.id, Tag.name).where(col(Tag.deleted_at).is_(None))).all())
        cur_in, cur_out = _tag_counts(s, f.scope(), by_hour=True)
        prev_in, prev_out = _tag_counts(s, prev.scope(), by_hour=False)
        totals_in: dict[int, int] = {}
        totals_out: dict[int, int] = {}
        for (tag, _h), n in cur_in.items():
            totals_in[tag] = totals_in.get(tag, 0) + n
        for (tag, _h), n in cur_out.items():
            totals_out[tag] = totals_out.get(tag, 0) + n
        tag_ids = [t for t in names if t in totals_in or t in totals_out or t in prev_in or t in prev_out]
        rows = sorted(
            (TagRow(t, names[t], totals_in.get(t, 0), totals_out.get(t, 0), prev_in.get(t, 0), prev_out.get(t, 0)) for t in tag_ids),
            key=lambda r: (-r.inbound, -r.outbound, r.name),
        )
        (total, tagged), (prev_total, prev_tagged) = _inbound_and_tagged(s, f.scope()), _inbound_and_tagged(s, prev.scope())
        report = TagReport("tags", f, rows=rows, inbound_total=total, prev_inbound_total=prev_total, tagged_inbound=tagged,
                           prev_tagged_inbound=prev_tagged)
    for r in rows[:TOP_SERIES]:
        report.daily_in[r.name] = daily({h: n for (t, h), n in cur_in.items() if t == r.tag_id}, f)
        report.daily_out[r.name] = daily({h: n for (t, h), n in cur_out.items() if t == r.tag_id}, f)
    return report
