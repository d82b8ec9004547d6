"""The inbox report's "within target" tables: exact numbers per team, person and priority, counted in SQL on
SQLite and PostgreSQL, leaving out messages without due times and messages outside the period."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, Team
from govsocial_app.services.inbox import targets
from govsocial_app.services.reporting import reports
from govsocial_app.services.reporting.report_base import ReportFilters

T = datetime(2026, 11, 15, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def any_db(request):
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


def _m(s, n, *, team=None, person=None, priority="normal", answered=None, completed=None, received=T, due=True):
    m = Message(network="simulator", external_id=f"w{n}", created_at=received, received_at=received, team_id=team,
                assignee_id=person, priority=priority, author_name=f"R{n}")
    targets.set_due(m, targets.DEFAULT_TARGETS)
    if not due:
        m.sla_first_due_at = m.sla_done_due_at = None
    if answered is not None:
        m.first_response_at = received + answered
    if completed is not None:
        m.status, m.completed_at = "completed", received + completed
    s.add(m)


def test_within_target_per_team_person_and_priority(any_db, actor_factory):
    alice, bob = actor_factory("responder", "Alice"), actor_factory("responder", "Bob")
    with session_scope() as s:
        roads, water = Team(name="Roads"), Team(name="Water")
        s.add_all([roads, water])
        s.flush()
        _m(s, 1, team=roads.id, person=alice.user_id, priority="urgent", answered=timedelta(minutes=10), completed=timedelta(minutes=100))
        _m(s, 2, team=roads.id, person=alice.user_id, priority="urgent", answered=timedelta(minutes=20), completed=timedelta(hours=3))
        _m(s, 3, team=roads.id, person=bob.user_id, answered=timedelta(hours=1))  # normal, still open
        _m(s, 4, team=water.id, person=bob.user_id, priority="high")  # never answered
        _m(s, 5, answered=timedelta(minutes=1), due=False)  # stored before targets existed: left out
        _m(s, 6, team=water.id, priority="low", answered=timedelta(hours=2), completed=timedelta(days=2))
        _m(s, 7, team=roads.id, person=alice.user_id, priority="urgent", answered=timedelta(minutes=1), received=T + timedelta(days=10))

    rep = reports.inbox_report(ReportFilters(date(2026, 11, 11), date(2026, 11, 20)))
    [table] = [t for t in rep.tables() if t.key == "within_target"]
    assert [c.label for c in table.columns] == ["Group", "Name", "Messages", "Answered within target", "Completed within target"]
    assert table.rows == (
        ("Team", "Roads", 3, 2 / 3, 1 / 3), ("Team", "Water", 2, 1 / 2, 1 / 2),
        ("Person", "Alice", 2, 1 / 2, 1 / 2), ("Person", "Bob", 2, 1 / 2, 0.0), ("Person", "Unassigned", 1, 1.0, 1.0),
        ("Priority", "Urgent", 2, 1 / 2, 1 / 2), ("Priority", "High", 1, 0.0, 0.0), ("Priority", "Normal", 1, 1.0, 0.0),
        ("Priority", "Low", 1, 1.0, 1.0),
    )


def test_an_arabic_reader_sees_every_text_cell_of_the_table_in_arabic(db, actor_factory):
    """Group, priority, "Unassigned", "No team" and the teams' Arabic names; only people's names (which have no
    Arabic form) and a team without an Arabic name stay as written. The CSV keeps English."""
    import re

    from govsocial_app.state.reports import ReportsState
    from tests.signed_in import app_state_for

    alice = actor_factory("responder", "Alice")
    with session_scope() as s:
        roads, water, parks = Team(name="Roads", name_ar="الطرق"), Team(name="Water", name_ar="المياه"), Team(name="Parks")
        s.add_all([roads, water, parks])
        s.flush()
        for n, (team, person, priority) in enumerate([(roads.id, alice.user_id, "urgent"), (water.id, None, "high"),
                                                       (None, None, "normal"), (parks.id, alice.user_id, "low")]):
            _m(s, 100 + n, team=team, person=person, priority=priority, answered=timedelta(minutes=5))

    app_state = app_state_for(actor_factory("viewer"), "ar", load_user=True)
    page = app_state.substates[ReportsState.get_name()]
    page.start, page.end = "2026-11-11", "2026-11-20"
    page.set_kind("inbox")
    assert page.error == ""
    [table] = [t for t in page.tables if t.key == "within_target"]
    text_cells = [(row[0], row[1]) for row in table.rows]
    assert text_cells == [
        ("الفريق", "بلا فريق"), ("الفريق", "Parks"), ("الفريق", "الطرق"), ("الفريق", "المياه"),  # in the English order
        ("الشخص", "Alice"), ("الشخص", "غير مسندة"),
        ("أولوية", "عاجل"), ("أولوية", "مرتفع"), ("أولوية", "عادي"), ("أولوية", "منخفض"),
    ]
    names_without_arabic = {"Alice", "Parks"}
    english = [c for row in table.rows for c in row[:2] if c not in names_without_arabic and re.search(r"[A-Za-z]", c)]
    assert english == []
    assert all(re.search(r"[A-Za-z]", h) is None for h in [table.title, *table.headers])  # the title and headings too

    # English readers, and the CSV, read English.
    app_state.lang = "en"
    page.set_kind("inbox")
    [table] = [t for t in page.tables if t.key == "within_target"]
    assert [(row[0], row[1]) for row in table.rows][:4] == [("Team", "No team"), ("Team", "Parks"), ("Team", "Roads"), ("Team", "Water")]
    _, csv_text = reports.export_csv("inbox", ReportFilters(date(2026, 11, 11), date(2026, 11, 20)), "within_target")
    assert "Team,Roads" in csv_text and "الطرق" not in csv_text
