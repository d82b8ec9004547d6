"""make bench-load: staff clients speaking Reflex's websocket protocol to production mode (PostgreSQL, Redis,
3 workers, a separate jobs process) during a simulated flood; two phases, printed apart:

- surge: BENCH_LOAD_SURGE_CLIENTS newcomers (200) spread over BENCH_LOAD_SURGE_SPREAD_S (10 s) each open the root
  address `/`, are sent to sign in, sign in with a password and reach the inbox. Click-to-inbox (the "Sign in" click
  to the inbox's first messages) p95 is `surge_p95_ms` (goal <= 1500 ms). A worker that sheds load refuses the
  socket with "busy"; a newcomer then retries with backoff, as the browser does, and the wait counts.
- steady: BENCH_LOAD_CLIENTS (300) signed-in staff work the inbox for BENCH_LOAD_SECONDS (240); event round trips
  after the ramp (BENCH_LOAD_WARMUP_S, 30) against Reflex's bare ping measured alongside (goal p95 <= 2x floor p95).

Both phases also print the CPU the web workers and PostgreSQL used (`surge_web_cpu_ms_per_newcomer`,
`steady_web_cpu_ms_per_event`): the work a change adds or saves, which the host's speed moves far less than the
round trips (the same code's surge p95 ranged from 292 to 3,300 ms on this host), for comparing versions.

Both phases: 0 errors and 0 lost events. An event with no answer in 15 s is an error; the person then waits up to
60 s in all before going on: an answer by then counts it "late", none at all "lost".
Other knobs: BENCH_LOAD_WORKERS ("3"; "3,1" adds a 1-worker run), BENCH_LOAD_PROFILES flood profiles (20),
BENCH_LOAD_THINK_S mean pause between a person's actions (3.0), BENCH_LOAD_SEED_DAYS (2).
About 6 minutes per worker count. Prints one JSON object as its last line."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import random
import re
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "300"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "240"))
WARMUP_S = float(os.environ.get("BENCH_LOAD_WARMUP_S", "30"))
SURGE_CLIENTS = int(os.environ.get("BENCH_LOAD_SURGE_CLIENTS", "200"))
SURGE_SPREAD_S = float(os.environ.get("BENCH_LOAD_SURGE_SPREAD_S", "10"))
SURGE_GOAL_MS = 1500
STEADY_GOAL_X_FLOOR = 2.0
WORKER_RUNS = [int(w) for w in os.environ.get("BENCH_LOAD_WORKERS", "3").split(",") if w.strip()]
PROFILES = int(os.environ.get("BENCH_LOAD_PROFILES", "20"))
THINK_S = float(os.environ.get("BENCH_LOAD_THINK_S", "3.0"))
SEED_DAYS = int(os.environ.get("BENCH_LOAD_SEED_DAYS", "2"))
TIMEOUT_S = 15.0  # an event with no answer by then counts as an error
LOST_AFTER_S = 60.0  # ... and with none by then as lost (a slow answer is not a lost one)
SAMPLE_EVERY_S = 5.0
# The floor: this many ping sockets, each pinging once a second from a random start. The workers each take some
# of them, so the floor is every worker's, as the events are (one socket measured whichever worker it landed on,
# about 90 pings a run: its p95 moved between 99 and 199 ms from run to run on the same code).
FLOOR_SOCKETS = int(os.environ.get("BENCH_LOAD_FLOOR_SOCKETS", "9"))

ROOT = "reflex___state____state"
APP = f"{ROOT}.govsocial_app___state___app_state____app_state"
INBOX = f"{APP}.govsocial_app___state___inbox____inbox_state"
LOGIN = f"{APP}.govsocial_app___state___login____login_state"
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
    # max and the count over 1 s show a stall (an event waiting on a state lock, say) that p99 hides.
    return {"n": len(xs), "p50": round(_pct(xs, 50), 1), "p95": round(_pct(xs, 95), 1), "p99": round(_pct(xs, 99), 1),
            "max": round(max(xs), 1) if xs else float("nan"), "over_1s": sum(1 for x in xs if x > 1000)}


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
        if list(delta) == [INBOX] and list(inbox) == ["presence_rx_state_"]:
            # the live relay's presence push (that var alone): proof that the pushes, sent to groups, arrive
            self.results["presence_pushes_received"] += 1
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
        started, sent_at = time.perf_counter(), time.monotonic()
        await self.sio.emit("event", {"name": name, "payload": payload, "router_data": self._router("/inbox", path_query)}, namespace=NAMESPACE)
        try:
            done = await asyncio.wait_for(asyncio.shield(future), TIMEOUT_S)
        except asyncio.TimeoutError:
            self.results["errors"][f"{kind}: no answer in {TIMEOUT_S:.0f} s"] += 1
            # The client token and the wall-clock time find this event in the workers' logs (README: the lock's debug log).
            _say(f"no answer in {TIMEOUT_S:.0f} s: {kind}, client token {self.token}, sent at {time.time() - TIMEOUT_S:.3f}")
            self.results[await _late_or_lost(future)] += 1
            if waiter in self.waiters:
                self.waiters.remove(waiter)
            return False
        # The ramp (everyone connecting) is reported apart from the steady state the goal is about.
        ramp = sent_at < self.results["measure_from"]
        self.results["rtt_ramp" if ramp else "rtt"][kind].append((done - started) * 1000)
        return True

    async def connect(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiters.append(({"cards_rx_state_", "error_rx_state_"}, future))
        boot = {"name": HYDRATE, "payload": {"vars": {AUTH_VAR: self.session_token}, "hashes": self.hashes},
                "router_data": self._router("/inbox")}
        started = time.perf_counter()
        import socketio

        for attempt in range(Newcomer.MAX_ATTEMPTS):  # refused "busy" by a shedding worker: back off and come back
            refusal: list = []
            self.sio.on("connect_error", refusal.append, namespace=NAMESPACE)
            try:
                await self.sio.connect(f"{self.base}?token={self.token}", socketio_path="_event", namespaces=[NAMESPACE],
                                       transports=["websocket"], auth={"event": boot}, wait_timeout=TIMEOUT_S)
                break
            except socketio.exceptions.ConnectionError:
                if not (refusal and _is_busy(refusal[0])) or attempt == Newcomer.MAX_ATTEMPTS - 1:
                    raise
                self.results["shed"] += 1
                await self.sio.disconnect()
                self.sio = socketio.AsyncClient(reconnection=False)
                self.sio.on("event", self._on_update, namespace=NAMESPACE)
                await asyncio.sleep(_backoff_s(attempt, self.rng))
        done = await asyncio.wait_for(future, TIMEOUT_S)
        self.results["rtt_ramp"]["hydrate+load"].append((done - started) * 1000)

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


# ---------------------------------------------------------------- the surge: newcomers signing in from the root address


async def _late_or_lost(future: asyncio.Future) -> str:
    """After TIMEOUT_S without an answer: wait until LOST_AFTER_S in all, as a person would, then say which it was."""
    try:
        await asyncio.wait_for(future, LOST_AFTER_S - TIMEOUT_S)
        return "late"
    except asyncio.TimeoutError:
        return "lost"


def _redirect_path(update: dict) -> str | None:
    """Where an update tells the browser to go (`rx.redirect`), or None."""
    for event in update.get("events") or []:
        if isinstance(event, dict) and str(event.get("name", "")).endswith("_redirect"):
            return str((event.get("payload") or {}).get("path", ""))
    return None


def _login_error(update: dict) -> str:
    """The sign-in form's error message in an update ("" when it carries none)."""
    return str(((update.get("delta") or {}).get(LOGIN) or {}).get("error_rx_state_") or "")


def _has_cards(update: dict) -> bool:
    return "cards_rx_state_" in ((update.get("delta") or {}).get(INBOX) or {})


def _is_busy(reason) -> bool:
    """A refusal by a shedding worker (govsocial_app/loadshed.py): its connect_error carries the message "busy"."""
    message = reason.get("message") if isinstance(reason, dict) else reason
    return str(message or "").strip().lower() == "busy"


def _backoff_s(attempt: int, rng: random.Random) -> float:
    """The wait before reconnect number `attempt` (0-based): doubling from 0.25 s, capped at 4 s, with jitter so a
    shed crowd does not come back in one instant."""
    return min(4.0, 0.25 * 2 ** attempt) * rng.uniform(0.5, 1.0)


def _outcome(results: dict) -> dict:
    """What both phases print of how their events ended: busy refusals retried, lost, late, and errors by kind."""
    return {"refused_busy_retries": results["shed"], "lost_events": results["lost"], "late_answers_over_15s": results["late"],
            "errors": sum(results["errors"].values()), "error_kinds": dict(results["errors"])}


def _surge_starts(n: int, spread_s: float) -> list[float]:
    """Offsets (s) at which n newcomers open the root address: evenly over the spread."""
    return [i * spread_s / n for i in range(n)] if n else []


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class Newcomer:
    """Someone opening GovSocial for the first time this emergency: `/`, sent to sign in, signs in, reaches the inbox."""

    MAX_ATTEMPTS = 12

    def __init__(self, base: str, email: str, password: str, hashes: list[str], results: dict, rng: random.Random) -> None:
        self.base, self.email, self.password, self.hashes, self.results, self.rng = base, email, password, hashes, results, rng
        self.token = str(uuid.uuid4())
        self.sio = None
        self.waiters: list[tuple[object, asyncio.Future]] = []
        self.refusal = None

    def _on_update(self, update: dict) -> None:
        for event in update.get("events") or []:
            if "toast.error" in json.dumps(event.get("payload", {})):
                self.results["errors"]["error toast"] += 1
        for waiter in list(self.waiters):
            test, future = waiter
            if not future.done() and test(update):
                future.set_result((time.perf_counter(), update))
                self.waiters.remove(waiter)

    def _expect(self, test) -> asyncio.Future:
        """Register before sending, so an answer that comes back at once is not missed."""
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((test, future))
        return future

    async def _await(self, what: str, future: asyncio.Future) -> tuple[float, dict]:
        try:
            return await asyncio.wait_for(asyncio.shield(future), TIMEOUT_S)
        except asyncio.TimeoutError:
            self.results[await _late_or_lost(future)] += 1
            raise RuntimeError(f"{what}: no answer in {TIMEOUT_S:.0f} s") from None

    async def _emit(self, name: str, payload: dict, path: str) -> None:
        await self.sio.emit("event", {"name": name, "payload": payload, "router_data": Staff._router(path)}, namespace=NAMESPACE)

    async def _open_socket(self) -> asyncio.Future:
        """Connect with the root page's hydrate; retry with backoff while workers answer "busy"."""
        import socketio

        boot = {"name": HYDRATE, "payload": {"vars": {AUTH_VAR: ""}, "hashes": self.hashes}, "router_data": Staff._router("/")}
        for attempt in range(self.MAX_ATTEMPTS):
            self.sio = socketio.AsyncClient(reconnection=False)
            self.sio.on("event", self._on_update, namespace=NAMESPACE)
            self.refusal = None
            self.sio.on("connect_error", lambda data: setattr(self, "refusal", data), namespace=NAMESPACE)
            sent_to = self._expect(lambda u: _redirect_path(u) is not None)
            try:
                await self.sio.connect(f"{self.base}?token={self.token}", socketio_path="_event", namespaces=[NAMESPACE],
                                       transports=["websocket"], auth={"event": boot}, wait_timeout=TIMEOUT_S)
                return sent_to
            except socketio.exceptions.ConnectionError:
                self.waiters.clear()
                if not _is_busy(self.refusal):
                    raise
                self.results["shed"] += 1
                await self.sio.disconnect()
                await asyncio.sleep(_backoff_s(attempt, self.rng))
        raise RuntimeError(f"still busy after {self.MAX_ATTEMPTS} tries")

    async def run(self) -> None:
        import httpx

        started = time.perf_counter()
        try:
            # Its own connection, as a phone has, but the driver's one TLS context: a new client loads the CA
            # bundle otherwise (39 ms of the driver's CPU each, 8 s per surge, stalling every newcomer's clock).
            async with httpx.AsyncClient(timeout=TIMEOUT_S, verify=_tls_context()) as http:
                (await http.get(self.base + "/")).raise_for_status()
            _, update = await self._await("open /", await self._open_socket())
            if not (_redirect_path(update) or "").startswith("/login"):
                raise RuntimeError(f"/ sent a newcomer to {_redirect_path(update)!r}, not to sign in")
            # The sign-in page's own on_load; the form is usable before it answers, but a person reads the page first.
            ready = self._expect(lambda u: True)
            await self._emit(ON_LOAD, {}, "/login")
            at_form, _ = await self._await("sign-in page", ready)
            self.results["rtt"]["open / to sign-in form"].append((at_form - started) * 1000)

            # The click on "Sign in": the clock the goal is about.
            answered = self._expect(lambda u: _redirect_path(u) is not None or bool(_login_error(u)))
            clicked = time.perf_counter()
            await self._emit(f"{LOGIN}.submit", {"form": {"email": self.email, "password": self.password}}, "/login")
            signed_at, update = await self._await("sign in", answered)
            if _login_error(update):
                raise RuntimeError(f"sign-in refused: {_login_error(update)}")
            self.results["rtt"]["sign in (password check)"].append((signed_at - clicked) * 1000)
            path = _redirect_path(update) or ""
            inbox = self._expect(_has_cards)
            await self._emit(ON_LOAD, {}, path.split("?", 1)[0] or "/inbox")
            at_inbox, _ = await self._await("first inbox load", inbox)
            self.results["rtt"]["click to inbox"].append((at_inbox - clicked) * 1000)
            self.results["rtt"]["open / to inbox"].append((at_inbox - started) * 1000)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the others
            self.results["errors"][f"{type(exc).__name__}: {str(exc)[:80]}"] += 1

    async def leave(self) -> None:
        if self.sio is not None and self.sio.connected:
            await self.sio.disconnect()


def _password_users(n: int, password: str) -> list[str]:
    """n responders with a password and no session yet: the surge's newcomers."""
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import User
    from govsocial_app.services import auth

    digest = auth.hash_password(password)
    emails = [f"newcomer{i}-{uuid.uuid4().hex[:4]}@bench.gov" for i in range(n)]
    with session_scope() as s:
        s.add_all([User(email=e, display_name=f"Newcomer {i}", password_hash=digest, role="responder") for i, e in enumerate(emails)])
    return emails


async def _surge(stack, emails: list[str], password: str, hashes: list[str]) -> dict:
    results = {"rtt": defaultdict(list), "errors": Counter(), "lost": 0, "late": 0, "shed": 0}
    rng = random.Random(20)
    people = [Newcomer(stack.app.url, e, password, hashes, results, random.Random(rng.random())) for e in emails]
    floor: list[float] = []
    started = time.monotonic()

    async def one(offset: float, person: Newcomer) -> None:
        await asyncio.sleep(offset)
        await person.run()

    cpu_before = _cpu_snapshot(stack)
    done = asyncio.gather(*(one(o, p) for o, p in zip(_surge_starts(len(people), SURGE_SPREAD_S), people)))
    floor_task = asyncio.create_task(_floor(stack.app.url, started + 3600, floor, stop=done))
    lag: list[float] = []
    lag_task = asyncio.create_task(_driver_lag(started + 3600, lag, stop=done))
    await done
    seconds = time.monotonic() - started
    cpu = _cpu_used(cpu_before, _cpu_snapshot(stack))
    await floor_task
    await lag_task
    await asyncio.gather(*(p.leave() for p in people), return_exceptions=True)
    clicks = results["rtt"]["click to inbox"]
    return {
        "newcomers": len(people),
        "spread_s": SURGE_SPREAD_S,
        "seconds_to_last_inbox": round(seconds, 1),
        "reached_inbox": len(clicks),
        "click_to_inbox_ms": _summary(clicks),
        "rtt_ms_by_step": {k: _summary(v) for k, v in sorted(results["rtt"].items())},
        "floor_reflex_ping_ms": _summary(floor),
        "driver_loop_lag_ms": _summary(lag),
        "cpu_s": cpu,
        "web_cpu_ms_per_newcomer": round(cpu["web_workers"] * 1000 / len(people), 1),
        **_outcome(results),
    }


async def _floor(base: str, until: float, out: list[float], stop: asyncio.Future | None = None) -> None:
    """Reflex's own ping event on the same /_event namespace, under the same load: the socket.io round trip
    through a worker with no state loaded, locked or saved. The floor the event round trips are compared with,
    from FLOOR_SOCKETS sockets spread over the workers."""
    await asyncio.gather(*(_floor_socket(base, until, out, stop, random.Random(4 + i)) for i in range(FLOOR_SOCKETS)))


async def _floor_socket(base: str, until: float, out: list[float], stop: asyncio.Future | None, rng: random.Random) -> None:
    import socketio

    pong: asyncio.Queue = asyncio.Queue()
    await asyncio.sleep(rng.uniform(0, 1))  # the sockets' pings spread over each second
    for attempt in range(40):  # a shedding worker refuses new sockets ("busy"): come back, as a browser would
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("ping", lambda _data: pong.put_nowait(time.perf_counter()), namespace=NAMESPACE)
        try:
            await sio.connect(f"{base}?token={uuid.uuid4()}", socketio_path="_event", namespaces=[NAMESPACE], transports=["websocket"])
            break
        except socketio.exceptions.ConnectionError:
            await sio.disconnect()
            if time.monotonic() >= until:
                return
            await asyncio.sleep(_backoff_s(attempt, rng))
    else:
        return
    try:
        while time.monotonic() < until and not (stop is not None and stop.done()):
            t = time.perf_counter()
            await sio.emit("ping", namespace=NAMESPACE)
            try:
                out.append((await asyncio.wait_for(pong.get(), TIMEOUT_S) - t) * 1000)
            except asyncio.TimeoutError:
                pass
            await asyncio.sleep(1)
    finally:
        await sio.disconnect()


async def _driver_lag(until: float, out: list[float], stop: asyncio.Future | None = None) -> None:
    """How late this load generator's own event loop wakes up: its share of every measured round trip, since it
    runs on the same 2 cores as the stack it measures."""
    while time.monotonic() < until and not (stop is not None and stop.done()):
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


def _cpu_s(pid: int) -> float:
    """User and system CPU seconds the process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_snapshot(stack) -> dict[str, float]:
    """CPU seconds used so far by the web workers, PostgreSQL's processes and the jobs processes. The difference
    over a phase is the work it cost, which a slower or busier host stretches far less than it stretches round
    trips: the ratio to compare two versions of the code with (the round trips' goals stay the goals)."""
    import subprocess

    group = _group(stack.app.proc.pid)
    postgres = [int(p) for p in subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout.split()]
    return {
        "web_workers": sum(_cpu_s(p) for p in group if p != stack.app.proc.pid),
        "postgres": sum(_cpu_s(p) for p in postgres),
        "jobs": sum(_cpu_s(p.pid) for p in stack.jobs if p.poll() is None),
        "driver": _cpu_s(os.getpid()),
    }


def _cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 2) for k in before}


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
    started = time.monotonic()
    until = started + SECONDS
    results = {"rtt": defaultdict(list), "rtt_ramp": defaultdict(list), "errors": Counter(), "lost": 0, "late": 0, "shed": 0,
               "measure_from": started + min(WARMUP_S, SECONDS / 2), "presence_pushes_received": 0}
    rng = random.Random(8)
    staff = [Staff(stack.app.url, t, hashes, results, random.Random(rng.random())) for t in tokens]
    floor: list[float] = []
    samples, labels = [], {}
    memory = asyncio.create_task(_sample_memory(stack, until, samples, labels))

    async def person(i: int, s: Staff) -> None:
        await asyncio.sleep(i * 10.0 / len(staff))  # everyone connects over the first 10 s, not in one instant
        await s.run(until)

    lag: list[float] = []

    cpu_marks: list[dict[str, float]] = []

    async def floor_after_ramp() -> None:
        await asyncio.sleep(max(0.0, results["measure_from"] - time.monotonic()))
        cpu_marks.append(_cpu_snapshot(stack))
        await _floor(stack.app.url, until, floor)
        cpu_marks.append(_cpu_snapshot(stack))

    await asyncio.gather(floor_after_ramp(), _driver_lag(until, lag), *(person(i, s) for i, s in enumerate(staff)),
                         return_exceptions=False)
    await memory
    duration = time.monotonic() - started
    measured = duration - (results["measure_from"] - started)
    every = [x for xs in results["rtt"].values() for x in xs]
    cpu = _cpu_used(*cpu_marks)
    return {
        "workers": stack.workers,
        "clients": len(tokens),
        "seconds": round(duration),
        "measured_after_s": round(results["measure_from"] - started),
        "events": len(every),
        "events_per_s": round(len(every) / measured, 1),
        "rtt_ms": _summary(every),
        "rtt_ms_by_action": {k: _summary(v) for k, v in sorted(results["rtt"].items())},
        "ramp_rtt_ms_by_action": {k: _summary(v) for k, v in sorted(results["rtt_ramp"].items())},
        "floor_reflex_ping_ms": _summary(floor),
        "p95_vs_floor_p95": round(_pct(every, 95) / _pct(floor, 95), 2) if floor and every else None,
        "driver_loop_lag_ms": _summary(lag),
        "cpu_s": cpu,  # after the ramp, the events counted here (with the flood's ingest and the floor's pings)
        "web_cpu_ms_per_event": round(cpu["web_workers"] * 1000 / len(every), 2) if every else None,
        **_outcome(results),
        "messages_ingested": _ingested(stack.database_url),
        "presence_pushes_received": results["presence_pushes_received"],
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
        password = "bench-load-newcomer-password"
        emails = _password_users(SURGE_CLIENTS, password)
        tokens = _users(stack.database_url, CLIENTS)
        hashes = _initial_hashes()
        before = _ingested(stack.database_url)
        _say(f"{stack.app.url} is up; surge: {len(emails)} newcomers sign in from / over {SURGE_SPREAD_S:.0f} s")
        surge = asyncio.run(_surge(stack, emails, password, hashes))
        _say(f"surge: {json.dumps(surge)}")
        _say(f"steady: {len(tokens)} staff drive it for {SECONDS:.0f} s")
        out = asyncio.run(_drive(stack, tokens, hashes))
        out["messages_ingested"] -= before
        return {"surge": surge, "steady": out}
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
    surge, steady = first["surge"], first["steady"]
    surge_p95 = surge["click_to_inbox_ms"]["p95"]
    ratio = steady["p95_vs_floor_p95"]
    out = {
        "bench": "load",
        "workers": WORKER_RUNS[0],
        "surge_newcomers": SURGE_CLIENTS,
        "surge_spread_s": SURGE_SPREAD_S,
        "surge_p50_ms": surge["click_to_inbox_ms"]["p50"],
        "surge_p95_ms": surge_p95,
        "surge_reached_inbox": surge["reached_inbox"],
        "surge_busy_retries": surge["refused_busy_retries"],
        "surge_errors": surge["errors"],
        "surge_lost_events": surge["lost_events"],
        "surge_late_answers": surge["late_answers_over_15s"],
        "steady_clients": CLIENTS,
        "steady_seconds": SECONDS,
        "think_s": THINK_S,
        "flood_profiles": PROFILES,
        "steady_p50_ms": steady["rtt_ms"]["p50"],
        "steady_p95_ms": steady["rtt_ms"]["p95"],
        "steady_p99_ms": steady["rtt_ms"]["p99"],
        "steady_max_ms": steady["rtt_ms"]["max"],
        "steady_over_1s": steady["rtt_ms"]["over_1s"],
        "steady_floor_p95_ms": steady["floor_reflex_ping_ms"]["p95"],
        "surge_web_cpu_ms_per_newcomer": surge["web_cpu_ms_per_newcomer"],
        "surge_postgres_cpu_s": surge["cpu_s"]["postgres"],
        "steady_web_cpu_ms_per_event": steady["web_cpu_ms_per_event"],
        "steady_presence_pushes_received": steady["presence_pushes_received"],
        "steady_postgres_cpu_s": steady["cpu_s"]["postgres"],
        "steady_p95_vs_floor_p95": ratio,
        "steady_errors": steady["errors"],
        "steady_lost_events": steady["lost_events"],
        "steady_late_answers": steady["late_answers_over_15s"],
        "goal_surge_p95_le_1500ms": surge_p95 <= SURGE_GOAL_MS and surge["reached_inbox"] == SURGE_CLIENTS,
        "goal_steady_p95_le_2x_floor": ratio is not None and ratio <= STEADY_GOAL_X_FLOOR,
        "goal_zero_errors_and_lost": not (surge["errors"] or surge["lost_events"] or steady["errors"] or steady["lost_events"]),
        "goal_memory_flat_10pct": (steady["memory"]["last_vs_minute_2"] or 99) <= 1.10,
        "runs": runs,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
