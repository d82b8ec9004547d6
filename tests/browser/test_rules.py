"""Inbox rules on a phone: a manager builds a rule that tags and assigns (the dry run shows a count before saving),
then new messages arrive through the ordinary intake path (an admin connects a simulated profile; the poll job takes
in its recent mentions) and the inbox shows what the rule did on their cards, live, without a reload."""

from __future__ import annotations

import re
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from connectors.base import Credentials
from connectors.simulator import SimulatorConnector
from tests.browser.conftest import phone_context, sign_in

pytestmark = pytest.mark.browser

NOTE = "Rule “Live triage” tagged Triage and assigned Morgan Manager"


def _busy_handle() -> str:
    """A simulated account with at least two mentions in the last quarter hour, which its first poll takes in. The
    simulated network is quiet at night: at 03:00 UTC none of the first 59 accounts had two (CI failed on the clock,
    stop 43), so the search goes on through many more; each look costs a few milliseconds."""
    now = datetime.now(timezone.utc)
    for n in range(1, 2000):
        handle = f"@rulesdrill{n}"
        sim = SimulatorConnector(Credentials("simulator", {"handle": handle, "profile_key": handle.lstrip("@"),
                                                           "state_path": tempfile.mktemp(suffix=".db")}), clock=lambda: now)
        if len([m for m in sim.history(now - timedelta(minutes=13), now) if not m.deleted]) >= 2:
            return handle
    raise AssertionError("no simulated account with recent mentions")


def test_a_rule_made_on_the_rules_page_tags_and_assigns_new_messages_live(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_app.url, "manager@demo.gov")  # Morgan Manager, starting at "/"

    page.get_by_role("link", name="More", exact=True).click()
    page.get_by_role("link", name="Inbox rules").click()
    page.get_by_role("button", name="New rule").click()
    page.get_by_role("textbox", name="Rule name", exact=True).fill("Live triage")
    page.get_by_role("combobox", name="Network", exact=True).select_option(label="Simulator")
    page.get_by_role("textbox", name="Tag", exact=True).fill("Triage")
    page.get_by_role("combobox", name="Assign to", exact=True).select_option(label="Morgan Manager")
    # A bad query is refused with its position; the dry run then counts the last week's matches before saving.
    page.get_by_role("textbox", name="Keyword query", exact=True).fill('water OR "flood')
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("alert").filter(has_text="The keyword query has an error")).to_be_visible()
    expect(page.get_by_text(re.compile(r"The problem is at character \d+"))).to_be_visible()
    page.get_by_role("textbox", name="Keyword query", exact=True).fill("")
    page.get_by_role("button", name="Dry run").click()
    status = page.get_by_role("status").filter(has_text="Would have matched")
    expect(status).to_contain_text(re.compile(r"Would have matched [1-9]\d* of the last 7 days' messages"))
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text(NOTE)).to_be_visible()
    expect(page.get_by_role("button", name="Move up Live triage")).to_be_visible()

    # The manager watches the inbox; an admin connects a simulated account, whose first poll takes in new messages.
    page.get_by_role("link", name="Inbox", exact=True).first.click()
    page.wait_for_url("**/inbox**")
    expect(page.get_by_role("listitem").first).to_be_visible()
    handle = _busy_handle()
    admin_ctx = phone_context(browser)
    admin = admin_ctx.new_page()
    admin.set_default_timeout(15_000)
    sign_in(admin, live_app.url, "admin@demo.gov", start="/more/profiles", lands="**/more/profiles**")
    admin.get_by_role("combobox", name="Network").click()
    admin.get_by_role("option", name="Simulator (training and exercises)").click()
    admin.get_by_label("Handle").fill(handle)
    admin.get_by_role("button", name="Check and connect").click()
    expect(admin.get_by_text(handle).first).to_be_visible()
    admin_ctx.close()

    # Live: the "N new" button appears without a reload; the new cards say what the rule did.
    new = page.get_by_role("button", name=re.compile(r"\d+ new"))
    expect(new).to_be_visible(timeout=45_000)  # the poll job runs every 10 s; this waits, it times nothing
    new.click()
    card = page.get_by_role("listitem").filter(has_text=NOTE).first
    expect(card).to_be_visible()
    expect(card.get_by_text("Triage", exact=True)).to_be_visible()
    ctx.close()
