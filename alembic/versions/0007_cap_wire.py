"""CAP wired into the product: emergency posts (their official alert, expiry, language versions and follow-up flag)
and the CAP messages GovSocial publishes about them (issue 18)

Revision ID: 0007_cap_wire
Revises: 0007_personal_alerts
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_cap_wire"
down_revision = "0007_personal_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postemergency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("cap_alert_id", sa.Integer(), nullable=True),
        sa.Column("cap_ref", sa.String(length=600), nullable=False, server_default=""),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("primary_language", sa.String(length=10), nullable=False, server_default="en"),
        sa.Column("follow_up", sa.String(length=20), nullable=False, server_default=""),
        sa.Column("follow_up_alert_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("out_texts", sa.JSON(), nullable=False),
        sa.Column("out_version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_note", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.ForeignKeyConstraint(["cap_alert_id"], ["capalert.id"]),
        sa.ForeignKeyConstraint(["follow_up_alert_id"], ["capalert.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id"),
    )
    op.create_index("ix_postemergency_cap_alert_id", "postemergency", ["cap_alert_id"])
    op.create_table(
        "capoutmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("msg_type", sa.String(length=10), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "seq", name="uq_capoutmessage_seq"),
        sa.UniqueConstraint("identifier"),
    )
    op.create_index("ix_capoutmessage_post_id", "capoutmessage", ["post_id"])


def downgrade() -> None:
    op.drop_index("ix_capoutmessage_post_id", table_name="capoutmessage")
    op.drop_table("capoutmessage")
    op.drop_index("ix_postemergency_cap_alert_id", table_name="postemergency")
    op.drop_table("postemergency")
