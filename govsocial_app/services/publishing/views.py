"""Read views of posts: the composer's view of one saved post, short summaries for lists, the profile picker."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from connectors.registry import NETWORKS, limits_for
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import MediaAsset, Post, PostTarget, SocialProfile, User
from govsocial_app.services.links import web_link
from govsocial_app.services.textnorm import excerpt


def body_for(text: str, link: str) -> str:
    """The text as it goes out: a link the text does not already contain goes on the end."""
    text = text or ""
    if link and link not in text:
        return f"{text.rstrip()}\n\n{link}" if text.strip() else link
    return text


def network_label(network: str) -> str:
    info = NETWORKS.get(network)
    return info.label.split(" (")[0] if info else network


@dataclass(frozen=True)
class MediaInfo:
    id: int
    name: str
    mime_type: str
    size_bytes: int
    alt_text: str = ""


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
    language: str = ""  # a twin post's "en+ar" (one combined post) or "en" / "ar" (one post per language)

    @property
    def label(self) -> str:
        """The profile, and the language where a twin post sends one post per language."""
        return f"{self.handle} ({self.language})" if self.language and "+" not in self.language else self.handle


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
            post.id, post.author_id, author.display_name if author else "", post.text, post.link, post.status, post.scheduled_at,
            post.campaign_id, post.held_reason, post.flagged_for_review, post.bypass_reason,
            tuple(TargetView(t.profile_id, p.handle, p.network, t.status, t.due_at, web_link(t.external_url), t.error, t.text_override,
                             t.language) for t, p in rows),
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
        if handle not in handles[t.post_id]:  # a twin post's separate posts share their profile
            handles[t.post_id].append(handle)
        if t.error and t.status == "failed":
            errors.setdefault(t.post_id, f"{handle}: {t.error}")
    return [
        PostSummary(p.id, p.status, excerpt(p.text, 140), p.scheduled_at, tuple(handles[p.id]), p.held_reason or errors.get(p.id, ""))
        for p in posts
    ]


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
