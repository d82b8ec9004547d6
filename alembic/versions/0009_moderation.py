"""moderation (issue 16 items 1-4): the comment policy's versions, moderation actions and each message's standing

Revision ID: 0009_moderation
Revises: 0008_identity_ui

New tables only, so SQLite and PostgreSQL need nothing special (no batch copy of an existing table).
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_moderation"
down_revision = "0009_twin"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "comment_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.Column("intro_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("intro_ar", sa.Text(), nullable=False, server_default=""),
        sa.Column("change_note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _ts("created_at", False),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    op.create_table(
        "moderation_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("clause", sa.String(length=20), nullable=False),
        sa.Column("clause_title", sa.String(length=300), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        _ts("requested_at", False),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        _ts("confirmed_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        _ts("claimed_at"),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        _ts("completed_at"),
        sa.Column("undoes_id", sa.Integer(), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["confirmed_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_moderation_action_message_id", "moderation_action", ["message_id"])
    op.create_index("ix_moderation_action_clause", "moderation_action", ["clause"])
    op.create_index("ix_moderation_action_status", "moderation_action", ["status"])
    op.create_index("ix_moderation_action_requested_at", "moderation_action", ["requested_at"])
    op.create_table(
        "message_moderation",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("clause", sa.String(length=20), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("author_state", sa.String(length=20), nullable=False),
        _ts("updated_at", False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    op.drop_table("message_moderation")
    for ix in ("requested_at", "status", "clause", "message_id"):
        op.drop_index(f"ix_moderation_action_{ix}", table_name="moderation_action")
    op.drop_table("moderation_action")
    op.drop_table("comment_policy")
