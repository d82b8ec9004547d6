"""identity: single sign-on login state and linked identities, TOTP two-factor, recovery codes, sign-in challenges,
and how each session was opened (new tables only)

Revision ID: 0006_identity
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_identity"
down_revision = "0006_cap"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "oidc_login_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("secrets_enc", sa.Text(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("return_to", sa.String(length=500), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("state_hash"),
    )
    op.create_index("ix_oidc_login_state_expires_at", "oidc_login_state", ["expires_at"])

    op.create_table(
        "user_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        _ts("linked_at"),
        _ts("last_sign_in_at", nullable=True),
        _ts("deprovisioned_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "subject", name="uq_user_identity_subject"),
    )
    op.create_index("ix_user_identity_user_id", "user_identity", ["user_id"])

    op.create_table(
        "session_sign_in",
        sa.Column("auth_session_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=120), nullable=False),
        sa.Column("id_token_enc", sa.Text(), server_default="", nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["auth_session_id"], ["authsession.id"]),
        sa.PrimaryKeyConstraint("auth_session_id"),
    )

    op.create_table(
        "user_totp",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        _ts("confirmed_at", nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )

    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        _ts("created_at"),
        _ts("used_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])

    op.create_table(
        "second_factor_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_second_factor_attempt_user_at", "second_factor_attempt", ["user_id", "at"])

    op.create_table(
        "sign_in_challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_sign_in_challenge_user_id", "sign_in_challenge", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_challenge_user_id", table_name="sign_in_challenge")
    op.drop_table("sign_in_challenge")
    op.drop_index("ix_second_factor_attempt_user_at", table_name="second_factor_attempt")
    op.drop_table("second_factor_attempt")
    op.drop_index("ix_recovery_code_user_id", table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_table("user_totp")
    op.drop_table("session_sign_in")
    op.drop_index("ix_user_identity_user_id", table_name="user_identity")
    op.drop_table("user_identity")
    op.drop_index("ix_oidc_login_state_expires_at", table_name="oidc_login_state")
    op.drop_table("oidc_login_state")
