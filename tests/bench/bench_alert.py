"""make bench-alert: the simulator's flood at accelerated time through ingest and the spike evaluator, timed from the
threshold crossing to the push accepted by web-push-testing and the email received by aiosmtpd.

Run: .venv/bin/python -m tests.bench.bench_alert [--speed 60]. One scenario clock drives everything: the simulator
(it generates messages up to that clock), ingest (received_at), and the spike evaluator (every 15 scenario seconds, as
the job does). The crossing moment is found independently after each poll with the same measure() the evaluator
uses. The floor is a bare push POST and a bare SMTP send to the same peers. The last line printed is one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="govsocial-bench-alert-"))
# Before any app module reads its settings: a throwaway database, data dir and key file.
os.environ["GOVSOCIAL_DATA_DIR"] = str(WORK / "data")
os.environ["GOVSOCIAL_KEY_FILE"] = str(WORK / "secret.key")
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.db'}"
os.environ.pop("REDIS_URL", None)
# An embedded install, as `make run` has: a DATABASE_URL alone now means production mode, where plain-http push
# addresses are refused (webpush._check_endpoint); the bench's push service is a loopback peer over http.
os.environ["GOVSOCIAL_MODE"] = "demo"
for _name in ("VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY", "SMTP_HOST"):
    os.environ.pop(_name, None)

from connectors.base import Credentials  # noqa: E402
from connectors.simulator import SimulatorConnector  # noqa: E402
from govsocial_app.db.engine import session_scope  # noqa: E402
from govsocial_app.db.migrate import upgrade  # noqa: E402
from govsocial_app.db.models import SocialProfile  # noqa: E402
from govsocial_app.services import auth, mailer  # noqa: E402
from govsocial_app.services.alerting import spikes, webpush
from govsocial_app.services.inbox import ingest
from govsocial_app.services.authz import Actor  # noqa: E402
from govsocial_app.services.crypto import encrypt_json  # noqa: E402
from tests.alerts.smtp_peer import PASSWORD, USERNAME, SmtpPeer  # noqa: E402
from tests.peers.webpush import harness  # noqa: E402

START = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # a Tuesday morning
FLOOD_AFTER = timedelta(minutes=5)
HISTORY = timedelta(days=8)  # more than 7 days: the evaluator uses the same-hour baseline
POLL_EVERY = timedelta(seconds=10)
EVALUATE_EVERY = timedelta(seconds=15)  # jobs/alerts.py SPIKE_EVERY_S
GIVE_UP_AFTER = timedelta(hours=2)
GOAL_SCENARIO_S, GOAL_WALL_S = 60.0, 5.0
FLOOR_SAMPLES = 5


class Clock:
    """Scenario time runs `speed` times faster than the wall clock, from START."""

    def __init__(self, speed: float):
        self.speed = speed
        self.wall0 = time.time()

    def __call__(self) -> datetime:
        return self.at(time.time())

    def at(self, wall: float) -> datetime:
        return START + timedelta(seconds=(wall - self.wall0) * self.speed)

    async def sleep(self, scenario: timedelta) -> None:
        await asyncio.sleep(scenario.total_seconds() / self.speed)


def setup(push_service, smtp_peer) -> tuple[int, dict, Actor]:
    upgrade()
    uid = auth.create_user("oncall@bench.gov", "On-call Officer", "correct horse battery", "admin", Actor.system("bench"))
    actor = Actor(uid, "On-call Officer <oncall@bench.gov>", "admin")
    config = {
        "handle": "@riverton", "profile_key": "bench-riverton", "state_path": str(WORK / "simulator.db"),
        "scenario": "flood", "scenario_started_at": (START + FLOOD_AFTER).isoformat(), "time_scale": 1, "rate_limit": 0,
    }
    with session_scope() as s:
        profile = SocialProfile(network="simulator", handle="@riverton", display_name="City of Riverton", config=config,
                                secrets_enc=encrypt_json({"token": "simulated-bench"}))
        s.add(profile)
        s.flush()
        pid = profile.id
    history = SimulatorConnector(Credentials("simulator", config), clock=lambda: START).history(START - HISTORY, START)
    with session_scope() as s:
        ingest.store(s, history, profile_id=pid, backfill=True)
    subscription = push_service.subscribe(webpush.vapid_keys().public_key)
    webpush.subscribe(actor, subscription, "Bench phone")
    mailer.save_config(mailer.SmtpConfig(smtp_peer.host, smtp_peer.port, USERNAME, PASSWORD, sender="GovSocial <alerts@bench.gov>",
                                         ca_file=str(smtp_peer.cert_path)), actor)
    return pid, subscription, actor


async def floor(push_service, smtp_peer) -> tuple[float, float]:
    """Median wall seconds of a bare push (encrypt, sign, POST) and a bare SMTP send (STARTTLS, AUTH) to the same peers."""
    sub = push_service.subscribe(webpush.vapid_keys().public_key)
    # Straight to the push service, without a stored device (id 0 matches no row to update).
    target = webpush.PushTarget(0, sub["endpoint"], sub["keys"]["p256dh"], sub["keys"]["auth"])
    config = mailer.smtp_config()
    pushes, mails = [], []
    for _ in range(FLOOR_SAMPLES):
        t = time.perf_counter()
        result = await webpush.send(target, {"title": "floor"})
        pushes.append(time.perf_counter() - t)
        assert result.ok, result.error
        t = time.perf_counter()
        await mailer.send_mail(["floor@bench.gov"], "floor", "floor", config=config)
        mails.append(time.perf_counter() - t)
    smtp_peer.received.clear()
    return statistics.median(pushes), statistics.median(mails)


async def run(speed: float) -> dict:
    harness.install()
    push_service = harness.start()
    smtp_peer = SmtpPeer(WORK).start()
    try:
        pid, subscription, _actor = await asyncio.to_thread(setup, push_service, smtp_peer)
        push_floor, mail_floor = await floor(push_service, smtp_peer)
        return await play(speed, pid, subscription, push_service, smtp_peer) | {
            "floor_push_wall_s": round(push_floor, 4), "floor_email_wall_s": round(mail_floor, 4),
        }
    finally:
        smtp_peer.stop()
        harness.stop(push_service)


async def play(speed: float, pid: int, subscription: dict, push_service, smtp_peer) -> dict:
    clock = Clock(speed)
    with session_scope() as s:
        config = dict(s.get(SocialProfile, pid).config)
    connector = SimulatorConnector(Credentials("simulator", config), clock=clock)
    defaults = spikes.SpikeSettings()
    seen: dict = {}
    done = asyncio.Event()
    cursor = SimulatorConnector.cursor_at(START)
    ingested = 0

    def store(items, now) -> tuple[bool, int, int]:
        with session_scope() as s:
            ingest.store(s, items, profile_id=pid, now=now)
            m = spikes.measure(s, None, now, timezone.utc)
        return spikes.is_crossing(m.count, m.baseline, defaults), m.count, spikes.threshold(m.baseline, defaults)

    async def poll() -> None:
        nonlocal cursor, ingested
        while not done.is_set():
            now = clock()
            page = await connector.fetch_mentions(cursor)
            cursor = page.cursor or cursor
            crossing, count, limit = await asyncio.to_thread(store, page.items, now)
            ingested += len(page.items)
            if crossing and "crossing" not in seen:
                seen["crossing"] = (now, time.time(), count, limit)
            await clock.sleep(POLL_EVERY)

    async def evaluate() -> None:
        while not done.is_set():
            now = clock()
            raised = await spikes.evaluate_and_deliver(now=now)
            if raised and "alert" not in seen:
                seen["alert"] = now
            await clock.sleep(EVALUATE_EVERY)

    async def watch() -> None:
        while "push" not in seen or "email" not in seen:
            if "push" not in seen and await asyncio.to_thread(push_service.messages, subscription["clientHash"]):
                wall = time.time()
                seen["push"] = (clock.at(wall), wall)
            if "email" not in seen and smtp_peer.received:
                wall = smtp_peer.received[0].at_wall
                seen["email"] = (clock.at(wall), wall)
            if clock() > START + FLOOD_AFTER + GIVE_UP_AFTER:
                break
            await asyncio.sleep(0.01)
        done.set()

    await asyncio.gather(poll(), evaluate(), watch())
    result: dict = {"speed": speed, "messages_ingested_live": ingested, "flood_started_at": (START + FLOOD_AFTER).isoformat()}
    if "crossing" not in seen:
        return result | {"error": "the stream never crossed the threshold"}
    cross_at, cross_wall, count, limit = seen["crossing"]
    result |= {"crossing_at": cross_at.isoformat(), "crossing_count": count, "crossing_threshold": limit}
    if "alert" in seen:
        result["alert_evaluated_after_scenario_s"] = round((seen["alert"] - cross_at).total_seconds(), 1)
    for channel in ("push", "email"):
        if channel not in seen:
            result[f"{channel}_error"] = "not received"
            continue
        at, wall = seen[channel]
        result[f"{channel}_scenario_s"] = round((at - cross_at).total_seconds(), 1)
        result[f"{channel}_wall_s"] = round(wall - cross_wall, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=60.0, help="scenario seconds per wall second (default 60)")
    args = parser.parse_args()
    result = asyncio.run(run(args.speed))
    ok = all(
        result.get(f"{c}_scenario_s", 1e9) <= GOAL_SCENARIO_S and result.get(f"{c}_wall_s", 1e9) <= GOAL_WALL_S for c in ("push", "email")
    )
    if "push_wall_s" in result:
        result["push_ratio_to_floor"] = round(result["push_wall_s"] / result["floor_push_wall_s"], 1)
    if "email_wall_s" in result:
        result["email_ratio_to_floor"] = round(result["email_wall_s"] / result["floor_email_wall_s"], 1)
    result |= {"goal_scenario_s": GOAL_SCENARIO_S, "goal_wall_s": GOAL_WALL_S, "ok": ok}
    print(json.dumps(result))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
