"""make bench-ingest: normalise, dedupe and store inbound messages in batches, against a raw batched insert of the same rows."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

N = int(os.environ.get("BENCH_INGEST_MESSAGES", "50000"))
BATCH = 500


def _messages():
    from connectors.base import Credentials
    from connectors.simulator import SimulatorConnector

    until = datetime(2026, 11, 1, tzinfo=timezone.utc)
    sim = SimulatorConnector(Credentials("simulator", {"handle": "@bench", "profile_key": "bench-ingest",
                                                      "state_path": tempfile.mktemp(suffix=".db")}), clock=lambda: until)
    days = 3
    out = []
    while len(out) < N:
        out = sim.history(until - timedelta(days=days), until, include_public=True)
        days *= 2
    # Every 10th message is reported twice (a re-poll after a failure): dedupe must drop it.
    msgs = out[:N]
    return msgs + msgs[::10]


def _run(url: str, messages) -> dict:
    from sqlalchemy import text

    from govsocial_app import config
    from govsocial_app.db import engine as eng
    from govsocial_app.db.engine import get_engine, session_scope
    from govsocial_app.db.migrate import upgrade
    from govsocial_app.services.inbox import ingest

    os.environ["DATABASE_URL"] = url
    config.reset_settings_cache()
    eng.reset_engine()
    upgrade(url)
    expected = len({(m.network, m.external_id) for m in messages})  # edits and re-polls share ids
    t = time.perf_counter()
    stored = 0
    for start in range(0, len(messages), BATCH):
        with session_scope() as s:
            stored += len(ingest.store(s, messages[start : start + BATCH], profile_id=None).new_ids)
    elapsed = time.perf_counter() - t
    with session_scope() as s:
        distinct = s.connection().exec_driver_sql("SELECT count(*) FROM message").scalar()
        rows = [dict(r._mapping) for r in s.connection().execute(text(
            "SELECT network, external_id || '-floor' AS external_id, direction, kind, conversation_key, in_reply_to_external_id, "
            "author_external_id, author_handle, author_key, author_name, author_avatar_url, author_followers, text, search_text, "
            "lang, url, created_at, received_at, status, likes, reposts, replies, version FROM message"))]
    # The floor: the same rows, already normalised, in one raw batched insert per batch (no dedupe, no versions).
    cols = list(rows[0])
    sql = f"INSERT INTO message ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    t = time.perf_counter()
    with get_engine().begin() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(text(sql), rows[start : start + BATCH])
    floor = time.perf_counter() - t
    rate, floor_rate = len(messages) / elapsed, len(rows) / floor
    return {"dialect": get_engine().dialect.name, "offered": len(messages), "stored": stored, "distinct_in_db": distinct,
            "msgs_per_s": round(rate), "floor_msgs_per_s": round(floor_rate), "ratio_to_floor": round(rate / floor_rate, 2),
            "expected_distinct": expected, "meets_goal": rate >= 5000 and rate / floor_rate >= 0.3 and stored == distinct == expected}


def main() -> None:
    os.environ.setdefault("GOVSOCIAL_KEY_FILE", tempfile.mktemp())
    messages = _messages()
    out = {"benchmark": "ingest", "messages": N, "duplicates_offered": len(messages) - N, "batch": BATCH}
    out["sqlite"] = _run(f"sqlite:///{tempfile.mkdtemp()}/ingest.db", messages)
    try:
        import psycopg

        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3)
        admin.execute("DROP DATABASE IF EXISTS govsocial_bench_ingest")
        admin.execute("CREATE DATABASE govsocial_bench_ingest")
        out["postgresql"] = _run("postgresql+psycopg://postgres@127.0.0.1:5432/govsocial_bench_ingest", messages)
        admin.execute("DROP DATABASE IF EXISTS govsocial_bench_ingest WITH (FORCE)")
    except Exception as exc:
        out["postgresql"] = {"skipped": str(exc)[:200]}
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
