"""The composer: per-network validation, media, and saving a post (draft, now, schedule, queue).

Saving routes the post through approvals.route (straight to the sender, or to its approval workflow); the post's
states live in lifecycle.py, what happens to a saved post in actions.py, its read views in views.py and the
queue and suggested times in slots.py."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from connectors import textcount
from connectors.base import Limits
from connectors.registry import limits_for
from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Campaign, MediaAsset, Post, PostTarget, SocialProfile, utcnow
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing import approvals
from govsocial_app.services.publishing.lifecycle import editable_post, load_profiles, new_idempotency_key
from govsocial_app.services.publishing.slots import next_free_slot
from govsocial_app.services.publishing.views import MediaInfo, body_for, network_label

log = logging.getLogger(__name__)


ACTIONS = ("draft", "now", "schedule", "queue")


MAX_UPLOAD_BYTES = 16 * 1024 * 1024


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
    # A twin post (services/cap/emergency.py twin_input): network → {language: the text of that language's post}.
    # One entry "en+ar" is one combined post; "en" and "ar" are separate posts, one target per language.
    twin: dict[str, dict[str, str]] = field(default_factory=dict)


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


def posts_for(inp: ComposerInput, network: str) -> dict[str, str]:
    """The posts this input makes on one network: language → text ("" for an ordinary post)."""
    return dict((inp.twin or {}).get(network) or {}) or {"": text_for(inp, network)}


def _check_network(inp: ComposerInput, network: str, limits: Limits, text: str | None = None, language: str = "") -> list[Issue]:
    label = network_label(network) + (f" ({language.upper()})" if language and "+" not in language else "")
    issues = []
    body = body_for(text_for(inp, network) if text is None else text, inp.link)
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
        for language, text in posts_for(inp, network).items():
            issues.extend(_check_network(inp, network, limits_for(network), text, language))
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


def save(
    actor: Actor, inp: ComposerInput, *, action: str, when: datetime | None = None, post_id: int | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Create or update a post and its per-profile targets, then route it: draft, approval, or the publishing job.

    "Post now" and schedules never publish from here: the publishing job is the only sender, so the pause
    flag and the claim protocol cover every post."""
    require(actor, "publish.compose")
    if action not in ACTIONS:
        raise UserError("Unknown action.")
    now = now or utcnow()
    when = when
    with session_scope() as s:
        post = editable_post(s, post_id) if post_id else None
        profiles = load_profiles(s, inp.profile_ids) if inp.profile_ids else []
        media_rows = _media_rows(s, inp.media, actor, post_id)
        refs = [MediaRef(m.media_id, m.alt_text, media_rows[m.media_id].mime_type, media_rows[m.media_id].size_bytes) for m in inp.media]
        full = ComposerInput(inp.text, inp.link.strip(), [p.id for p in profiles], dict(inp.variants), refs, inp.campaign_id,
                             {n: dict(v) for n, v in (inp.twin or {}).items()})
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
        targets = _sync_targets(s, post, profiles, full, due)
        for m in refs:
            row = media_rows[m.media_id]
            row.post_id, row.alt_text = post.id, m.alt_text.strip()
        workflow_id = approvals.route(s, post, profiles, targets, action, actor.user_id, now)
        audit.record(s, actor, f"post.{action}", "post", post.id, status=post.status,
                     profiles=[p.handle for p in profiles], scheduled_at=post.scheduled_at, workflow=workflow_id,
                     version=post.content_version)
        wf_name = approvals.workflow_name(s, workflow_id) if workflow_id else ""
        return SaveResult(post.id, post.status, post.scheduled_at, {t.profile_id: t.due_at for t in targets if t.due_at}, wf_name)


def _plan_times(s: Session, profiles: list[SocialProfile], action: str, when: datetime | None, now: datetime, post_id: int) -> dict[int, datetime]:
    if action == "now":
        return {p.id: now for p in profiles}
    if action == "schedule":
        return {p.id: when for p in profiles}
    if action == "queue":
        return {p.id: next_free_slot(s, p, now, exclude_post=post_id) for p in profiles}
    return {p.id: when for p in profiles} if when else {}


def _sync_targets(s: Session, post: Post, profiles: list[SocialProfile], inp: ComposerInput, due: dict[int, datetime]) -> list[PostTarget]:
    """One target per profile, or, for a twin post in separate mode, one per profile and language."""
    existing = {(t.profile_id, t.language): t for t in s.exec(select(PostTarget).where(PostTarget.post_id == post.id)).all()
                if t.status != "cancelled"}
    keep = []
    for p in profiles:
        twin = (inp.twin or {}).get(p.network) or {"": inp.variants.get(p.network) or ""}
        for language, text in twin.items():
            t = existing.pop((p.id, language), None)
            if t is None:
                # One key for this post on this profile (and language), for life: every retry after a crash reuses it.
                t = PostTarget(post_id=post.id, profile_id=p.id, language=language, idempotency_key=new_idempotency_key())
                s.add(t)
            t.text_override = text if text.strip() else ""
            t.status, t.due_at = "pending", due.get(p.id)
            t.attempts, t.next_attempt_at, t.error, t.claim_token = 0, None, "", ""
            keep.append(t)
    for t in existing.values():
        t.status = "cancelled"
    return keep
