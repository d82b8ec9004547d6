"""The moderation report (Reports): actions by clause, moderator and network with the content and an "undone" column,
its chart, CSV and PDF."""

from __future__ import annotations

from datetime import date, timedelta

from govsocial_app.services.records import moderation, policy
from govsocial_app.services.reporting import pdf, reports
from tests.records.test_moderation import CLAUSES, profile, reply_id, staff  # noqa: F401


async def test_the_report_lists_each_action_with_clause_moderator_content_and_undone(staff, reply_id):  # noqa: F811
    policy.publish(CLAUSES, staff["rita"])
    await moderation.request(reply_id, "hide", "3.2", "threat to staff", staff["ana"])
    await moderation.request(reply_id, "unhide", "3.2", "appeal", staff["max"])
    await moderation.request(reply_id, "hide", "3.4", "", staff["ana"])
    today = date.today()
    f = reports.ReportFilters(today - timedelta(days=6), today + timedelta(days=1))
    r = reports.build("moderation", f)
    k = {n.key: n.value for n in r.key_numbers()}
    assert k == {"actions": 3, "hidden": 2, "undone": 1, "failed": 0}
    tables = {t.key: t for t in r.tables()}
    rows = tables["actions"].rows
    assert len(rows) == 3
    first_hide = next(row for row in rows if row[3] == "3.2" and row[2] == "hide")
    assert first_hide[4] == "Ana Responder" and first_hide[7] == "yes" and first_hide[9] and first_hide[10] == "threat to staff"
    assert dict((c, n) for c, _t, n, _u in tables["clauses"].rows) == {"3.2": 2, "3.4": 1}
    assert dict((m, n) for m, n, _u in tables["moderators"].rows) == {"Ana Responder": 2, "Max Manager": 1}
    assert tables["networks"].rows == (("simulator", 3, 1),)
    charts = {c.key: c for c in r.charts()}
    assert sum(sum(s.values) for s in charts["moderation_daily"].series) == 3
    name, text = reports.export_csv("moderation", f, "actions")
    assert name.startswith("moderation-actions") and "threat to staff" in text and "Undone" in text.splitlines()[0]
    assert pdf.render(r, agency="City of Riverton")[:4] == b"%PDF"


async def test_the_period_and_network_filters_apply(staff, reply_id):  # noqa: F811
    policy.publish(CLAUSES, staff["rita"])
    await moderation.request(reply_id, "hide", "3.2", "", staff["ana"])
    today = date.today()
    old = reports.build("moderation", reports.ReportFilters(today - timedelta(days=60), today - timedelta(days=30)))
    assert old.tables()[0].rows == ()
    other = reports.build("moderation", reports.ReportFilters(today - timedelta(days=1), today + timedelta(days=1), networks=("x",)))
    assert other.tables()[0].rows == ()
