"""The charts on a phone: a manager opens Reports from the inbox and sees its two charts drawn with their traces, and
the listening page's volume chart. Charts are sent as the figure's JSON (state/charts.py), not as plotly Figures,
and must still draw as they did."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def _drawn(page, title: str):
    """The plotly chart in the card headed `title`, once it has drawn its SVG."""
    card = page.locator(".rt-Card", has=page.get_by_role("heading", name=title, exact=True))
    chart = card.locator(".js-plotly-plot .main-svg").first
    expect(chart).to_be_visible(timeout=30_000)
    return card


def test_a_manager_sees_the_report_charts_drawn_on_a_phone(phone_page, live_app):
    page = phone_page
    sign_in(page, live_app.url, "manager@demo.gov")
    page.get_by_role("link", name="Reports", exact=True).first.click()
    page.wait_for_url("**/reports**")
    headings = page.locator(".rt-Card h2")
    expect(headings.first).to_be_visible(timeout=30_000)
    titles = [t.strip() for t in headings.all_inner_texts() if t.strip()][:2]
    assert len(titles) == 2, titles
    for title in titles:
        card = _drawn(page, title)
        # traces drawn from the figure's data (lines, bars or a heatmap), not an empty frame
        expect(card.locator("g.trace, g.hm").first).to_be_attached(timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("link", name="Listening").click()
    page.wait_for_url("**/reports/listening**")
    card = _drawn(page, "Volume over time")
    expect(card.locator("g.trace, g.hm").first).to_be_attached(timeout=30_000)
