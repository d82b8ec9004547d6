"""make bench-frame-paint: what a phone signed in on this device sees first on /inbox, in a real Chromium throttled by
DevTools (slow 4G: 150 ms, 1.6 Mbit/s down; 4x CPU), with the loading frame (components/layout.py loading_frame)
and without it, alternating, in the same build and the same run.

Lighthouse's simulated throttling (bench_paint) hardly credits the frame: on the fast local load it observes, the
browser has run the page's scripts before its first paint, so its estimate of a throttled first paint counts every
script that started before it. Here the throttling is applied to the load itself, so the first paint comes when the
HTML and stylesheets have arrived, and the scripts after. "Without" is the same page in a browser whose saved language
is not English: the page's own check (FRAME_CHECK) then shows the spinner the page had before the frame; the signed-in
content itself is the user's (English) either way.

Environment: BENCH_FRAME_RUNS (4 per mode). Prints one JSON object as its last line: medians of first contentful
paint and largest contentful paint, each mode."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, PHONE, sign_in, start_app, stop_app

RUNS = int(os.environ.get("BENCH_FRAME_RUNS", "4"))
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8 * 0.9, "uploadThroughput": 750e3 / 8 * 0.9}
PAINTS = """() => new Promise(done => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    new PerformanceObserver(list => { const e = list.getEntries(); done({fcp: fcp && fcp.startTime, lcp: e[e.length - 1].startTime}); })
        .observe({type: 'largest-contentful-paint', buffered: true});
})"""


def one_load(ctx, url: str, frame: bool) -> dict:
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.add_init_script(f"localStorage.setItem('gs_lang', '{'en' if frame else 'ar'}')")
    page.goto(url + "/inbox", wait_until="commit")
    page.locator("#main h1").first.wait_for(timeout=60_000)
    page.locator("#main").get_by_role("status").filter(has_text="Loading messages").wait_for(state="detached", timeout=60_000)
    page.wait_for_timeout(1500)  # the last largest-contentful-paint candidate
    out = page.evaluate(PAINTS)
    page.close()
    return out


def main() -> None:
    app = start_app(Path(tempfile.mkdtemp(prefix="bench-frame-")))
    runs: dict[str, list[dict]] = {"frame": [], "spinner": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            # No service worker: each load goes to the network like a first visit.
            ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, service_workers="block")
            page = ctx.new_page()
            sign_in(page, app.url, "admin@demo.gov")
            page.close()
            for _ in range(RUNS):
                for mode in runs:
                    r = one_load(ctx, app.url, mode == "frame")
                    runs[mode].append(r)
                    print(f"  {mode}: FCP {r['fcp']:.0f} ms, LCP {r['lcp']:.0f} ms", file=sys.stderr, flush=True)
            browser.close()
    finally:
        stop_app(app.proc)
    result = {"benchmark": "frame_paint", "throttling": "DevTools: 150 ms, 1.6 Mbit/s, 4x CPU", "runs": RUNS}
    for mode, rs in runs.items():
        result[mode] = {"fcp_ms": round(statistics.median(r["fcp"] for r in rs)),
                        "lcp_ms": round(statistics.median(r["lcp"] for r in rs))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
