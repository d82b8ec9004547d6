"""What differs between a migrated database and the SQLModel models, limited to the tables or columns a test owns."""

from __future__ import annotations

import re

import sqlalchemy as sa


# The deliberate differences between the models and a PostgreSQL database whose message, messageversion and
# audit_log are partitioned by month (migration 0014, govsocial_app/db/partitions.py). The models describe the
# SQLite schema; on PostgreSQL the partition key has to be in every unique constraint and nothing can reference
# message(id), so exactly these differ, and anything else still fails the tests.
_PARTITION_TABLE = re.compile(r"^(message|messageversion|audit_log)_(p\d{4}_\d{2}|default)$")
# (table, columns in the database, columns in the models) of each unique constraint or index with the key added
_PG_UNIQUES = {
    ("audit_log", ("chain_seq", "at"), ("chain_seq",)),
    ("messageversion", ("chain_seq", "captured_at"), ("chain_seq",)),
    ("messageversion", ("message_id", "version", "captured_at"), ("message_id", "version")),
    ("message", None, ("network", "external_id")),  # moved to message_key
}
# the foreign keys that point at message_key(id) in the database and at message(id) in the models
_MESSAGE_KEY_REFERRERS = {"auto_reply", "claimmatch", "message_moderation", "messagenote", "messagetag", "messageversion",
                          "moderation_action", "records_redaction", "saved_reply_use", "topicmatch"}


def _cols(obj) -> tuple[str, ...]:
    return tuple(c.name for c in obj.columns)


def _fk_target(fk: sa.ForeignKeyConstraint) -> tuple[str, str, str]:
    element = fk.elements[0]
    return fk.table.name, element.parent.name, element.target_fullname


def expected_pg_difference(d) -> bool:
    """Whether one compare_metadata entry is a declared difference of a partitioned PostgreSQL database."""
    if not isinstance(d, tuple) or not d:
        return False
    kind, obj = d[0], d[1] if len(d) > 1 else None
    if kind == "remove_table" and isinstance(obj, sa.Table):
        return obj.name == "message_key" or bool(_PARTITION_TABLE.match(obj.name))
    if kind == "remove_index" and isinstance(obj, sa.Index) and obj.table is not None:
        if _PARTITION_TABLE.match(obj.table.name) or obj.table.name == "message_key":
            return True
        return obj.unique and any(t == obj.table.name and db == _cols(obj) for t, db, _ in _PG_UNIQUES)
    if kind == "remove_constraint" and isinstance(obj, sa.UniqueConstraint) and obj.table is not None:
        return any(t == obj.table.name and db == _cols(obj) for t, db, _ in _PG_UNIQUES)
    if kind == "add_constraint" and isinstance(obj, sa.UniqueConstraint) and obj.table is not None:
        return any(t == obj.table.name and model == _cols(obj) for t, _, model in _PG_UNIQUES)
    if kind in ("remove_fk", "add_fk") and isinstance(obj, sa.ForeignKeyConstraint) and obj.table is not None:
        table, column, target = _fk_target(obj)
        want = "message_key.id" if kind == "remove_fk" else "message.id"
        return table in _MESSAGE_KEY_REFERRERS and column == "message_id" and target == want
    return False


def compare(url: str) -> list:
    """compare_metadata between the database at `url` and the models, less the declared differences of a partitioned
    PostgreSQL database (only when it is one: on SQLite every difference counts)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import govsocial_app.db.models  # noqa: F401
    from govsocial_app.db import partitions

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            partitioned = partitions.is_partitioned(conn, "message")
    finally:
        engine.dispose()
    return [d for d in diff if not (partitioned and expected_pg_difference(d))]


def model_diff(url: str, *, tables: set[str] = frozenset(), columns: set[tuple[str, str]] = frozenset()) -> list:
    diff = compare(url)
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
