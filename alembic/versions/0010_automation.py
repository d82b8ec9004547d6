"""inbox automation (issue 17): teams, saved replies, rules, automatic replies, and each message's team, priority
and response-time targets

Revision ID: 0010_automation
Revises: 0009_moderation

Messages stored before this migration keep no due times (NULL): they arrived before any target existed, so they
are never escalated and reports leave them out of "within target". New messages get them when stored.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_automation"
down_revision = "0009_moderation"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_ar", sa.String(length=80), nullable=False, server_default=""),
        sa.Column("lead_user_id", sa.Integer(), nullable=True),
        sa.Column("rr_last_user_id", sa.Integer(), nullable=True),
        _ts("created_at", False),
        _ts("deleted_at"),
        sa.ForeignKeyConstraint(["lead_user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "team_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _ts("added_at", False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "user_id", name="uq_teammember"),
    )
    op.create_index("ix_team_member_team_id", "team_member", ["team_id"])
    op.create_index("ix_team_member_user_id", "team_member", ["user_id"])
    op.create_table(
        "saved_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("text_ar", sa.Text(), nullable=False, server_default=""),
        sa.Column("link", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False, server_default=""),
        sa.Column("use_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _ts("created_at", False),
        _ts("updated_at", False),
        _ts("deleted_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "saved_reply_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saved_reply_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False, server_default=""),
        _ts("used_at", False),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["saved_reply_id"], ["saved_reply.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_saved_reply_use_claim_id", "saved_reply_use", ["claim_id"])
    op.create_index("ix_saved_reply_use_saved_reply_id", "saved_reply_use", ["saved_reply_id"])
    op.create_table(
        "inbox_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("stop_processing", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("match_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        _ts("last_error_at"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _ts("created_at", False),
        _ts("updated_at", False),
        _ts("deleted_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inbox_rule_position", "inbox_rule", ["position"])
    op.create_table(
        "rule_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("actions", sa.JSON(), nullable=False),
        _ts("applied_at", False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["rule_id"], ["inbox_rule.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_application_message_id", "rule_application", ["message_id"])
    op.create_index("ix_rule_application_rule_id", "rule_application", ["rule_id"])
    op.create_table(
        "auto_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("saved_reply_id", sa.Integer(), nullable=True),
        sa.Column("network", sa.String(length=20), nullable=False),
        sa.Column("author_key", sa.String(length=200), nullable=False),
        sa.Column("conversation_key", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False, server_default="pending"),
        sa.Column("reason", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("reply_message_id", sa.Integer(), nullable=True),
        _ts("created_at", False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["rule_id"], ["inbox_rule.id"]),
        sa.ForeignKeyConstraint(["saved_reply_id"], ["saved_reply.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network", "author_key", "conversation_key", "day", name="uq_autoreply_once"),
    )
    op.create_index("ix_auto_reply_message_id", "auto_reply", ["message_id"])
    op.create_index("ix_auto_reply_rule_id", "auto_reply", ["rule_id"])
    op.create_index("ix_auto_reply_status", "auto_reply", ["status"])
    # Plain ADD COLUMN, never a batch copy: on SQLite a copy of `message` would drop the full-text triggers
    # (and take minutes on a large inbox). SQLite allows a REFERENCES clause on an added column whose default is NULL.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE message ADD COLUMN team_id INTEGER REFERENCES team (id)")
    else:
        op.add_column("message", sa.Column("team_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_message_team_id", "message", "team", ["team_id"], ["id"])
    op.add_column("message", sa.Column("priority", sa.String(length=10), nullable=False, server_default="normal"))
    for name in ("sla_first_due_at", "sla_done_due_at", "sla_first_escalated_at", "sla_done_escalated_at"):
        op.add_column("message", _ts(name))
    op.create_index("ix_message_team_id", "message", ["team_id", "id"])
    op.create_index("ix_message_sla_first", "message", ["sla_first_due_at"])
    op.create_index("ix_message_sla_done", "message", ["sla_done_due_at"])


def downgrade() -> None:
    op.drop_index("ix_message_sla_done", table_name="message")
    op.drop_index("ix_message_sla_first", table_name="message")
    op.drop_index("ix_message_team_id", table_name="message")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a plain column in place; team_id's REFERENCES clause needs the batch copy, which
        # drops the full-text triggers, so the search index is rebuilt by recreating them (below).
        for name in ("sla_done_escalated_at", "sla_first_escalated_at", "sla_done_due_at", "sla_first_due_at", "priority"):
            op.drop_column("message", name)
        with op.batch_alter_table("message", schema=None, recreate="always") as batch_op:
            batch_op.drop_column("team_id")
        _recreate_sqlite_search_triggers()
    else:
        op.drop_constraint("fk_message_team_id", "message", type_="foreignkey")
        for name in ("sla_done_escalated_at", "sla_first_escalated_at", "sla_done_due_at", "sla_first_due_at",
                     "priority", "team_id"):
            op.drop_column("message", name)
    for table in ("auto_reply", "rule_application", "inbox_rule", "saved_reply_use", "saved_reply", "team_member", "team"):
        op.drop_table(table)


def _recreate_sqlite_search_triggers() -> None:
    """The triggers of 0001b_inbox_search, which a batch copy of `message` drops; then the index is rebuilt."""
    op.execute("DROP TRIGGER IF EXISTS message_fts_ai")
    op.execute("DROP TRIGGER IF EXISTS message_fts_ad")
    op.execute("DROP TRIGGER IF EXISTS message_fts_au")
    op.execute("CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
               "INSERT INTO message_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
    op.execute("CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN "
               "INSERT INTO message_fts(message_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END")
    op.execute("CREATE TRIGGER message_fts_au AFTER UPDATE OF search_text ON message BEGIN "
               "INSERT INTO message_fts(message_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
               "INSERT INTO message_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
    op.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
