"""External approvers: a link emailed to them alone, a one-time code to the same address, then their decision.

- The link's key is made when the email is sent and exists only in that email; the server keeps its SHA-256.
  It travels in the URL fragment (`/approve#KEY`), which browsers never send to a server, so it never reaches an
  access log, a proxy or a Referer; the page's script posts it once in a form body and drops it from the address bar.
- Opening the link starts a visit (an HttpOnly, SameSite=Strict cookie scoped to /approve, stored hashed) and
  emails a 6-digit code to the invited address: it works for 10 minutes and for 5 tries, and is stored only as an
  HMAC. Only after the code is the post shown; the decision is bound to the content hash the approver was shown.
- Staff never see a link. They can send it again, which replaces the old one. Everything is audited.

This module is the approver's side and the outbox; it sits above approvals.py (it moves the workflow on). The key,
the invitations made in the approval's transaction and the staff-side statuses are in approval_links.py, below it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import ApprovalInvite, ApprovalStep, ApprovalVisit, MediaAsset, Post, User, utcnow
from govsocial_app.i18n import translate
from govsocial_app.services import audit, mailer
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing import approval_content, approvals
from govsocial_app.services.publishing.approval_links import externals, invite_step, live_invites, server_key, sha
from govsocial_app.services.publishing.lifecycle import lock_post, notify

log = logging.getLogger(__name__)

INVITE_TTL = timedelta(hours=72)
CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 5
VISIT_TTL = timedelta(hours=1)
RESEND_GAP = timedelta(seconds=60)
LEASE = timedelta(minutes=2)  # a claimed email not recorded by then (a crash) is sent again
MAX_SEND_ATTEMPTS = 6

# Messages for the external approver and for staff (English msgids; Arabic in i18n/ar_approvals.po).
INVALID = "This approval link is not valid. Check that you opened the whole link from the email."
EXPIRED = "This approval link has expired. Ask the team to send it again."
REPLACED = "This approval link has been replaced by a newer one. Use the link in the latest email."
MOVED_ON = "This post no longer needs a decision from this link: it has moved on, changed or been withdrawn. If it needs you again, you will get a new email."
WITHDRAWN = "This post has been withdrawn."
DECIDED = "You have already decided on this post. Thank you."
NOT_ON_STEP = "This link's approver is no longer on the workflow."
SESSION_ENDED = "This approval session has ended. Open the link from your email again."
TOO_MANY_CODES = "Too many codes were sent for this link in the last hour. Try again later."
CODE_EXPIRED = "This code has expired or was already used up. Send a new code."
CODE_LOCKED = "Too many wrong codes. Send a new code."
CODE_WRONG = "That code is not right. {left} tries left."
CODE_NOT_SENT = "The code could not be emailed just now. Try sending a new code in a minute."
NEED_CODE = "Enter the code from the email first."
CHANGED = "The post changed while you were reading it. Read the new version, then decide."
NAME_NEEDED = "Give your name: it goes in the audit log with your decision."
NO_EXTERNALS = "This step has no external approvers."
TOO_SOON = "The link was sent less than a minute ago. Wait a moment before sending it again."
NOT_PENDING = "This post is not waiting for approval any more."
SEND_FAILED = "The approval link could not be emailed to {email}: {error}"

INVITE_SUBJECT = "Approval needed: a post from {agency}"
INVITE_BODY = (
    "Hello {name},\n\n{author} at {agency} asks you to approve a post before it is published (step: {step}).\n\n"
    "Open this link to read it and decide:\n{url}\n\n"
    "When you open it, we email you a one-time code to confirm it is you. The link works until {expires}. "
    "Do not forward this email: the link is for you alone."
)
CODE_SUBJECT = "Your GovSocial approval code: {code}"
CODE_BODY = (
    "Your code to review the post from {agency} is {code}\n\n"
    "It works for 10 minutes. If you did not open an approval link just now, ignore this email: nothing is approved without the code."
)
MSGIDS = (INVALID, EXPIRED, REPLACED, MOVED_ON, WITHDRAWN, DECIDED, NOT_ON_STEP, SESSION_ENDED, TOO_MANY_CODES, CODE_EXPIRED,
          CODE_LOCKED, CODE_WRONG, CODE_NOT_SENT, NEED_CODE, CHANGED, NAME_NEEDED, NO_EXTERNALS, TOO_SOON, NOT_PENDING,
          SEND_FAILED, INVITE_SUBJECT, INVITE_BODY, CODE_SUBJECT, CODE_BODY)


class LinkError(UserError):
    """An external approval link or session that cannot be used; the message says why."""


class FormError(UserError):
    """A mistake on the external page's form, with its message id and parameters for the visitor's language."""

    def __init__(self, msgid: str, **params: str):
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid, self.params = msgid, params



def _code_hash(sid_hash: str, code: str) -> str:
    return hmac.new(server_key(), f"code:{sid_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def csrf_token(sid: str) -> str:
    return hmac.new(server_key(), f"csrf:{sha(sid)}".encode(), hashlib.sha256).hexdigest()[:32]


def check_csrf(sid: str, token: str) -> bool:
    return bool(sid) and hmac.compare_digest(csrf_token(sid), token or "")


def _external_actor(invite: ApprovalInvite, client_ip: str = "", user_agent: str = "", name: str = "") -> Actor:
    return Actor(None, f"{name or invite.name} <{invite.email}> (external approver)", "external", client_ip, user_agent)


def mask(email: str) -> str:
    """m•••@city.gov: enough for the approver to recognise their address, not enough to read it off a shoulder."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


def step_has_externals(post_id: int) -> bool:
    """Whether the step a post waits on has external approvers (so staff may send them the link again)."""
    with session_scope() as s:
        post = s.get(Post, post_id)
        step = approvals.current_step(s, post) if post is not None and post.deleted_at is None else None
        return bool(step and externals(step))


def resend(actor: Actor, post_id: int, *, now: datetime | None = None) -> list[int]:
    """Staff send the current step's link again to its external approvers (never to themselves); older links stop working."""
    require(actor, "publish.compose")
    now = now or utcnow()
    with session_scope() as s:
        post = lock_post(s, post_id)
        step = approvals.current_step(s, post) if post is not None and post.deleted_at is None else None
        if step is None:
            raise UserError(NOT_PENDING)
        if not externals(step):
            raise UserError(NO_EXTERNALS)
        recent = [i for i in live_invites(s, post_id, step.id) if i.created_at > now - RESEND_GAP]
        if recent:
            raise UserError(TOO_SOON)
        decided = {d.external_email.lower() for d in approvals.round_decisions(s, post, step) if d.external_email}
        ids = invite_step(s, post, step, decided=decided, sent_by=actor.user_id, now=now)
        audit.record(s, actor, "approval.link_resend", "post", post_id, step=step.position,
                     emails=sorted(e for e in externals(step) if e not in decided))
        return ids


# ---------------------------------------------------------------- sending the emails (the outbox)


@dataclass(frozen=True)
class _Mail:
    invite_id: int
    email: str
    subject: str
    text: str


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _bilingual(msgid: str, **params: str) -> str:
    return f"{translate(msgid, 'en', **params)}\n\n— — —\n\n{translate(msgid, 'ar', **params)}"


def _compose(s: Session, inv: ApprovalInvite, key: str, expires: datetime) -> _Mail:
    settings = get_settings()
    post = s.get(Post, inv.post_id)
    author = s.get(User, post.author_id) if post else None
    step = s.get(ApprovalStep, inv.step_id)
    base = f"{settings.public_url}/approve"
    common = {"agency": settings.agency_name, "author": author.display_name if author else settings.agency_name,
              "step": step.name if step else "", "name": inv.name or inv.email, "expires": expires.strftime("%Y-%m-%d %H:%M UTC")}
    text = (translate(INVITE_BODY, "en", url=f"{base}#{key}", **common) + "\n\n— — —\n\n"
            + translate(INVITE_BODY, "ar", url=f"{base}?lang=ar#{key}", **common))
    subject = f"{translate(INVITE_SUBJECT, 'en', agency=settings.agency_name)} · {translate(INVITE_SUBJECT, 'ar', agency=settings.agency_name)}"
    return _Mail(inv.id, inv.email, subject, text)


def _claim(ids: list[int] | None, now: datetime) -> list[_Mail]:
    with session_scope() as s:
        q = select(ApprovalInvite).where(col(ApprovalInvite.revoked_at).is_(None))
        if ids is not None:
            q = q.where(col(ApprovalInvite.id).in_(ids or [-1]), ApprovalInvite.status == "pending")
        else:
            q = q.where(col(ApprovalInvite.status).in_(("pending", "retrying", "sending")), col(ApprovalInvite.next_attempt_at) <= now)
        mails = []
        for inv in s.exec(q.order_by(col(ApprovalInvite.id)).limit(200)).all():
            post = s.get(Post, inv.post_id)
            step = approvals.current_step(s, post) if post is not None and post.deleted_at is None else None
            if step is None or step.id != inv.step_id or post.approval_round != inv.round:
                inv.status, inv.revoked_at = "cancelled", now
                continue
            key = secrets.token_urlsafe(32)
            expires = now + INVITE_TTL
            # Compare-and-set on (status, attempts): the immediate send and the retry job never both take one email.
            taken = s.execute(
                update(ApprovalInvite).where(ApprovalInvite.id == inv.id, ApprovalInvite.status == inv.status,
                                             ApprovalInvite.attempts == inv.attempts)
                .values(status="sending", attempts=inv.attempts + 1, next_attempt_at=now + LEASE, key_hash=sha(key), expires_at=expires)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken:
                mails.append(_compose(s, inv, key, expires))
        return mails


async def _send(mail: _Mail) -> tuple[int, str]:
    try:
        await mailer.send_mail([mail.email], mail.subject, mail.text)
        return mail.invite_id, ""
    except Exception as exc:  # noqa: BLE001 - every outcome is recorded on its row; one bad address never stops the rest
        log.warning("approval link %s to %s not sent: %s", mail.invite_id, mail.email, exc)
        return mail.invite_id, str(exc)[:900] or type(exc).__name__


def _record(outcomes: list[tuple[int, str]], now: datetime) -> SendReport:
    from govsocial_app.services.alerting.alerts import backoff

    report = SendReport()
    with session_scope() as s:
        for invite_id, error in outcomes:
            inv = s.get(ApprovalInvite, invite_id)
            if inv is None or inv.status != "sending":
                continue
            inv.last_error = error
            if not error:
                inv.status, inv.sent_at, inv.next_attempt_at = "sent", now, None
                audit.record(s, Actor.system("approvals"), "approval.link_sent", "post", inv.post_id, email=inv.email, invite=inv.id,
                             step_id=inv.step_id, version=inv.version, expires=inv.expires_at, sent_by=inv.sent_by)
                report.sent += 1
                continue
            report.failed += 1
            report.errors.append(f"{inv.email}: {error}")
            if inv.attempts >= MAX_SEND_ATTEMPTS:
                inv.status, inv.next_attempt_at, inv.key_hash = "failed", None, None
                post = s.get(Post, inv.post_id)
                audit.record(s, Actor.system("approvals"), "approval.link_failed", "post", inv.post_id, email=inv.email, error=error[:300])
                if post is not None:
                    notify(s, {post.author_id} | ({inv.sent_by} if inv.sent_by else set()), "approval", SEND_FAILED,
                           params={"email": inv.email, "error": error[:300]}, link=f"/publish/approvals?post={post.id}",
                           severity="warning", post_id=post.id)
            else:
                # The key just made never reached anyone: forget it; the retry makes a new one.
                inv.status, inv.next_attempt_at, inv.key_hash = "retrying", now + backoff(inv.attempts), None
    return report


async def deliver(ids: list[int] | None = None, *, now: datetime | None = None) -> SendReport:
    """Email the given new invitations now, or (None) every one due for a first try or a retry."""
    now = now or utcnow()
    mails = await asyncio.to_thread(_claim, ids, now)
    if not mails:
        return SendReport()
    outcomes = await asyncio.gather(*(_send(m) for m in mails))
    return await asyncio.to_thread(_record, list(outcomes), now)


# ---------------------------------------------------------------- the approver's visit


@dataclass(frozen=True)
class CodeMail:
    """A code to email: the route sends it and tells us whether it went."""

    sid: str
    email: str
    code: str


def _check_invite(s: Session, inv: ApprovalInvite | None, now: datetime) -> Post:
    if inv is None:
        raise LinkError(INVALID)
    if inv.decided_at is not None:
        raise LinkError(DECIDED)
    post = s.get(Post, inv.post_id)
    if post is None or post.deleted_at is not None:
        raise LinkError(WITHDRAWN)
    if inv.revoked_at is not None:
        resent = inv.status == "sent" and post.approval_round == inv.round and _newer_exists(s, inv)
        raise LinkError(REPLACED if resent else MOVED_ON)
    if inv.status != "sent" and inv.status != "sending":
        raise LinkError(INVALID)
    if inv.expires_at is None or now >= inv.expires_at:
        raise LinkError(EXPIRED)
    step = approvals.current_step(s, post)
    if step is None or step.id != inv.step_id or post.approval_round != inv.round or post.content_version != inv.version:
        raise LinkError(MOVED_ON)
    if inv.email not in externals(step):
        raise LinkError(NOT_ON_STEP)
    return post


def _newer_exists(s: Session, inv: ApprovalInvite) -> bool:
    return s.exec(select(ApprovalInvite.id).where(ApprovalInvite.post_id == inv.post_id, ApprovalInvite.step_id == inv.step_id,
                                                  ApprovalInvite.email == inv.email, col(ApprovalInvite.id) > inv.id,
                                                  col(ApprovalInvite.revoked_at).is_(None))).first() is not None


def _new_code(s: Session, visit: ApprovalVisit, inv: ApprovalInvite, now: datetime) -> str:
    """A fresh code for this visit. At most CODES_PER_HOUR codes go to one address for one post in an hour
    (counted over the visits opened in that hour), and at most that many in any one visit."""
    recent = s.exec(select(ApprovalVisit.codes_sent).join(ApprovalInvite, col(ApprovalInvite.id) == ApprovalVisit.invite_id)
                    .where(ApprovalInvite.email == inv.email, ApprovalInvite.post_id == inv.post_id,
                           col(ApprovalVisit.created_at) > now - timedelta(hours=1), ApprovalVisit.id != visit.id)).all()
    if sum(recent) + visit.codes_sent >= CODES_PER_HOUR or visit.codes_sent >= CODES_PER_HOUR:
        raise FormError(TOO_MANY_CODES)
    code = f"{secrets.randbelow(1_000_000):06d}"
    visit.code_hash, visit.code_sent_at, visit.code_expires_at, visit.code_attempts = _code_hash(visit.sid_hash, code), now, now + CODE_TTL, 0
    visit.codes_sent += 1
    if visit.verified_at is None:
        visit.expires_at = max(visit.expires_at, now + VISIT_TTL)
    return code


def open_link(key: str, *, client_ip: str = "", user_agent: str = "", now: datetime | None = None) -> CodeMail:
    """The approver opened their link: start a visit and make a code for their address (the caller emails it)."""
    now = now or utcnow()
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise LinkError(INVALID)
    server_key()  # made (if need be) in its own transaction, never inside the one below
    with session_scope() as s:
        inv = s.exec(select(ApprovalInvite).where(ApprovalInvite.key_hash == sha(key))).first()
        _check_invite(s, inv, now)
        sid = secrets.token_urlsafe(32)
        visit = ApprovalVisit(invite_id=inv.id, sid_hash=sha(sid), created_at=now, expires_at=now + VISIT_TTL,
                              client_ip=client_ip[:64], user_agent=user_agent[:300])
        s.add(visit)
        s.flush()
        code = _new_code(s, visit, inv, now)
        audit.record(s, _external_actor(inv, client_ip, user_agent), "approval.link_opened", "post", inv.post_id, invite=inv.id, visit=visit.id)
        return CodeMail(sid, inv.email, code)


def _visit(s: Session, sid: str, now: datetime) -> tuple[ApprovalVisit, ApprovalInvite, Post]:
    visit = s.exec(select(ApprovalVisit).where(ApprovalVisit.sid_hash == sha(sid or ""))).first() if sid else None
    if visit is None or visit.closed_at is not None or now >= visit.expires_at:
        raise LinkError(SESSION_ENDED)
    inv = s.get(ApprovalInvite, visit.invite_id)
    post = _check_invite(s, inv, now)
    return visit, inv, post


def new_code(sid: str, *, now: datetime | None = None) -> CodeMail:
    now = now or utcnow()
    server_key()
    with session_scope() as s:
        visit, inv, _post = _visit(s, sid, now)
        if visit.verified_at is not None:
            raise FormError(NEED_CODE)
        code = _new_code(s, visit, inv, now)
        audit.record(s, _external_actor(inv, visit.client_ip, visit.user_agent), "approval.code_resend", "post", inv.post_id, visit=visit.id)
        return CodeMail(sid, inv.email, code)


def code_mail_text(code: str) -> tuple[str, str]:
    agency = get_settings().agency_name
    subject = f"{translate(CODE_SUBJECT, 'en', code=code)} · {translate(CODE_SUBJECT, 'ar', code=code)}"
    return subject, _bilingual(CODE_BODY, agency=agency, code=code)


def code_sent(sid: str, error: str = "", *, now: datetime | None = None) -> None:
    """Record whether the code email went; a code that never left is void (the approver asks for a new one)."""
    now = now or utcnow()
    with session_scope() as s:
        visit = s.exec(select(ApprovalVisit).where(ApprovalVisit.sid_hash == sha(sid))).first()
        if visit is None:
            return
        inv = s.get(ApprovalInvite, visit.invite_id)
        if error:
            visit.code_hash, visit.code_sent_at = "", None
        audit.record(s, _external_actor(inv, visit.client_ip, visit.user_agent), "approval.code_failed_to_send" if error else "approval.code_sent",
                     "post", inv.post_id, visit=visit.id, email=inv.email, error=error[:300])


def check_code(sid: str, code: str, *, client_ip: str = "", user_agent: str = "", now: datetime | None = None) -> None:
    """Confirm the approver's address with the code. Wrong codes are counted (and audited) even though they fail."""
    now = now or utcnow()
    code = "".join(ch for ch in (code or "") if ch.isdigit())[:12]
    failure: FormError | None = None
    server_key()
    with session_scope() as s:
        visit, inv, _post = _visit(s, sid, now)
        actor = _external_actor(inv, client_ip, user_agent)
        if visit.verified_at is not None:
            return
        if not visit.code_hash or visit.code_expires_at is None or now >= visit.code_expires_at:
            raise FormError(CODE_EXPIRED)
        if visit.code_attempts >= CODE_ATTEMPTS:
            raise FormError(CODE_LOCKED)
        if hmac.compare_digest(_code_hash(visit.sid_hash, code), visit.code_hash):
            visit.verified_at, visit.code_hash = now, ""
            visit.expires_at = now + VISIT_TTL
            audit.record(s, actor, "approval.code_verified", "post", inv.post_id, visit=visit.id, email=inv.email)
            return
        visit.code_attempts += 1
        left = CODE_ATTEMPTS - visit.code_attempts
        if left <= 0:
            visit.code_hash = ""
            failure = FormError(CODE_LOCKED)
        else:
            failure = FormError(CODE_WRONG, left=str(left))
        audit.record(s, actor, "approval.code_wrong", "post", inv.post_id, visit=visit.id, attempts=visit.code_attempts)
    raise failure


# ---------------------------------------------------------------- what the approver reads, and their decision


@dataclass(frozen=True)
class ReviewView:
    stage: str  # "code" (prove the address first) or "review"
    email_masked: str
    invited_name: str
    email: str = ""
    step_name: str = ""
    version: int = 0
    content_hash: str = ""
    link: str = ""
    scheduled_at: datetime | None = None
    targets: tuple[approval_content.Rendered, ...] = ()
    images: tuple[str, ...] = ()  # alt texts, in order; the bytes come from image(sid, n)
    expires: datetime | None = None
    code_sent: bool = False


def review(sid: str, *, now: datetime | None = None) -> ReviewView:
    now = now or utcnow()
    with session_scope() as s:
        visit, inv, post = _visit(s, sid, now)
        if visit.verified_at is None:
            return ReviewView("code", mask(inv.email), inv.name, code_sent=bool(visit.code_hash))
        content = approval_content.load(s, post)
        step = approvals.current_step(s, post)
        return ReviewView("review", mask(inv.email), inv.name, inv.email, step.name if step else "", post.content_version, content.sha256,
                          content.link, content.scheduled_at, tuple(approval_content.render(t, content.link) for t in content.targets),
                          tuple(m.alt_text for m in content.media), inv.expires_at)


def image(sid: str, n: int, *, now: datetime | None = None) -> tuple[str, str]:
    """(path, type) of the n-th image (1-based) of the post this verified visit is reviewing."""
    now = now or utcnow()
    with session_scope() as s:
        visit, _inv, post = _visit(s, sid, now)
        if visit.verified_at is None:
            raise LinkError(NEED_CODE)
        rows = s.exec(select(MediaAsset).where(MediaAsset.post_id == post.id, col(MediaAsset.deleted_at).is_(None))
                      .order_by(col(MediaAsset.id))).all()
        if not 1 <= n <= len(rows):
            raise LinkError(INVALID)
        return rows[n - 1].path, rows[n - 1].mime_type


def decide(sid: str, name: str, decision: str, comment: str, seen_hash: str, *, client_ip: str = "", user_agent: str = "",
           now: datetime | None = None):
    """The approver's decision, under the address the code proved; refused if the post changed since they read it."""
    now = now or utcnow()
    name, comment = (name or "").strip()[:200], (comment or "").strip()[:2000]
    if not name:
        raise FormError(NAME_NEEDED)
    if decision not in ("approved", "rejected"):
        raise FormError("Approve or reject.")
    if decision == "rejected" and not comment:
        raise FormError("Say why you are rejecting it, so the author knows what to change.")
    with session_scope() as s:
        post_id = s.exec(select(ApprovalInvite.post_id).join(ApprovalVisit, col(ApprovalVisit.invite_id) == ApprovalInvite.id)
                         .where(ApprovalVisit.sid_hash == sha(sid or ""))).first()
        if post_id is None:
            raise LinkError(SESSION_ENDED)
        lock_post(s, post_id)  # first: two decisions on one post are serialised
        visit, inv, post = _visit(s, sid, now)
        if visit.verified_at is None:
            raise FormError(NEED_CODE)
        step = approvals.current_step(s, post)
        digest = approval_content.load(s, post).sha256
        if seen_hash != digest:
            raise FormError(CHANGED)
        if any(d.external_email.lower() == inv.email for d in approvals.round_decisions(s, post, step)):
            raise LinkError(DECIDED)
        result = approvals.record_decision(s, post, step, decision, comment, now, digest, ext_name=name, ext_email=inv.email)
        inv.decided_at, visit.closed_at = now, now
        audit.record(s, _external_actor(inv, client_ip, user_agent, name), f"approval.external_{decision}", "post", post.id,
                     step=step.position, name=name, email=inv.email, comment=comment, post_status=post.status,
                     content_hash=digest, version=post.content_version, visit=visit.id)
        return result
