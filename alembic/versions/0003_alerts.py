"""alerts: named recipients and the surge flag on spike rules

Revision ID: 0003
Revises: 0001b
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spikerule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audience_user_ids", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("surge_active", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("spikerule", schema=None) as batch_op:
        batch_op.drop_column("surge_active")
        batch_op.drop_column("audience_user_ids")
