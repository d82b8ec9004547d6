"""SQLModel tables for the whole product: people, profiles, inbox, publishing, alerts, reports and the audit log."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from govsocial_app.db.types import UtcDateTime


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ts(index: bool = False, nullable: bool = True):
    """A timezone-aware timestamp column (stored as UTC)."""
    return Field(default=None, sa_column=Column(UtcDateTime(), index=index, nullable=nullable))


def _created():
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def _json(default=dict):
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


# ---------------------------------------------------------------- people


# The roles and what each may do are defined once, in services/authz.py (ROLES, PERMISSIONS).


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True, max_length=320)
    display_name: str = Field(max_length=120)
    password_hash: str
    role: str = Field(default="viewer", max_length=20, index=True)
    locale: str = Field(default="en", max_length=10)
    theme: str = Field(default="light", max_length=10)
    timezone: str = Field(default="UTC", max_length=64)
    is_active: bool = True
    # Created by the demo seed with the published password: refused in production mode.
    is_demo: bool = False
    # SHA-256 of the secret in the user's iCal feed address; the address itself is shown once, when it is made.
    ical_token_hash: str = Field(default="", max_length=64, index=True)
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class UserGroup(SQLModel, table=True):
    """A named group of users (e.g. "Night shift"), which can require an approval workflow."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    member_ids: list[int] = _json(list)
    workflow_id: Optional[int] = Field(default=None, foreign_key="approvalworkflow.id")
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of the bearer token is stored."""

    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _created()
    last_seen_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    revoked_at: Optional[datetime] = _ts()
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class LoginAttempt(SQLModel, table=True):
    # The sign-in backoff counts failures per (address, email) since that pair's last success.
    __table_args__ = (Index("ix_loginattempt_ip_email_at", "client_ip", "email", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(index=True, max_length=320)
    client_ip: str = Field(default="", max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True))
    success: bool = False


class AuditLog(SQLModel, table=True):
    """Append-only: a database trigger refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True))
    actor_id: Optional[int] = Field(default=None, index=True)
    actor_label: str = Field(default="", max_length=320)  # name/email, or "system", or an external approver
    action: str = Field(max_length=80, index=True)
    object_type: str = Field(default="", max_length=40, index=True)
    object_id: str = Field(default="", max_length=80)
    detail: dict[str, Any] = _json()
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    # The tamper-evident chain (services/records/chain.py): position in the "audit" chain, the previous row's hash
    # and this row's SHA-256 over its canonical form. Written in the same transaction as the row.
    chain_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True, unique=True))
    prev_hash: str = Field(default="", max_length=64)
    row_hash: str = Field(default="", max_length=64)


class Setting(SQLModel, table=True):
    """Key/value settings; the publishing pause flag lives here under "publishing.pause"."""

    key: str = Field(primary_key=True, max_length=80)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_at: datetime = _created()
    updated_by: Optional[int] = None


# ---------------------------------------------------------------- profiles


class SocialProfile(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    network: str = Field(max_length=20, index=True)
    handle: str = Field(max_length=200)
    display_name: str = Field(default="", max_length=200)
    external_id: str = Field(default="", max_length=200)
    config: dict[str, Any] = _json()  # non-secret connection settings (instance URL, page id)
    secrets_enc: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # Fernet token
    status: str = Field(default="active", max_length=20)  # active, needs_reconnect, disconnected
    cursor: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    poll_interval_s: int = 60
    last_poll_at: Optional[datetime] = _ts()
    last_success_at: Optional[datetime] = _ts()
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_error_at: Optional[datetime] = _ts()
    rate_limit: dict[str, Any] = _json()
    next_poll_at: Optional[datetime] = _ts()
    workflow_id: Optional[int] = Field(default=None, foreign_key="approvalworkflow.id")
    timezone: str = Field(default="UTC", max_length=64)
    queue_slots: list[str] = _json(list)  # ["Mon 09:00", ...] in the profile's time zone
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


# ---------------------------------------------------------------- inbox


class Message(SQLModel, table=True):
    """One inbound or outbound message. Network-side edits and deletions live in MessageVersion."""

    __table_args__ = (
        UniqueConstraint("network", "external_id", name="uq_message_network_external"),
        # The inbox pages newest-first by id, so each filter's index ends in id: the database walks it
        # backwards and stops after one page instead of sorting every match.
        Index("ix_message_dir_id", "direction", "id"),
        Index("ix_message_status_id", "status", "id"),
        Index("ix_message_profile_id", "profile_id", "id"),
        Index("ix_message_assignee_id", "assignee_id", "id"),
        Index("ix_message_network_id", "network", "id"),
        Index("ix_message_received", "received_at"),
        Index("ix_message_conversation", "conversation_key", "created_at"),
        # Partial on the inbox's rows, ending in id: a VIP list member's newest inbound messages (migration 0013).
        Index("ix_message_author_key", "author_key", "network", "id", postgresql_where=sql_text("direction = 'in' AND deleted_at IS NULL"),
              sqlite_where=sql_text("direction = 'in' AND deleted_at IS NULL")),
        Index("ix_message_team_id", "team_id", "id"),
        Index("ix_message_sla_first", "sla_first_due_at"),
        Index("ix_message_sla_done", "sla_done_due_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    network: str = Field(max_length=20)
    external_id: str = Field(max_length=300)
    profile_id: Optional[int] = Field(default=None, foreign_key="socialprofile.id")
    direction: str = Field(default="in", max_length=3)  # in, out
    kind: str = Field(default="mention", max_length=12, index=True)
    conversation_key: str = Field(default="", max_length=300)
    in_reply_to_external_id: str = Field(default="", max_length=300)
    author_external_id: str = Field(default="", max_length=200)
    author_handle: str = Field(default="", max_length=200)
    author_key: str = Field(default="", max_length=200)  # lower case, no leading @: what VIP lists match on
    author_name: str = Field(default="", max_length=200)
    author_avatar_url: str = Field(default="", max_length=500)
    author_followers: int = 0
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    lang: str = Field(default="", max_length=8, index=True)
    url: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(default="open", max_length=10)  # open, completed
    assignee_id: Optional[int] = Field(default=None, foreign_key="user.id")
    completed_at: Optional[datetime] = _ts()
    completed_by: Optional[int] = None
    first_response_at: Optional[datetime] = _ts()
    replied_by_id: Optional[int] = None
    replied_at: Optional[datetime] = _ts()
    sent_by_id: Optional[int] = None  # outbound: who wrote it
    keyword_id: Optional[int] = Field(default=None, foreign_key="keywordsearch.id", index=True)
    campaign_id: Optional[int] = Field(default=None, foreign_key="campaign.id", index=True)
    sentiment: Optional[float] = None
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    version: int = 1
    network_deleted_at: Optional[datetime] = _ts()
    deleted_at: Optional[datetime] = _ts()  # soft delete in GovSocial
    # Inbox automation (issue 17): the team it is assigned to, its priority, and its response-time targets.
    # The due times are set when the message arrives or its priority changes (services/inbox/targets.py); the
    # escalation job escalates a breach once, which the *_escalated_at columns record.
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    priority: str = Field(default="normal", max_length=10)  # low, normal, high, urgent
    sla_first_due_at: Optional[datetime] = _ts()
    sla_done_due_at: Optional[datetime] = _ts()
    sla_first_escalated_at: Optional[datetime] = _ts()
    sla_done_escalated_at: Optional[datetime] = _ts()
    # What inbox rules did to it, in order, shown on its card: [{"rule_id", "rule", "actions": [...], "at"}]; NULL when
    # no rule did anything. Written with the row itself when the rules decide before the insert (services/intake/rules).
    rule_log: Optional[list[dict[str, Any]]] = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))


class MessageVersion(SQLModel, table=True):
    """The records archive: every text a message ever had, and its network-side deletion."""

    __table_args__ = (UniqueConstraint("message_id", "version", name="uq_message_version"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    version: int
    change: str = Field(max_length=12)  # created, edited, deleted
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    captured_at: datetime = _created()
    raw: dict[str, Any] = _json()
    # The "archive" chain (services/records/chain.py), sealed before the version's transaction commits.
    chain_seq: Optional[int] = Field(default=None, sa_column=Column(BigInteger, nullable=True, unique=True))
    prev_hash: str = Field(default="", max_length=64)
    row_hash: str = Field(default="", max_length=64)


class Tag(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, index=True, unique=True)
    color: str = Field(default="gray", max_length=20)
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class MessageTag(SQLModel, table=True):
    __table_args__ = (Index("ix_messagetag_tag_msg", "tag_id", "message_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    tag_id: int = Field(foreign_key="tag.id")
    created_at: datetime = _created()
    created_by: Optional[int] = None
    removed_at: Optional[datetime] = _ts()
    removed_by: Optional[int] = None


class MessageNote(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class VipList(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    color: str = Field(default="amber", max_length=20)
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class VipMember(SQLModel, table=True):
    __table_args__ = (Index("ix_vipmember_lookup", "network", "handle"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="viplist.id", index=True)
    network: str = Field(max_length=20)
    handle: str = Field(max_length=200)  # normalised: lower case, no leading @
    display_name: str = Field(default="", max_length=200)
    added_by: Optional[int] = None
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class SavedView(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    query: str = Field(default="", max_length=1000)  # the inbox URL query string
    position: int = 0
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


# ---------------------------------------------------------------- publishing


class Campaign(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    color: str = Field(default="blue", max_length=20)
    starts_on: Optional[date] = None
    ends_on: Optional[date] = None
    created_by: Optional[int] = None
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


POST_STATUSES = ("draft", "pending_approval", "scheduled", "queued", "publishing", "published", "failed", "held")


class Post(SQLModel, table=True):
    __table_args__ = (Index("ix_post_status_time", "status", "scheduled_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="user.id", index=True)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    link: str = Field(default="", max_length=1000)
    status: str = Field(default="draft", max_length=20)
    scheduled_at: Optional[datetime] = _ts()
    campaign_id: Optional[int] = Field(default=None, foreign_key="campaign.id", index=True)
    workflow_id: Optional[int] = Field(default=None, foreign_key="approvalworkflow.id")
    approval_step: int = 0  # position of the current step while pending
    bypass_reason: str = Field(default="", max_length=1000)
    bypassed_by: Optional[int] = None
    flagged_for_review: bool = False
    held_reason: str = Field(default="", max_length=300)
    # What approvers approve is bound to a SHA-256 of the exact content (services/publishing/approval_content.py).
    content_version: int = 0  # the number of the latest PostVersion
    approval_round: int = 0  # bumped each time the workflow starts again; only this round's decisions count
    approved_version: int = 0  # the version the workflow last approved (or an admin bypassed)
    approved_hash: str = Field(default="", max_length=64)  # the sender refuses anything else
    created_at: datetime = _created()
    updated_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class PostVersion(SQLModel, table=True):
    """Every distinct content of a post (texts per network, media hashes, alt texts, link, time, profiles), never deleted."""

    __table_args__ = (UniqueConstraint("post_id", "number", name="uq_postversion_number"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    number: int
    content_hash: str = Field(max_length=64)
    manifest: dict[str, Any] = _json()
    edited_by: Optional[int] = None  # None: not a person (content found changed by the sender)
    created_at: datetime = _created()


class PostTarget(SQLModel, table=True):
    """One post on one profile. The unit the publishing job claims, publishes and records."""

    __table_args__ = (Index("ix_posttarget_due", "status", "due_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    profile_id: int = Field(foreign_key="socialprofile.id", index=True)
    text_override: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # A twin post's language on this profile: "" (an ordinary post), "en+ar" (one combined post carrying both
    # versions), or "en" / "ar" (separate mode: one target per language, each claimed, sent and reconciled on its own).
    language: str = Field(default="", max_length=10, sa_column_kwargs={"server_default": ""})
    status: str = Field(default="pending", max_length=12)  # pending, due, claimed, published, failed, cancelled
    due_at: Optional[datetime] = _ts()
    idempotency_key: str = Field(max_length=64, unique=True)
    claim_token: str = Field(default="", max_length=64)
    claimed_at: Optional[datetime] = _ts()
    attempts: int = 0
    next_attempt_at: Optional[datetime] = _ts()
    external_id: str = Field(default="", max_length=300)
    external_url: str = Field(default="", max_length=500)
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    published_at: Optional[datetime] = _ts()


class MediaAsset(SQLModel, table=True):
    """An attachment kept in the private media directory (never the public upload mount)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: Optional[int] = Field(default=None, foreign_key="post.id", index=True)
    path: str = Field(max_length=500)
    mime_type: str = Field(max_length=60)
    alt_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    size_bytes: int = 0
    sha256: str = Field(default="", max_length=64)
    uploaded_by: Optional[int] = None
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class ApprovalWorkflow(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class ApprovalStep(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    workflow_id: int = Field(foreign_key="approvalworkflow.id", index=True)
    position: int = 0
    name: str = Field(default="", max_length=120)
    mode: str = Field(default="any", max_length=3)  # any, all
    approver_role: str = Field(default="", max_length=20)
    approver_user_ids: list[int] = _json(list)
    external_approvers: list[dict[str, str]] = _json(list)  # [{"name":..., "email":...}]


class ApprovalDecision(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    step_id: int = Field(foreign_key="approvalstep.id")
    user_id: Optional[int] = None
    external_name: str = Field(default="", max_length=200)
    external_email: str = Field(default="", max_length=320)
    decision: str = Field(max_length=10)  # approved, rejected
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    at: datetime = _created()
    content_hash: str = Field(default="", max_length=64)  # the exact content the approver was shown
    version: int = 0
    round: int = 0


class ApprovalInvite(SQLModel, table=True):
    """An external approver's emailed link for one step of one round. Only a hash of its key is kept;
    the key is made when the email is sent and exists nowhere else but in that email."""

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    step_id: int = Field(foreign_key="approvalstep.id")
    round: int = 0
    version: int = 0
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    key_hash: Optional[str] = Field(default=None, max_length=64, unique=True)
    status: str = Field(default="pending", max_length=10, index=True)  # pending, sending, retrying, sent, failed, cancelled
    attempts: int = 0
    next_attempt_at: Optional[datetime] = _ts()
    last_error: str = Field(default="", max_length=1000)
    sent_by: Optional[int] = None  # None: sent automatically when the step opened
    created_at: datetime = _created()
    sent_at: Optional[datetime] = _ts()
    expires_at: Optional[datetime] = _ts()
    revoked_at: Optional[datetime] = _ts()
    decided_at: Optional[datetime] = _ts()


class ApprovalVisit(SQLModel, table=True):
    """One browser's session on an external approval link: a hashed cookie, a hashed one-time code, attempts."""

    id: Optional[int] = Field(default=None, primary_key=True)
    invite_id: int = Field(foreign_key="approvalinvite.id", index=True)
    sid_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    code_hash: str = Field(default="", max_length=64)
    code_sent_at: Optional[datetime] = _ts()
    code_expires_at: Optional[datetime] = _ts()
    code_attempts: int = 0
    codes_sent: int = 0
    verified_at: Optional[datetime] = _ts()
    closed_at: Optional[datetime] = _ts()
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


# ---------------------------------------------------------------- keywords, alerts


class KeywordSearch(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    query: str = Field(max_length=1000)
    networks: list[str] = _json(list)
    priority: str = Field(default="normal", max_length=10)  # normal, priority, crisis
    interval_s: int = 120
    cursors: dict[str, str] = _json()
    last_run_at: Optional[datetime] = _ts()
    last_error: str = Field(default="", max_length=1000)
    alert_cooldown_min: int = 30
    last_alert_at: Optional[datetime] = _ts()
    is_active: bool = True
    created_by: Optional[int] = None
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class SpikeRule(SQLModel, table=True):
    """Spike-alert settings for one profile, or for the total stream when profile_id is null."""

    id: Optional[int] = Field(default=None, primary_key=True)
    profile_id: Optional[int] = Field(default=None, foreign_key="socialprofile.id", unique=True)
    enabled: bool = True
    sensitivity: float = 2.0
    min_count: int = 20
    cooldown_min: int = 60
    audience_roles: list[str] = _json(lambda: ["admin", "manager", "responder"])
    last_alert_at: Optional[datetime] = _ts()
    last_alert_count: int = 0
    # ---- alerts (migration 0003): named recipients besides the roles, and whether the stream is
    # still above its threshold since the last alert (a surge that never ended re-alerts only when it doubles).
    audience_user_ids: list[int] = _json(list)
    surge_active: bool = False


class Alert(SQLModel, table=True):
    __table_args__ = (Index("ix_alert_created", "created_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # spike, keyword, auth, approval, publish, system
    severity: str = Field(default="warning", max_length=10)  # info, warning, critical
    title: str = Field(max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    link: str = Field(default="", max_length=1000)
    profile_id: Optional[int] = None
    keyword_id: Optional[int] = None
    data: dict[str, Any] = _json()
    created_at: datetime = _created()
    acknowledged_at: Optional[datetime] = _ts()
    acknowledged_by: Optional[int] = None


class AlertDelivery(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    channel: str = Field(max_length=10)  # push, email, inapp
    target: str = Field(default="", max_length=500)
    user_id: Optional[int] = None
    status: str = Field(default="pending", max_length=10, index=True)  # pending, sent, failed
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    next_attempt_at: Optional[datetime] = _ts()
    sent_at: Optional[datetime] = _ts()


class AlertRecipient(SQLModel, table=True):
    """The people a personal alert (publishing.notify: "your post was rejected", "approve this") is for. An alert
    with recipients is shown, counted and acknowledged only by them; one without is the whole team's."""

    __table_args__ = (UniqueConstraint("alert_id", "user_id", name="uq_alertrecipient_alert_user"), Index("ix_alertrecipient_user", "user_id", "alert_id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id")
    user_id: int = Field(foreign_key="user.id")


class AlertSnooze(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=20)
    until: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class PushSubscription(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    endpoint: str = Field(max_length=1000, unique=True)
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    device_label: str = Field(default="", max_length=120)
    created_at: datetime = _created()
    last_success_at: Optional[datetime] = _ts()
    deleted_at: Optional[datetime] = _ts()


# ---------------------------------------------------------------- reports, listening


class ProfileMetricDaily(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("profile_id", "day", name="uq_profile_metric_day"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="socialprofile.id", index=True)
    day: date
    followers: int = 0
    following: int = 0
    posts: int = 0
    engagements: int = 0


class PostMetricSnapshot(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="posttarget.id", index=True)
    captured_at: datetime = _created()
    impressions: Optional[int] = None
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    clicks: Optional[int] = None


class ReportSubscription(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    report: str = Field(max_length=30)
    filters: dict[str, Any] = _json()
    cadence: str = Field(default="weekly", max_length=10)  # weekly, monthly
    local_time: str = Field(default="08:00", max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    recipients: list[str] = _json(list)
    next_run_at: Optional[datetime] = _ts()
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class ReportSend(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="reportsubscription.id", index=True)
    period_start: date
    period_end: date
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    sent_at: Optional[datetime] = _ts()
    created_at: datetime = _created()


class ListeningTopic(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    queries: list[str] = _json(list)
    created_by: Optional[int] = None
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class Claim(SQLModel, table=True):
    """A false claim being tracked, with the official correction."""

    id: Optional[int] = Field(default=None, primary_key=True)
    text: str = Field(max_length=500)
    correction: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(default="", max_length=500)
    lang: str = Field(default="en", max_length=8)
    created_by: Optional[int] = None
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class ClaimMatch(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("claim_id", "message_id", name="uq_claim_match"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    score: float = 0.0
    matched_at: datetime = _created()


class JobHeartbeat(SQLModel, table=True):
    """The jobs process writes here so /api/health can tell whether it is alive."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(default="", max_length=120)
    beat_at: datetime = _created()
    detail: dict[str, Any] = _json()


# ---------------------------------------------------------------- reports and listening additions (migration 0004)


class TopicMatch(SQLModel, table=True):
    """A message that matches a listening topic's queries; kept so topic views aggregate in SQL."""

    __table_args__ = (
        UniqueConstraint("topic_id", "message_id", name="uq_topic_match"),
        Index("ix_topicmatch_message", "message_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    topic_id: int = Field(foreign_key="listeningtopic.id")
    message_id: int = Field(foreign_key="message.id")
    matched_at: datetime = _created()


# ======================================================================== CAP official alerts (migration 0006_cap)
# Issue 18. Written by services/cap/store.py only. Nothing here is ever hard-deleted.


class CapSource(SQLModel, table=True):
    """A CAP alert source an admin configured: an Atom/RSS index of CAP messages, an IPAWS-style feed, or one
    CAP URL. `status` and `status_message` are what the admin sees; `poll_state` is feeds.PollState as JSON."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    url: str = Field(max_length=1000)
    interval_s: int = 60
    allowed_hosts: list[str] = _json(list)  # hosts besides the feed's own that entry links may point to
    validate_schema: bool = True
    enabled: bool = True
    status: str = Field(default="new", max_length=20)  # new, ok, not_modified, error
    status_code: str = Field(default="", max_length=40)  # a CapError/feed code when status is error
    status_message: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    feed_kind: str = Field(default="", max_length=10)  # atom, rss, cap, alerts (what the last poll found)
    failures: int = 0
    poll_state: dict[str, Any] = _json()
    last_polled_at: Optional[datetime] = _ts()
    last_ok_at: Optional[datetime] = _ts()
    next_poll_at: Optional[datetime] = _ts(index=True)
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class CapAlert(SQLModel, table=True):
    """One received CAP message, raised or stored only, with the decision's reasons; the raw XML is kept."""

    __table_args__ = (
        UniqueConstraint("sender", "identifier", name="uq_capalert_sender_identifier"),
        Index("ix_capalert_decision_received", "decision", "received_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    source_id: Optional[int] = Field(default=None, foreign_key="capsource.id", index=True)
    sender: str = Field(max_length=255)
    identifier: str = Field(max_length=255)
    sent: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(max_length=20)
    msg_type: str = Field(max_length=20)
    scope: str = Field(max_length=20)
    references: list[str] = _json(list)  # "sender,identifier,sent" as CAP writes them
    incidents: list[str] = _json(list)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    expires: Optional[datetime] = _ts()
    decision: str = Field(max_length=10)  # raise, store
    decision_kind: str = Field(default="new", max_length=10)  # new, update, cancel
    reasons: list[dict[str, Any]] = _json(list)  # [{"code": ..., "params": {...}}]
    info_indexes: list[int] = _json(list)  # the info blocks that qualified
    follow_up: list[str] = _json(list)  # earlier raised alerts this one updates or cancels
    superseded_by_id: Optional[int] = Field(default=None, foreign_key="capalert.id")
    app_alert_id: Optional[int] = Field(default=None, foreign_key="alert.id")  # the Alerts card, once wired
    raw_xml: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = _created()


class CapInfo(SQLModel, table=True):
    """One <info> block of a received alert (one per language and event)."""

    __table_args__ = (UniqueConstraint("alert_id", "position", name="uq_capinfo_alert_position"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="capalert.id", index=True)
    position: int
    language: str = Field(max_length=35)
    categories: list[str] = _json(list)
    event: str = Field(sa_column=Column(Text, nullable=False))
    urgency: str = Field(max_length=20)
    severity: str = Field(max_length=20)
    certainty: str = Field(max_length=20)
    response_types: list[str] = _json(list)
    sender_name: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    headline: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    instruction: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    web: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    contact: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    effective: Optional[datetime] = _ts()
    onset: Optional[datetime] = _ts()
    expires: Optional[datetime] = _ts()
    parameters: list[list[str]] = _json(list)  # [[valueName, value], ...]
    areas: list[dict[str, Any]] = _json(list)  # [{"description", "polygons", "circles", "geocodes"}]


class CapJurisdiction(SQLModel, table=True):
    """The agency's boundary and thresholds; a new upload adds a row and soft-deletes the previous one."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    boundary: dict[str, Any] = _json()  # GeoJSON geometry (Polygon or MultiPolygon), WGS 84
    geocodes: list[list[str]] = _json(list)  # [["SAME", "006067"], ...] matched as well as the shape
    thresholds: dict[str, Any] = _json()  # jurisdiction.Thresholds.to_dict()
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class TranslationPair(SQLModel, table=True):
    """An approved translation of one sentence, for the translation memory (it serves both directions)."""

    __table_args__ = (
        UniqueConstraint("source_lang", "target_lang", "pair_key", name="uq_translationpair_key"),
        Index("ix_translationpair_langs", "source_lang", "target_lang"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    source_lang: str = Field(max_length=35)
    target_lang: str = Field(max_length=35)
    source_text: str = Field(sa_column=Column(Text, nullable=False))
    target_text: str = Field(sa_column=Column(Text, nullable=False))
    pair_key: str = Field(max_length=64)  # sha256 of both sentences once folded: the same pair is kept once
    post_id: Optional[int] = Field(default=None, foreign_key="post.id")
    approved_by: Optional[int] = Field(default=None, foreign_key="user.id")
    approved_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()

# ================================================================ identity (migration 0006_identity) — begin
# Single sign-on, two-factor and session details: services/identity/. Only new tables; User and AuthSession are
# read, never altered, so this section merges cleanly with changes to them elsewhere.


class OidcLoginState(SQLModel, table=True):
    """One sign-in through the identity provider in flight: the `state` we sent (hashed), with the PKCE verifier and
    the nonce it must come back with (encrypted), for a few minutes. Used at most once."""

    __tablename__ = "oidc_login_state"
    id: Optional[int] = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True)
    secrets_enc: str = Field(sa_column=Column(Text, nullable=False))
    redirect_uri: str = Field(max_length=500)
    return_to: str = Field(default="", max_length=500)
    client_ip: str = Field(default="", max_length=64)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    used_at: Optional[datetime] = _ts()


class UserIdentity(SQLModel, table=True):
    """A user's account at an identity provider (issuer and subject), linked at their first single sign-on."""

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_user_identity_subject"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    email: str = Field(default="", max_length=320)
    groups: list[str] = _json(list)
    linked_at: datetime = _created()
    last_sign_in_at: Optional[datetime] = _ts()
    # Set when a sign-in found the person in none of the mapped groups and deactivated them; a later sign-in
    # with a mapped group reactivates only such users, never one an admin deactivated.
    deprovisioned_at: Optional[datetime] = _ts()


class SessionSignIn(SQLModel, table=True):
    """How a browser session was opened, and for single sign-on the ID token kept for the provider's logout."""

    __tablename__ = "session_sign_in"
    auth_session_id: int = Field(primary_key=True, foreign_key="authsession.id")
    method: str = Field(max_length=20)  # password, password+totp, password+recovery, sso
    provider: str = Field(default="", max_length=120)
    id_token_enc: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = _created()


class UserTotp(SQLModel, table=True):
    """A user's TOTP secret (encrypted); `last_step` is the newest 30-second step a code was accepted for."""

    __tablename__ = "user_totp"
    user_id: int = Field(primary_key=True, foreign_key="user.id")
    secret_enc: str = Field(sa_column=Column(Text, nullable=False))
    confirmed_at: Optional[datetime] = _ts()
    last_step: int = 0
    created_at: datetime = _created()


class RecoveryCode(SQLModel, table=True):
    """A single-use recovery code, stored as an argon2 hash."""

    __tablename__ = "recovery_code"
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=200)
    created_at: datetime = _created()
    used_at: Optional[datetime] = _ts()


class SecondFactorAttempt(SQLModel, table=True):
    """A typed second-factor code, right or wrong: the rate limit counts the wrong ones."""

    __tablename__ = "second_factor_attempt"
    __table_args__ = (Index("ix_second_factor_attempt_user_at", "user_id", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
    success: bool = False
    client_ip: str = Field(default="", max_length=64)


class SignInChallenge(SQLModel, table=True):
    """A right password waiting for its second factor (or for enrolment, where the role requires one). The browser
    holds the token; only its hash is stored. Used at most once, and only for a few minutes."""

    __tablename__ = "sign_in_challenge"
    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    purpose: str = Field(max_length=10)  # "verify" or "enrol"
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    used_at: Optional[datetime] = _ts()


# ================================================================ identity (migration 0006_identity) — end

# ================================================================ CAP wired into the product (migration 0007_cap_wire) — begin
# Only new tables, keyed by post id, so Post itself is untouched (services/cap/emergency.py, services/cap/outbound.py).


class PostEmergency(SQLModel, table=True):
    """What makes a post an emergency post: the official alert it came from, the expiry it may not outlive, its
    language versions (a twin post), and a follow-up flag set when the source updates or cancels the alert."""

    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", unique=True)
    cap_alert_id: Optional[int] = Field(default=None, foreign_key="capalert.id", index=True)
    cap_ref: str = Field(default="", max_length=600)  # "sender,identifier,sent" of that alert (what references name)
    expires_at: Optional[datetime] = _ts()
    languages: dict[str, Any] = _json()  # {"ar": {"text": ..., "dir": "rtl"}}: versions beside the post's own text
    primary_language: str = Field(default="en", max_length=10)
    follow_up: str = Field(default="", max_length=20)  # "", "update", "cancel"
    follow_up_alert_id: Optional[int] = Field(default=None, foreign_key="capalert.id")
    follow_up_at: Optional[datetime] = _ts()
    # The published warning as GovSocial's CAP feed carries it: an edit after publishing bumps out_version (a CAP
    # Update); a withdrawal sets withdrawn_at (a CAP Cancel). The social posts themselves are not changed.
    out_texts: dict[str, Any] = _json()  # {"en": text, "ar": text} once edited; empty: the post's own texts
    out_version: int = 1
    withdrawn_at: Optional[datetime] = _ts()
    withdrawn_note: str = Field(default="", max_length=500)
    created_at: datetime = _created()


class CapOutMessage(SQLModel, table=True):
    """One CAP 1.2 message GovSocial published about one of its emergency posts (Alert, then Update, Cancel)."""

    __table_args__ = (UniqueConstraint("post_id", "seq", name="uq_capoutmessage_seq"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    seq: int
    identifier: str = Field(max_length=255, unique=True)
    msg_type: str = Field(max_length=10)
    content_version: int = 0
    sent: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    xml: str = Field(sa_column=Column(Text, nullable=False))


# ================================================================ CAP wired into the product — end

# ================================================================ records (migration 0007_records) — begin
# Issue 16: the public record. Written by services/records/ only.


class RecordChain(SQLModel, table=True):
    """The head of one hash chain ("audit", "archive"): writers update this row first, which serialises them
    (a row lock on PostgreSQL, the write lock on SQLite), so two transactions can never fork the chain."""

    __tablename__ = "record_chain"
    name: str = Field(primary_key=True, max_length=20)
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    head_hash: str = Field(default="", max_length=64)
    updated_at: Optional[datetime] = _ts()


class LegalHold(SQLModel, table=True):
    """A hold by matter name on a scope; while active (released_at empty) nothing in scope may be disposed of."""

    __tablename__ = "legal_hold"
    id: Optional[int] = Field(default=None, primary_key=True)
    matter: str = Field(max_length=200)
    scope: dict[str, Any] = _json()  # records.holds.HoldScope.to_dict()
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = _created()
    released_at: Optional[datetime] = _ts()
    released_by: Optional[int] = Field(default=None, foreign_key="user.id")
    release_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class RetentionSchedule(SQLModel, table=True):
    """Keep records of one type for N years (optionally counted from the end of the calendar year)."""

    __tablename__ = "retention_schedule"
    record_type: str = Field(primary_key=True, max_length=30)
    keep_years: int = 7
    after_year_end: bool = True
    updated_by: Optional[int] = Field(default=None, foreign_key="user.id")
    updated_at: datetime = _created()


class DisposalProposal(SQLModel, table=True):
    """What the disposal job found past its schedule and not on hold; destroyed only once an officer approves."""

    __tablename__ = "disposal_proposal"
    id: Optional[int] = Field(default=None, primary_key=True)
    status: str = Field(default="proposed", max_length=12, index=True)  # proposed, approved, disposed, rejected
    items: list[dict[str, Any]] = _json(list)  # [{"type", "id"}]
    cutoffs: dict[str, Any] = _json()  # record type -> ISO cutoff used
    proposed_by: str = Field(default="", max_length=320)
    created_at: datetime = _created()
    approved_by: Optional[int] = Field(default=None, foreign_key="user.id")
    approved_at: Optional[datetime] = _ts()
    disposed_at: Optional[datetime] = _ts()
    certificate_id: Optional[int] = Field(default=None, foreign_key="disposal_certificate.id")


class DisposalCertificate(SQLModel, table=True):
    """Proof of what was destroyed: ids, types, dates and the SHA-256 of each record's canonical form."""

    __tablename__ = "disposal_certificate"
    id: Optional[int] = Field(default=None, primary_key=True)
    proposal_id: int
    entries: list[dict[str, Any]] = _json(list)
    certificate_hash: str = Field(max_length=64)
    approved_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = _created()


class DisposedLink(SQLModel, table=True):
    """A chained row that a certified disposal removed: verify-audit accepts its gap and links through its hash."""

    __tablename__ = "disposed_link"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_disposed_link"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    chain: str = Field(max_length=20)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    row_hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    certificate_id: int = Field(foreign_key="disposal_certificate.id")


class RecordsRequest(SQLModel, table=True):
    """A public-records request: who asked, when, by when the law says we answer, and what it covers."""

    __tablename__ = "records_request"
    id: Optional[int] = Field(default=None, primary_key=True)
    requester: str = Field(max_length=300)
    requester_contact: str = Field(default="", max_length=320)
    received_on: date
    due_on: date
    scope_query: str = Field(default="", max_length=1000)  # an inbox saved search (its query string)
    saved_view_id: Optional[int] = Field(default=None, foreign_key="savedview.id")
    status: str = Field(default="open", max_length=12)  # open, in_review, produced, closed
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = _created()
    export_path: str = Field(default="", max_length=500)
    export_sha256: str = Field(default="", max_length=64)
    exported_at: Optional[datetime] = _ts()


class Redaction(SQLModel, table=True):
    """One redaction for one request's export copy. The archive itself is never altered."""

    __tablename__ = "records_redaction"
    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="records_request.id", index=True)
    kind: str = Field(max_length=10)  # emails, phones, text
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")  # None: every record in the request
    selection: str = Field(default="", max_length=1000)  # the exact text to redact, for kind "text"
    reason_code: str = Field(max_length=40)
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = _created()
    removed_at: Optional[datetime] = _ts()


# ================================================================ records (migration 0007_records) — end


# ================================================================ moderation (migration 0009_moderation) — begin
# Issue 16 items 1-4: the comment policy and moderation actions. Written by services/records/policy.py and
# services/records/moderation.py only.


class CommentPolicy(SQLModel, table=True):
    """One version of the agency's comment policy: numbered clauses in English and Arabic. Never edited in place:
    a change is a new version, so the clause a moderator cited can always be read as it stood."""

    __tablename__ = "comment_policy"
    id: Optional[int] = Field(default=None, primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    # [{"number": "3.2", "title_en", "title_ar", "text_en", "text_ar"}]
    clauses: list[dict[str, Any]] = _json(list)
    intro_en: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    intro_ar: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    change_note: str = Field(default="", max_length=500)
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: datetime = _created()


class ModerationAction(SQLModel, table=True):
    """One moderation action on one message (hide, unhide, delete, block, mute, report), its clause and note, who
    asked and who confirmed, and what the network answered. The `status` walks: awaiting_confirmation -> pending ->
    sending -> done | failed | unknown (reconciled by the moderation job) | declined."""

    __tablename__ = "moderation_action"
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    network: str = Field(max_length=20)
    action: str = Field(max_length=12)
    mode: str = Field(default="network", max_length=10)  # network, in_app (GovSocial only: the network cannot)
    clause: str = Field(max_length=20, index=True)
    clause_title: str = Field(default="", max_length=300)
    policy_version: int = 0
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="pending", max_length=24, index=True)
    requested_by: Optional[int] = Field(default=None, foreign_key="user.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False, index=True))
    confirmed_by: Optional[int] = Field(default=None, foreign_key="user.id")
    confirmed_at: Optional[datetime] = _ts()
    attempts: int = 0
    next_attempt_at: Optional[datetime] = _ts()
    claimed_at: Optional[datetime] = _ts()
    response: dict[str, Any] = _json()  # the network's answer (or GovSocial's, in_app)
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    completed_at: Optional[datetime] = _ts()
    undoes_id: Optional[int] = None  # an unhide names the hide it undoes
    undone_by_id: Optional[int] = None


class MessageModeration(SQLModel, table=True):
    """Where a message stands now (the inbox card's "Hidden (clause 3.2)"): the last completed action's outcome."""

    __tablename__ = "message_moderation"
    message_id: int = Field(foreign_key="message.id", primary_key=True)
    state: str = Field(default="visible", max_length=20)  # visible, hidden, hidden_in_app, deleted
    clause: str = Field(default="", max_length=20)
    action_id: Optional[int] = None
    author_state: str = Field(default="", max_length=20)  # "", blocked, muted, reported
    updated_at: datetime = _created()


# ================================================================ moderation (migration 0009_moderation) — end


class SignInHandoff(SQLModel, table=True):
    """The end of a single sign-on, waiting for the browser: the callback (a plain HTTP route) cannot write the tab's
    LocalStorage, so it stores the new session's token (encrypted) or the refusal (msgid and params, encrypted) here and
    sends the browser to /login?sso=<ticket>; the sign-in page redeems the ticket once, within a minute."""

    __tablename__ = "sign_in_handoff"
    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_hash: str = Field(max_length=64, unique=True)
    payload_enc: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    used_at: Optional[datetime] = _ts()


# ---------------------------------------------------------------- inbox automation (issue 17)


class Team(SQLModel, table=True):
    """A team of responders (Roads, Water, Emergency…). Round-robin hands the next item to the member after
    `rr_last_user_id` among those online; the lead gets the response-time escalations."""

    __tablename__ = "team"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_ar: str = Field(default="", max_length=80)
    lead_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    rr_last_user_id: Optional[int] = None
    created_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_teammember"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    added_at: datetime = _created()
    # A removal keeps the row (who was in the team, and until when); adding the person again reactivates it.
    removed_at: Optional[datetime] = _ts()
    removed_by: Optional[int] = None  # the user who removed them


class SavedReply(SQLModel, table=True):
    """A shared reply, in English, Arabic or both; the inbox picks the message's language. `{author_name}`,
    `{agency}`, `{profile_handle}` and `{link}` are filled when it is inserted."""

    __tablename__ = "saved_reply"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    text_en: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    text_ar: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    link: str = Field(default="", max_length=500)
    tags: list[str] = _json(list)
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # folded name + texts
    use_count: int = 0
    created_by: Optional[int] = None
    created_at: datetime = _created()
    updated_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class SavedReplyUse(SQLModel, table=True):
    """One insertion of a saved reply (or of a claim's approved correction) into a reply, for the usage counts."""

    __tablename__ = "saved_reply_use"

    id: Optional[int] = Field(default=None, primary_key=True)
    saved_reply_id: Optional[int] = Field(default=None, foreign_key="saved_reply.id", index=True)
    claim_id: Optional[int] = Field(default=None, foreign_key="claim.id", index=True)
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    user_id: Optional[int] = None  # None: an automatic reply
    lang: str = Field(default="", max_length=8)
    used_at: datetime = _created()


class InboxRule(SQLModel, table=True):
    """One automation rule: run in `position` order inside the intake pipeline, after dedupe. `conditions` and
    `actions` are JSON (services/intake/rules.py defines and validates them). A rule that throws is skipped for
    that message and counted here."""

    __tablename__ = "inbox_rule"

    id: Optional[int] = Field(default=None, primary_key=True)
    position: int = Field(default=0, index=True)
    name: str = Field(max_length=120)
    enabled: bool = True
    conditions: dict[str, Any] = _json()
    actions: list[dict[str, Any]] = _json(list)
    stop_processing: bool = False
    match_count: int = 0
    error_count: int = 0
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_error_at: Optional[datetime] = _ts()
    created_by: Optional[int] = None
    created_at: datetime = _created()
    updated_at: datetime = _created()
    deleted_at: Optional[datetime] = _ts()


class AutoReply(SQLModel, table=True):
    """An automatic reply a rule asked for. The unique key allows at most one per author per conversation per
    day; the reply itself goes through the ordinary reply sender (retried like any reply, never sent twice)."""

    __tablename__ = "auto_reply"

    __table_args__ = (UniqueConstraint("network", "author_key", "conversation_key", "day", name="uq_autoreply_once"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    rule_id: Optional[int] = Field(default=None, foreign_key="inbox_rule.id", index=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    saved_reply_id: Optional[int] = Field(default=None, foreign_key="saved_reply.id")
    network: str = Field(max_length=20)
    author_key: str = Field(max_length=200)
    conversation_key: str = Field(default="", max_length=300)
    day: date
    status: str = Field(default="pending", max_length=12, index=True)  # pending, sent, failed, skipped
    reason: str = Field(default="", max_length=200)
    reply_message_id: Optional[int] = None
    created_at: datetime = _created()
