"""External approval links below the workflow: the server key, the invitations made in the approval's transaction,
and what staff see about each external approver. approvals.py imports this module; the approver's visit and the
outbox that emails the links (approval_external.py) sit above approvals.py and import both."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import ApprovalInvite, ApprovalStep, ApprovalVisit, Post, Setting, utcnow
from govsocial_app.services import crypto

KEY_SETTING = "approvals.link_key"
LIVE = ("pending", "sending", "retrying", "sent")

_KEYS: dict[str, bytes] = {}  # database URL → its key (it never changes once made)


def server_key() -> bytes:
    """A random key kept (encrypted with the Fernet secret) in settings, shared by every process: it keys the
    HMACs of one-time codes, of the external page's form tokens and of the staff's short-lived image addresses."""
    url = get_settings().database_url
    if url not in _KEYS:
        _KEYS[url] = _load_key()
    return _KEYS[url]


def _load_key() -> bytes:
    with session_scope() as s:
        row = s.get(Setting, KEY_SETTING)
        if row is not None:
            return bytes.fromhex(crypto.decrypt_json(row.value)["key"])
    key = secrets.token_bytes(32)
    try:
        with session_scope() as s:
            s.add(Setting(key=KEY_SETTING, value=crypto.encrypt_json({"key": key.hex()})))
    except IntegrityError:  # another process made one first: use that
        return _load_key()
    return key


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()



# ---------------------------------------------------------------- invitations (made in the approval's transaction)


def externals(step: ApprovalStep) -> dict[str, str]:
    return {e["email"].lower(): e.get("name", "") for e in step.external_approvers or () if e.get("email")}


def live_invites(s: Session, post_id: int, step_id: int | None = None) -> list[ApprovalInvite]:
    q = select(ApprovalInvite).where(ApprovalInvite.post_id == post_id, col(ApprovalInvite.revoked_at).is_(None),
                                     col(ApprovalInvite.decided_at).is_(None), col(ApprovalInvite.status).in_(LIVE))
    if step_id is not None:
        q = q.where(ApprovalInvite.step_id == step_id)
    return list(s.exec(q).all())


def revoke_all(s: Session, post_id: int, now: datetime) -> None:
    """The post changed or its workflow started again: no link sent so far opens it any more."""
    for inv in live_invites(s, post_id):
        inv.revoked_at = now
        if inv.status != "sent":
            inv.status = "cancelled"


def invite_step(s: Session, post: Post, step: ApprovalStep, *, decided: set[str] = frozenset(), sent_by: int | None = None,
                now: datetime | None = None) -> list[int]:
    """Queue one email per external approver of the step who has not decided yet; older links of theirs stop working."""
    now = now or utcnow()
    ids = []
    wanted = {e: n for e, n in externals(step).items() if e not in decided}
    for inv in live_invites(s, post.id, step.id):
        if inv.email in wanted:
            inv.revoked_at = now
            if inv.status != "sent":
                inv.status = "cancelled"
    for email, name in wanted.items():
        inv = ApprovalInvite(post_id=post.id, step_id=step.id, round=post.approval_round, version=post.content_version, email=email,
                             name=name, status="pending", next_attempt_at=now, sent_by=sent_by, created_at=now)
        s.add(inv)
        s.flush()
        ids.append(inv.id)
    return ids


# ---------------------------------------------------------------- what staff see about each external approver


@dataclass(frozen=True)
class ExternalStatus:
    name: str
    email: str
    msgid: str
    params: dict[str, str] = field(default_factory=dict)


def statuses(s: Session, post: Post, step: ApprovalStep, decided: dict[str, str]) -> tuple[ExternalStatus, ...]:
    invites = s.exec(select(ApprovalInvite).where(ApprovalInvite.post_id == post.id, ApprovalInvite.step_id == step.id,
                                                  ApprovalInvite.round == post.approval_round).order_by(col(ApprovalInvite.id))).all()
    latest = {i.email: i for i in invites}
    verified = {v.invite_id for v in s.exec(select(ApprovalVisit).where(
        col(ApprovalVisit.invite_id).in_([i.id for i in invites] or [-1]), col(ApprovalVisit.verified_at).is_not(None))).all()}
    out = []
    for email, name in externals(step).items():
        inv = latest.get(email)
        if email in decided:
            msgid, params = ("Approved" if decided[email] == "approved" else "Rejected"), {}
        elif inv is None:
            msgid, params = "No link sent yet", {}
        elif inv.status in ("pending", "sending"):
            msgid, params = "Sending the link…", {}
        elif inv.status == "retrying":
            msgid, params = "Could not send the link yet, trying again: {error}", {"error": inv.last_error[:200]}
        elif inv.status == "failed":
            msgid, params = "Could not send the link: {error}", {"error": inv.last_error[:200]}
        elif inv.status == "cancelled" or inv.revoked_at is not None:
            msgid, params = "No link sent yet", {}
        elif inv.id in verified:
            msgid, params = "Opened the link and confirmed the code", {}
        else:
            sent = inv.sent_at
            msgid, params = "Link sent {when}", {"when": sent.strftime("%Y-%m-%d %H:%M UTC") if sent else ""}
        out.append(ExternalStatus(name, email, msgid, params))
    return tuple(out)


STATUS_MSGIDS = ("Approved", "Rejected", "No link sent yet", "Sending the link…", "Could not send the link yet, trying again: {error}",
                 "Could not send the link: {error}", "Opened the link and confirmed the code", "Link sent {when}")
