"""axe-core (Deque's engine, WCAG 2.1 A and AA rules) on every page, in English and Arabic, on a phone: no critical
and no serious violation. axe-core comes from npm with `make deps` (.tools/node_modules/axe-core, pinned)."""

from __future__ import annotations

import re
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, phone_context, sign_in
from tests.conftest import missing_service

pytestmark = pytest.mark.browser

AXE = REPO / ".tools/node_modules/axe-core/axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")

# Every page of the app, as (address, what must be on screen before axe looks). The inbox is also checked with a
# message open and with its filters unfolded; admin pages are checked as an admin, everything else as a manager.
MANAGER_PAGES = (
    "/inbox", "/inbox?open-filters", "/inbox?first-message", "/publish", "/publish/calendar", "/publish/approvals",
    "/alerts", "/alerts/settings", "/reports", "/reports/listening", "/more", "/more/keywords", "/more/vips", "/more/saved-replies",
    "/more/notifications", "/more/password", "/more/two-factor", "/more/sessions", "/more/teams", "/more/rules", "/more/targets",
)
ADMIN_PAGES = ("/more/profiles", "/admin/users", "/admin/audit", "/admin/cap", "/more/policy")
RECORDS_PAGES = ("/more/records",)
LANGUAGES = {"en": ("English", "Inbox"), "ar": ("العربية", "البريد الوارد")}


def axe_violations(page, label: str) -> list[str]:
    """Run axe on what the page shows now; one line per blocking violation, naming the page, rule and elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as a <script> tag: the app's Content Security Policy (rightly)
        # refuses inline scripts, and this test checks the page as it is served, CSP included.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG21_AA
    )
    out = []
    for v in result["violations"]:
        if v["impact"] in BLOCKING:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:4]]
            more = f" (+{len(v['nodes']) - 4} more)" if len(v["nodes"]) > 4 else ""
            summary = v["nodes"][0].get("failureSummary", "").replace("\n", " ")[:300]
            out.append(f"{label}: {v['impact']} {v['id']} ({v['help']}) on {len(v['nodes'])}: {targets}{more} — {summary}")
    return out


def _settle(page) -> None:
    """Wait until the page has its server data: its heading shows and the hydration flag is set."""
    page.locator("main h1").first.wait_for()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # charts and lists finish their first paint


def visit(page, base: str, address: str) -> None:
    if address == "/inbox?open-filters":
        page.goto(base + "/inbox")
        _settle(page)
        page.locator("summary").filter(has_text=re.compile("Filters|عوامل التصفية")).first.click()
        return
    if address == "/inbox?first-message":
        page.goto(base + "/inbox")
        _settle(page)
        page.locator("main ul > li a[href*='message=']").first.click()
        page.wait_for_url(re.compile(r"message=\d+"))
        page.get_by_role("region").filter(has=page.locator("h2")).last.wait_for()
        page.wait_for_timeout(300)
        return
    page.goto(base + address)
    _settle(page)


def choose_language(page, base: str, lang: str) -> None:
    button, inbox_link = LANGUAGES[lang]
    page.goto(base + "/more")
    _settle(page)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("link", name=inbox_link).first).to_be_attached()


def check_pages(page, base: str, pages: tuple[str, ...], lang: str) -> list[str]:
    problems: list[str] = []
    for address in pages:
        visit(page, base, address)
        if lang == "ar":
            expect(page.locator("[dir=rtl]").first).to_be_attached()
        problems += axe_violations(page, f"{address} [{lang}]")
    return problems


def test_every_page_of_the_app_is_checked():
    """The list above is checked against the app's own page list, so a new page cannot be left out of axe."""
    from govsocial_app.govsocial_app import PAGES

    checked = {a.split("?")[0] for a in MANAGER_PAGES + ADMIN_PAGES + RECORDS_PAGES} | {"/login"}
    missing = sorted(p.ROUTE for p in PAGES if p.ROUTE != "/" and p.ROUTE not in checked)
    assert missing == [], f"pages no accessibility check visits: {missing}"


@pytest.fixture(scope="module")
def axe_script():
    if not AXE.exists():
        missing_service(f"axe-core is not installed at {AXE.relative_to(REPO)} (make deps)")
    return AXE


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_serious_accessibility_violation_on_any_page_on_a_phone(browser, live_app, axe_script, lang):
    problems: list[str] = []
    for email, pages in (("manager@demo.gov", MANAGER_PAGES), ("admin@demo.gov", ADMIN_PAGES), ("records@demo.gov", RECORDS_PAGES)):
        ctx = phone_context(browser)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        try:
            sign_in(page, live_app.url, email)
            # The inbox straight after sign-in is checked once per role that works it (the records officer lands on
            # the same page).
            if lang == "en" and pages is not RECORDS_PAGES:
                # Under the pointer, as on a desktop: Reflex's own link hover colour failed contrast (2.4:1) here.
                page.locator("main ul > li a[href*='message=']").first.hover()
                problems += axe_violations(page, "/login → /inbox (just signed in, pointer on the first card)")
                page.get_by_role("link", name=re.compile("Publish|نشر")).first.hover()
                problems += axe_violations(page, "/inbox (pointer on a navigation link)")
            choose_language(page, live_app.url, lang)
            problems += check_pages(page, live_app.url, pages, lang)
        finally:
            if lang != "en":
                choose_language(page, live_app.url, "en")  # the demo users stay English for the other tests
            ctx.close()
    ctx = phone_context(browser)
    page = ctx.new_page()
    try:
        page.goto(live_app.url + "/")
        page.wait_for_url("**/login**")
        if lang == "ar":
            page.get_by_role("button", name="العربية").click()
            expect(page.locator("[dir=rtl]").first).to_be_attached()
        page.get_by_role("button").first.wait_for()
        problems += axe_violations(page, f"/login [{lang}]")
    finally:
        ctx.close()
    assert problems == [], f"{len(problems)} serious or critical axe violations:\n" + "\n".join(problems)


if __name__ == "__main__":  # python -m tests.browser.test_accessibility URL: the same check against a running app
    import sys

    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    base = sys.argv[1]
    langs = sys.argv[2:] or ["en", "ar"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        found: list[str] = []
        for lang in langs:
            for email, pages in (("manager@demo.gov", MANAGER_PAGES), ("admin@demo.gov", ADMIN_PAGES), ("records@demo.gov", RECORDS_PAGES)):
                ctx = phone_context(b)
                pg = ctx.new_page()
                pg.set_default_timeout(20_000)
                sign_in(pg, base, email)
                choose_language(pg, base, lang)
                found += check_pages(pg, base, pages, lang)
                if lang != "en":
                    choose_language(pg, base, "en")
                ctx.close()
        print("\n".join(found) or "no serious or critical violations")
        print(f"{len(found)} problems", file=sys.stderr)
        b.close()
