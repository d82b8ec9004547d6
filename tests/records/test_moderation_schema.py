"""Migration 0009_moderation on SQLite and PostgreSQL: up, down, up, and it creates exactly what the models say."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from govsocial_app.db.migrate import downgrade, upgrade

TABLES = {"comment_policy", "moderation_action", "message_moderation"}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _model_diff(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import govsocial_app.db.models  # noqa: F401

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()

    def touches(d) -> bool:
        for item in (d if isinstance(d, list) else [d]):
            for part in item if isinstance(item, tuple) else (item,):
                name = part.name if isinstance(part, sa.Table) else getattr(getattr(part, "table", None), "name", "")
                if name in TABLES or (isinstance(part, str) and part in TABLES):
                    return True
        return False

    return [d for d in diff if touches(d)]


def _round_trip(url: str) -> None:
    upgrade(url)
    assert TABLES <= _tables(url)
    assert _model_diff(url) == []
    downgrade(url, "0009_twin")
    assert not (TABLES & _tables(url))
    upgrade(url)
    assert TABLES <= _tables(url)


def test_migration_round_trips_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.services
def test_migration_round_trips_on_postgresql(pg_url):
    _round_trip(pg_url)
