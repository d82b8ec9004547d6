"""Saved replies in the reply box, on a phone: a responder opens an Arabic message, types "/" and part of a reply's
name, picks the Arabic reply by its accessible name, and gets the Arabic text with the author's name filled in, still
editable; a manager on the desktop sees that reply's usage count go up on More → Saved replies."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, phone_context, sign_in

pytestmark = pytest.mark.browser


def _uses(page) -> int:
    row = page.get_by_role("list", name="Saved replies").get_by_role("listitem").filter(has_text="Pothole reported")
    expect(row).to_have_count(1)
    return int(re.search(r"Used (\d+)", row.inner_text()).group(1))


def test_slash_inserts_the_arabic_saved_reply_and_counts_it(browser, live_app):
    # The manager's page first: what the usage count is before anyone inserts the reply.
    ctx_m = browser.new_context(viewport=DESKTOP)
    m = ctx_m.new_page()
    m.set_default_timeout(15_000)
    sign_in(m, live_app.url, "manager@demo.gov")
    m.goto(live_app.url + "/more")
    m.get_by_role("link", name="Saved replies").click()
    m.wait_for_url("**/more/saved-replies")
    before = _uses(m)

    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_app.url, "responder@demo.gov")  # starts at "/"
    page.goto(live_app.url + "/inbox?lang=ar")
    page.get_by_role("listitem").first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"message=\d+"))
    detail = page.get_by_role("region", name="Message")
    author = detail.get_by_role("heading", level=2).inner_text().strip()
    assert author

    box = page.get_by_role("textbox", name="Reply")
    box.click()
    box.press_sequentially("/pothole", delay=40)
    option = page.get_by_role("button", name=re.compile(r"^Insert saved reply Pothole reported: شكرًا"))
    expect(option).to_have_count(1, timeout=15_000)
    option.tap()

    # The "/pothole" is gone; the Arabic text is in its place with the author's display name, variables filled.
    expect(box).to_have_value(re.compile("^شكرًا " + re.escape(author) + "، سجّلنا هذه الحفرة"), timeout=15_000)
    value = box.input_value()
    assert "{" not in value and "/pothole" not in value and "https://riverton.example.gov/roads/report" in value
    expect(option).to_have_count(0)  # the list closed

    # Still editable: the person adds to it before sending.
    box.press("End")
    box.press_sequentially(" نعتذر عن الإزعاج", delay=20)
    expect(box).to_have_value(re.compile("نعتذر عن الإزعاج$"))

    # The keyboard works too: "/" after a space, Tab to the first option, Enter.
    box.press_sequentially(" /thanks for", delay=40)
    thanks = page.get_by_role("button", name=re.compile(r"^Insert saved reply Thanks for reporting: "))
    expect(thanks).to_have_count(1, timeout=15_000)
    box.press("Tab")
    expect(thanks).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).to_have_value(re.compile("نعتذر عن الإزعاج شكرًا لإبلاغك .+ يا " + re.escape(author) + r"\. أحلنا الأمر"), timeout=15_000)

    # The manager's list shows one more use.
    m.reload()
    expect(m.get_by_role("list", name="Saved replies").get_by_role("listitem").filter(has_text="Pothole reported")).to_contain_text(f"Used {before + 1}")
    ctx.close()
    ctx_m.close()
