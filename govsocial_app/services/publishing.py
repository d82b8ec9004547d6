"""The composer's domain: per-network validation, drafts, post now, schedule, the queue, "suggest a time", and notices."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors import textcount
from connectors.base import Limits
from connectors.registry import NETWORKS, limits_for
from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import (
    Alert,
    Campaign,
    MediaAsset,
    Post,
    PostTarget,
    SocialProfile,
    User,
    utcnow,
)
from govsocial_app.services import audit, bus
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import AlertsChanged
from govsocial_app.services.links import web_link

log = logging.getLogger(__name__)

ACTIONS = ("draft", "now", "schedule", "queue")
EDITABLE = ("draft", "pending_approval", "scheduled", "queued", "held", "failed")
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
DEFAULT_QUEUE_SLOTS = tuple(f"{d} {t}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri") for t in ("09:00", "12:30", "16:00"))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes from timezone-aware columns; they are UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError, OSError):
        return ZoneInfo("UTC")


def local_to_utc(day: str, hhmm: str, tz_name: str) -> datetime:
    """"2026-11-24" + "14:30" in the user's time zone → an aware UTC datetime."""
    try:
        d = date.fromisoformat(day.strip())
        t = time.fromisoformat(hhmm.strip()[:5])
    except ValueError as exc:
        raise UserError("Pick a date and a time.") from exc
    return datetime.combine(d, t, tzinfo=zone(tz_name)).astimezone(timezone.utc)


def network_label(network: str) -> str:
    info = NETWORKS.get(network)
    return info.label.split(" (")[0] if info else network


# ---------------------------------------------------------------- notices (alerts rows + the live bus)


def notify(
    session: Session, user_ids: set[int] | list[int], kind: str, msgid: str, *, params: dict[str, Any] | None = None,
    body: str = "", link: str = "", severity: str = "info", post_id: int | None = None,
) -> Alert | None:
    """Tell some users through the alert centre (in-app, push, email), translated per recipient from `msgid`.
    The alert commits with the change that caused it; other processes hear of it only after the commit."""
    from govsocial_app.services import alerting

    users = sorted({int(u) for u in user_ids if u})
    if not users:
        return None
    # The body is free text (a post's words), rendered like a msgid: braces in it must not be read as fields.
    if params:
        body = body.replace("{", "{{").replace("}", "}}")
    spec = alerting.AlertSpec(kind=kind, severity=severity, title=msgid, body=body, params={k: str(v) for k, v in (params or {}).items()},
                              link=link, data={"user_ids": users, "post_id": post_id})
    alert = alerting.create_alert(session, spec, alerting.Audience(user_ids=tuple(users)))
    bus.announce_after_commit(session, AlertsChanged(raised=(alert.id,)))
    return alert


# ---------------------------------------------------------------- composer input and validation


@dataclass(frozen=True)
class MediaRef:
    media_id: int
    alt_text: str = ""
    mime_type: str = ""
    size_bytes: int = 0
    name: str = ""


@dataclass
class ComposerInput:
    text: str = ""
    link: str = ""
    profile_ids: list[int] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)  # network → its own text (empty: use the main text)
    media: list[MediaRef] = field(default_factory=list)
    campaign_id: int | None = None


@dataclass(frozen=True)
class Issue:
    """One reason the post cannot go out, written for the user. `msgid` is the catalogue key."""

    msgid: str
    params: dict[str, str] = field(default_factory=dict)
    network: str = ""
    field: str = ""

    @property
    def message(self) -> str:
        return self.msgid.format(**self.params)


class ComposerInvalid(UserError):
    def __init__(self, issues: list[Issue]):
        super().__init__(" ".join(i.message for i in issues))
        self.issues = issues


def body_for(text: str, link: str) -> str:
    """The text as it goes out: a link the text does not already contain goes on the end."""
    text = text or ""
    if link and link not in text:
        return f"{text.rstrip()}\n\n{link}" if text.strip() else link
    return text


def text_for(inp: ComposerInput, network: str) -> str:
    variant = (inp.variants or {}).get(network, "")
    return variant if variant.strip() else inp.text


@dataclass(frozen=True)
class NetworkCount:
    network: str
    label: str
    used: int
    limit: int
    preview: str

    @property
    def over(self) -> bool:
        return self.used > self.limit


def counters(inp: ComposerInput, networks: list[str]) -> list[NetworkCount]:
    out = []
    for n in dict.fromkeys(networks):
        limits = limits_for(n)
        body = body_for(text_for(inp, n), inp.link)
        out.append(NetworkCount(n, network_label(n), textcount.count(body, limits), limits.max_chars, body))
    return out


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f}"


def _check_network(inp: ComposerInput, network: str, limits: Limits) -> list[Issue]:
    label = network_label(network)
    issues = []
    body = body_for(text_for(inp, network), inp.link)
    if not body.strip() and not inp.media:
        issues.append(Issue("{network}: the post is empty. Write something or attach an image.", {"network": label}, network, "text"))
    used = textcount.count(body, limits)
    if used > limits.max_chars:
        issues.append(Issue(
            "{network}: {used} of {max} characters. Shorten it by {over}.",
            {"network": label, "used": str(used), "max": str(limits.max_chars), "over": str(used - limits.max_chars)}, network, "text",
        ))
    if network == "instagram" and not inp.media:
        issues.append(Issue("Instagram needs at least one image.", {}, network, "media"))
    if len(inp.media) > limits.max_images:
        issues.append(Issue("{network} takes at most {max} images; this post has {count}.",
                            {"network": label, "max": str(limits.max_images), "count": str(len(inp.media))}, network, "media"))
    for n, m in enumerate(inp.media, start=1):
        if m.mime_type and m.mime_type not in limits.image_types:
            issues.append(Issue("{network} does not accept {type} images (image {n}).",
                                {"network": label, "type": m.mime_type.removeprefix("image/").upper(), "n": str(n)}, network, "media"))
        if m.size_bytes > limits.max_image_bytes:
            issues.append(Issue("{network}: image {n} is {size} MB; the limit is {max} MB.",
                                {"network": label, "n": str(n), "size": _mb(m.size_bytes), "max": _mb(limits.max_image_bytes)}, network, "media"))
        alt_len = len(textcount.graphemes(m.alt_text or ""))
        if alt_len > limits.alt_text_max:
            issues.append(Issue("{network}: the alt text of image {n} is {used} characters; the limit is {max}.",
                                {"network": label, "n": str(n), "used": str(alt_len), "max": str(limits.alt_text_max)}, network, "media"))
    return issues


def validate(
    inp: ComposerInput, networks: list[str], *, action: str = "now", when: datetime | None = None, now: datetime | None = None,
) -> list[Issue]:
    """Everything that would stop this post going out on each chosen network, as messages a user can act on."""
    issues: list[Issue] = []
    if not networks:
        issues.append(Issue("Choose at least one profile to post to.", {}, "", "profiles"))
    for n, m in enumerate(inp.media, start=1):
        if not (m.alt_text or "").strip():
            issues.append(Issue("Image {n} needs alt text: describe it for people who cannot see it.", {"n": str(n)}, "", "media"))
    if inp.link and not inp.link.strip().lower().startswith(("http://", "https://")):
        issues.append(Issue("The link must start with https:// or http://.", {}, "", "link"))
    if action == "schedule":
        now = now or utcnow()
        if when is None:
            issues.append(Issue("Pick a date and a time.", {}, "", "when"))
        elif when <= now:
            issues.append(Issue("The time you picked has already passed. Choose a time in the future.", {}, "", "when"))
    for network in dict.fromkeys(networks):
        issues.extend(_check_network(inp, network, limits_for(network)))
    return issues


# ---------------------------------------------------------------- media (private until published)

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """(mime type, extension) from the file's first bytes; the browser's claimed type is not trusted."""
    for magic, mime, ext in _SIGNATURES:
        if data.startswith(magic):
            return mime, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


@dataclass(frozen=True)
class MediaInfo:
    id: int
    name: str
    mime_type: str
    size_bytes: int
    alt_text: str = ""


def store_media(actor: Actor, filename: str, data: bytes) -> MediaInfo:
    """Keep an upload in the private media directory (never the public /_upload mount) until it is published."""
    require(actor, "publish.compose")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserError("That image is too large (over 16 MB).")
    kind = sniff_image(data)
    if kind is None:
        raise UserError("Only JPEG, PNG, GIF and WebP images can be attached.")
    mime, ext = kind
    digest = hashlib.sha256(data).hexdigest()
    now = utcnow()
    folder = get_settings().media_dir / f"{now:%Y}" / f"{now:%m}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{uuid.uuid4().hex}.{ext}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    name = Path(filename or "image").name[:120]
    with session_scope() as s:
        row = MediaAsset(path=str(path), mime_type=mime, size_bytes=len(data), sha256=digest, uploaded_by=actor.user_id, alt_text="")
        s.add(row)
        s.flush()
        audit.record(s, actor, "media.upload", "media", row.id, name=name, bytes=len(data), mime=mime)
        return MediaInfo(row.id, name, mime, len(data))


def _media_rows(s: Session, refs: list[MediaRef], actor: Actor, post_id: int | None) -> dict[int, MediaAsset]:
    ids = [m.media_id for m in refs]
    if not ids:
        return {}
    rows = {m.id: m for m in s.exec(select(MediaAsset).where(col(MediaAsset.id).in_(ids), col(MediaAsset.deleted_at).is_(None))).all()}
    for mid in ids:
        row = rows.get(mid)
        if row is None or not (row.post_id is None and row.uploaded_by == actor.user_id or (post_id and row.post_id == post_id)):
            raise UserError("An attached image is no longer available. Attach it again.")
    return rows


# ---------------------------------------------------------------- saving: draft, now, schedule, queue


@dataclass(frozen=True)
class SaveResult:
    post_id: int
    status: str
    scheduled_at: datetime | None
    due: dict[int, datetime] = field(default_factory=dict)  # profile id → when it goes out
    workflow: str = ""


def _profiles(s: Session, ids: list[int]) -> list[SocialProfile]:
    rows = s.exec(
        select(SocialProfile).where(col(SocialProfile.id).in_(ids or [-1]), col(SocialProfile.deleted_at).is_(None))
    ).all()
    found = {p.id: p for p in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise UserError("A chosen profile is no longer connected. Refresh and choose again.")
    return [found[i] for i in dict.fromkeys(ids)]


def lock_post(s: Session, post_id: int) -> Post | None:
    """Serialise changes to one post (approvals deciding at once, targets of one post recording at once).
    Take it first in the transaction: on SQLite the write takes the database lock before anything is read."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(Post).where(col(Post.id) == post_id).values(approval_step=Post.approval_step))
        return s.get(Post, post_id)
    return s.exec(select(Post).where(Post.id == post_id).with_for_update()).first()


def _editable(s: Session, post_id: int) -> Post:
    post = lock_post(s, post_id)
    if post is None or post.deleted_at is not None:
        raise UserError("This post no longer exists.")
    targets = select(PostTarget).where(PostTarget.post_id == post_id)
    if s.get_bind().dialect.name != "sqlite":
        # The job claims with SKIP LOCKED: holding these rows keeps it off them until this change commits.
        targets = targets.with_for_update()
    # "unknown"/"check" (publisher.py): it may be on the network already; changing its text would make the
    # reconciliation miss it and send a second, different post.
    busy = [t for t in s.exec(targets).all() if t.status in ("claimed", "published", "unknown", "check")]
    if busy or post.status not in EDITABLE:
        raise UserError("This post is being published or has been published; it can no longer be changed.")
    return post


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def save(
    actor: Actor, inp: ComposerInput, *, action: str, when: datetime | None = None, post_id: int | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Create or update a post and its per-profile targets, then route it: draft, approval, or the publishing job.

    "Post now" and schedules never publish from here: the publishing job is the only sender, so the pause
    flag and the claim protocol cover every post."""
    from govsocial_app.services import approval_content, approvals

    require(actor, "publish.compose")
    if action not in ACTIONS:
        raise UserError("Unknown action.")
    now = now or utcnow()
    when = aware(when)
    with session_scope() as s:
        post = _editable(s, post_id) if post_id else None
        profiles = _profiles(s, inp.profile_ids) if inp.profile_ids else []
        media_rows = _media_rows(s, inp.media, actor, post_id)
        refs = [MediaRef(m.media_id, m.alt_text, media_rows[m.media_id].mime_type, media_rows[m.media_id].size_bytes) for m in inp.media]
        full = ComposerInput(inp.text, inp.link.strip(), [p.id for p in profiles], dict(inp.variants), refs, inp.campaign_id)
        if action == "draft":
            if not (full.text.strip() or refs or profiles):
                raise UserError("Nothing to save yet: write something, attach an image or choose a profile.")
        else:
            issues = validate(full, [p.network for p in profiles], action=action, when=when, now=now)
            if issues:
                raise ComposerInvalid(issues)
        if full.campaign_id and s.get(Campaign, full.campaign_id) is None:
            raise UserError("That campaign no longer exists.")
        if post is None:
            post = Post(author_id=actor.user_id or 0, created_at=now)
            s.add(post)
        post.text, post.link, post.campaign_id = full.text, full.link, full.campaign_id
        post.updated_at = now  # the content changed: approvals given before this no longer count
        post.held_reason, post.deleted_at = "", None
        s.flush()
        due = _plan_times(s, profiles, action, when, now, post.id)
        post.scheduled_at = min(due.values()) if due else (when if action == "draft" else None)
        targets = _sync_targets(s, post, profiles, full.variants, due)
        for m in refs:
            row = media_rows[m.media_id]
            row.post_id, row.alt_text = post.id, m.alt_text.strip()
        workflow_id = approvals.workflow_for(s, [p.id for p in profiles], post.author_id) if action != "draft" else None
        if action == "draft":
            post.status = "draft"
            post.workflow_id = None
        elif workflow_id:
            post.status, post.workflow_id, post.approval_step = "pending_approval", workflow_id, 0
            post.bypass_reason, post.bypassed_by, post.flagged_for_review = "", None, False
            if action == "now":
                post.scheduled_at = None  # as soon as it is approved
        else:
            post.status = "queued" if action == "queue" else "scheduled"
            post.workflow_id = None
            for t in targets:
                t.status = "due"
        s.flush()
        # Who changed the content, and into what: approvals bind to it, and editors may not approve their own words.
        approval_content.record_version(s, post, actor.user_id, now)
        if post.status == "pending_approval":
            approvals.start(s, post, now)
        audit.record(s, actor, f"post.{action}", "post", post.id, status=post.status,
                     profiles=[p.handle for p in profiles], scheduled_at=post.scheduled_at, workflow=workflow_id,
                     version=post.content_version)
        wf_name = approvals.workflow_name(s, workflow_id) if workflow_id else ""
        return SaveResult(post.id, post.status, post.scheduled_at, {t.profile_id: aware(t.due_at) for t in targets if t.due_at}, wf_name)


def _plan_times(s: Session, profiles: list[SocialProfile], action: str, when: datetime | None, now: datetime, post_id: int) -> dict[int, datetime]:
    if action == "now":
        return {p.id: now for p in profiles}
    if action == "schedule":
        return {p.id: when for p in profiles}
    if action == "queue":
        return {p.id: next_free_slot(s, p, now, exclude_post=post_id) for p in profiles}
    return {p.id: when for p in profiles} if when else {}


def _sync_targets(s: Session, post: Post, profiles: list[SocialProfile], variants: dict[str, str], due: dict[int, datetime]) -> list[PostTarget]:
    existing = {t.profile_id: t for t in s.exec(select(PostTarget).where(PostTarget.post_id == post.id)).all() if t.status != "cancelled"}
    keep = []
    for p in profiles:
        t = existing.pop(p.id, None)
        if t is None:
            # One key for this post on this profile, for life: every retry after a crash reuses it.
            t = PostTarget(post_id=post.id, profile_id=p.id, idempotency_key=new_idempotency_key())
            s.add(t)
        variant = variants.get(p.network) or ""
        t.text_override = variant if variant.strip() else ""
        t.status, t.due_at = "pending", due.get(p.id)
        t.attempts, t.next_attempt_at, t.error, t.claim_token = 0, None, "", ""
        keep.append(t)
    for t in existing.values():
        t.status = "cancelled"
    return keep


def release(s: Session, post: Post, now: datetime) -> None:
    """Approved (or bypassed, or a held post let go): hand the post to the publishing job.
    A time that has passed means now; the job still honours the pause."""
    for t in s.exec(select(PostTarget).where(PostTarget.post_id == post.id, PostTarget.status == "pending")).all():
        due = aware(t.due_at)
        t.due_at = due if due and due > now else now
        t.status, t.next_attempt_at = "due", None
    post.status, post.held_reason = "scheduled", ""


def apply_choice(s: Session, post_id: int, action: str, when: datetime | None, *, now: datetime, reason: str = "",
                 editor_id: int | None = None) -> None:
    """What to do with a post that missed its time (after a pause, or held): publish now, reschedule, draft, or hold.
    A new time is a change of approved content: under a workflow, the post needs approval again."""
    from govsocial_app.services import approvals

    post = s.get(Post, post_id)
    targets = s.exec(
        select(PostTarget).where(PostTarget.post_id == post_id, col(PostTarget.status).in_(("due", "pending")))
    ).all()
    if action == "publish_now":
        for t in targets:
            t.status, t.due_at, t.next_attempt_at = "due", min(aware(t.due_at) or now, now), None
        post.status, post.held_reason = "scheduled", ""
    elif action == "reschedule":
        for t in targets:
            t.status, t.due_at, t.next_attempt_at = "due", when, None
        post.status, post.scheduled_at, post.held_reason = "scheduled", when, ""
        approvals.content_changed(s, post, editor_id, now)
    elif action == "draft":
        for t in targets:
            t.status = "pending"
        post.status, post.held_reason = "draft", ""
    else:
        for t in targets:
            t.status = "pending"
        post.status, post.held_reason = "held", reason[:300]


def decide_held(actor: Actor, post_id: int, action: str, when: datetime | None = None) -> str:
    """The author's (or an editor's) choice for a held post: publish now, reschedule or keep as draft."""
    from govsocial_app.services import approvals

    require(actor, "publish.compose")
    if action not in ("publish_now", "reschedule", "draft"):
        raise UserError("Choose publish now, reschedule or keep as draft.")
    now = utcnow()
    when = aware(when)
    if action == "reschedule" and (when is None or when <= now):
        raise UserError("The time you picked has already passed. Choose a time in the future.")
    with session_scope() as s:
        post = _editable(s, post_id)
        if post.status != "held":
            raise UserError("This post is not held.")
        if action != "draft" and approvals.approval_pending(s, post):
            raise UserError("This post is still waiting for approval; it goes out as soon as it is approved.")
        apply_choice(s, post_id, action, when, now=now, editor_id=actor.user_id)
        audit.record(s, actor, f"post.held_{action}", "post", post_id, when=when)
        return post.status


@dataclass(frozen=True)
class Rescheduled:
    when: datetime
    needs_approval: bool  # the time is part of what approvers approve: under a workflow, a new time needs approval again


def reschedule(actor: Actor, post_id: int, when: datetime, *, now: datetime | None = None) -> Rescheduled:
    """Move a post to a new time (the calendar's date/time picker). Under a workflow, the new time needs approval again."""
    from govsocial_app.services import approvals

    require(actor, "publish.compose")
    now = now or utcnow()
    when = aware(when)
    if when is None or when <= now:
        raise UserError("The time you picked has already passed. Choose a time in the future.")
    with session_scope() as s:
        post = _editable(s, post_id)
        old = aware(post.scheduled_at)
        targets = s.exec(select(PostTarget).where(PostTarget.post_id == post_id, col(PostTarget.status).in_(("due", "pending")))).all()
        for t in targets:
            t.due_at, t.next_attempt_at = when, None
        post.scheduled_at = when
        if post.status == "held" and approvals.approval_pending(s, post):
            post.status, post.held_reason = "pending_approval", ""  # its new time has not come yet
        elif post.status == "held":
            apply_choice(s, post_id, "reschedule", when, now=now, editor_id=actor.user_id)
        elif post.status == "queued":
            post.status = "scheduled"
        again = approvals.content_changed(s, post, actor.user_id, now)
        audit.record(s, actor, "post.reschedule", "post", post_id, old=old, new=when, needs_approval=again)
        return Rescheduled(when, again or approvals.approval_pending(s, post))


def discard(actor: Actor, post_id: int) -> None:
    """Soft-delete a post that has not gone out; its targets are cancelled. Audited, never erased."""
    require(actor, "publish.compose")
    with session_scope() as s:
        post = _editable(s, post_id)
        post.deleted_at = utcnow()
        for t in s.exec(select(PostTarget).where(PostTarget.post_id == post_id, col(PostTarget.status).in_(("due", "pending", "failed")))).all():
            t.status = "cancelled"
        audit.record(s, actor, "post.discard", "post", post_id, status=post.status)


def retry_failed(actor: Actor, post_id: int) -> int:
    """Send the failed parts of a post again (same idempotency keys, so nothing already sent repeats)."""
    require(actor, "publish.compose")
    now = utcnow()
    with session_scope() as s:
        post = s.get(Post, post_id)
        if post is None or post.deleted_at is not None:
            raise UserError("This post no longer exists.")
        failed = s.exec(select(PostTarget).where(PostTarget.post_id == post_id, PostTarget.status == "failed")).all()
        if not failed:
            raise UserError("Nothing to retry: no part of this post failed.")
        for t in failed:
            t.status, t.due_at, t.next_attempt_at, t.attempts, t.error = "due", now, None, 0, ""
        post.status = "scheduled"
        audit.record(s, actor, "post.retry", "post", post_id, targets=len(failed))
        return len(failed)


# ---------------------------------------------------------------- the composer's view of a saved post


@dataclass(frozen=True)
class TargetView:
    profile_id: int
    handle: str
    network: str
    status: str
    due_at: datetime | None
    external_url: str
    error: str
    text_override: str


@dataclass(frozen=True)
class PostView:
    id: int
    author_id: int
    author: str
    text: str
    link: str
    status: str
    scheduled_at: datetime | None
    campaign_id: int | None
    held_reason: str
    flagged_for_review: bool
    bypass_reason: str
    targets: tuple[TargetView, ...]
    media: tuple[MediaInfo, ...]


def post_view(post_id: int) -> PostView | None:
    with session_scope() as s:
        post = s.get(Post, post_id)
        if post is None or post.deleted_at is not None:
            return None
        author = s.get(User, post.author_id)
        rows = s.exec(
            select(PostTarget, SocialProfile).join(SocialProfile, col(SocialProfile.id) == PostTarget.profile_id)
            .where(PostTarget.post_id == post_id, PostTarget.status != "cancelled").order_by(col(PostTarget.id))
        ).all()
        media = s.exec(select(MediaAsset).where(MediaAsset.post_id == post_id, col(MediaAsset.deleted_at).is_(None)).order_by(col(MediaAsset.id))).all()
        return PostView(
            post.id, post.author_id, author.display_name if author else "", post.text, post.link, post.status, aware(post.scheduled_at),
            post.campaign_id, post.held_reason, post.flagged_for_review, post.bypass_reason,
            tuple(TargetView(t.profile_id, p.handle, p.network, t.status, aware(t.due_at), web_link(t.external_url), t.error, t.text_override) for t, p in rows),
            tuple(MediaInfo(m.id, f"{m.mime_type.removeprefix('image/').upper()} {n}", m.mime_type, m.size_bytes, m.alt_text)
                  for n, m in enumerate(media, start=1)),
        )


@dataclass(frozen=True)
class PostSummary:
    id: int
    status: str
    excerpt: str
    when: datetime | None
    profiles: tuple[str, ...]
    reason: str


def alt_texts(s: Session, post_id: int) -> tuple[str, ...]:
    """What approvers read for each attached image (they review the words that describe it)."""
    return tuple(s.exec(select(MediaAsset.alt_text).where(MediaAsset.post_id == post_id, col(MediaAsset.deleted_at).is_(None))
                        .order_by(col(MediaAsset.id))).all())


def needs_attention(limit: int = 30) -> list[PostSummary]:
    """Held and failed posts, newest first: what someone has to decide about."""
    with session_scope() as s:
        posts = s.exec(
            select(Post).where(col(Post.status).in_(("held", "failed")), col(Post.deleted_at).is_(None))
            .order_by(col(Post.updated_at).desc()).limit(limit)
        ).all()
        return summaries(s, posts)


def recent_posts(author_id: int | None = None, limit: int = 20) -> list[PostSummary]:
    with session_scope() as s:
        q = select(Post).where(col(Post.deleted_at).is_(None))
        if author_id:
            q = q.where(Post.author_id == author_id)
        return summaries(s, s.exec(q.order_by(col(Post.id).desc()).limit(limit)).all())


def summaries(s: Session, posts: list[Post]) -> list[PostSummary]:
    ids = [p.id for p in posts]
    handles: dict[int, list[str]] = defaultdict(list)
    errors: dict[int, str] = {}
    for t, handle in s.exec(
        select(PostTarget, SocialProfile.handle).join(SocialProfile, col(SocialProfile.id) == PostTarget.profile_id)
        .where(col(PostTarget.post_id).in_(ids or [-1]), PostTarget.status != "cancelled")
    ).all():
        handles[t.post_id].append(handle)
        if t.error and t.status == "failed":
            errors.setdefault(t.post_id, f"{handle}: {t.error}")
    return [
        PostSummary(p.id, p.status, _excerpt(p.text), aware(p.scheduled_at), tuple(handles[p.id]), p.held_reason or errors.get(p.id, ""))
        for p in posts
    ]


def _excerpt(text: str, n: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------- the queue


def parse_slot(raw: str) -> tuple[int, time] | None:
    """"Mon 09:00" → (0, 09:00); anything else → None."""
    try:
        day, hhmm = raw.split()
        return WEEKDAYS.index(day[:3].title()), time.fromisoformat(hhmm)
    except (ValueError, AttributeError):
        return None


def queue_slots(profile: SocialProfile) -> list[tuple[int, time]]:
    slots = [x for x in (parse_slot(r) for r in (profile.queue_slots or [])) if x]
    return slots or [x for x in (parse_slot(r) for r in DEFAULT_QUEUE_SLOTS) if x]


def next_free_slot(s: Session, profile: SocialProfile, after: datetime, *, exclude_post: int | None = None, weeks: int = 8) -> datetime:
    """The first of the profile's weekly slots after `after` that no other post on this profile takes."""
    tz = zone(profile.timezone)
    horizon = after + timedelta(weeks=weeks)
    taken_q = select(PostTarget.due_at).where(
        PostTarget.profile_id == profile.id, col(PostTarget.status).in_(("pending", "due", "claimed", "published", "unknown", "check")),
        col(PostTarget.due_at) > after, col(PostTarget.due_at) <= horizon,
    )
    if exclude_post:
        taken_q = taken_q.where(PostTarget.post_id != exclude_post)
    taken = {aware(d).replace(second=0, microsecond=0) for d in s.exec(taken_q).all() if d}
    slots = queue_slots(profile)
    local_start = after.astimezone(tz).date()
    for offset in range(weeks * 7 + 1):
        day = local_start + timedelta(days=offset)
        for weekday, at in sorted(slots, key=lambda x: x[1]):
            if weekday != day.weekday():
                continue
            moment = datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)
            if moment > after and moment not in taken:
                return moment
    raise UserError("The queue is full for the next eight weeks. Add time slots or pick a time.")


def set_queue_slots(actor: Actor, profile_id: int, slots: list[str]) -> list[str]:
    require(actor, "profiles.manage")
    clean = []
    for raw in slots:
        parsed = parse_slot(raw)
        if parsed is None:
            raise UserError("Write time slots like “Mon 09:00”.")
        clean.append(f"{WEEKDAYS[parsed[0]]} {parsed[1].strftime('%H:%M')}")
    with session_scope() as s:
        p = s.get(SocialProfile, profile_id)
        if p is None:
            raise UserError("This profile no longer exists.")
        p.queue_slots = sorted(set(clean), key=lambda x: (WEEKDAYS.index(x[:3]), x[4:]))
        audit.record(s, actor, "profile.queue_slots", "profile", profile_id, slots=p.queue_slots)
        return list(p.queue_slots)


# ---------------------------------------------------------------- suggest a time

# Without history: public-sector audiences read most on weekday mornings and at lunchtime, less in the
# evening, little at night. Relative weights, 1.0 = an ordinary hour.
def _default_weight(weekday: int, hour: int) -> float:
    if hour < 6 or hour >= 23:
        return 0.2
    weekend = weekday >= 5
    if 8 <= hour <= 10:
        base = 1.4
    elif 11 <= hour <= 13:
        base = 1.3
    elif 17 <= hour <= 19:
        base = 1.1
    elif 14 <= hour <= 16:
        base = 1.0
    else:
        base = 0.7
    return base * (0.75 if weekend else 1.0)


MIN_HISTORY = 8  # posts with engagement numbers before our own history is trusted
SHRINK = 3.0  # how many posts' worth of weight the default keeps in each weekday × hour cell
HISTORY_DAYS = 180


@dataclass(frozen=True)
class Suggestion:
    times: tuple[datetime, ...]
    basis: str  # "history" or "defaults"
    msgid: str
    params: dict[str, str]

    @property
    def explanation(self) -> str:
        return self.msgid.format(**self.params)


def _engagement_history(s: Session, profile_ids: list[int], since: datetime) -> list[tuple[int, datetime, int]]:
    """(profile id, published at, engagement) for our own published posts, from each post's latest metrics."""
    from govsocial_app.services import metrics

    latest = metrics.latest_snapshots()
    rows = s.execute(
        select(PostTarget.profile_id, PostTarget.published_at, metrics.engagement_sql(latest))
        .join(latest, latest.c.target_id == PostTarget.id)
        .where(col(PostTarget.profile_id).in_(profile_ids or [-1]), PostTarget.status == "published", col(PostTarget.published_at) >= since)
    ).all()
    return [(pid, aware(at), int(e or 0)) for pid, at, e in rows]


def _score_grid(history: list[tuple[datetime, int]], tz: ZoneInfo) -> dict[tuple[int, int], float]:
    grid = {(d, h): _default_weight(d, h) for d in range(7) for h in range(24)}
    if not history:
        return grid
    mean = sum(e for _, e in history) / len(history) or 1.0
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for at, engagement in history:
        local = at.astimezone(tz)
        cells[(local.weekday(), local.hour)].append(engagement / mean)
    for key, ratios in cells.items():
        n = len(ratios)
        grid[key] = (sum(ratios) + SHRINK * grid[key]) / (n + SHRINK)
    return grid


def suggest_times(profile_ids: list[int], *, now: datetime | None = None, count: int = 3, user_tz: str = "UTC") -> Suggestion:
    """The best upcoming hours for these profiles, scored weekday × hour from our own past engagement
    (shrunk towards sensible defaults where a cell has few posts), with a sentence saying why."""
    now = now or utcnow()
    with session_scope() as s:
        profiles = _profiles(s, profile_ids) if profile_ids else []
        history = _engagement_history(s, [p.id for p in profiles], now - timedelta(days=HISTORY_DAYS))
    by_profile: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for pid, at, e in history:
        by_profile[pid].append((at, e))
    use_history = len(history) >= MIN_HISTORY
    grids = [(zone(p.timezone), _score_grid(by_profile[p.id] if use_history else [], zone(p.timezone))) for p in profiles]
    if not grids:
        grids = [(zone(user_tz), _score_grid([], zone(user_tz)))]
    start = (now + timedelta(minutes=30)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    scored = []
    for h in range(7 * 24):
        at = start + timedelta(hours=h)
        score = sum(grid[(at.astimezone(tz).weekday(), at.astimezone(tz).hour)] for tz, grid in grids) / len(grids)
        scored.append((score, at))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[datetime] = []
    for _score, at in scored:
        if all(abs((at - c).total_seconds()) >= 3 * 3600 for c in chosen):  # spread them out
            chosen.append(at)
        if len(chosen) == count:
            break
    chosen.sort()
    if use_history:
        best_score, best_at = scored[0]
        local = best_at.astimezone(zone(user_tz))
        return Suggestion(tuple(chosen), "history",
                          "Based on the engagement of {n} of your published posts on these profiles in the last {days} days: "
                          "{weekday}s around {hour}:00 have done best, about {ratio}× your usual engagement.",
                          {"n": str(len(history)), "days": str(HISTORY_DAYS), "weekday": local.strftime("%A"),
                           "hour": f"{local.hour:02d}", "ratio": f"{best_score:.1f}"})
    return Suggestion(tuple(chosen), "defaults",
                      "Not enough history yet ({n} published posts with engagement numbers; {min} needed), so these are "
                      "common good times for public agencies: weekday mornings and lunchtime. Suggestions learn from your "
                      "own posts as they are published.",
                      {"n": str(len(history)), "min": str(MIN_HISTORY)})


# ---------------------------------------------------------------- choices for the composer


@dataclass(frozen=True)
class ProfileChoice:
    id: int
    network: str
    handle: str
    label: str
    max_chars: int


def profile_choices() -> list[ProfileChoice]:
    with session_scope() as s:
        rows = s.exec(
            select(SocialProfile).where(col(SocialProfile.deleted_at).is_(None), SocialProfile.status != "disconnected").order_by(col(SocialProfile.id))
        ).all()
        return [ProfileChoice(p.id, p.network, p.handle, p.display_name or p.handle, limits_for(p.network).max_chars) for p in rows]
