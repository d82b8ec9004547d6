"""approvals bound to the exact content: post versions, content hashes on decisions, emailed links with one-time codes

Revision ID: 0006_approval_content
Revises: 0005

Posts that a workflow approved before this revision were approved without seeing every network's text or the
images, and their approvals carry no content hash. The sender now refuses such posts, so they go back to the
first step here (and say why), rather than being held at their publishing time.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_approval_content"
down_revision = "0006_identity"
branch_labels = None
depends_on = None

REAPPROVE = "Approvals are now bound to the exact content: approve it again."


def upgrade() -> None:
    with op.batch_alter_table("post") as batch:
        batch.add_column(sa.Column("content_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("approval_round", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("approved_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("approved_hash", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("approvaldecision") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))

    op.create_table(
        "postversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("edited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "number", name="uq_postversion_number"),
    )
    op.create_index("ix_postversion_post_id", "postversion", ["post_id"])

    op.create_table(
        "approvalinvite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["post.id"]),
        sa.ForeignKeyConstraint(["step_id"], ["approvalstep.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash", name="uq_approvalinvite_key_hash"),
    )
    op.create_index("ix_approvalinvite_post_id", "approvalinvite", ["post_id"])
    op.create_index("ix_approvalinvite_status", "approvalinvite", ["status"])

    op.create_table(
        "approvalvisit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=False),
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["invite_id"], ["approvalinvite.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid_hash", name="uq_approvalvisit_sid_hash"),
    )
    op.create_index("ix_approvalvisit_invite_id", "approvalvisit", ["invite_id"])

    # Approved (or half-approved) posts that have not gone out start their workflow again.
    post = sa.table("post", sa.column("id", sa.Integer), sa.column("status", sa.String), sa.column("workflow_id", sa.Integer),
                    sa.column("approval_step", sa.Integer), sa.column("approval_round", sa.Integer),
                    sa.column("held_reason", sa.String), sa.column("deleted_at", sa.DateTime))
    target = sa.table("posttarget", sa.column("post_id", sa.Integer), sa.column("status", sa.String))
    waiting = sa.and_(post.c.workflow_id.is_not(None), post.c.deleted_at.is_(None),
                      post.c.status.in_(("scheduled", "queued", "pending_approval", "held")))
    ids = sa.select(post.c.id).where(waiting, post.c.status.in_(("scheduled", "queued")))
    op.execute(target.update().where(target.c.post_id.in_(ids), target.c.status == "due").values(status="pending"))
    op.execute(post.update().where(waiting, post.c.status.in_(("scheduled", "queued")))
               .values(status="pending_approval", held_reason=REAPPROVE))
    op.execute(post.update().where(waiting).values(approval_step=0, approval_round=1))


def downgrade() -> None:
    op.drop_index("ix_approvalvisit_invite_id", table_name="approvalvisit")
    op.drop_table("approvalvisit")
    op.drop_index("ix_approvalinvite_status", table_name="approvalinvite")
    op.drop_index("ix_approvalinvite_post_id", table_name="approvalinvite")
    op.drop_table("approvalinvite")
    op.drop_index("ix_postversion_post_id", table_name="postversion")
    op.drop_table("postversion")
    with op.batch_alter_table("approvaldecision") as batch:
        batch.drop_column("round")
        batch.drop_column("version")
        batch.drop_column("content_hash")
    with op.batch_alter_table("post") as batch:
        batch.drop_column("approved_hash")
        batch.drop_column("approved_version")
        batch.drop_column("approval_round")
        batch.drop_column("content_version")
