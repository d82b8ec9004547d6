"""make bench-presence: how fast "X is viewing" reaches a second browser, against a raw websocket round trip."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TRIALS = int(os.environ.get("BENCH_PRESENCE_TRIALS", "100"))

WATCH = """
(name) => {
  // Returns at once; records in window.__seenAt the first frame in which the presence text shows.
  window.__seenAt = null;
  const seen = () => [...document.querySelectorAll('p')].some(p => p.textContent === name + ' is viewing');
  const tick = () => { if (seen()) window.__seenAt = Date.now(); else requestAnimationFrame(tick); };
  tick();
}
"""


OPENED = """
() => {
  // The opener's own page: records in window.__openAt the first frame that shows the message they opened. What
  // another person sees cannot come sooner than the opener's own event has run, so this is the floor of the trial.
  window.__openAt = null;
  const shown = () => [...document.querySelectorAll('a')].some(a => a.textContent.trim() === 'Back to inbox');
  const tick = () => { if (shown()) window.__openAt = Date.now(); else requestAnimationFrame(tick); };
  tick();
}
"""


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def _ws_floor(url: str, n: int = 100) -> list[float]:
    """A socket.io namespace-connect round trip on Reflex's own /_event socket: the transport and the
    socket.io stack, with no app work (Engine.IO ignores client pings outside a transport upgrade)."""
    import websockets

    ws_url = url.replace("http", "ws") + "/_event/?EIO=4&transport=websocket"
    out = []
    for _ in range(n):
        async with websockets.connect(ws_url) as ws:
            await ws.recv()  # the Engine.IO open packet
            t = time.perf_counter()
            await ws.send("40/_event,")
            while not (await ws.recv()).startswith("40/_event"):
                pass
            out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, sign_in, start_app, stop_app

    app = start_app(Path(tempfile.mkdtemp(prefix="bench-presence-")))
    latencies: list[float] = []
    opened: list[float] = []  # the opener's own page, click to the message shown
    misses = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            a = browser.new_context(viewport=DESKTOP).new_page()
            b = browser.new_context(viewport=DESKTOP).new_page()
            sign_in(a, app.url, "responder@demo.gov")
            sign_in(b, app.url, "responder2@demo.gov")
            b.goto(app.url + "/inbox")
            a.goto(app.url + "/inbox")
            a.get_by_role("listitem").first.wait_for()
            b.get_by_role("listitem").first.wait_for()
            links = a.get_by_role("listitem").get_by_role("link")
            hrefs = [links.nth(i).get_attribute("href") for i in range(min(10, links.count()))]
            for i in range(TRIALS):
                href = hrefs[i % len(hrefs)]
                b.evaluate(f"({WATCH})('Riley Responder')")
                a.wait_for_function("() => ![...document.querySelectorAll('a')].some(a => a.textContent.trim() === 'Back to inbox')", timeout=10_000)
                a.evaluate(f"({OPENED})()")
                # Riley opens a message: the clock starts when the click is dispatched in A's page.
                t0 = a.evaluate("(h) => { const l = document.querySelector(`a[href=\"${h}\"]`); const t = Date.now(); l.click(); return t; }", href)
                try:
                    b.wait_for_function("window.__seenAt !== null", timeout=10_000)
                    seen_at = b.evaluate("window.__seenAt")
                except Exception:
                    seen_at = -1
                if seen_at < 0:
                    misses += 1
                else:
                    latencies.append(seen_at - t0)
                a.wait_for_function("window.__openAt !== null", timeout=10_000)
                opened.append(a.evaluate("window.__openAt") - t0)
                if i % 10 == 9:
                    print(f"trial {i + 1}: last {latencies[-1] if latencies else -1:.0f} ms", file=sys.stderr, flush=True)
                a.get_by_role("link", name="Back to inbox").click()
                b.wait_for_function("() => ![...document.querySelectorAll('p')].some(p => p.textContent === 'Riley Responder is viewing')", timeout=10_000)
            browser.close()
        floor = asyncio.run(_ws_floor(app.url))
    finally:
        stop_app(app.proc)
    p50, p95 = statistics.median(latencies), _pct(latencies, 95)
    f50, f95 = statistics.median(floor), _pct(floor, 95)
    o50, o95 = statistics.median(opened), _pct(opened, 95)
    print(f"presence p50 {p50:.0f} ms p95 {p95:.0f} ms; the opener's own page p50 {o50:.0f} ms p95 {o95:.0f} ms; "
          f"websocket floor p50 {f50:.2f} ms", file=sys.stderr)
    print(json.dumps({
        "benchmark": "presence", "trials": TRIALS, "misses": misses,
        "presence_p50_ms": round(p50, 1), "presence_p95_ms": round(p95, 1),
        "ws_floor_p50_ms": round(f50, 2), "ws_floor_p95_ms": round(f95, 2),
        "opener_p50_ms": round(o50, 1), "opener_p95_ms": round(o95, 1), "presence_p95_vs_opener_p95": round(p95 / max(o95, 0.01), 2),
        "ratio_p95_to_floor_p95": round(p95 / max(f95, 0.01), 1), "goal_p95_ms": 250, "meets_goal": p95 <= 250 and misses == 0,
    }))


if __name__ == "__main__":
    main()
