"""What differs between a migrated database and the SQLModel models, limited to the tables or columns a test owns."""

from __future__ import annotations

import re

import sqlalchemy as sa


# The deliberate differences between the models and a PostgreSQL database whose message, messageversion and
# audit_log are partitioned by month (`cli partitions enable`, govsocial_app/db/partition_convert.py). The models describe the
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


def _key(d) -> tuple | None:
    """What one compare_metadata entry says, reduced to what the declared differences are written in."""
    if not isinstance(d, tuple) or len(d) < 2:
        return None
    kind, obj = d[0], d[1]
    if kind == "remove_table" and isinstance(obj, sa.Table):
        return kind, obj.name
    if kind in ("remove_index", "remove_constraint", "add_constraint") and isinstance(obj, (sa.Index, sa.UniqueConstraint)) \
            and obj.table is not None:
        unique = isinstance(obj, sa.UniqueConstraint) or obj.unique
        return kind, obj.table.name, _cols(obj), bool(unique)
    if kind in ("remove_fk", "add_fk") and isinstance(obj, sa.ForeignKeyConstraint) and obj.table is not None:
        return (kind, *_fk_target(obj))
    return None


def expected_pg_differences(diff: list) -> list:
    """The entries of `diff` that are declared differences of a partitioned PostgreSQL database; each must come
    with its counterpart (a foreign key the models want on message.id only where the database has it on
    message_key.id, a unique constraint the models want only where the database has it with the key added)."""
    keys = [_key(d) for d in diff]
    present = set(keys)
    partitioned_parts = {"message_key"}
    out = []
    for d, k in zip(diff, keys):
        if k is None:
            continue
        kind = k[0]
        if kind == "remove_table":
            ok = k[1] in partitioned_parts or bool(_PARTITION_TABLE.match(k[1]))
        elif kind == "remove_index" and (_PARTITION_TABLE.match(k[1]) or k[1] == "message_key"):
            ok = True
        elif kind in ("remove_index", "remove_constraint"):
            ok = k[3] and any(t == k[1] and db == k[2] for t, db, _ in _PG_UNIQUES)
        elif kind == "add_constraint":
            ok = False
            for t, db, model in _PG_UNIQUES:
                if t == k[1] and model == k[2]:
                    ok = (("remove_table", "message_key") in present if db is None else
                          ("remove_index", t, db, True) in present or ("remove_constraint", t, db, True) in present)
        elif kind == "remove_fk":
            ok = k[1] in _MESSAGE_KEY_REFERRERS and k[2] == "message_id" and k[3] == "message_key.id" \
                and ("add_fk", k[1], k[2], "message.id") in present
        elif kind == "add_fk":
            ok = k[1] in _MESSAGE_KEY_REFERRERS and k[2] == "message_id" and k[3] == "message.id" \
                and ("remove_fk", k[1], k[2], "message_key.id") in present
        else:
            ok = False
        if ok:
            out.append(d)
    return out


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
    if not partitioned:
        return diff
    expected = {id(d) for d in expected_pg_differences(diff)}
    return [d for d in diff if id(d) not in expected]


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
