"""make bench-crash: 1,000 due posts; kill -9 the jobs process at 20 random moments, restarting it each time.

Counts duplicates and losses against the simulator's received log (both must be 0), and shows how often a kill
landed between the network accepting a post and us recording it (the retry was then deduplicated by its key).

BENCH_CRASH_IGNORE_IDEMPOTENCY=1: the simulator ignores idempotency keys (like mastodon_mock and many
Mastodon-API servers) and answers 502 after storing a share of posts (BENCH_CRASH_AFTER_STORE_RATE, default
0.1), so zero duplicates can only come from reconciling with the network, never from a key."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.bench.publishing_setup import drop_postgres, make_posts, point_at, postgres_url, received, start_jobs, target_counts, wait_until

N = int(os.environ.get("BENCH_CRASH_POSTS", "1000"))
KILLS = int(os.environ.get("BENCH_CRASH_KILLS", "20"))
SEED = int(os.environ.get("BENCH_CRASH_SEED", str(int(time.time()))))
IGNORE_KEYS = os.environ.get("BENCH_CRASH_IGNORE_IDEMPOTENCY", "") not in ("", "0")
AFTER_STORE_RATE = float(os.environ.get("BENCH_CRASH_AFTER_STORE_RATE", "0.1"))
SIM_CONFIG = {"honour_idempotency": False, "fault_after_store_rate": AFTER_STORE_RATE} if IGNORE_KEYS else {}


def _calls_counter(path: Path):
    import sqlite3

    def count() -> int:
        try:
            with sqlite3.connect(path, timeout=5) as conn:
                return conn.execute("SELECT count(*) FROM received_log").fetchone()[0]
        except sqlite3.OperationalError:  # not created until the first call
            return 0

    return count


def run(db: str, url: str, data_dir: Path, rng: random.Random) -> dict:
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import AuditLog, PostTarget

    point_at(url, data_dir)
    pids = make_posts(data_dir, N, spread_s=0, sim_config=SIM_CONFIG)
    log = data_dir / "jobs.log"
    # A killed process's claims are stale after 5 s here (the simulator answers in milliseconds), and the
    # recovery job runs every 2 s: the production 180 s / 30 s would only make the run longer.
    env = {"BENCH_PUBLISH_EVERY_S": "0.5", "GOVSOCIAL_PUBLISH_STALE_S": "5", "BENCH_RECOVER_EVERY_S": "2"}
    moments = []
    calls = _calls_counter(data_dir / "simulator.db")
    for _ in range(KILLS):
        proc = start_jobs(url, data_dir, log, **env)
        # A random moment while it is publishing: after a random number of network calls, plus a random few ms,
        # so kills land before claims, between claim and send, and between the network's answer and our record.
        start, wanted = time.monotonic(), calls() + rng.randint(1, 45)
        wait_until(lambda: calls() >= wanted, timeout=30, every=0.005)
        time.sleep(rng.uniform(0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        moments.append(round(time.monotonic() - start, 3))
    published_before_final = target_counts().get("published", 0)
    proc = start_jobs(url, data_dir, log, **env)
    try:
        finished = wait_until(lambda: target_counts().get("published", 0) + target_counts().get("failed", 0) >= N, timeout=600, every=0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    calls = received(pids)
    created = Counter(r["idempotency_key"] for r in calls if r["outcome"].startswith("created"))
    deduplicated = sum(1 for r in calls if r["outcome"].startswith("deduplicated"))
    with session_scope() as s:
        targets = s.exec(select(PostTarget)).all()
        recovered = sum(int(a.detail.get("count", 0)) for a in s.exec(select(AuditLog).where(AuditLog.action == "publish.recover_stale")).all())
        reconciled = sum(1 for a in s.exec(select(AuditLog).where(AuditLog.action == "publish.published")).all() if a.detail.get("reconciled"))
        unknown_outcomes = len(s.exec(select(AuditLog).where(AuditLog.action == "publish.unknown")).all())
    by_key = {r["idempotency_key"]: r["external_id"] for r in calls if r["outcome"].startswith("created")}
    return {
        "db": db,
        "simulator_honours_keys": not IGNORE_KEYS,
        "posts": N,
        "kills": KILLS,
        "kill_after_start_s": moments,
        "published_before_last_restart": published_before_final,
        "finished": finished,
        "network_calls": len(calls),
        "duplicates": sum(c - 1 for c in created.values() if c > 1),
        "losses": sum(1 for t in targets if t.idempotency_key not in created),
        "recorded_wrong_id": sum(1 for t in targets if t.status == "published" and by_key.get(t.idempotency_key) != t.external_id),
        "not_published_in_db": sum(1 for t in targets if t.status != "published"),
        "stale_claims_recovered": recovered,
        "retries_deduplicated_by_key": deduplicated,
        "answers_lost_after_store": sum(1 for r in calls if "after storing" in r["outcome"] or "response was lost" in r["outcome"]),
        "ambiguous_failures": unknown_outcomes,
        "found_on_network_by_reconciling": reconciled,
    }


def main() -> None:
    rng = random.Random(SEED)
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    try:
        d = tmp / "sqlite"
        d.mkdir()
        results.append(run("sqlite", f"sqlite:///{d / 'govsocial.db'}", d, rng))
        print(json.dumps(results[-1]), flush=True)
        pg = postgres_url()
        if pg is None:
            results.append({"db": "postgresql", "skipped": "PostgreSQL is not reachable at 127.0.0.1:5432"})
        else:
            url, name = pg
            d = tmp / "pg"
            d.mkdir()
            try:
                results.append(run("postgresql", url, d, rng))
            finally:
                drop_postgres(name)
            print(json.dumps(results[-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = all(r.get("skipped") or (r["duplicates"] == 0 and r["losses"] == 0 and r["recorded_wrong_id"] == 0 and r["finished"]) for r in results)
    print(json.dumps({"bench": "crash", "ignore_idempotency": IGNORE_KEYS, "ok": ok, "seed": SEED, "results": results}))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
