"""Helpers for the production-mode tests: start `python -m jobs` processes and read the scheduler heartbeat."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PY = str(REPO / ".venv/bin/python")


def jobs_env(tmp: Path, database_url: str, redis_url: str = "", **extra: str) -> dict:
    env = dict(os.environ)
    for key in ("DATABASE_URL", "REDIS_URL", "REFLEX_PERF_MODE"):
        env.pop(key, None)
    env.update(
        DATABASE_URL=database_url,
        GOVSOCIAL_DATA_DIR=str(tmp / "data"),
        GOVSOCIAL_KEY_FILE=str(tmp / "secret.key"),
        GOVSOCIAL_EMBEDDED_JOBS="0",
        GOVSOCIAL_LOG_JSON="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def start_jobs(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([PY, "-m", "jobs"], cwd=REPO, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def heartbeat(database_url: str) -> tuple[str, object] | None:
    """(holder, beat_at) read with a connection of its own, so no test engine caches anything."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT holder, beat_at FROM jobheartbeat WHERE name = 'scheduler'")).first()
    finally:
        engine.dispose()
    return (row[0], row[1]) if row else None


def wait_for_holder(database_url: str, predicate, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    holder = ""
    while time.monotonic() < deadline:
        beat = heartbeat(database_url)
        holder = beat[0] if beat else ""
        if predicate(holder):
            return holder
        time.sleep(0.5)
    raise AssertionError(f"the heartbeat holder is still {holder!r} after {timeout:.0f} s")


def holder_of(proc: subprocess.Popen) -> str:
    import socket

    return f"jobs:{socket.gethostname()}:{proc.pid}"
