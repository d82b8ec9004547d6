"""What an approval approves: the exact content each network receives, its SHA-256, its versions, and the sender's check.

The content of a post is what the publishing job hands to each connector (the network's variant or the main text,
the link, the images' bytes and alt texts), plus when it goes out and on which profiles. Its canonical JSON
(the "manifest") is hashed with SHA-256; every approval decision records the hash its approver was shown, a
workflow that finishes records the hash it approved, and the sender refuses to send anything else.
Every distinct content is kept as a PostVersion, so approvers can see what changed and who changed it.

A twin post's targets carry their language ("en+ar": one combined post; "en" and "ar": one post per language), and
the manifest binds each of them and the mode per network, so a change to either language's text or to the mode
after approval invalidates the approval. Ordinary posts' manifests are unchanged (their hashes stay valid)."""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors.bluesky.limits import compose_text as bluesky_text
from connectors.base import OutboundPost
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import MediaAsset, Post, PostTarget, PostVersion, SocialProfile, utcnow
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor
from govsocial_app.services.publishing.views import body_for, network_label

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
SYSTEM = Actor.system("publisher")

LINK_CARD = "The link is attached as a preview card: {link}"
LINK_DROPPED = "Instagram does not take links in posts: the link {link} is not sent."
NOT_SENT = "Not sent: the content changed after it was approved. It needs approval again."
NOT_SENT_NOTICE = "Your post was not sent: its content changed after it was approved, so it needs approval again: {excerpt}"
CHANGED_NOTICE = "A post changed after it was approved and needs your approval again: {excerpt}"
# Fragments of "what changed since the version approvers saw".
CHANGE_TEXT = "the text for {profile}"
CHANGE_ADDED = "{profile} added"
CHANGE_REMOVED = "{profile} removed"
CHANGE_LINK = "the link"
CHANGE_TIME = "the time"
CHANGE_IMAGE = "image {n}"
CHANGE_IMAGE_ADDED = "image {n} added"
CHANGE_IMAGE_REMOVED = "image {n} removed"
CHANGE_ALT = "the description of image {n}"
CHANGE_MODE = "how the languages go out on {network} (one combined post or one post per language)"
# What the approver reads above each text of a twin post.
LANGUAGE_LABELS = {"en": "English", "ar": "Arabic", "en+ar": "English and Arabic in one post"}
MSGIDS = (LINK_CARD, LINK_DROPPED, NOT_SENT, NOT_SENT_NOTICE, CHANGED_NOTICE, CHANGE_TEXT, CHANGE_ADDED, CHANGE_REMOVED, CHANGE_LINK,
          CHANGE_TIME, CHANGE_IMAGE, CHANGE_IMAGE_ADDED, CHANGE_IMAGE_REMOVED, CHANGE_ALT, CHANGE_MODE, *LANGUAGE_LABELS.values())


@dataclass(frozen=True)
class TargetContent:
    profile_id: int
    network: str
    handle: str
    text: str  # what the sender hands the connector: the network's variant, else the main text
    language: str = ""  # "" an ordinary post; a twin post's "en+ar" (combined) or "en" / "ar" (separate posts)


@dataclass(frozen=True)
class MediaContent:
    media_id: int
    sha256: str
    mime_type: str
    size_bytes: int
    alt_text: str


@dataclass(frozen=True)
class Content:
    post_id: int
    link: str
    scheduled_at: datetime | None
    targets: tuple[TargetContent, ...]
    media: tuple[MediaContent, ...]

    def manifest(self) -> dict[str, Any]:
        """The canonical form that is hashed. Handles are left out (a renamed profile is the same profile)."""
        return {
            "format": MANIFEST_FORMAT,
            "post": self.post_id,
            "link": self.link,
            "schedule": self.scheduled_at.isoformat() if self.scheduled_at else None,
            "targets": [{"profile": t.profile_id, "network": t.network, "text": t.text, **({"lang": t.language} if t.language else {})}
                        for t in self.targets],
            "media": [{"sha256": m.sha256, "type": m.mime_type, "bytes": m.size_bytes, "alt": m.alt_text} for m in self.media],
            **({"twin": self.twin_modes()} if any(t.language for t in self.targets) else {}),
        }

    def twin_modes(self) -> dict[str, str]:
        """network → "combined" or "separate", for the networks a twin post goes to."""
        return {t.network: "combined" if "+" in t.language else "separate" for t in self.targets if t.language}

    @property
    def sha256(self) -> str:
        return manifest_hash(self.manifest())

    def target(self, profile_id: int, language: str = "") -> TargetContent | None:
        return next((t for t in self.targets if t.profile_id == profile_id and t.language == language), None)


def language_order(language: str) -> tuple[int, str]:
    """The primary language's post first, then the others (a stable order for the hash and the approver)."""
    return (0 if language in ("", "en") or "+" in language else 1, language)


def manifest_hash(manifest: dict[str, Any]) -> str:
    raw = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def load(s: Session, post: Post) -> Content:
    """The post's content as the sender would send it now (targets in profile order, images in attachment order)."""
    rows = sorted(s.exec(
        select(PostTarget, SocialProfile).join(SocialProfile, col(SocialProfile.id) == PostTarget.profile_id)
        .where(PostTarget.post_id == post.id, PostTarget.status != "cancelled").order_by(col(PostTarget.profile_id))
    ).all(), key=lambda row: (row[0].profile_id, language_order(row[0].language)))
    media = s.exec(select(MediaAsset).where(MediaAsset.post_id == post.id, col(MediaAsset.deleted_at).is_(None))
                   .order_by(col(MediaAsset.id))).all()
    scheduled = post.scheduled_at
    return Content(
        post.id, post.link or "", scheduled.astimezone(timezone.utc).replace(microsecond=0) if scheduled else None,
        tuple(TargetContent(t.profile_id, p.network, p.handle, t.text_override or post.text, t.language) for t, p in rows),
        tuple(MediaContent(m.id, m.sha256, m.mime_type, m.size_bytes, m.alt_text) for m in media),
    )


def current_hash(post_id: int) -> str:
    with session_scope() as s:
        post = s.get(Post, post_id)
        return load(s, post).sha256 if post else ""


# ---------------------------------------------------------------- what each network shows


@dataclass(frozen=True)
class Rendered:
    network: str
    label: str
    handle: str
    text: str  # as the network will show it, link included where the network puts it in the text
    note_msgid: str = ""
    note_params: tuple[tuple[str, str], ...] = ()
    language: str = ""  # a twin post's "en+ar" (combined) or "en" / "ar" (one post per language)
    # The text in paragraphs, each with its direction ("rtl" for Arabic), so the approver reads each language the
    # right way round, including both halves of a combined post.
    paragraphs: tuple[tuple[str, str], ...] = ()


def render(t: TargetContent, link: str) -> Rendered:
    """The final text on each network, mirroring how each connector's publish() uses the text and the link."""
    label = network_label(t.network)
    if t.network == "facebook":  # the Graph API takes the link separately and shows it as a card
        out = Rendered(t.network, label, t.handle, t.text, LINK_CARD if link else "", (("link", link),) if link else ())
    elif t.network == "instagram":  # captions carry no links; the connector does not send it
        out = Rendered(t.network, label, t.handle, t.text, LINK_DROPPED if link else "", (("link", link),) if link else ())
    elif t.network == "bluesky":
        out = Rendered(t.network, label, t.handle, bluesky_text(OutboundPost(text=t.text, idempotency_key="-", link=link)))
    else:
        out = Rendered(t.network, label, t.handle, body_for(t.text, link))
    return replace(out, language=t.language, paragraphs=paragraphs(out.text, "rtl" if t.language == "ar" else ""))


def paragraphs(text: str, direction: str = "") -> tuple[tuple[str, str], ...]:
    """(paragraph, "rtl" | "ltr") for each blank-line-separated paragraph; the direction of a paragraph without a
    given one is that of its first strong character (Unicode bidi), as dir="auto" would choose."""
    out = []
    for part in (p for p in text.split("\n\n") if p.strip()):
        out.append((part, direction or text_direction(part)))
    return tuple(out)


def text_direction(text: str) -> str:
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


# ---------------------------------------------------------------- versions


def record_version(s: Session, post: Post, editor_id: int | None, now: datetime | None = None) -> bool:
    """Keep the post's content as a new version if it differs from the last one. True when it changed:
    then no approval given so far counts (the caller starts the workflow again)."""
    s.flush()
    content = load(s, post)
    digest = content.sha256
    latest = s.exec(select(PostVersion).where(PostVersion.post_id == post.id).order_by(col(PostVersion.number).desc())).first()
    if latest is not None and latest.content_hash == digest:
        if post.content_version != latest.number:
            post.content_version = latest.number
        return False
    number = (latest.number if latest else 0) + 1
    s.add(PostVersion(post_id=post.id, number=number, content_hash=digest, manifest=content.manifest(), edited_by=editor_id,
                      created_at=now or utcnow()))
    post.content_version = number
    if post.approved_hash and post.approved_hash != digest:
        post.approved_hash = ""
    s.flush()
    return True


def editors_since_approval(s: Session, post: Post) -> dict[int, int]:
    """People who changed the content since the workflow last approved it: user id → the latest version they made."""
    rows = s.exec(select(PostVersion.edited_by, PostVersion.number).where(
        PostVersion.post_id == post.id, col(PostVersion.number) > post.approved_version, col(PostVersion.edited_by).is_not(None))).all()
    out: dict[int, int] = {}
    for user_id, number in rows:
        out[int(user_id)] = max(out.get(int(user_id), 0), number)
    return out


def version_manifest(s: Session, post_id: int, number: int) -> dict[str, Any] | None:
    row = s.exec(select(PostVersion).where(PostVersion.post_id == post_id, PostVersion.number == number)).first()
    return row.manifest if row else None


def changes(old: dict[str, Any], new: dict[str, Any], handles: dict[int, str]) -> list[tuple[str, dict[str, str]]]:
    """What differs between two manifests, as (msgid, params) fragments for the reader's language."""
    out: list[tuple[str, dict[str, str]]] = []
    before = {(t["profile"], t.get("lang", "")): t for t in old.get("targets", [])}
    after = {(t["profile"], t.get("lang", "")): t for t in new.get("targets", [])}

    def name(key: tuple[int, str]) -> str:
        pid, lang = key
        return (handles.get(pid) or f"#{pid}") + (f" ({lang})" if lang else "")

    for pid, t in after.items():
        if pid not in before:
            out.append((CHANGE_ADDED, {"profile": name(pid)}))
        elif before[pid]["text"] != t["text"]:
            out.append((CHANGE_TEXT, {"profile": name(pid)}))
    out += [(CHANGE_REMOVED, {"profile": name(pid)}) for pid in before if pid not in after]
    old_modes, new_modes = old.get("twin") or {}, new.get("twin") or {}
    for network in dict.fromkeys([*old_modes, *new_modes]):
        if old_modes.get(network) != new_modes.get(network):
            out.append((CHANGE_MODE, {"network": network_label(network)}))
    if old.get("link") != new.get("link"):
        out.append((CHANGE_LINK, {}))
    if old.get("schedule") != new.get("schedule"):
        out.append((CHANGE_TIME, {}))
    a, b = old.get("media", []), new.get("media", [])
    for n in range(max(len(a), len(b))):
        if n >= len(a):
            out.append((CHANGE_IMAGE_ADDED, {"n": str(n + 1)}))
        elif n >= len(b):
            out.append((CHANGE_IMAGE_REMOVED, {"n": str(n + 1)}))
        elif a[n]["sha256"] != b[n]["sha256"]:
            out.append((CHANGE_IMAGE, {"n": str(n + 1)}))
        elif a[n]["alt"] != b[n]["alt"]:
            out.append((CHANGE_ALT, {"n": str(n + 1)}))
    return out


# ---------------------------------------------------------------- the sender's check


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mismatch(post: Post, content: Content, profile_id: int, text: str, link: str, media: tuple, language: str = "") -> str:
    """Why this send is not the approved content ("" when it is)."""
    if not post.approved_hash:
        return "no approval is bound to its content"
    if content.sha256 != post.approved_hash:
        return f"content {content.sha256[:12]} is not the approved {post.approved_hash[:12]}"
    target = content.target(profile_id, language)
    if target is None or target.text != text or content.link != (link or ""):
        return "the text or link about to be sent is not the approved one"
    if len(media) != len(content.media):
        return "the images about to be sent are not the approved ones"
    for attachment, approved in zip(media, content.media):
        if attachment.alt_text != approved.alt_text or attachment.mime_type != approved.mime_type:
            return "an image's description is not the approved one"
        try:
            if _file_sha256(attachment.path) != approved.sha256:
                return "an image file is not the approved one"
        except OSError as exc:
            return f"an image file could not be read ({type(exc).__name__})"
    return ""
