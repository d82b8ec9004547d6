"""Migration 0011_team_member_removed on SQLite and PostgreSQL: up, down, up; it adds exactly the columns the model
says, current memberships stay current, and going down drops the removed rows (as the old hard removal did)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from govsocial_app.db.migrate import downgrade, upgrade
from tests.schema_diff import columns_of, model_diff

COLUMNS = {"removed_at", "removed_by"}


def _rows(url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql)).all()]
    finally:
        engine.dispose()


def _exec(url: str, *sql: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for q in sql:
                conn.execute(sa.text(q))
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    upgrade(url, "0010_automation")
    _exec(url,
          "INSERT INTO \"user\" (id, email, display_name, password_hash, role, locale, theme, timezone, is_active, is_demo, ical_token_hash, created_at) "
          "VALUES (901, 'a@x.gov', 'A', '', 'responder', 'en', 'light', 'UTC', true, false, '', '2026-01-01 00:00:00')",
          "INSERT INTO \"user\" (id, email, display_name, password_hash, role, locale, theme, timezone, is_active, is_demo, ical_token_hash, created_at) "
          "VALUES (902, 'b@x.gov', 'B', '', 'responder', 'en', 'light', 'UTC', true, false, '', '2026-01-01 00:00:00')",
          "INSERT INTO team (id, name, name_ar, created_at) VALUES (1, 'Roads', '', '2026-01-01 00:00:00')",
          "INSERT INTO team_member (team_id, user_id, added_at) VALUES (1, 901, '2026-01-01 00:00:00')",
          "INSERT INTO team_member (team_id, user_id, added_at) VALUES (1, 902, '2026-01-01 00:00:00')")
    upgrade(url)
    assert COLUMNS <= columns_of(url, "team_member")
    assert model_diff(url, columns={("team_member", c) for c in COLUMNS}) == []
    assert _rows(url, "SELECT user_id, removed_at, removed_by FROM team_member ORDER BY user_id") == [(901, None, None), (902, None, None)]
    _exec(url, "UPDATE team_member SET removed_at = '2026-02-01 00:00:00', removed_by = 901 WHERE user_id = 902")
    downgrade(url, "0010_automation")
    assert not (COLUMNS & columns_of(url, "team_member"))
    assert _rows(url, "SELECT user_id FROM team_member") == [(901,)]
    upgrade(url)
    assert COLUMNS <= columns_of(url, "team_member")


def test_migration_round_trips_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.services
def test_migration_round_trips_on_postgresql(pg_url):
    _round_trip(pg_url)
