"""Converting a PostgreSQL database to monthly partitions and back (`python -m govsocial_app.cli partitions enable |
disable`; the layout itself: govsocial_app/db/partitions.py).

- Each of message, messageversion and audit_log becomes range-partitioned on its time column (message.received_at,
  messageversion.captured_at, audit_log.at), one partition per calendar month (UTC) plus a DEFAULT partition; the
  months that hold rows and last month to three months ahead are created here, and the partitions job keeps months
  ahead created (jobs/partitions.py). The tables are converted in place, in one transaction: a new partitioned
  table, every row copied, the old table dropped, then the indexes, keys and triggers recreated. This rewrites the
  three tables and holds them locked: the CLI refuses while another connection is open (README, "Partitioning").
- PostgreSQL wants the partition key in every primary key and unique constraint: the primary keys become
  (id, <time column>), uq_message_version (message_id, version, captured_at) and the chain positions
  ux_*_chain_seq (chain_seq, <time column>). Ids still come from one sequence per table; the chain is verified by
  services/records/chain.verify, which finds a repeated position itself.
- (network, external_id) cannot be unique across message's partitions, and nothing can reference message(id) any
  more. A plain table message_key (id, network, external_id) holds both: unique (network, external_id) under the old
  name uq_message_network_external, and the primary key the foreign keys that pointed at message.id now point at.
  A statement-level AFTER INSERT trigger on message fills it from the inserted rows (so a duplicate external id in
  any month is refused, as before); AFTER DELETE removes the keys; a row trigger follows a changed key.
  messageversion's key is DEFERRABLE INITIALLY DEFERRED: ingest inserts a message and its first version in one
  statement, before the message's statement trigger has registered its id.
- The Alembic revision does not change: a migration that alters these three tables must handle both layouts
  (`partitions.is_partitioned`).
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

from govsocial_app.db import partitions

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


class ConvertError(RuntimeError):
    """The database cannot be converted as asked (wrong dialect, already in that layout, others connected)."""


def _exec(conn: Connection, sql: str, **params):
    return conn.execute(text(sql), params)


def _rows(conn: Connection, sql: str, **params) -> list:
    return _exec(conn, sql, **params).all()


def other_connections(conn: Connection) -> list[tuple[str, str]]:
    """(application name, client address) of every other open connection to this database: the web workers,
    the jobs process or a console would hold locks against the conversion or keep the old layout cached."""
    return [(r[0] or "?", r[1] or "local") for r in _rows(conn, (
        "SELECT application_name, client_addr::text FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' ORDER BY pid"))]


def _shape(conn: Connection, table: str) -> dict:
    """What has to be recreated after the table is rebuilt: plain indexes, outgoing foreign keys, triggers."""
    indexes = [r[0] for r in _rows(conn, (
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass) "
        "AND NOT i.indisunique AND NOT i.indisprimary ORDER BY i.indexrelid"), t=table)]
    fks = [(r[0], r[1]) for r in _rows(conn, (
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
        "AND contype = 'f' AND conparentid = 0 ORDER BY conname"), t=table)]
    triggers = [r[0] for r in _rows(conn, (
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal "
        "AND tgparentid = 0 AND tgname NOT IN ('message_key_insert', 'message_key_delete', 'message_key_update') "
        "ORDER BY tgname"), t=table)]
    columns = [r[0] for r in _rows(conn, (
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped "
        "AND attgenerated = '' ORDER BY attnum"), t=table)]
    seq = _exec(conn, "SELECT pg_get_serial_sequence(:t, 'id')", t=table).scalar()
    return {"indexes": indexes, "fks": fks, "triggers": triggers, "columns": columns, "seq": seq}


def _incoming_fks(conn: Connection, target: str) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys that reference `target`."""
    return [(r[0], r[1], r[2]) for r in _rows(conn, (
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE confrelid = CAST(:t AS regclass) AND contype = 'f' AND conparentid = 0 ORDER BY conname"), t=target)]


def _data_months(conn: Connection, table: str, key: str) -> list[date]:
    lo, hi = _exec(conn, f'SELECT min("{key}"), max("{key}") FROM {table}').first()
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


def _rebuild(conn: Connection, table: str, *, partitioned: bool) -> int:
    """Rebuild `table` (incoming foreign keys already dropped) as a partitioned or a plain table, keeping every row;
    returns the rows copied."""
    key, uniques = _TABLES[table]
    shape = _shape(conn, table)
    months = _data_months(conn, table, key) if partitioned else []
    old = f"{table}__old"
    _exec(conn, f"ALTER TABLE {table} RENAME TO {old}")
    _exec(conn, f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE)"
          + (f' PARTITION BY RANGE ("{key}")' if partitioned else ""))
    if partitioned:
        for month in months:
            partitions.create_month(conn, table, month)
        partitions.create_default(conn, table)
    cols = ", ".join(f'"{c}"' for c in shape["columns"])
    copied = _exec(conn, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {old}").rowcount
    if shape["seq"]:
        _exec(conn, f"ALTER SEQUENCE {shape['seq']} OWNED BY {table}.id")
    _exec(conn, f"DROP TABLE {old}")
    _exec(conn, f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id{', ' + key if partitioned else ''})")
    for name, columns, constraint in uniques:
        columns = f"{columns}, {key}" if partitioned else columns
        if constraint:
            _exec(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({columns})")
        else:
            _exec(conn, f"CREATE UNIQUE INDEX {name} ON {table} ({columns})")
    for ddl in shape["indexes"]:
        _exec(conn, re.sub(r" ON ONLY ", " ON ", ddl, count=1))
    for name, ddl in shape["fks"]:
        _exec(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}")
    for ddl in shape["triggers"]:
        _exec(conn, ddl)
    if copied:  # an empty table stays "never analysed": ingest analyses its first month once rows arrive
        _exec(conn, f"ANALYZE {table}")
    return copied


def _check(conn: Connection, *, want_partitioned: bool) -> None:
    if conn.dialect.name != "postgresql":
        raise ConvertError("only a PostgreSQL database can be partitioned; the embedded SQLite database stays as it is")
    if partitions.is_partitioned(conn, "message") == want_partitioned:
        raise ConvertError("the database is already " + ("partitioned by month" if want_partitioned else "unpartitioned"))
    if not _exec(conn, "SELECT to_regclass('message') IS NOT NULL").scalar():
        raise ConvertError("the database has no message table: run `python -m govsocial_app.cli migrate` first")


def enable(conn: Connection) -> dict[str, int]:
    """Partition message, messageversion and audit_log by month; returns the rows copied per table. Runs in the
    caller's transaction: a failure leaves the database as it was."""
    _check(conn, want_partitioned=True)
    incoming = _incoming_fks(conn, "message")
    for table, name, _ in incoming:
        _exec(conn, f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    _exec(conn, "ALTER TABLE message DROP CONSTRAINT uq_message_network_external")
    copied = {"message": _rebuild(conn, "message", partitioned=True)}
    _exec(conn, "CREATE TABLE message_key (id integer NOT NULL, network varchar(20) NOT NULL, external_id varchar(300) NOT NULL)")
    keys = _exec(conn, "INSERT INTO message_key (id, network, external_id) SELECT id, network, external_id FROM message").rowcount
    _exec(conn, "ALTER TABLE message_key ADD CONSTRAINT message_key_pkey PRIMARY KEY (id)")
    _exec(conn, "ALTER TABLE message_key ADD CONSTRAINT uq_message_network_external UNIQUE (network, external_id)")
    _exec(conn, _KEY_FUNCS)
    _exec(conn, _KEY_TRIGGERS)
    for table, name, ddl in incoming:
        ddl = ddl.replace("REFERENCES message(id)", "REFERENCES message_key(id)")
        if table == "messageversion":
            ddl += " DEFERRABLE INITIALLY DEFERRED"
        _exec(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}")
    copied["messageversion"] = _rebuild(conn, "messageversion", partitioned=True)
    copied["audit_log"] = _rebuild(conn, "audit_log", partitioned=True)
    if keys:
        _exec(conn, "ANALYZE message_key")
    partitions.forget_layout()
    return copied


def disable(conn: Connection) -> dict[str, int]:
    """Convert the three tables back to plain tables (message_key dropped); returns the rows copied per table."""
    _check(conn, want_partitioned=False)
    copied = {"audit_log": _rebuild(conn, "audit_log", partitioned=False),
              "messageversion": _rebuild(conn, "messageversion", partitioned=False)}  # keeps its key to message_key
    incoming = _incoming_fks(conn, "message_key")
    for table, name, _ in incoming:
        _exec(conn, f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for trigger in _KEY_TRIGGER_NAMES:
        _exec(conn, f"DROP TRIGGER {trigger} ON message")
    copied["message"] = _rebuild(conn, "message", partitioned=False)
    _exec(conn, "DROP TABLE message_key")
    for trigger in _KEY_TRIGGER_NAMES:
        _exec(conn, f"DROP FUNCTION {trigger}()")
    _exec(conn, "ALTER TABLE message ADD CONSTRAINT uq_message_network_external UNIQUE (network, external_id)")
    for table, name, ddl in incoming:
        ddl = ddl.replace("REFERENCES message_key(id)", "REFERENCES message(id)").replace(" DEFERRABLE INITIALLY DEFERRED", "")
        _exec(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} {ddl}")
    _exec(conn, "ANALYZE message")
    partitions.forget_layout()
    return copied
