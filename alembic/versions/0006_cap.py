"""CAP official alerts: alert sources with their status, received alerts and their info blocks, the
jurisdiction boundary with thresholds, and the translation memory (issue 18)

Revision ID: 0006_cap
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_cap"
down_revision = "0006_sec_http"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=False, server_default="")


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "capsource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        _json("allowed_hosts"),
        sa.Column("validate_schema", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.String(length=40), nullable=False),
        _text("status_message"),
        sa.Column("feed_kind", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _json("poll_state"),
        _ts("last_polled_at"),
        _ts("last_ok_at"),
        _ts("next_poll_at"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("deleted_at"),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_capsource_next_poll_at", "capsource", ["next_poll_at"])

    op.create_table(
        "capalert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        _ts("sent", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("msg_type", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        _json("references"),
        _json("incidents"),
        _text("note"),
        _ts("expires"),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("decision_kind", sa.String(length=10), nullable=False),
        _json("reasons"),
        _json("info_indexes"),
        _json("follow_up"),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("app_alert_id", sa.Integer(), nullable=True),
        sa.Column("raw_xml", sa.Text(), nullable=False),
        _ts("received_at", nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["capsource.id"]),
        sa.ForeignKeyConstraint(["superseded_by_id"], ["capalert.id"]),
        sa.ForeignKeyConstraint(["app_alert_id"], ["alert.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender", "identifier", name="uq_capalert_sender_identifier"),
    )
    op.create_index("ix_capalert_source_id", "capalert", ["source_id"])
    op.create_index("ix_capalert_decision_received", "capalert", ["decision", "received_at"])

    op.create_table(
        "capinfo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        _json("categories"),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("certainty", sa.String(length=20), nullable=False),
        _json("response_types"),
        _text("sender_name"),
        _text("headline"),
        _text("description"),
        _text("instruction"),
        _text("web"),
        _text("contact"),
        _ts("effective"),
        _ts("onset"),
        _ts("expires"),
        _json("parameters"),
        _json("areas"),
        sa.ForeignKeyConstraint(["alert_id"], ["capalert.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "position", name="uq_capinfo_alert_position"),
    )
    op.create_index("ix_capinfo_alert_id", "capinfo", ["alert_id"])

    op.create_table(
        "capjurisdiction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        _json("boundary"),
        _json("geocodes"),
        _json("thresholds"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("deleted_at"),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "translationpair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_lang", sa.String(length=35), nullable=False),
        sa.Column("target_lang", sa.String(length=35), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("target_text", sa.Text(), nullable=False),
        sa.Column("pair_key", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        _ts("approved_at", nullable=False),
        _ts("deleted_at"),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.ForeignKeyConstraint(["approved_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_lang", "target_lang", "pair_key", name="uq_translationpair_key"),
    )
    op.create_index("ix_translationpair_langs", "translationpair", ["source_lang", "target_lang"])


def downgrade() -> None:
    op.drop_index("ix_translationpair_langs", table_name="translationpair")
    op.drop_table("translationpair")
    op.drop_table("capjurisdiction")
    op.drop_index("ix_capinfo_alert_id", table_name="capinfo")
    op.drop_table("capinfo")
    op.drop_index("ix_capalert_decision_received", table_name="capalert")
    op.drop_index("ix_capalert_source_id", table_name="capalert")
    op.drop_table("capalert")
    op.drop_index("ix_capsource_next_poll_at", table_name="capsource")
    op.drop_table("capsource")
