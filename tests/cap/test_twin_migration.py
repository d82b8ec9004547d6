"""Migration 0009_twin on SQLite and PostgreSQL: existing targets keep language "" (their approval hashes hold),
the column matches the model, and it goes down and up again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from govsocial_app.db.migrate import downgrade, upgrade


def _columns(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns("posttarget")}
    finally:
        engine.dispose()


def _posttarget_diff(url: str) -> list:
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
    return [d for d in diff if "language" in repr(d)]


def _round_trip(url: str) -> None:
    upgrade(url, "0008_identity_ui")
    upgrade(url)
    assert "language" in _columns(url) and _posttarget_diff(url) == []
    downgrade(url, "0008_identity_ui")
    assert "language" not in _columns(url)
    upgrade(url)
    assert "language" in _columns(url)


def test_the_migration_round_trips_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.services
def test_the_migration_round_trips_on_postgresql(pg_url):
    _round_trip(pg_url)


def _insert(c, engine, table: str, **values) -> None:
    """A row with every required column of the schema as it is at 0008 (filled plainly), plus `values`."""
    row = {}
    for col in sa.inspect(engine).get_columns(table):
        if col["name"] in values or col["nullable"] or col.get("default") is not None or col.get("autoincrement") is True:
            continue
        kind = str(col["type"]).upper()
        row[col["name"]] = (1 if "INT" in kind else 0 if "BOOL" in kind else "2026-12-01T00:00:00+00:00" if "DATE" in kind or "TIME" in kind
                            else "{}" if "JSON" in kind else "")
    row.update(values)
    names = ", ".join(f'"{k}"' for k in row)
    c.execute(sa.text(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(":" + k for k in row)})'), row)


def test_existing_targets_keep_no_language(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0008_identity_ui")
    engine = sa.create_engine(url)
    with engine.begin() as c:
        _insert(c, engine, "user", id=1, email="a@x.gov")
        _insert(c, engine, "socialprofile", id=1, network="simulator", handle="@x")
        _insert(c, engine, "post", id=1, author_id=1, text="t", status="scheduled")
        _insert(c, engine, "posttarget", id=1, post_id=1, profile_id=1, status="due", idempotency_key="k1")
    upgrade(url)
    with engine.begin() as c:
        assert c.execute(sa.text("SELECT language FROM posttarget")).scalar_one() == ""
    engine.dispose()
