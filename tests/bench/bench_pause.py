"""make bench-pause: 10,000 posts due in the same minute on the simulator; pause in the middle of publishing.

Prints, per database, the time from the pause call to the last publish the network received, and how many
posts the network received after the pause was acknowledged (must be 0). The jobs run as a separate process;
the pause is called from this one, as a web worker would."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from tests.bench.publishing_setup import created, drop_postgres, make_posts, point_at, postgres_url, received, start_jobs, wait_until

N = int(os.environ.get("BENCH_PAUSE_POSTS", "10000"))
WATCH_AFTER_S = float(os.environ.get("BENCH_PAUSE_WATCH_S", "6"))


def run(db: str, url: str, data_dir: Path) -> dict:
    from govsocial_app.services.publishing import pause
    from govsocial_app.services.authz import Actor

    point_at(url, data_dir)
    t = time.perf_counter()
    pids = make_posts(data_dir, N)
    setup_s = time.perf_counter() - t
    jobs = start_jobs(url, data_dir, data_dir / "jobs.log", BENCH_PUBLISH_EVERY_S="0.5")
    try:
        started = time.perf_counter()
        # Pause in the middle: once about a third have gone out.
        if not wait_until(lambda: len(created(pids)) >= N // 3, timeout=600, every=0.2):
            raise RuntimeError("publishing did not get a third of the way in 10 minutes")
        rate = len(created(pids)) / (time.perf_counter() - started)
        manager = Actor(None, "Bench Manager <bench@bench.gov>", "manager")
        call_wall = pause.utcnow()
        t_call = time.perf_counter()
        ack = pause.pause(manager, "bench: pause in the middle")
        ack_ms = (time.perf_counter() - t_call) * 1000
        time.sleep(WATCH_AFTER_S)  # give anything that would leak through time to reach the network
    finally:
        jobs.send_signal(signal.SIGTERM)
        jobs.wait(30)
    calls = received(pids)
    got = [r for r in calls if r["outcome"].startswith("created")]
    keys = [r["idempotency_key"] for r in got]
    after_call = [r for r in got if r["called_at"] >= call_wall]
    last = max((r["called_at"] for r in got), default=call_wall)
    return {
        "db": db,
        "posts": N,
        "setup_s": round(setup_s, 1),
        "publish_rate_per_s": round(rate, 1),
        "published_before_pause_call": len(got) - len(after_call),
        "in_flight_at_pause": ack.in_flight,
        "pause_call_to_ack_ms": round(ack_ms, 1),
        "pause_call_to_last_publish_ms": round(max(0.0, (last - call_wall).total_seconds() * 1000), 1),
        "published_after_ack": sum(1 for r in got if r["called_at"] > ack.acknowledged_at),
        "network_calls_after_ack": sum(1 for r in calls if r["called_at"] > ack.acknowledged_at),
        "duplicates": len(keys) - len(set(keys)),
        "still_in_flight_after_drain": ack.still_in_flight,
    }


def main() -> None:
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-pause-"))
    try:
        sqlite_dir = tmp / "sqlite"
        sqlite_dir.mkdir()
        results.append(run("sqlite", f"sqlite:///{sqlite_dir / 'govsocial.db'}", sqlite_dir))
        print(json.dumps(results[-1]), flush=True)
        pg = postgres_url()
        if pg is None:
            results.append({"db": "postgresql", "skipped": "PostgreSQL is not reachable at 127.0.0.1:5432"})
        else:
            url, name = pg
            pg_dir = tmp / "pg"
            pg_dir.mkdir()
            try:
                results.append(run("postgresql", url, pg_dir))
            finally:
                drop_postgres(name)
            print(json.dumps(results[-1]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = all(r.get("published_after_ack", 0) == 0 and r.get("network_calls_after_ack", 0) == 0 and r.get("duplicates", 0) == 0
             for r in results)
    print(json.dumps({"bench": "pause", "ok": ok, "results": results}))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
