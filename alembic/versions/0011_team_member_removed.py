"""team members are removed softly: removed_at and removed_by on team_member

Revision ID: 0011_team_member_removed
Revises: 0010_automation

Removing someone from a team used to delete the membership row. Now the row stays with when and by whom it was
removed; round-robin, workload, online counts and the team page read only current members (removed_at IS NULL), and
adding the person again reactivates the row (the unique team/person pair stays). Rows removed before this revision
are gone already; the audit log keeps them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_team_member_removed"
down_revision = "0010_automation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("team_member") as batch:
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("removed_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Going back to hard removal: the removed rows go, as the old code would have deleted them.
    op.execute("DELETE FROM team_member WHERE removed_at IS NOT NULL")
    with op.batch_alter_table("team_member") as batch:
        batch.drop_column("removed_by")
        batch.drop_column("removed_at")
