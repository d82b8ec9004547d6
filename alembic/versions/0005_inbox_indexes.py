"""inbox indexes keyed on id, and the normalised author key that VIP lists match on

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OLD = {
    "ix_message_inbox": ["direction", "received_at", "id"],
    "ix_message_status_recv": ["status", "received_at", "id"],
    "ix_message_profile_recv": ["profile_id", "received_at", "id"],
    "ix_message_assignee_recv": ["assignee_id", "received_at", "id"],
    "ix_message_author": ["network", "author_handle"],
}
_NEW = {
    "ix_message_dir_id": ["direction", "id"],
    "ix_message_status_id": ["status", "id"],
    "ix_message_profile_id": ["profile_id", "id"],
    "ix_message_assignee_id": ["assignee_id", "id"],
    "ix_message_network_id": ["network", "id"],
    "ix_message_received": ["received_at"],
    "ix_message_author_key": ["network", "author_key"],
}


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("author_key", sa.String(length=200), nullable=False, server_default=""))
    op.execute("UPDATE message SET author_key = lower(ltrim(author_handle, '@'))")
    for name in _OLD:
        op.drop_index(name, table_name="message")
    for name, cols in _NEW.items():
        op.create_index(name, "message", cols)


def downgrade() -> None:
    for name in _NEW:
        op.drop_index(name, table_name="message")
    for name, cols in _OLD.items():
        op.create_index(name, "message", cols)
    with op.batch_alter_table("message") as batch:
        batch.drop_column("author_key")
