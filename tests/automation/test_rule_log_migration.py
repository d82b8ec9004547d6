"""Migration 0012_rule_log on SQLite and PostgreSQL: what rules did, kept in rule_application rows, moves into each
message's rule_log in order, the table goes, and the way down puts the rows back; SQLite's full-text search survives."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from govsocial_app.db.migrate import downgrade, upgrade
from tests.automation.test_automation_schema import _search_finds_the_old_message
from tests.schema_diff import columns_of, model_diff, tables_of

BEFORE = "0011_team_member_removed"


def _round_trip(url: str) -> None:
    upgrade(url, BEFORE)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO message (network, external_id, direction, kind, conversation_key, in_reply_to_external_id, "
            "author_external_id, author_handle, author_key, author_name, author_avatar_url, author_followers, text, "
            "search_text, lang, url, created_at, received_at, status, likes, reposts, replies, version, priority) VALUES "
            "('simulator', 'old-1', 'in', 'mention', 'old-1', '', 'a', 'a', 'a', 'A', '', 0, 'hi', 'hi', 'en', '', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 'open', 0, 0, 0, 1, 'high')"))
        mid = conn.execute(sa.text("SELECT id FROM message WHERE external_id = 'old-1'")).scalar()
        for position, name in enumerate(("Potholes", "Urgent")):
            conn.execute(sa.text("INSERT INTO inbox_rule (position, name, enabled, conditions, actions, stop_processing, "
                                 "match_count, error_count, last_error, created_at, updated_at) VALUES "
                                 "(:p, :n, true, '{}', '[]', false, 0, 0, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
                         {"p": position, "n": name})
        ids = dict(conn.execute(sa.text("SELECT name, id FROM inbox_rule")).all())
        # Stored newest rule first on purpose: the log keeps the order the rules ran in (the rows' id order).
        for name, actions in (("Potholes", [{"type": "tag", "tag": "Roads"}]), ("Urgent", [{"type": "priority", "priority": "high"}])):
            conn.execute(sa.text("INSERT INTO rule_application (rule_id, message_id, rule_name, actions, applied_at) "
                                 "VALUES (:r, :m, :n, :a, '2026-01-01 00:00:01')"),
                         {"r": ids[name], "m": mid, "n": name, "a": json.dumps(actions)})
    engine.dispose()
    upgrade(url)
    assert "rule_application" not in tables_of(url) and "rule_log" in columns_of(url, "message")
    assert model_diff(url, tables={"rule_application"}, columns={("message", "rule_log")}) == []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        log = conn.execute(sa.text("SELECT rule_log FROM message WHERE id = :m"), {"m": mid}).scalar()
    engine.dispose()
    log = json.loads(log) if isinstance(log, str) else log
    assert [(e["rule_id"], e["rule"], e["actions"]) for e in log] == [
        (ids["Potholes"], "Potholes", [{"type": "tag", "tag": "Roads"}]), (ids["Urgent"], "Urgent", [{"type": "priority", "priority": "high"}])]
    assert all(str(e["at"]).startswith("2026-01-01") for e in log)
    downgrade(url, BEFORE)
    assert "rule_log" not in columns_of(url, "message")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT rule_name, actions FROM rule_application WHERE message_id = :m ORDER BY id"), {"m": mid}).all()
    engine.dispose()
    assert [(n, json.loads(a) if isinstance(a, str) else a) for n, a in back] == [
        ("Potholes", [{"type": "tag", "tag": "Roads"}]), ("Urgent", [{"type": "priority", "priority": "high"}])]
    assert _search_finds_the_old_message(url)
    upgrade(url)
    assert "rule_application" not in tables_of(url)


def test_rule_log_migration_round_trips_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.services
def test_rule_log_migration_round_trips_on_postgresql(pg_url):
    _round_trip(pg_url)
