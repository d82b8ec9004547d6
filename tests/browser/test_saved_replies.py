"""Saved replies in the reply box, on a phone: a responder opens an Arabic message, types "/" and part of a reply's
name, picks the Arabic reply by its accessible name, and gets the Arabic text with the author's name filled in, still
editable; a manager on the desktop sees that reply's usage count go up on More → Saved replies. From the keyboard:
Down/Up move the highlighted option (named to screen readers through the reply box's aria-activedescendant), Enter
inserts it, Escape closes the list and keeps the typed text."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, phone_context, sign_in
from tests.browser.test_accessibility import axe_script, axe_violations  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def _uses(page) -> int:
    row = page.get_by_role("list", name="Saved replies").get_by_role("listitem").filter(has_text="Pothole reported")
    expect(row).to_have_count(1)
    return int(re.search(r"Used (\d+)", row.inner_text()).group(1))


def test_slash_inserts_the_arabic_saved_reply_and_counts_it(browser, live_app, axe_script):
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
    option = page.get_by_role("listbox", name="Saved replies").get_by_role("option", name=re.compile(r"^Pothole reported شكرًا"))
    expect(page.get_by_role("listbox", name="Saved replies")).to_be_visible(timeout=15_000)
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

    # The keyboard: "/" after a space and a word; Down highlights the first option, Down again the next, Up back.
    box.press_sequentially(" /thank", delay=40)
    listbox = page.get_by_role("listbox", name="Saved replies")
    options = listbox.get_by_role("option")
    expect(options.first).to_be_visible(timeout=15_000)
    n = options.count()
    expect(box).to_have_attribute("aria-activedescendant", "")
    box.press("ArrowDown")
    first = options.nth(0)
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    expect(box).to_be_focused()  # the focus stays in the reply box; the highlight moves
    if n > 1:
        box.press("ArrowDown")
        expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        expect(first).to_have_attribute("aria-selected", "false")
        box.press("ArrowUp")
    else:
        box.press("ArrowDown")  # one option: Down wraps back to it
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    expect(first).to_have_accessible_name(re.compile(r"^Thanks for reporting "))
    box.press("Enter")
    expect(listbox).to_have_count(0, timeout=15_000)
    expect(box).to_have_value(re.compile("نعتذر عن الإزعاج شكرًا لإبلاغك .+ يا " + re.escape(author) + r"\. أحلنا الأمر"), timeout=15_000)
    assert "\n" not in box.input_value() and "/thank" not in box.input_value()  # Enter inserted the reply, not a new line

    # Escape closes the list; the typed "/pot" stays, and typing on does not reopen it.
    inserted = box.input_value()
    box.press_sequentially(" /pot", delay=40)
    expect(options.first).to_be_visible(timeout=15_000)
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-controls", "gs-pick-list")
    assert axe_violations(page, "/inbox with the saved-reply list open and an option highlighted") == []
    box.press("Escape")
    expect(listbox).to_have_count(0, timeout=15_000)
    expect(box).to_have_value(inserted + " /pot")
    box.press_sequentially("hole", delay=40)
    page.wait_for_timeout(1_000)  # past the reply box's debounce: the search would have run
    expect(listbox).to_have_count(0)
    expect(box).to_have_value(inserted + " /pothole")
    box.press("Enter")  # with the list closed, Enter is a new line again
    expect(box).to_have_value(inserted + " /pothole\n")

    # The manager's list shows one more use.
    m.reload()
    expect(m.get_by_role("list", name="Saved replies").get_by_role("listitem").filter(has_text="Pothole reported")).to_contain_text(f"Used {before + 1}")
    ctx.close()
    ctx_m.close()
