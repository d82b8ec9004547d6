"""the public record: hash chains over the audit log and the archive, legal holds, retention, disposal, requests

Revision ID: 0007_records
Revises: 0007_cap_wire

Existing audit rows and archive versions are chained here in id order (the append-only trigger is lifted for the
backfill only, inside this transaction), so verify-audit covers history from the day this revision ran.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_records"
down_revision = "0007_cap_wire"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _chain_columns(table: str) -> None:
    # Plain ADD COLUMN (no batch copy): a table copy on SQLite would drop audit_log's triggers.
    op.add_column(table, sa.Column("chain_seq", sa.BigInteger(), nullable=True))
    op.add_column(table, sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=""))
    op.add_column(table, sa.Column("row_hash", sa.String(length=64), nullable=False, server_default=""))
    op.create_index(f"ux_{table}_chain_seq", table, ["chain_seq"], unique=True)


def _backfill(bind, chain: str, table: str, query: str, form) -> None:
    from govsocial_app.services.records import canonical

    prev, seq, updates = GENESIS, 0, []
    for r in bind.exec_driver_sql(query).all():
        seq += 1
        h = canonical.sha256(form(seq, r, prev))
        updates.append({"i": r[0], "s": seq, "p": prev, "h": h})
        prev = h
    for start in range(0, len(updates), 5000):
        bind.execute(sa.text(f"UPDATE {table} SET chain_seq = :s, prev_hash = :p, row_hash = :h WHERE id = :i"),
                     updates[start:start + 5000])
    bind.execute(sa.text("INSERT INTO record_chain (name, seq, head_hash) VALUES (:c, :s, :h)"),
                 {"c": chain, "s": seq, "h": prev})


def upgrade() -> None:
    from govsocial_app.services.records import canonical

    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    _chain_columns("audit_log")
    _chain_columns("messageversion")
    op.create_table(
        "record_chain",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("head_hash", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "retention_schedule",
        sa.Column("record_type", sa.String(length=30), nullable=False),
        sa.Column("keep_years", sa.Integer(), nullable=False),
        sa.Column("after_year_end", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("record_type"),
    )
    op.create_table(
        "disposal_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("certificate_hash", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "disposal_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("cutoffs", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("certificate_id", sa.Integer(), sa.ForeignKey("disposal_certificate.id"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disposal_proposal_status", "disposal_proposal", ["status"])
    op.create_table(
        "disposed_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.Integer(), sa.ForeignKey("disposal_certificate.id"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain", "seq", name="uq_disposed_link"),
    )
    op.create_table(
        "records_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester", sa.String(length=300), nullable=False),
        sa.Column("requester_contact", sa.String(length=320), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("scope_query", sa.String(length=1000), nullable=False),
        sa.Column("saved_view_id", sa.Integer(), sa.ForeignKey("savedview.id"), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("export_path", sa.String(length=500), nullable=False),
        sa.Column("export_sha256", sa.String(length=64), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "records_redaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("records_request.id"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("message.id"), nullable=True),
        sa.Column("selection", sa.String(length=1000), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_records_redaction_request_id", "records_redaction", ["request_id"])

    # The backfill writes chain columns on existing audit rows: lift the append-only trigger for this transaction.
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    _backfill(bind, "audit", "audit_log",
              "SELECT id, at, actor_id, actor_label, action, object_type, object_id, detail, client_ip, user_agent "
              "FROM audit_log ORDER BY id",
              lambda seq, r, prev: canonical.audit_form(seq, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], prev))
    _backfill(bind, "archive", "messageversion",
              "SELECT id, message_id, version, change, text, captured_at, raw FROM messageversion ORDER BY id",
              lambda seq, r, prev: canonical.version_form(seq, r[1], r[2], r[3], r[4], r[5], r[6], prev))
    if sqlite:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    _append_only_with_disposal(sqlite)


def _append_only_with_disposal(sqlite: bool) -> None:
    """Audit rows stay append-only, except a DELETE inside a certified disposal (retention of the audit log itself),
    which first writes its disposed_link rows: the trigger lets through only rows certified in that way."""
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "WHEN NOT EXISTS (SELECT 1 FROM disposed_link d WHERE d.chain = 'audit' AND d.seq = OLD.chain_seq "
            "AND d.row_hash = OLD.row_hash) "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
            "BEGIN "
            "IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM disposed_link d WHERE d.chain = 'audit' "
            "AND d.seq = OLD.chain_seq AND d.row_hash = OLD.row_hash) THEN RETURN OLD; END IF; "
            "RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql"
        )
    op.drop_index("ix_records_redaction_request_id", table_name="records_redaction")
    op.drop_table("records_redaction")
    op.drop_table("records_request")
    op.drop_table("disposed_link")
    op.drop_index("ix_disposal_proposal_status", table_name="disposal_proposal")
    op.drop_table("disposal_proposal")
    op.drop_table("disposal_certificate")
    op.drop_table("retention_schedule")
    op.drop_table("legal_hold")
    op.drop_table("record_chain")
    for table in ("messageversion", "audit_log"):
        op.drop_index(f"ux_{table}_chain_seq", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("row_hash")
            batch.drop_column("prev_hash")
            batch.drop_column("chain_seq")
