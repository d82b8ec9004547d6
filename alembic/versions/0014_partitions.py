"""PostgreSQL: message, messageversion and audit_log partitioned by month (message_key keeps ids and external ids unique)

Revision ID: 0014_partitions
Revises: 0013_inbox_plans

- Each table becomes range-partitioned on its time column (message.received_at, messageversion.captured_at,
  audit_log.at), one partition per calendar month (UTC) plus a DEFAULT partition; the months that hold rows and
  last month to three months ahead are created here, and the partitions job keeps months ahead created
  (govsocial_app/db/partitions.py, jobs/partitions.py). The existing tables are converted in place: a new partitioned
  table, every row copied, the old table dropped, then the indexes, keys and triggers recreated. This rewrites the
  three tables and holds them locked: run it in a maintenance window (README, "Partitioning").
- PostgreSQL wants the partition key in every primary key and unique constraint: the primary keys become
  (id, <time column>), uq_message_version (message_id, version, captured_at) and the chain positions
  ux_*_chain_seq (chain_seq, <time column>). Ids still come from one sequence per table; the chain is verified by
  services/records/chain.verify, which finds a repeated position itself.
- (network, external_id) cannot be unique across message's partitions, and nothing can reference message(id) any
  more. A plain table message_key (id, network, external_id) holds both: unique (network, external_id) under the old
  name uq_message_network_external, and the primary key the ten foreign keys that pointed at message.id now point
  at. A statement-level AFTER INSERT trigger on message fills it from the inserted rows (so a duplicate external id
  in any month is refused, as before); AFTER DELETE removes the keys; a row trigger follows a changed key.
  messageversion's key is DEFERRABLE INITIALLY DEFERRED: ingest inserts a message and its first version in one
  statement, before the message's statement trigger has registered its id.
- SQLite (the embedded default) is unchanged: the whole migration is a no-op there.
"""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0014_partitions"
down_revision = "0013_inbox_plans"
branch_labels = None
depends_on = None

# table -> (partition key, unique constraints/indexes as (name, columns, is_constraint) without the key)
_TABLES = {
    "message": ("received_at", []),  # uq_message_network_external moves to message_key
    "messageversion": ("captured_at", [("uq_message_version", "message_id, version", True),
                                       ("ux_messageversion_chain_seq", "chain_seq", False)]),
    "audit_log": ("at", [("ux_audit_log_chain_seq", "chain_seq", False)]),
}
_KEY_FUNCS = """
CREATE FUNCTION message_key_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO message_key (id, network, external_id) SELECT id, network, external_id FROM message_new_rows;
  RETURN NULL;
END $$;
CREATE FUNCTION message_key_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM message_key k USING message_old_rows o WHERE k.id = o.id;
  RETURN NULL;
END $$;
CREATE FUNCTION message_key_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE message_key SET network = NEW.network, external_id = NEW.external_id WHERE id = NEW.id;
  RETURN NULL;
END $$;
"""
_KEY_TRIGGERS = """
CREATE TRIGGER message_key_insert AFTER INSERT ON message REFERENCING NEW TABLE AS message_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION message_key_insert();
CREATE TRIGGER message_key_delete AFTER DELETE ON message REFERENCING OLD TABLE AS message_old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION message_key_delete();
CREATE TRIGGER message_key_update AFTER UPDATE OF network, external_id ON message FOR EACH ROW
  WHEN (OLD.network IS DISTINCT FROM NEW.network OR OLD.external_id IS DISTINCT FROM NEW.external_id)
  EXECUTE FUNCTION message_key_update();
"""
_KEY_TRIGGER_NAMES = ("message_key_insert", "message_key_delete", "message_key_update")


def _rows(bind, sql: str, **params) -> list:
    return bind.execute(sa.text(sql), params).all()


def _shape(bind, table: str) -> dict:
    """What has to be recreated after the table is rebuilt: plain indexes, outgoing foreign keys, triggers."""
    indexes = [r[0] for r in _rows(bind, (
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass) "
        "AND NOT i.indisunique AND NOT i.indisprimary ORDER BY i.indexrelid"), t=table)]
    fks = [(r[0], r[1]) for r in _rows(bind, (
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
        "AND contype = 'f' AND conparentid = 0 ORDER BY conname"), t=table)]
    triggers = [r[0] for r in _rows(bind, (
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal "
        "AND tgparentid = 0 AND tgname NOT IN ('message_key_insert', 'message_key_delete', 'message_key_update') "
        "ORDER BY tgname"), t=table)]
    columns = [r[0] for r in _rows(bind, (
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped "
        "AND attgenerated = '' ORDER BY attnum"), t=table)]
    seq = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
    return {"indexes": indexes, "fks": fks, "triggers": triggers, "columns": columns, "seq": seq}


def _incoming_fks(bind, target: str) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys that reference `target`."""
    return [(r[0], r[1], r[2]) for r in _rows(bind, (
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE confrelid = CAST(:t AS regclass) AND contype = 'f' AND conparentid = 0 ORDER BY conname"), t=target)]


def _data_months(bind, table: str, key: str) -> list[date]:
    from govsocial_app.db import partitions

    lo, hi = bind.execute(sa.text(f'SELECT min("{key}"), max("{key}") FROM {table}')).first()
    months = set(partitions.months_around())
    if lo is not None:
        # Every month between the oldest and newest row, at most ten years back and a year past the months ahead
        # (rows outside: the default partition).
        m = max(partitions.month_start(lo), partitions.add_months(min(months), -120))
        last = min(partitions.month_start(hi), partitions.add_months(max(months), 12))
        while m <= last:
            months.add(m)
            m = partitions.add_months(m, 1)
    return sorted(months)


def _rebuild(bind, table: str, *, partitioned: bool) -> None:
    """Rebuild `table` (incoming foreign keys already dropped) as a partitioned or a plain table, keeping every row."""
    from govsocial_app.db import partitions

    key, uniques = _TABLES[table]
    shape = _shape(bind, table)
    months = _data_months(bind, table, key) if partitioned else []
    old = f"{table}__old"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE)"
               + (f' PARTITION BY RANGE ("{key}")' if partitioned else ""))
    if partitioned:
        for month in months:
            partitions.create_month(bind, table, month)
        partitions.create_default(bind, table)
    cols = ", ".join(f'"{c}"' for c in shape["columns"])
    copied = bind.execute(sa.text(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {old}")).rowcount
    if shape["seq"]:
        op.execute(f"ALTER SEQUENCE {shape['seq']} OWNED BY {table}.id")
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id{', ' + key if partitioned else ''})")
    for name, columns, constraint in uniques:
        columns = f"{columns}, {key}" if partitioned else columns
        if constraint:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})")
        else:
            op.execute(f"CREATE UNIQUE INDEX {name} ON {table} ({columns})")
    for ddl in shape["indexes"]:
        op.execute(re.sub(r" ON ONLY ", " ON ", ddl, count=1))
    for name, ddl in shape["fks"]:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}")
    for ddl in shape["triggers"]:
        op.execute(ddl)
    if copied:  # an empty table stays "never analysed": ingest analyses its first month once rows arrive
        op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    incoming = _incoming_fks(bind, "message")
    for table, name, _ in incoming:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    op.execute("ALTER TABLE message DROP CONSTRAINT uq_message_network_external")
    _rebuild(bind, "message", partitioned=True)
    op.execute("CREATE TABLE message_key (id integer NOT NULL, network varchar(20) NOT NULL, external_id varchar(300) NOT NULL)")
    keys = bind.execute(sa.text("INSERT INTO message_key (id, network, external_id) SELECT id, network, external_id FROM message")).rowcount
    op.execute("ALTER TABLE message_key ADD CONSTRAINT message_key_pkey PRIMARY KEY (id)")
    op.execute("ALTER TABLE message_key ADD CONSTRAINT uq_message_network_external UNIQUE (network, external_id)")
    op.execute(_KEY_FUNCS)
    op.execute(_KEY_TRIGGERS)
    for table, name, ddl in incoming:
        ddl = ddl.replace("REFERENCES message(id)", "REFERENCES message_key(id)")
        if table == "messageversion":
            ddl += " DEFERRABLE INITIALLY DEFERRED"
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}")
    _rebuild(bind, "messageversion", partitioned=True)
    _rebuild(bind, "audit_log", partitioned=True)
    if keys:
        op.execute("ANALYZE message_key")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _rebuild(bind, "audit_log", partitioned=False)
    _rebuild(bind, "messageversion", partitioned=False)  # keeps its key to message_key until the loop below
    incoming = _incoming_fks(bind, "message_key")
    for table, name, _ in incoming:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for trigger in _KEY_TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER {trigger} ON message")
    _rebuild(bind, "message", partitioned=False)
    op.execute("DROP TABLE message_key")
    for trigger in _KEY_TRIGGER_NAMES:
        op.execute(f"DROP FUNCTION {trigger}()")
    op.execute("ALTER TABLE message ADD CONSTRAINT uq_message_network_external UNIQUE (network, external_id)")
    for table, name, ddl in incoming:
        ddl = ddl.replace("REFERENCES message_key(id)", "REFERENCES message(id)").replace(" DEFERRABLE INITIALLY DEFERRED", "")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}")
    op.execute("ANALYZE message")
