"""What differs between a migrated database and the SQLModel models, limited to the tables or columns a test owns."""

from __future__ import annotations

import sqlalchemy as sa


def model_diff(url: str, *, tables: set[str] = frozenset(), columns: set[tuple[str, str]] = frozenset()) -> list:
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
    column_names = {c for _, c in columns}
    column_tables = {t for t, _ in columns}

    def parts(d):
        for item in (d if isinstance(d, list) else [d]):
            yield from (item if isinstance(item, tuple) else (item,))

    def touches(d) -> bool:
        for part in parts(d):
            if isinstance(part, sa.Table) and part.name in tables:
                return True
            if isinstance(part, sa.Column) and part.name in column_names and getattr(part.table, "name", "") in column_tables:
                return True
            if isinstance(part, sa.Index) and part.table is not None and (
                    part.table.name in tables or (part.table.name in column_tables and {c.name for c in part.columns} & column_names)):
                return True
            if isinstance(part, sa.ForeignKeyConstraint) and part.table is not None and (
                    part.table.name in tables or {c.name for c in part.columns} & column_names):
                return True
            if isinstance(part, str) and part in tables:
                return True
        return False

    return [d for d in diff if touches(d)]


def tables_of(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def columns_of(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()
