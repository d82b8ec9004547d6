"""Shared set-up for the publishing benchmarks: a migrated database, simulator profiles, many due posts, the jobs process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN = os.environ.get("GOVSOCIAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def point_at(url: str, data_dir: Path) -> None:
    from govsocial_app import config
    from govsocial_app.db import engine
    from govsocial_app.db.migrate import upgrade
    from govsocial_app.services import bus, crypto

    os.environ["DATABASE_URL"] = url
    os.environ["GOVSOCIAL_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("GOVSOCIAL_KEY_FILE", str(data_dir / "secret.key"))
    os.environ.pop("REDIS_URL", None)
    config.reset_settings_cache()
    engine.reset_engine()
    crypto.reset_cache()
    bus.reset()
    upgrade(url)


def postgres_url() -> tuple[str, str] | None:
    """(url, database name) of a fresh PostgreSQL database, or None when the server is not there."""
    try:
        import psycopg

        conn = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except Exception:
        return None
    name = f"gs_bench_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return PG_ADMIN.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}", name


def drop_postgres(name: str) -> None:
    import psycopg

    from govsocial_app.db import engine

    engine.reset_engine()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_posts(data_dir: Path, n: int, *, profiles: int = 2, due: datetime | None = None, spread_s: float = 50.0,
               sim_config: dict | None = None) -> list[int]:
    """`n` posts due within one minute, spread over `profiles` simulator profiles (one target each). Returns profile ids."""
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Post, PostTarget, SocialProfile, User
    from govsocial_app.services.publishing.lifecycle import new_idempotency_key

    due = due or datetime.now(timezone.utc).replace(second=0, microsecond=0)
    with session_scope() as s:
        author = User(email=f"bench-{uuid.uuid4().hex[:6]}@bench.gov", display_name="Bench Author", password_hash="x", role="publisher")
        s.add(author)
        pids = []
        for i in range(profiles):
            key = f"bench{uuid.uuid4().hex[:8]}"
            p = SocialProfile(network="simulator", handle=f"@{key}", display_name=f"Bench {i}",
                              config={"handle": f"@{key}", "profile_key": key, "state_path": str(data_dir / "simulator.db"), "rate_limit": 0,
                                      **(sim_config or {})})
            s.add(p)
            s.flush()
            pids.append(p.id)
        s.flush()
        for start in range(0, n, 1000):
            posts = [Post(author_id=author.id, text=f"Bench notice {i}", status="scheduled",
                          scheduled_at=due + timedelta(seconds=spread_s * i / n)) for i in range(start, min(n, start + 1000))]
            s.add_all(posts)
            s.flush()
            s.add_all([PostTarget(post_id=p.id, profile_id=pids[p.id % len(pids)], status="due", due_at=p.scheduled_at,
                                  idempotency_key=new_idempotency_key()) for p in posts])
            s.flush()
    return pids


def received(pids: list[int]) -> list[dict]:
    from tests.publishing.conftest import simulator_for

    return [r for pid in pids for r in simulator_for(pid).received_log()]


def created(pids: list[int]) -> list[dict]:
    return [r for r in received(pids) if r["outcome"].startswith("created")]


def start_jobs(url: str, data_dir: Path, log: Path, **env: str) -> subprocess.Popen:
    full = {**os.environ, "DATABASE_URL": url, "GOVSOCIAL_DATA_DIR": str(data_dir), **env}
    full.pop("REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.publishing_jobs"], cwd=REPO, env=full,
                            stdout=subprocess.PIPE, stderr=log.open("a"), text=True)
    line = proc.stdout.readline()
    if "READY" not in line:
        raise RuntimeError(f"the jobs process did not start:\n{log.read_text()[-3000:]}")
    return proc


def target_counts() -> Counter:
    from sqlmodel import func, select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import PostTarget

    with session_scope() as s:
        return Counter(dict(s.exec(select(PostTarget.status, func.count()).group_by(PostTarget.status)).all()))


def wait_until(pred, timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(every)
    return False
