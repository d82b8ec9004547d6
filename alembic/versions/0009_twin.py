"""twin posts per network: a post target's language ("" ordinary, "en+ar" combined, "en" / "ar" separate posts)

Revision ID: 0009_twin
Revises: 0008_identity_ui
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_twin"
down_revision = "0008_identity_ui"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing targets are ordinary posts or combined twin posts sent as one text: "" keeps their approval hashes.
    with op.batch_alter_table("posttarget", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("posttarget", schema=None) as batch_op:
        batch_op.drop_column("language")
