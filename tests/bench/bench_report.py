"""Benchmark: a monthly profile-performance and tag report, each with its PDF, over 100,000 messages and 1,000 posts
(goal: at most 10 s together), and the same over 1,000,000 messages. Prints one JSON object last.

Run: .venv/bin/python -m tests.bench.bench_report [--sizes 100000,1000000]"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

GOAL_S = 10.0
PROFILES = 6
TAGS = 12
POSTS = 1000
MONTH = (date(2026, 10, 1), date(2026, 10, 31))  # the report; September is the comparison period


def _seed(path: Path, messages: int) -> None:
    """Messages over September and October (half each), 40 % tagged, 8 % answered with an outbound reply."""
    from govsocial_app.db.migrate import upgrade

    upgrade(f"sqlite:///{path}")
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now = "2026-11-01 00:00:00.000000"
    conn.executemany(
        "INSERT INTO user (id, email, display_name, password_hash, role, locale, theme, timezone, is_active, is_demo, ical_token_hash, created_at) "
        "VALUES (?, ?, ?, 'x', 'responder', 'en', 'light', 'UTC', 1, 0, '', ?)",
        [(i, f"u{i}@b.gov", f"User {i}", now) for i in range(1, 9)],
    )
    conn.executemany(
        "INSERT INTO socialprofile (id, network, handle, display_name, external_id, config, secrets_enc, status, cursor, "
        "poll_interval_s, last_error, rate_limit, timezone, queue_slots, created_at) "
        "VALUES (?, ?, ?, ?, ?, '{}', '', 'active', '', 60, '', '{}', 'UTC', '[]', ?)",
        [(i, ("simulator", "mastodon", "bluesky")[i % 3], f"@p{i}", f"Profile {i}", f"p{i}", now) for i in range(1, PROFILES + 1)],
    )
    conn.executemany("INSERT INTO tag (id, name, color, created_at) VALUES (?, ?, 'gray', ?)", [(i, f"Tag {i}", now) for i in range(1, TAGS + 1)])
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    span = 61 * 86400
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    batch, tags, outs = [], [], []
    next_id = 1
    for i in range(messages):
        at = start + timedelta(seconds=rng.random() * span)
        pid = rng.randint(1, PROFILES)
        answered = rng.random() < 0.3
        resp = (at + timedelta(seconds=rng.expovariate(1 / 3000))).strftime(fmt) if answered else None
        done = (at + timedelta(seconds=rng.expovariate(1 / 9000))).strftime(fmt) if answered and rng.random() < 0.7 else None
        who = rng.randint(1, 8) if answered else None
        ext = f"m{i}"
        batch.append((next_id, ("simulator", "mastodon", "bluesky")[pid % 3], ext, pid, "in", "mention", ext, "", f"@a{i % 5000}",
                      f"a{i % 5000}", "", rng.randint(3, 50000), "Potholes and bins again", "potholes and bins again", "en", "",
                      at.strftime(fmt), at.strftime(fmt), "completed" if done else "open", resp, who, done, who if done else None))
        if rng.random() < 0.4:
            tags.append((next_id, rng.randint(1, TAGS), now))
        if answered and rng.random() < 0.25:
            outs.append((("simulator", "mastodon", "bluesky")[pid % 3], f"o{i}", pid, resp, ext, who))
        next_id += 1
        if len(batch) == 50_000 or i == messages - 1:
            conn.executemany(
                "INSERT INTO message (id, network, external_id, profile_id, direction, kind, conversation_key, in_reply_to_external_id, "
                "author_handle, author_name, author_avatar_url, author_followers, text, search_text, lang, url, created_at, received_at, "
                "status, first_response_at, replied_by_id, completed_at, completed_by, author_external_id, likes, reposts, replies, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, 0, 0, 1)",
                batch,
            )
            batch = []
    conn.executemany("INSERT INTO messagetag (message_id, tag_id, created_at) VALUES (?, ?, ?)", tags)
    conn.executemany(
        "INSERT INTO message (network, external_id, profile_id, direction, kind, conversation_key, in_reply_to_external_id, author_handle, "
        "author_name, author_avatar_url, author_followers, text, search_text, lang, url, created_at, received_at, status, sent_by_id, "
        "author_external_id, likes, reposts, replies, version) "
        "VALUES (?, ?, ?, 'out', 'reply', '', ?, '@us', 'Us', '', 0, 'Thanks', 'thanks', 'en', '', ?, ?, 'sent', ?, '', 0, 0, 0, 1)",
        [(net, ext, pid, parent, at, at, who) for net, ext, pid, at, parent, who in outs],
    )
    posts, targets, snaps = [], [], []
    for i in range(1, POSTS + 1):
        at = start + timedelta(seconds=rng.random() * span)
        posts.append((i, 1, "A post about the city", "published", now, now))
        targets.append((i, i, rng.randint(1, PROFILES), "published", f"k{i}", f"e{i}", at.strftime(fmt)))
        for k in range(3):
            impressions = rng.randint(100, 20000) * (k + 1)
            snaps.append((i, (at + timedelta(hours=6 * (k + 1))).strftime(fmt), impressions, impressions // 30, impressions // 300, rng.randint(0, 20), 0))
    conn.executemany("INSERT INTO post (id, author_id, text, link, status, approval_step, bypass_reason, flagged_for_review, held_reason, "
                     "created_at, updated_at) VALUES (?, ?, ?, '', ?, 0, '', 0, '', ?, ?)", posts)
    conn.executemany("INSERT INTO posttarget (id, post_id, profile_id, text_override, status, idempotency_key, claim_token, attempts, "
                     "external_id, external_url, error, published_at) VALUES (?, ?, ?, '', ?, ?, '', 0, ?, '', '', ?)", targets)
    conn.executemany("INSERT INTO postmetricsnapshot (target_id, captured_at, impressions, likes, reposts, replies, clicks) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", snaps)
    days = [date(2026, 9, 1) + timedelta(days=d) for d in range(61)]
    conn.executemany("INSERT INTO profilemetricdaily (profile_id, day, followers, following, posts, engagements) VALUES (?, ?, ?, 0, 0, 0)",
                     [(p, d.isoformat(), 10_000 * p + 40 * n) for p in range(1, PROFILES + 1) for n, d in enumerate(days)])
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _floor(path: Path) -> float:
    """The main aggregate as one hand-written SQL statement through sqlite3: inbound messages per tag per hour of the month."""
    conn = sqlite3.connect(path)
    t = time.perf_counter()
    rows = conn.execute(
        "SELECT mt.tag_id, strftime('%Y-%m-%d %H', m.received_at), count(m.id) FROM message m "
        "JOIN messagetag mt ON mt.message_id = m.id AND mt.removed_at IS NULL "
        "WHERE m.direction = 'in' AND m.received_at >= '2026-10-01 00:00:00' AND m.received_at < '2026-11-01 00:00:00' "
        "AND m.deleted_at IS NULL GROUP BY 1, 2"
    ).fetchall()
    elapsed = time.perf_counter() - t
    conn.close()
    assert rows
    return elapsed


def _run(messages: int) -> dict:
    from tests.conftest import point_app_at

    folder = Path(tempfile.mkdtemp(prefix="bench-report-"))
    path = folder / "bench.db"
    t = time.perf_counter()
    _seed(path, messages)
    seed_s = time.perf_counter() - t
    point_app_at(f"sqlite:///{path}")
    from govsocial_app.services.reporting import pdf, reports

    f = reports.ReportFilters(*MONTH)
    pdf.fonts()  # font registration is once per process, not per report
    timings = {}
    t0 = time.perf_counter()
    tag = reports.tag_report(f)
    timings["tag_report_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    tag_pdf = pdf.render(tag)
    timings["tag_pdf_s"] = time.perf_counter() - t
    t = time.perf_counter()
    prof = reports.profile_report(f)
    timings["profile_report_s"] = time.perf_counter() - t
    t = time.perf_counter()
    prof_pdf = pdf.render(prof)
    timings["profile_pdf_s"] = time.perf_counter() - t
    t = time.perf_counter()
    posts = reports.post_report(f, limit=None)
    timings["post_report_all_rows_s"] = time.perf_counter() - t
    total = timings["tag_report_s"] + timings["tag_pdf_s"] + timings["profile_report_s"] + timings["profile_pdf_s"]
    floor = min(_floor(path) for _ in range(3))
    result = {
        "messages": messages,
        "posts": POSTS,
        "seed_s": round(seed_s, 2),
        **{k: round(v, 3) for k, v in timings.items()},
        "monthly_tag_and_profile_with_pdfs_s": round(total, 3),
        "raw_sql_floor_tag_aggregate_s": round(floor, 3),
        "tag_report_vs_floor": round(timings["tag_report_s"] / floor, 2) if floor else None,
        "tag_pdf_bytes": len(tag_pdf),
        "profile_pdf_bytes": len(prof_pdf),
        "tag_inbound_total": tag.inbound_total,
        "post_rows": len(posts.rows),
    }
    print(json.dumps(result), file=sys.stderr)
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    os.environ.setdefault("GOVSOCIAL_DATA_DIR", tempfile.mkdtemp(prefix="bench-report-data-"))
    runs = [_run(int(n)) for n in args.sizes.split(",")]
    main_run = runs[0]
    print(json.dumps({
        "bench": "report",
        "goal_s": GOAL_S,
        "time_s": main_run["monthly_tag_and_profile_with_pdfs_s"],
        "within_goal": main_run["monthly_tag_and_profile_with_pdfs_s"] <= GOAL_S,
        "floor_s": main_run["raw_sql_floor_tag_aggregate_s"],
        "ratio_to_floor": main_run["tag_report_vs_floor"],
        "runs": runs,
    }))


if __name__ == "__main__":
    main()
