"""make bench-signin: a newcomer's sign-in from the root address on a phone, until the inbox shows its messages,
against the same sign-in opened at /login directly (the floor: the same form, handler and inbox, no root hop)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

TRIALS = int(os.environ.get("BENCH_SIGNIN_TRIALS", "20"))
GOAL_MS = 2000
GIVE_UP_MS = 30_000

# Returns at once; records in window.__inboxAt the first frame in which the inbox shows a message.
WATCH = """
() => {
  window.__inboxAt = null;
  const shown = () => location.pathname.startsWith('/inbox') && document.querySelector('ul[aria-label="Messages"] > li');
  const tick = () => { if (shown()) window.__inboxAt = Date.now(); else requestAnimationFrame(tick); };
  tick();
}
"""
READY = "() => [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Sign in' && !b.disabled)"
# The clock starts when the click on "Sign in" is dispatched in the page, not when Playwright sends it.
CLICK = """
() => {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Sign in');
  const t = Date.now();
  button.click();
  return t;
}
"""


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _trial(browser, url: str, start: str) -> float | None:
    from tests.browser.conftest import DEMO_PASSWORD, PHONE

    ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = ctx.new_page()
        page.goto(url + start)
        page.wait_for_url("**/login**")
        page.get_by_label("Email").fill("responder@demo.gov")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        # A person taps once the button is live (it is disabled until the app has started and its socket answered).
        page.wait_for_function(READY, timeout=GIVE_UP_MS)
        page.evaluate(WATCH)
        t0 = page.evaluate(CLICK)
        try:
            page.wait_for_function("window.__inboxAt !== null", timeout=GIVE_UP_MS)
        except Exception:
            return None
        return page.evaluate("window.__inboxAt") - t0
    finally:
        ctx.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app

    app = start_app(Path(tempfile.mkdtemp(prefix="bench-signin-")))
    root: list[float] = []
    direct: list[float] = []
    misses = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            _trial(browser, app.url, "/login")  # warm-up: the first load compiles nothing, but fills caches
            for i in range(TRIALS):
                # Interleaved, so both paths see the same load on a shared machine.
                for start, out in (("/", root), ("/login", direct)):
                    ms = _trial(browser, app.url, start)
                    if ms is None:
                        misses += start == "/"
                    else:
                        out.append(ms)
                print(f"trial {i + 1}: root {root[-1] if root else -1:.0f} ms, /login {direct[-1] if direct else -1:.0f} ms",
                      file=sys.stderr, flush=True)
            browser.close()
    finally:
        stop_app(app.proc)
    r50, r95 = (statistics.median(root), _pct(root, 95)) if root else (float("nan"), float("nan"))
    f50, f95 = statistics.median(direct), _pct(direct, 95)
    print(json.dumps({
        "benchmark": "signin", "trials": TRIALS, "root_misses": misses, "give_up_ms": GIVE_UP_MS,
        "root_to_inbox_p50_ms": round(r50, 1), "root_to_inbox_p95_ms": round(r95, 1),
        "login_floor_p50_ms": round(f50, 1), "login_floor_p95_ms": round(f95, 1),
        "ratio_p95_to_floor_p95": round(r95 / max(f95, 0.01), 2) if root else None,
        "goal_p95_ms": GOAL_MS, "meets_goal": bool(root) and misses == 0 and r95 <= GOAL_MS,
    }))


if __name__ == "__main__":
    main()
