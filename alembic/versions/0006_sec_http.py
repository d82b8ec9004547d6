"""security review (HTTP side): demo accounts are marked, iCal feed tokens are stored as hashes, sign-in backoff index

Revision ID: 0006_sec_http
Revises: 0005
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006_sec_http"
down_revision = "0005"
branch_labels = None
depends_on = None

# The accounts `python -m govsocial_app.cli seed` creates (services/demo.py DEMO_USERS), all with the published password.
_DEMO_EMAILS = ("admin@demo.gov", "manager@demo.gov", "publisher@demo.gov", "responder@demo.gov", "responder2@demo.gov", "viewer@demo.gov")


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("is_demo", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("ical_token_hash", sa.String(length=64), nullable=False, server_default=""))
    bind = op.get_bind()
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("email", sa.String), sa.column("is_demo", sa.Boolean),
                    sa.column("ical_token", sa.String), sa.column("ical_token_hash", sa.String))
    bind.execute(user.update().where(user.c.email.in_(_DEMO_EMAILS)).values(is_demo=True))
    for uid, token in bind.execute(sa.select(user.c.id, user.c.ical_token).where(user.c.ical_token != "")).all():
        bind.execute(user.update().where(user.c.id == uid).values(ical_token_hash=hashlib.sha256(token.encode()).hexdigest()))
    op.drop_index("ix_user_ical_token", table_name="user")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("ical_token")
    op.create_index("ix_user_ical_token_hash", "user", ["ical_token_hash"])
    op.create_index("ix_loginattempt_ip_email_at", "loginattempt", ["client_ip", "email", "at"])


def downgrade() -> None:
    op.drop_index("ix_loginattempt_ip_email_at", table_name="loginattempt")
    op.drop_index("ix_user_ical_token_hash", table_name="user")
    with op.batch_alter_table("user") as batch:
        # A hash cannot be turned back into the address: feeds get a new address on the old schema.
        batch.add_column(sa.Column("ical_token", sa.String(length=64), nullable=False, server_default=""))
        batch.drop_column("ical_token_hash")
        batch.drop_column("is_demo")
    op.create_index("ix_user_ical_token", "user", ["ical_token"])
