"""Benchmark: the public record. (1) Export a public-records request of 10,000 records, each with its versions and
moderation history, as the full ZIP with the PDF (goal: at most 30 s), against a floor of the same rows read by raw
SQL and zipped as JSON. (2) verify-audit over 1,000,000 chained audit rows (goal: at most 20 s), against a floor of
reading the same rows. Prints one JSON object last.

Run: .venv/bin/python -m tests.bench.bench_records [--records 10000] [--audit 1000000]"""

from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import sys
import tempfile
import time
import zipfile
from pathlib import Path

EXPORT_GOAL_S = 30.0
VERIFY_GOAL_S = 20.0
FMT = "%Y-%m-%d %H:%M:%S.%f"


def _seed_messages(path: Path, records: int) -> None:
    """`records` messages on profile 1 (the request's scope) and a fifth as many on profile 2; every message has a
    "created" version and an edit, one in ten a moderation action archived as a version."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    now = "2026-11-01 00:00:00.000000"
    conn.executemany(
        "INSERT INTO socialprofile (id, network, handle, display_name, external_id, config, secrets_enc, status, cursor, "
        "poll_interval_s, last_error, rate_limit, timezone, queue_slots, created_at) "
        "VALUES (?, 'simulator', ?, ?, ?, '{}', '', 'active', '', 60, '', '{}', 'UTC', '[]', ?)",
        [(i, f"@p{i}", f"Profile {i}", f"p{i}", now) for i in (1, 2)],
    )
    total = records + records // 5
    msgs, versions = [], []
    for i in range(1, total + 1):
        pid = 1 if i <= records else 2
        text = (f"Water main break on Elm St #{i}? Call me on +1 555 010 {i % 10000:04d} or bob{i}@example.org"
                if i % 3 else f"الماء مقطوع في الحي رقم {i}، متى يعود؟")
        at = f"2026-10-{1 + i % 28:02d} {i % 24:02d}:00:00.000000"
        msgs.append((i, "simulator", f"m{i}", pid, f"@a{i % 900}", f"a{i % 900}", f"Author {i % 900}", text, text.lower(), at, at))
        versions.append((i, 1, "created", text.replace("#", "no. "), at, "{}"))
        versions.append((i, 2, "edited", text, at, "{}"))
        if i % 10 == 0:
            versions.append((i, 3, "moderated", text, at, json.dumps({"moderation": {"action": "hide", "clause": "3.2", "by": "Rita"}})))
    conn.executemany(
        "INSERT INTO message (id, network, external_id, profile_id, direction, kind, conversation_key, in_reply_to_external_id, "
        "author_handle, author_key, author_name, author_avatar_url, author_followers, text, search_text, lang, url, created_at, "
        "received_at, status, author_external_id, likes, reposts, replies, version) "
        "VALUES (?, ?, ?, ?, 'in', 'comment', '', '', ?, ?, ?, '', 0, ?, ?, 'en', '', ?, ?, 'open', '', 0, 0, 0, 2)", msgs)
    conn.executemany("INSERT INTO messageversion (message_id, version, change, text, captured_at, raw) VALUES (?, ?, ?, ?, ?, ?)", versions)
    conn.commit()
    conn.close()


def _floor_export(path: Path, out: Path) -> float:
    """The same rows (messages of profile 1 and their versions) read by one raw SQL query each and zipped as JSON."""
    t = time.perf_counter()
    conn = sqlite3.connect(path)
    msgs = conn.execute("SELECT id, network, external_id, author_handle, author_name, text, created_at, status FROM message "
                        "WHERE profile_id = 1 ORDER BY id").fetchall()
    vers = conn.execute("SELECT v.message_id, v.version, v.change, v.text, v.captured_at, v.raw, v.row_hash FROM messageversion v "
                        "JOIN message m ON m.id = v.message_id WHERE m.profile_id = 1 ORDER BY v.message_id, v.version").fetchall()
    conn.close()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("messages.json", json.dumps(msgs, ensure_ascii=False))
        z.writestr("versions.json", json.dumps(vers, ensure_ascii=False))
    out.write_bytes(buf.getvalue())
    return time.perf_counter() - t


def _bench_export(tmp: Path, records: int) -> dict:
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.migrate import upgrade
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor
    from govsocial_app.services.records import chain, export, requests
    from datetime import date
    from tests.conftest import point_app_at

    db = tmp / "export.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    _seed_messages(db, records)
    point_app_at(url)
    with session_scope() as s:  # chain the seeded versions, as ingest does before each commit
        chain.seal_archive(s)
    uid = auth.create_user("rita@records.gov", "Rita Records", "correct horse battery", "records", Actor.system("bench"))
    officer = Actor(uid, "Rita Records <rita@records.gov>", "records")
    rid = requests.create("Jane Reporter", date(2026, 12, 1), officer, scope_query="profile=1")
    requests.add_redaction(rid, "emails", "personal_privacy", officer)
    requests.add_redaction(rid, "phones", "personal_privacy", officer)
    floor_s = min(_floor_export(db, tmp / "floor.zip") for _ in range(3))
    t = time.perf_counter()
    res = export.build(rid, officer, out_dir=tmp / "exports")
    export_s = time.perf_counter() - t
    assert res.records == records, res.records
    assert not export.verify_export(res.path)
    return {"export_s": round(export_s, 2), "export_floor_s": round(floor_s, 3), "export_ratio": round(export_s / floor_s, 1),
            "export_records": res.records, "export_zip_mb": round(res.path.stat().st_size / 1e6, 1),
            "export_goal_s": EXPORT_GOAL_S}


def _seed_audit(path: Path, rows: int) -> None:
    """`rows` audit rows with a valid chain, written straight into the table (what 1,000,000 audited actions leave)."""
    from govsocial_app.services.records import canonical

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    prev, batch = "0" * 64, []
    actions = ("message.reply", "inbox.tag", "inbox.assign", "post.publish", "auth.sign_in")
    for seq in range(1, rows + 1):
        at = f"2026-{1 + seq % 12:02d}-{1 + seq % 28:02d} {seq % 24:02d}:{seq % 60:02d}:00.{seq % 1000000:06d}"
        detail = json.dumps({"outbound_id": seq, "chars": seq % 280})
        action, label = actions[seq % 5], f"User {seq % 40} <u{seq % 40}@city.gov>"
        h = canonical.sha256(canonical.audit_form(seq, at, seq % 40, label, action, "message", str(seq), detail, "10.0.0.1", "Mozilla/5.0", prev))
        batch.append((at, seq % 40, label, action, "message", str(seq), detail, "10.0.0.1", "Mozilla/5.0", seq, prev, h))
        prev = h
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO audit_log (at, actor_id, actor_label, action, object_type, object_id, detail, client_ip, "
                             "user_agent, chain_seq, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch = []
    if batch:
        conn.executemany("INSERT INTO audit_log (at, actor_id, actor_label, action, object_type, object_id, detail, client_ip, "
                         "user_agent, chain_seq, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
    conn.execute("UPDATE record_chain SET seq = ?, head_hash = ? WHERE name = 'audit'", (rows, prev))
    conn.commit()
    conn.close()


def _bench_verify(tmp: Path, rows: int) -> dict:
    from govsocial_app.db.engine import get_engine
    from govsocial_app.db.migrate import upgrade
    from govsocial_app.services.records import chain
    from tests.conftest import point_app_at

    db = tmp / "audit.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    _seed_audit(db, rows)
    point_app_at(url)
    with get_engine().connect() as conn:
        t = time.perf_counter()
        n = sum(1 for _ in chain._rows(conn, "audit"))
        floor_s = time.perf_counter() - t
        t = time.perf_counter()
        res = chain.verify(conn, "audit")
        verify_s = time.perf_counter() - t
    assert res.ok and res.rows == rows == n, res.problems
    return {"verify_audit_1m_s": round(verify_s, 2), "verify_audit_rows": rows, "verify_read_floor_s": round(floor_s, 2),
            "verify_ratio": round(verify_s / floor_s, 1), "verify_goal_s": VERIFY_GOAL_S}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--audit", type=int, default=1_000_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-records-"))
    os.environ.setdefault("GOVSOCIAL_DATA_DIR", str(tmp / "data"))
    os.environ.setdefault("GOVSOCIAL_KEY_FILE", str(tmp / "secret.key"))
    os.environ.setdefault("GOVSOCIAL_MODE", "demo")
    out = {}
    out.update(_bench_export(tmp, args.records))
    print(f"export: {out}", file=sys.stderr)
    out.update(_bench_verify(tmp, args.audit))
    out["ok"] = out["export_s"] <= EXPORT_GOAL_S and out["verify_audit_1m_s"] <= VERIFY_GOAL_S
    out["load_avg_1m"] = round(os.getloadavg()[0], 1)  # this machine is shared: goals are wall-clock seconds
    print(json.dumps(out))


if __name__ == "__main__":
    main()
