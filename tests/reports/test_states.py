"""The Reports and Listening page states, built directly: role checks, what they keep in state, downloads, and Arabic labels."""

from __future__ import annotations

import pytest
import reflex as rx

from govsocial_app.i18n import catalog
from govsocial_app.services import auth
from govsocial_app.services.reporting import reports
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from tests.reports.conftest import PERIOD_END, PERIOD_START

PASSWORD = "correct horse battery"


@pytest.fixture
def signed_in(data, actor_factory):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    import govsocial_app.state.listening  # noqa: F401  (until the app module adds the Listening page)
    import govsocial_app.state.reports  # noqa: F401
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    app_state = root.substates[AppState.get_name()]

    def make(role: str, cls):
        actor = actor_factory(role)
        token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
        app_state.auth_token = token
        app_state._load_user()
        state = app_state.substates[cls.get_name()]
        return state, actor

    return make


def test_reports_state_builds_each_report_with_few_rows(signed_in):
    from govsocial_app.state.reports import ReportsState

    st, _ = signed_in("viewer", ReportsState)
    st.start, st.end = PERIOD_START.isoformat(), PERIOD_END.isoformat()
    for kind in reports.REPORTS:
        st.set_kind(kind)
        assert st.error == ""
        assert st.numbers and st.chart1_title and st.tables
        assert all(len(t.rows) <= reports.ROW_LIMIT for t in st.tables)
    st.set_kind("posts")
    st.sort_by("published_at")
    assert st.sort == "published_at" and st.descending
    st.sort_by("published_at")
    assert not st.descending
    event = st.download_csv("posts")
    assert "text/csv" in str(event)
    pdf = st.download_pdf()
    assert "application/pdf" in str(pdf)


def test_an_arabic_reader_sees_the_inbox_reports_durations_in_arabic(signed_in):
    from govsocial_app.services.timefmt import duration
    from govsocial_app.state.reports import ReportsState

    st, _ = signed_in("viewer", ReportsState)
    st.start, st.end = PERIOD_START.isoformat(), PERIOD_END.isoformat()
    report = reports.build("inbox", reports.ReportFilters(PERIOD_START, PERIOD_END))
    seconds = {k.key: k.value for k in report.key_numbers()}["response"]
    assert seconds and seconds >= 60  # the fixture's replies take minutes, so the duration has a unit word to translate
    st.lang = "ar"
    st.set_kind("inbox")
    shown = {n.label: n.value for n in st.numbers}[catalog("ar")["Average time to first response"]]
    assert shown == duration(seconds, "ar") != duration(seconds, "en")
    assert any("\u0600" <= ch <= "\u06ff" for ch in shown) and "min" not in shown and "hr" not in shown
    durations = {c for t in st.tables for row in t.rows for c in row if any("\u0600" <= ch <= "\u06ff" for ch in c)}
    assert durations  # the per-network table's average response and completion columns too


def test_reports_state_refuses_bad_dates_with_a_message(signed_in):
    from govsocial_app.state.reports import ReportsState

    st, _ = signed_in("viewer", ReportsState)
    st.apply_dates({"start": "2026-11-20", "end": "2026-11-01"})
    assert "end date" in st.error


def test_viewers_cannot_subscribe_but_publishers_can(signed_in):
    from govsocial_app.state.reports import ReportsState

    st, _ = signed_in("viewer", ReportsState)
    st.start, st.end = PERIOD_START.isoformat(), PERIOD_END.isoformat()
    with pytest.raises(PermissionDenied):
        st.subscribe({"cadence": "weekly", "time": "08:00", "tz": "UTC", "recipients": "a@b.gov"})
    st, _ = signed_in("publisher", ReportsState)
    st.start, st.end = PERIOD_START.isoformat(), PERIOD_END.isoformat()
    with pytest.raises(UserError, match="cannot receive reports"):  # an outside address nobody allowed
        st.subscribe({"cadence": "monthly", "time": "07:00", "tz": "UTC", "recipients": "a@b.gov"})
    with pytest.raises(PermissionDenied):
        st.save_recipient_domains({"domains": "b.gov"})
    admin, _ = signed_in("admin", ReportsState)
    admin.save_recipient_domains({"domains": "b.gov"})
    assert admin.recipient_domains == "b.gov"
    st.subscribe({"cadence": "monthly", "time": "07:00", "tz": "UTC", "recipients": "a@b.gov"})
    assert len(st.subs) == 1 and "1st" in st.subs[0].schedule


def test_listening_state(signed_in):
    from govsocial_app.state.listening import ListeningState

    st, _ = signed_in("viewer", ListeningState)
    with pytest.raises(PermissionDenied):
        st.create_topic({"name": "Roads", "queries": "roads"})
    st, _ = signed_in("publisher", ListeningState)
    st.create_topic({"name": "Hello", "queries": "hello\nroads"})
    assert st.topics and st.topics[0].name == "Hello"
    st.create_claim({"text": "The Halden Dam has failed", "correction": "It is intact.", "link": "https://x.gov/dam", "lang": "en"})
    assert st.claims and st.claim_id == st.claims[0].id


def test_every_report_label_is_translated(db):
    ar = catalog("ar")
    labels: set[str] = set()
    f = reports.ReportFilters(PERIOD_START, PERIOD_END)
    for kind in reports.REPORTS:
        rep = reports.build(kind, f)
        labels |= {k.label for k in rep.key_numbers()}
        for chart in rep.charts():
            labels |= {chart.title, *(s.name for s in chart.series if chart.kind != "heatmap"), *chart.y}
        for table in rep.tables():
            labels |= {table.title, *(c.label for c in table.columns)}
    labels |= set(reports.REPORTS.values()) | set(reports.WEEKDAYS)
    assert sorted(label for label in labels if label not in ar) == []
