"""make bench-load: N staff clients speaking Reflex's websocket protocol to production mode (PostgreSQL, Redis,
3 workers vs 1, a separate jobs process) during a simulated flood; event round trips, errors and memory.

Environment: BENCH_LOAD_CLIENTS (200), BENCH_LOAD_SECONDS per run (300), BENCH_LOAD_WORKERS ("3,1"),
BENCH_LOAD_PROFILES flood profiles (20), BENCH_LOAD_THINK_S mean pause between a person's actions (3.0),
BENCH_LOAD_SEED_DAYS (2). Prints one JSON object as its last line."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "200"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "300"))
WORKER_RUNS = [int(w) for w in os.environ.get("BENCH_LOAD_WORKERS", "3,1").split(",") if w.strip()]
PROFILES = int(os.environ.get("BENCH_LOAD_PROFILES", "20"))
THINK_S = float(os.environ.get("BENCH_LOAD_THINK_S", "3.0"))
SEED_DAYS = int(os.environ.get("BENCH_LOAD_SEED_DAYS", "2"))
TIMEOUT_S = 15.0  # an event with no answer by then counts as an error
SAMPLE_EVERY_S = 5.0

ROOT = "reflex___state____state"
APP = f"{ROOT}.govsocial_app___state___app_state____app_state"
INBOX = f"{APP}.govsocial_app___state___inbox____inbox_state"
ON_LOAD = f"{ROOT}.reflex___state____on_load_internal_state.on_load_internal"
HYDRATE = f"{ROOT}.hydrate_and_load"
AUTH_VAR = f"{APP}.auth_token_rx_state_"
NAMESPACE = "/_event"
TAGS = ("Flooding", "Roads", "Water", "Power", "Rumour")


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _summary(xs: list[float]) -> dict:
    return {"n": len(xs), "p50": round(_pct(xs, 50), 1), "p95": round(_pct(xs, 95), 1), "p99": round(_pct(xs, 99), 1)}


# ---------------------------------------------------------------- setting the stack up


def _flood(stack) -> None:
    """Before anything starts: every simulator profile (the 3 demo ones plus more, up to PROFILES) is in a flood
    that began a minute ago, compressed 60x so it is at its peak within the run, and polled every 10 s."""
    from sqlalchemy import create_engine
    from sqlmodel import Session, select

    from govsocial_app.db.models import SocialProfile

    now = datetime.now(timezone.utc)
    engine = create_engine(stack.database_url)
    with Session(engine) as s:
        existing = list(s.exec(select(SocialProfile)).all())
        template = existing[0]
        for i in range(max(0, PROFILES - len(existing))):
            key = f"county-{i}"
            s.add(SocialProfile(network="simulator", handle=f"@county_{i}", display_name=f"County office {i}", external_id=key,
                                config={**template.config, "handle": f"@county_{i}", "profile_key": key},
                                secrets_enc=template.secrets_enc, cursor=template.cursor))
        s.flush()
        for p in s.exec(select(SocialProfile)).all():
            p.config = {**p.config, "scenario": "flood", "scenario_started_at": (now - timedelta(minutes=1)).isoformat(),
                        "time_scale": 60, "rate_limit": 0}
            p.poll_interval_s, p.next_poll_at = 10, now
        s.commit()
    engine.dispose()


def _users(database_url: str, n: int) -> list[str]:
    """n responders, each signed in once: the bearer tokens their browsers would keep in LocalStorage."""
    from concurrent.futures import ThreadPoolExecutor

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import User
    from govsocial_app.services import auth

    password = "bench-load-password"
    digest = auth.hash_password(password)
    emails = [f"staff{i}-{uuid.uuid4().hex[:4]}@bench.gov" for i in range(n)]
    with session_scope() as s:
        s.add_all([User(email=e, display_name=f"Staff {i}", password_hash=digest, role="responder") for i, e in enumerate(emails)])
    with ThreadPoolExecutor(8) as pool:
        return [token for token, _ in pool.map(lambda e: auth.sign_in(e, password, "127.0.0.1", "bench-load"), emails)]


def _initial_hashes() -> list[str]:
    """What a freshly loaded page sends with its first hydrate, so the server answers with only what differs."""
    from tests.prod.stack import WEB_DIR

    text = (WEB_DIR / "utils/context.jsx").read_text()
    return json.loads(re.search(r"initialStateHashes = (\[.*?\])", text).group(1))


# ---------------------------------------------------------------- one simulated person


class Staff:
    def __init__(self, base: str, session_token: str, hashes: list[str], results: dict, rng: random.Random) -> None:
        import socketio

        self.base, self.session_token, self.hashes, self.results, self.rng = base, session_token, hashes, results, rng
        self.sio = socketio.AsyncClient(reconnection=False)
        self.token = str(uuid.uuid4())
        self.waiters: list[tuple[set[str], asyncio.Future]] = []
        self.card_ids: list[int] = []
        self.open_id = 0
        self.next_before = 0
        self.sio.on("event", self._on_update, namespace=NAMESPACE)

    # -- protocol

    def _on_update(self, update: dict) -> None:
        delta = update.get("delta") or {}
        inbox = delta.get(INBOX) or {}
        if "cards_rx_state_" in inbox:
            self.card_ids = [int(c["id"]) for c in inbox["cards_rx_state_"] if isinstance(c, dict) and c.get("id")]
        if "next_before_rx_state_" in inbox:
            self.next_before = int(inbox["next_before_rx_state_"] or 0)
        for event in update.get("events") or []:
            if "toast.error" in json.dumps(event.get("payload", {})):
                self.results["errors"]["error toast"] += 1
        keys = set(inbox)
        for waiter in list(self.waiters):
            marker, future = waiter
            if marker & keys and not future.done():
                future.set_result(time.perf_counter())
                self.waiters.remove(waiter)

    @staticmethod
    def _router(path: str, query: dict | None = None) -> dict:
        query = {k: str(v) for k, v in (query or {}).items()}
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return {"pathname": path, "asPath": path + (f"?{qs}" if qs else ""), **({"query": query} if query else {})}

    async def _send(self, kind: str, name: str, payload: dict, marker: set[str], path_query: dict | None = None) -> bool:
        """Emit one event and wait for the update that answers it (the first delta carrying one of `marker`)."""
        future = asyncio.get_running_loop().create_future()
        waiter = (marker, future)
        self.waiters.append(waiter)
        started = time.perf_counter()
        await self.sio.emit("event", {"name": name, "payload": payload, "router_data": self._router("/inbox", path_query)}, namespace=NAMESPACE)
        try:
            done = await asyncio.wait_for(future, TIMEOUT_S)
        except asyncio.TimeoutError:
            if waiter in self.waiters:
                self.waiters.remove(waiter)
            self.results["errors"][f"{kind}: no answer in {TIMEOUT_S:.0f} s"] += 1
            return False
        self.results["rtt"][kind].append((done - started) * 1000)
        return True

    async def connect(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiters.append(({"cards_rx_state_", "error_rx_state_"}, future))
        boot = {"name": HYDRATE, "payload": {"vars": {AUTH_VAR: self.session_token}, "hashes": self.hashes},
                "router_data": self._router("/inbox")}
        started = time.perf_counter()
        await self.sio.connect(f"{self.base}?token={self.token}", socketio_path="_event", namespaces=[NAMESPACE],
                               transports=["websocket"], auth={"event": boot}, wait_timeout=TIMEOUT_S)
        done = await asyncio.wait_for(future, TIMEOUT_S)
        self.results["rtt"]["hydrate+load"].append((done - started) * 1000)

    # -- what a person does

    async def load_list(self) -> None:
        self.open_id = 0
        await self._send("open inbox", ON_LOAD, {}, {"params_rx_state_"})

    async def open_message(self) -> None:
        if not self.card_ids:
            return await self.load_list()
        self.open_id = self.rng.choice(self.card_ids[:20])
        await self._send("open message", ON_LOAD, {}, {"params_rx_state_"}, {"message": self.open_id})

    async def page(self) -> None:
        if not self.next_before:  # the last page: the button is not there
            return await self.load_list()
        await self._send("page", f"{INBOX}.older", {}, {"page_starts_rx_state_"})

    async def tag(self) -> None:
        if self.open_id:
            await self._send("tag", f"{INBOX}.add_tag", {"form": {"tag": self.rng.choice(TAGS)}}, {"selected_rx_state_"})

    async def reply(self) -> None:
        if not self.open_id:
            return
        text = f"Thanks, we have passed this to the duty team ({uuid.uuid4().hex[:6]})."
        if await self._send("type reply", f"{INBOX}.set_draft", {"text": text}, {"draft_rx_state_"}):
            await self._send("send reply", f"{INBOX}.send_reply", {}, {"sending_rx_state_", "held_id_rx_state_"})

    async def run(self, until: float) -> None:
        try:
            await self.connect()
        except Exception as exc:
            self.results["errors"][f"connect: {type(exc).__name__}"] += 1
            return
        actions = [(self.open_message, 30), (self.page, 20), (self.load_list, 20), (self.tag, 15), (self.reply, 10)]
        fns, weights = zip(*actions)
        # No presence heartbeat: the page sends none; the worker holding the socket keeps presence alive.
        try:
            while time.monotonic() < until:
                await asyncio.sleep(self.rng.uniform(0.3, 1.7) * THINK_S)
                if not self.sio.connected:
                    self.results["errors"]["disconnected"] += 1
                    return
                await self.rng.choices(fns, weights)[0]()
        finally:
            await self.sio.disconnect()


async def _floor(base: str, until: float, out: list[float]) -> None:
    """Reflex's own ping event on the same /_event namespace, under the same load: the socket.io round trip
    through a worker with no state loaded, locked or saved. The floor the event round trips are compared with."""
    import socketio

    sio = socketio.AsyncClient(reconnection=False)
    pong: asyncio.Queue = asyncio.Queue()
    sio.on("ping", lambda _data: pong.put_nowait(time.perf_counter()), namespace=NAMESPACE)
    await sio.connect(f"{base}?token={uuid.uuid4()}", socketio_path="_event", namespaces=[NAMESPACE], transports=["websocket"])
    try:
        while time.monotonic() < until:
            t = time.perf_counter()
            await sio.emit("ping", namespace=NAMESPACE)
            try:
                out.append((await asyncio.wait_for(pong.get(), TIMEOUT_S) - t) * 1000)
            except asyncio.TimeoutError:
                pass
            await asyncio.sleep(1)
    finally:
        await sio.disconnect()


async def _driver_lag(until: float, out: list[float]) -> None:
    """How late this load generator's own event loop wakes up: its share of every measured round trip, since it
    runs on the same 2 cores as the stack it measures."""
    while time.monotonic() < until:
        t = time.perf_counter()
        await asyncio.sleep(0.1)
        out.append((time.perf_counter() - t - 0.1) * 1000)


# ---------------------------------------------------------------- memory of every process


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except FileNotFoundError:
        return ""


def _group(pgid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    out.append(int(d.name))
            except (FileNotFoundError, IndexError, ValueError):
                pass
    return out


def _label(pid: int, app_pgid: int, app_group: set[int]) -> str:
    if pid == app_pgid:
        return "reflex cli + granian supervisor"
    if pid in app_group:
        return "web worker"  # granian forks its workers: same command line as the supervisor
    if pid == os.getpid():
        return "bench driver"
    cmd = _cmdline(pid)
    if "-m jobs" in cmd:
        return "jobs"
    return "redis-server" if "redis-server" in cmd else cmd.split()[0].rsplit("/", 1)[-1]


async def _sample_memory(stack, until: float, samples: list[tuple[float, dict[int, int]]], labels: dict[int, str]) -> None:
    import subprocess

    redis_pid = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True).stdout.split()
    start = time.monotonic()
    while time.monotonic() < until:
        group = _group(stack.app.proc.pid)
        pids = group + [p.pid for p in stack.jobs if p.poll() is None] + [os.getpid()] + [int(p) for p in redis_pid[:1]]
        snap = {}
        for pid in pids:
            labels.setdefault(pid, _label(pid, stack.app.proc.pid, set(group)))
            snap[pid] = _rss_kb(pid)
        samples.append((time.monotonic() - start, snap))
        await asyncio.sleep(SAMPLE_EVERY_S)


def _memory_report(samples, labels, duration: float) -> dict:
    peaks = defaultdict(int)
    for _, snap in samples:
        for pid, kb in snap.items():
            peaks[pid] = max(peaks[pid], kb, _rss_kb(pid, "VmHWM"))
    per_process = sorted(({"pid": pid, "role": labels[pid], "peak_rss_mb": round(kb / 1024, 1)} for pid, kb in peaks.items()), key=lambda r: r["role"])

    def web_total(lo: float, hi: float) -> float | None:
        totals = [sum(kb for pid, kb in snap.items() if labels[pid] == "web worker") for t, snap in samples if lo <= t < hi]
        return round(statistics.mean(totals) / 1024, 1) if totals else None

    minute2, last = web_total(60, 120), web_total(max(0.0, duration - 60), duration + 1)
    return {
        "processes": per_process,
        "web_workers_rss_mb_minute_2": minute2,
        "web_workers_rss_mb_last_minute": last,
        "last_vs_minute_2": round(last / minute2, 3) if minute2 and last else None,
    }


# ---------------------------------------------------------------- one run


async def _drive(stack, tokens: list[str], hashes: list[str]) -> dict:
    results = {"rtt": defaultdict(list), "errors": Counter()}
    rng = random.Random(8)
    started = time.monotonic()
    until = started + SECONDS
    staff = [Staff(stack.app.url, t, hashes, results, random.Random(rng.random())) for t in tokens]
    floor: list[float] = []
    samples, labels = [], {}
    memory = asyncio.create_task(_sample_memory(stack, until, samples, labels))

    async def person(i: int, s: Staff) -> None:
        await asyncio.sleep(i * 10.0 / len(staff))  # everyone signs in over the first 10 s, not in one instant
        await s.run(until)

    lag: list[float] = []
    await asyncio.gather(_floor(stack.app.url, until, floor), _driver_lag(until, lag), *(person(i, s) for i, s in enumerate(staff)),
                         return_exceptions=False)
    await memory
    duration = time.monotonic() - started
    every = [x for kind, xs in results["rtt"].items() if kind != "hydrate+load" for x in xs]
    return {
        "workers": stack.workers,
        "clients": len(tokens),
        "seconds": round(duration),
        "events": len(every),
        "events_per_s": round(len(every) / duration, 1),
        "rtt_ms": _summary(every),
        "rtt_ms_by_action": {k: _summary(v) for k, v in sorted(results["rtt"].items())},
        "floor_reflex_ping_ms": _summary(floor),
        "p95_vs_floor_p95": round(_pct(every, 95) / _pct(floor, 95), 1) if floor and every else None,
        "driver_loop_lag_ms": _summary(lag),
        "errors": sum(results["errors"].values()),
        "error_kinds": dict(results["errors"]),
        "messages_ingested": _ingested(stack.database_url),
        "memory": _memory_report(samples, labels, duration),
    }


def _ingested(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM message WHERE direction = 'in'")).scalar()
    engine.dispose()
    return int(n)


def _say(message: str) -> None:
    print(f"[bench-load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(workers: int) -> dict:
    from tests.conftest import point_app_at
    from tests.prod.stack import start_stack

    _say(f"starting production mode with {workers} worker(s), {PROFILES} flooded profiles")
    stack = start_stack(Path(tempfile.mkdtemp(prefix=f"bench-load-{workers}w-")), workers=workers, nginx=False,
                        seed_days=SEED_DAYS, standbys=1, before_app=_flood)
    try:
        point_app_at(stack.database_url)
        tokens = _users(stack.database_url, CLIENTS)
        before = _ingested(stack.database_url)
        _say(f"{stack.app.url} is up; {len(tokens)} staff drive it for {SECONDS:.0f} s")
        out = asyncio.run(_drive(stack, tokens, _initial_hashes()))
        out["messages_ingested"] -= before
        return out
    finally:
        stack.stop()


def main() -> None:
    import logging
    import signal

    logging.basicConfig(level=logging.WARNING)
    # A SIGTERM (make's timeout, Ctrl-C in CI) must still tear the stack down: workers run in their own session.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runs = {}
    for workers in WORKER_RUNS:
        result = run(workers)
        runs[f"{workers}_workers"] = result
        print(json.dumps(result), file=sys.stderr, flush=True)
    first = runs[f"{WORKER_RUNS[0]}_workers"]
    out = {
        "bench": "load",
        "clients": CLIENTS,
        "seconds_per_run": SECONDS,
        "think_s": THINK_S,
        "flood_profiles": PROFILES,
        "p50_ms": first["rtt_ms"]["p50"],
        "p95_ms": first["rtt_ms"]["p95"],
        "p99_ms": first["rtt_ms"]["p99"],
        "errors": first["errors"],
        "goal_p95_le_200ms": first["rtt_ms"]["p95"] <= 200,
        "goal_zero_errors": first["errors"] == 0,
        "goal_memory_flat_10pct": (first["memory"]["last_vs_minute_2"] or 99) <= 1.10,
        "runs": runs,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
