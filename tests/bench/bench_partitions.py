"""make bench-partitions: how long `python -m govsocial_app.cli partitions enable` (monthly partitions) and `disable`
take on a migrated PostgreSQL database holding N messages spread over a year (BENCH_PARTITIONS_MESSAGES, default
1,000,000), one archive version each, N/2 audit rows and tags on 30 % of the messages. Rows are written by SQL
(seeding is not measured). The floor, measured in the same run on the same rows: copying the three tables once with
CREATE TABLE AS (what any rebuild must at least do), so `enable_vs_floor` is the conversion's cost over a bare copy.
Prints one JSON line."""

from __future__ import annotations

import json
import os
import time

N = int(os.environ.get("BENCH_PARTITIONS_MESSAGES", "1000000"))
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _seed(dsn: str) -> str:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"""INSERT INTO message (network, external_id, direction, kind, conversation_key, in_reply_to_external_id,
          author_external_id, author_handle, author_name, author_avatar_url, author_followers, text, search_text, lang, url,
          created_at, received_at, status, likes, reposts, replies, version, author_key, priority)
          SELECT 'simulator', 'x' || g, 'in', 'mention', 'c' || g, '', 'a' || (g % 5000), 'a' || (g % 5000), 'A', '', 0,
            'message text number ' || g || ' about bins and water', 'message text number ' || g || ' about bins and water',
            'en', '', ts, ts, CASE WHEN g % 3 = 0 THEN 'completed' ELSE 'open' END, 0, 0, 0, 1, 'a' || (g % 5000), 'normal'
          FROM generate_series(1, {N}) g,
               LATERAL (SELECT now() - (g % 365) * interval '1 day' - (g % 86400) * interval '1 second' AS ts) t""")
        c.execute("""INSERT INTO messageversion (message_id, version, change, text, captured_at, raw, chain_seq, prev_hash, row_hash)
          SELECT id, 1, 'created', text, received_at, '{}', id, '', '' FROM message""")
        c.execute(f"""INSERT INTO audit_log (at, actor_id, actor_label, action, object_type, object_id, detail, client_ip,
          user_agent, chain_seq, prev_hash, row_hash)
          SELECT now() - (g % 365) * interval '1 day', 1, 'x', 'message.complete', 'message', g::text, '{{}}', '', '', g, '', ''
          FROM generate_series(1, {N // 2}) g""")
        c.execute("INSERT INTO tag (name, color, created_at) VALUES ('t', 'gray', now())")
        c.execute("INSERT INTO messagetag (message_id, tag_id, created_at) SELECT id, 1, now() FROM message WHERE id % 10 < 3")
        c.execute("VACUUM ANALYZE")
        return c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]


def _floor(dsn: str) -> float:
    """Copy the three tables once and drop the copies: the least a rebuild of them costs."""
    import psycopg

    with psycopg.connect(dsn) as c:
        t = time.perf_counter()
        for table in ("message", "messageversion", "audit_log"):
            c.execute(f"CREATE TABLE floor_{table} AS SELECT * FROM {table}")
        c.commit()
        took = time.perf_counter() - t
        for table in ("message", "messageversion", "audit_log"):
            c.execute(f"DROP TABLE floor_{table}")
        c.commit()
    return took


def main() -> None:
    import psycopg
    import sqlalchemy as sa

    from govsocial_app.db import partition_convert
    from govsocial_app.db.migrate import upgrade

    name = f"govsocial_bench_partitions_{N}"
    admin = psycopg.connect(ADMIN, autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    url, dsn = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", f"postgresql://postgres@127.0.0.1:5432/{name}"
    engine = None
    try:
        upgrade(url)
        size = _seed(dsn)
        floor_s = _floor(dsn)
        engine = sa.create_engine(url)
        t = time.perf_counter()
        with engine.begin() as conn:
            partition_convert.enable(conn)
        up_s = time.perf_counter() - t
        with psycopg.connect(dsn) as c:
            counts = c.execute("SELECT (SELECT count(*) FROM message), (SELECT count(*) FROM messageversion), "
                               "(SELECT count(*) FROM audit_log), (SELECT count(*) FROM message_key), "
                               "(SELECT count(*) FROM message_default)").fetchone()
            parts = c.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = CAST('message' AS regclass)").fetchone()[0]
        t = time.perf_counter()
        with engine.begin() as conn:
            partition_convert.disable(conn)
        down_s = time.perf_counter() - t
    finally:
        if engine is not None:
            engine.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    rows = N + N + N // 2
    print(json.dumps({"benchmark": "partitions", "messages": N, "versions": N, "audit_rows": N // 2, "tags": int(N * 0.3),
                      "db_size_before": size, "message_partitions": parts,
                      "counts_after": {"message": counts[0], "messageversion": counts[1], "audit_log": counts[2],
                                       "message_key": counts[3], "message_default": counts[4]},
                      "enable_s": round(up_s, 1), "disable_s": round(down_s, 1), "floor_copy_s": round(floor_s, 1),
                      "enable_vs_floor": round(up_s / floor_s, 2), "disable_vs_floor": round(down_s / floor_s, 2),
                      "enable_s_per_million_rows": round(up_s / (rows / 1e6), 1)}))


if __name__ == "__main__":
    main()
