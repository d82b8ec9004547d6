"""Inbox activity: inbound volume, response and completion times per network, profile and tag, and the
busiest hours, against the previous period."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from govsocial_app.db import sql
from govsocial_app.db.models import Tag
from govsocial_app.services.reporting import metrics, within_target
from govsocial_app.services.reporting.report_base import (
    WEEKDAYS, Chart, Column, KeyNumber, Report, ReportFilters, Series, Table, daily, say, session_or_new, word, x_labels,
)



@dataclass
class InboxReport(Report):
    current: metrics.InboxMetrics | None = None
    previous: metrics.ResponseStats | None = None
    prev_outbound: int = 0
    heat: list[list[int]] = field(default_factory=list)  # [weekday][hour], local time
    targets: within_target.WithinTarget | None = None  # "within target" per team, person and priority

    def key_numbers(self) -> list[KeyNumber]:
        c, p = self.current.totals, self.previous
        return [
            KeyNumber("inbound", "Inbound messages", c.messages, p.messages),
            KeyNumber("outbound", "Replies sent", self.current.outbound, self.prev_outbound),
            KeyNumber("answered", "Answered", c.answered_share, p.answered_share, "pct"),
            KeyNumber("response", "Average time to first response", c.avg_response_s, p.avg_response_s, "seconds"),
            KeyNumber("sla", "Answered within an hour", c.sla_share, p.sla_share, "pct"),
            KeyNumber("completed", "Completed", c.completed, p.completed),
            KeyNumber("completion", "Average time to completion", c.avg_completion_s, p.avg_completion_s, "seconds"),
        ]

    def charts(self) -> list[Chart]:
        x = x_labels(self.filters)
        hours = tuple(f"{h:02d}" for h in range(24))
        return [
            Chart("inbox_daily", "Messages per day", "line", x,
                  (Series("Inbound", tuple(daily(self.current.inbound_by_hour, self.filters))),
                   Series("Outbound", tuple(daily(self.current.outbound_by_hour, self.filters))))),
            Chart("inbox_heat", "Busiest hours (inbound messages)", "heatmap", hours,
                  tuple(Series(WEEKDAYS[d], tuple(self.heat[d])) for d in range(7)), y=WEEKDAYS),
        ]

    def tables(self) -> list[Table]:
        def stat_cols(first: str) -> tuple[Column, ...]:
            return (Column("name", first), Column("messages", "Messages", "int"), Column("answered", "Answered", "int"),
                    Column("avg_response", "Average first response", "seconds"), Column("sla", "Within an hour", "pct"),
                    Column("completed", "Completed", "int"), Column("avg_completion", "Average time to completion", "seconds"))

        def data(groups: list[metrics.GroupStats]) -> tuple[tuple, ...]:
            return tuple((g.label, g.stats.messages, g.stats.answered, g.stats.avg_response_s, g.stats.sla_share, g.stats.completed,
                          g.stats.avg_completion_s) for g in groups)

        c = self.current
        return [
            Table("responders", "Responses per user", stat_cols("User"), data(c.by_responder)),
            Table("completers", "Completion per user", stat_cols("User"), data(c.by_completer)),
            Table("inbox_tags", "Response and completion per tag", stat_cols("Tag"), data(c.by_tag)),
            *self.target_tables(),
        ]

    def target_tables(self) -> list[Table]:
        """One table, three groups (team, person, priority), so the PDF's tables still fit their page."""
        if self.targets is None:
            return []
        cols = (Column("group", "Group"), Column("name", "Name"), Column("messages", "Messages", "int"),
                Column("answered_within", "Answered within target", "pct"), Column("completed_within", "Completed within target", "pct"))
        t = self.targets
        rows = tuple((word(group), r.label, r.messages, r.answered_share, r.completed_share)
                     for group, part in (("Team", t.by_team), ("Person", t.by_person), ("Priority", t.by_priority)) for r in part)
        return [Table("within_target", "Within target per team, person and priority", cols, rows)]

    def busiest(self) -> tuple[int, int, int]:
        """(weekday, hour, messages) of the busiest local hour of the week."""
        return max(((d, h, self.heat[d][h]) for d in range(7) for h in range(24)), key=lambda t: (t[2], -t[0], -t[1]))

    def summary(self) -> str:
        k = {n.key: n for n in self.key_numbers()}
        d, h, n = self.busiest()
        busiest = f" The busiest hour was {WEEKDAYS[d]} {h:02d}:00–{h + 1:02d}:00 ({n:,} messages)." if n else ""
        answered = (
            f"{say(k['answered'])} were answered, on average in {say(k['response'])}; {say(k['sla'])} of answers came within an hour."
            if self.current.totals.answered else "None were answered."
        )
        completed = (
            f"{say(k['completed'])} were completed, on average in {say(k['completion'])}."
            if self.current.totals.completed else "None were completed."
        )
        return (
            f"From {self.filters.label()}, {say(k['inbound'])} inbound messages arrived and the team sent {say(k['outbound'])} replies. "
            f"{answered} {completed}{busiest} Changes compare with {self.compared()}."
        )


def inbox_report(f: ReportFilters, *, session: Session | None = None) -> InboxReport:
    prev = f.previous()
    with session_or_new(session) as s:
        current = metrics.inbox_metrics(f.scope(), session=s)
        previous = metrics.response_totals(s, prev.scope())
        prev_out = metrics.outbound_count(s, prev.scope())
        in_target = within_target.within_target(s, f.scope())
    heat = [[0] * 24 for _ in range(7)]
    for bucket, n in current.inbound_by_hour.items():
        local = sql.parse_hour(bucket).astimezone(f.zone)
        heat[local.weekday()][local.hour] += n
    return InboxReport("inbox", f, current=current, previous=previous, prev_outbound=prev_out, heat=heat, targets=in_target)
