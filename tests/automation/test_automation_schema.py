"""Migration 0010_automation on SQLite and PostgreSQL: up, down, up; it creates exactly what the models say, and a
message stored before it keeps working (normal priority, no due times, so it is never escalated)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from govsocial_app.db.migrate import downgrade, upgrade
from tests.schema_diff import columns_of, model_diff, tables_of

TABLES = {"team", "team_member", "saved_reply", "saved_reply_use", "inbox_rule", "auto_reply"}
MESSAGE_COLUMNS = {"team_id", "priority", "sla_first_due_at", "sla_done_due_at", "sla_first_escalated_at",
                   "sla_done_escalated_at"}


def _round_trip(url: str) -> None:
    upgrade(url, "0009_moderation")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO message (network, external_id, direction, kind, conversation_key, in_reply_to_external_id, "
            "author_external_id, author_handle, author_key, author_name, author_avatar_url, author_followers, text, "
            "search_text, lang, url, created_at, received_at, status, likes, reposts, replies, version) VALUES "
            "('simulator', 'old-1', 'in', 'mention', 'old-1', '', 'a', 'a', 'a', 'A', '', 0, 'hi', 'hi', 'en', '', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 'open', 0, 0, 0, 1)"))
    engine.dispose()
    upgrade(url)
    assert TABLES <= tables_of(url)
    assert MESSAGE_COLUMNS <= columns_of(url, "message")
    assert model_diff(url, tables=TABLES, columns={("message", c) for c in MESSAGE_COLUMNS}) == []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT priority, sla_first_due_at, team_id FROM message WHERE external_id = 'old-1'")).one()
    engine.dispose()
    assert tuple(row) == ("normal", None, None)
    downgrade(url, "0009_moderation")
    assert _search_finds_the_old_message(url)  # on SQLite, the full-text triggers survive the way down
    assert not (TABLES & tables_of(url))
    assert not (MESSAGE_COLUMNS & columns_of(url, "message"))
    upgrade(url)
    assert TABLES <= tables_of(url)
    assert _search_finds_the_old_message(url)


def _search_finds_the_old_message(url: str) -> bool:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name != "sqlite":
                return True
            conn.execute(sa.text("UPDATE message SET search_text = 'pothole report' WHERE external_id = 'old-1'"))
            hits = conn.execute(sa.text("SELECT rowid FROM message_fts WHERE message_fts MATCH 'pothole'")).all()
            conn.execute(sa.text("UPDATE message SET search_text = 'hi' WHERE external_id = 'old-1'"))
            return len(hits) == 1
    finally:
        engine.dispose()


def test_migration_round_trips_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.services
def test_migration_round_trips_on_postgresql(pg_url):
    _round_trip(pg_url)
