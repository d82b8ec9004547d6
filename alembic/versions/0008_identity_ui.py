"""identity in the product: the single sign-on hand-off from the callback route to the sign-in page (new table only)

Revision ID: 0008_identity_ui
Revises: 0007_records
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_identity_ui"
down_revision = "0007_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("payload_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_hash"),
    )
    op.create_index("ix_sign_in_handoff_expires_at", "sign_in_handoff", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_handoff_expires_at", table_name="sign_in_handoff")
    op.drop_table("sign_in_handoff")
