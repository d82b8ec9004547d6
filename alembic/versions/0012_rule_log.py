"""what inbox rules did to a message is kept on the message (message.rule_log) instead of in rule_application rows

Revision ID: 0012_rule_log
Revises: 0011_team_member_removed

Inbox rules now decide before a message is inserted (services/intake/rules.Plan), so what they did goes in with the
row: no second table with two foreign keys and two indexes per application, which cost ingest more than the rules
themselves (10,000 applications: 180 ms of foreign-key checks alone on PostgreSQL). The card reads it from the
message it already has. Existing applications are copied into rule_log in their order, then the table goes.
Every application is also in the audit log, unchanged.
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0012_rule_log"
down_revision = "0011_team_member_removed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("message", sa.Column("rule_log", sa.JSON(), nullable=True))  # plain ADD COLUMN (see 0010)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "UPDATE message m SET rule_log = a.log FROM ("
            " SELECT message_id, json_agg(json_build_object('rule_id', rule_id, 'rule', rule_name, 'actions', actions,"
            " 'at', applied_at) ORDER BY id) AS log FROM rule_application GROUP BY message_id) a WHERE m.id = a.message_id")
    else:
        op.execute(
            "UPDATE message SET rule_log = (SELECT json_group_array(json_object('rule_id', r.rule_id, 'rule', r.rule_name,"
            " 'actions', json(r.actions), 'at', r.applied_at)) FROM (SELECT * FROM rule_application WHERE message_id = message.id"
            " ORDER BY id) AS r) WHERE id IN (SELECT message_id FROM rule_application)")
    op.drop_index("ix_rule_application_rule_id", table_name="rule_application")
    op.drop_index("ix_rule_application_message_id", table_name="rule_application")
    op.drop_table("rule_application")


def downgrade() -> None:
    op.create_table(
        "rule_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.ForeignKeyConstraint(["rule_id"], ["inbox_rule.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rule_application_message_id", "rule_application", ["message_id"])
    op.create_index("ix_rule_application_rule_id", "rule_application", ["rule_id"])
    bind = op.get_bind()
    table = sa.table("rule_application", sa.column("rule_id"), sa.column("message_id"), sa.column("rule_name"),
                     sa.column("actions", sa.JSON()), sa.column("applied_at", sa.DateTime(timezone=True)))
    rows = []
    for message_id, log in bind.execute(sa.text("SELECT id, rule_log FROM message WHERE rule_log IS NOT NULL ORDER BY id")):
        for entry in (json.loads(log) if isinstance(log, str) else log) or []:
            rows.append({"rule_id": entry["rule_id"], "message_id": message_id, "rule_name": entry.get("rule", ""),
                         "actions": entry.get("actions") or [], "applied_at": _when(entry.get("at"))})
    if rows:
        bind.execute(sa.insert(table), rows)
    op.drop_column("message", "rule_log")  # in place, never a batch copy: that would drop SQLite's full-text triggers


def _when(at) -> datetime:
    try:
        when = datetime.fromisoformat(str(at).replace(" ", "T"))
    except ValueError:
        return datetime.now(timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
