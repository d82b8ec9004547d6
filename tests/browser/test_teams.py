"""Teams on a phone, from the root address: a manager hands a message to the Roads team round-robin from its assign
menu; the card shows the team badge and the member who was online and next in turn; the workload view counts it."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import phone_context, sign_in

pytestmark = pytest.mark.browser


def _db(live_app) -> sqlite3.Connection:
    return sqlite3.connect(live_app.data_dir / "govsocial.db")


def test_a_manager_assigns_to_a_team_round_robin_and_sees_it_in_the_workload(browser, live_app):
    # Riley (a Roads member in the demo) is signed in on her phone: online.
    ctx_r = phone_context(browser)
    riley = ctx_r.new_page()
    riley.set_default_timeout(20_000)
    sign_in(riley, live_app.url, "responder@demo.gov")

    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, live_app.url, "manager@demo.gov")  # Morgan Manager, from "/"
    with _db(live_app) as conn:
        roads = conn.execute("SELECT id FROM team WHERE name = 'Roads'").fetchone()[0]
        members = {r[0] for r in conn.execute(
            "SELECT u.display_name FROM team_member tm JOIN user u ON u.id = tm.user_id WHERE tm.team_id = ?", (roads,))}
    assert "Riley Responder" in members

    # An open mention that no team has yet.
    page.goto(live_app.url + "/inbox?status=open&kind=mention&assigned=unassigned")
    page.get_by_role("listitem").first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"message=\d+"))
    message_id = int(re.search(r"message=(\d+)", page.url).group(1))
    detail = page.get_by_role("region", name="Message")
    detail.get_by_role("combobox", name="Assign to").click()
    page.get_by_role("option", name="Roads, next available (round-robin)").click()
    expect(page.get_by_text(re.compile(r"Assigned to Roads team: "))).to_be_visible()

    with _db(live_app) as conn:
        team_id, chosen, text = conn.execute(
            "SELECT m.team_id, u.display_name, m.text FROM message m JOIN user u ON u.id = m.assignee_id WHERE m.id = ?",
            (message_id,)).fetchone()
        open_in_roads = conn.execute(
            "SELECT count(*) FROM message WHERE team_id = ? AND status = 'open' AND direction = 'in' AND deleted_at IS NULL",
            (roads,)).fetchone()[0]
        audit = conn.execute("SELECT detail FROM audit_log WHERE action = 'message.assign' AND object_id = ? ORDER BY id DESC",
                             (str(message_id),)).fetchone()[0]
    assert team_id == roads and chosen in members  # an online member of the team, in turn
    assert f"assigned to Roads team (round-robin: {chosen})" in audit

    # The card in the list shows the team badge beside the person.
    page.goto(live_app.url + f"/inbox?team={roads}")
    words = " ".join(text.split())[:30]
    card = page.get_by_role("listitem").filter(has_text=words).first
    expect(card).to_contain_text("Team: Roads")  # the badge says what it is to a screen reader, not only by its icon
    expect(card).to_contain_text(chosen)

    # More → Teams and workload: the Roads row counts the open items, with its members online.
    page.get_by_role("link", name="More", exact=True).click()
    page.get_by_role("link", name="Teams and workload").click()
    page.wait_for_url("**/more/teams")
    row = page.get_by_role("region", name="Open messages per team").get_by_role("row").filter(has_text="Roads")
    expect(row.get_by_role("cell").nth(1)).to_have_text(str(open_in_roads))
    expect(page.get_by_role("region", name="Open messages per person").get_by_role("row").filter(has_text="Riley Responder")).to_contain_text("Online")
    ctx.close()
    ctx_r.close()
