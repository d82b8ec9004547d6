"""personal alerts: the people a personal notification is for, so only they see, count and acknowledge it

Revision ID: 0007_personal_alerts
Revises: 0006_approval_content

Alerts raised for named people (publishing.notify) kept their recipients only inside the JSON `data`, and the alert
centre showed them to every role. Existing ones are backfilled from `data["user_ids"]`.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0007_personal_alerts"
down_revision = "0006_approval_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alertrecipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "user_id", name="uq_alertrecipient_alert_user"),
    )
    op.create_index("ix_alertrecipient_user", "alertrecipient", ["user_id", "alert_id"])
    conn = op.get_bind()
    users = {r[0] for r in conn.execute(sa.text('SELECT id FROM "user"'))}
    rows = []
    for alert_id, data in conn.execute(sa.text("SELECT id, data FROM alert")):
        data = json.loads(data) if isinstance(data, str) else (data or {})
        for uid in {int(u) for u in (data.get("user_ids") or []) if str(u).isdigit()}:
            if uid in users:
                rows.append({"alert_id": alert_id, "user_id": uid})
    if rows:
        conn.execute(sa.text("INSERT INTO alertrecipient (alert_id, user_id) VALUES (:alert_id, :user_id)"), rows)


def downgrade() -> None:
    op.drop_index("ix_alertrecipient_user", table_name="alertrecipient")
    op.drop_table("alertrecipient")
