"""reports and listening: topic matches, and indexes for the report aggregates

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topicmatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["topic_id"], ["listeningtopic.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic_id", "message_id", name="uq_topic_match"),
    )
    op.create_index("ix_topicmatch_message", "topicmatch", ["message_id"])
    # The post-performance report ranges over publication time; the latest-snapshot lookup is per target.
    op.create_index("ix_posttarget_published", "posttarget", ["status", "published_at"])
    op.create_index("ix_postmetricsnapshot_target_time", "postmetricsnapshot", ["target_id", "captured_at"])
    op.create_index("ix_profilemetricdaily_day", "profilemetricdaily", ["day"])


def downgrade() -> None:
    op.drop_index("ix_profilemetricdaily_day", table_name="profilemetricdaily")
    op.drop_index("ix_postmetricsnapshot_target_time", table_name="postmetricsnapshot")
    op.drop_index("ix_posttarget_published", table_name="posttarget")
    op.drop_index("ix_topicmatch_message", table_name="topicmatch")
    op.drop_table("topicmatch")
