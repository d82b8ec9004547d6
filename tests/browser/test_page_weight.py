"""A phone's first paint of the inbox ships only the JavaScript the inbox needs (issue 20, item 3): not the plotly chart
bundle the reports load, nor lucide's catalogue of every icon (DynamicIcon, which any rx.icon(<a var>) brings), nor
moment.js (rx.moment; components/clock.py instead), in a bounded number of files (govsocial_app/frontend_build.py);
the page answers at its own address without a redirect (govsocial_app/page_paths.py); and the cards left for after
the first paint (components/deferred.py) do arrive. make bench-paint measures the speed."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

_PAGE_SCRIPT = re.compile(r'"(/assets/[^"]+\.js)"')
_STATIC_IMPORT = re.compile(r'(?:from\s*|import\s*)"\./([^"]+\.js)"')
_DYNAMIC_IMPORT = re.compile(r'import\(\s*"\./([^"]+\.js)"\s*\)')
# Scripts the inbox loads before it runs (its modules and their static imports). 46 before the framework and icon
# chunks and without moment; 18 after. Room for some growth, not for the old splitting.
MAX_INBOX_SCRIPTS = 24
# Names in moment.js that survive minification (properties of its exported function).
_MOMENT = ("momentProperties", "isMoment")


def _page_code(base: str, path: str) -> dict[str, str]:
    """Every script a page loads before it runs: the page's own modules (its HTML names them) and everything they
    import statically, each with its text. Dynamic imports are listed, not followed: they load only when reached."""
    html = httpx.get(base + path, follow_redirects=True, timeout=20).text
    todo = set(_PAGE_SCRIPT.findall(html))
    assert todo, f"{path}: no scripts found in the page"
    code: dict[str, str] = {}
    while todo:
        url = todo.pop()
        if url in code:
            continue
        r = httpx.get(base + url, timeout=20)
        assert r.status_code == 200, url
        code[url] = r.text
        todo |= {"/assets/" + name for name in _STATIC_IMPORT.findall(r.text)} - set(code)
    return code


def _mentions(code: dict[str, str], word: str) -> list[str]:
    return sorted(url for url, text in code.items() if word.lower() in url.lower() or word.lower() in text.lower())


def test_the_inbox_loads_no_chart_bundle_and_no_icon_catalogue(live_app):
    reports = _page_code(live_app.url, "/reports/")
    # The check can see a chart bundle: the reports page's own code imports plotly (on demand).
    assert _mentions(reports, "plotly"), "the reports page should reference plotly; the check below would see nothing"
    inbox = _page_code(live_app.url, "/inbox/")
    assert any("inbox" in url for url in inbox), sorted(inbox)
    assert _mentions(inbox, "plotly") == []
    assert [url for url in inbox if "DynamicIcon" in url] == []
    lazy = {name for text in inbox.values() for name in _DYNAMIC_IMPORT.findall(text)}
    assert not [name for name in lazy if "plotly" in name.lower()]


def test_the_inbox_loads_no_moment_in_a_bounded_number_of_scripts(live_app):
    direct = httpx.get(live_app.url + "/inbox", follow_redirects=False, timeout=20)
    assert direct.status_code == 200, "a page's address without its slash answers with the page, no redirect"
    inbox = _page_code(live_app.url, "/inbox")
    assert set(inbox) == set(_page_code(live_app.url, "/inbox/"))
    assert [url for url in inbox if "moment" in url.lower()] == []
    assert [url for url in inbox if any(word in inbox[url] for word in _MOMENT)] == []
    assert len(inbox) <= MAX_INBOX_SCRIPTS, sorted(inbox)
    # The framework and the icons each come as one file (frontend_build.py), not split across the pages' chunks.
    assert len([url for url in inbox if "/framework-" in url]) == 1, sorted(inbox)
    assert len([url for url in inbox if re.search(r"/(?:react-dom|react-router|chunk)-", url)]) == 0, sorted(inbox)


def test_the_cards_after_the_first_screen_arrive(phone_page, live_app):
    from govsocial_app.pages.inbox import FIRST_CARDS

    sign_in(phone_page, live_app.url, "admin@demo.gov")
    cards = phone_page.get_by_role("list", name="Messages").get_by_role("listitem")
    expect(cards.first).to_be_visible()
    # The demo's first page holds more cards than are rendered with the page; the rest follow in a transition.
    expect(cards.nth(FIRST_CARDS + 1)).to_be_attached()
    last = cards.last
    last.scroll_into_view_if_needed()
    expect(last).to_be_visible()
    expect(last.get_by_role("link").first).to_have_attribute("href", re.compile(r"message="))
