"""Builders that put exactly the rows a report test needs into the database."""

from __future__ import annotations

import itertools
from datetime import date, datetime

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import (
    Message,
    MessageTag,
    Post,
    PostMetricSnapshot,
    PostTarget,
    ProfileMetricDaily,
    SocialProfile,
    Tag,
    User,
)

_ids = itertools.count(1)


def user(name: str = "Riley", role: str = "responder") -> int:
    with session_scope() as s:
        u = User(email=f"{name.lower()}{next(_ids)}@t.gov", display_name=name, password_hash="x", role=role)
        s.add(u)
        s.flush()
        return u.id


def profile(handle: str = "@city", network: str = "simulator", name: str = "") -> int:
    with session_scope() as s:
        p = SocialProfile(network=network, handle=handle, display_name=name or handle, external_id=handle)
        s.add(p)
        s.flush()
        return p.id


def tag(name: str) -> int:
    with session_scope() as s:
        t = Tag(name=name)
        s.add(t)
        s.flush()
        return t.id


def message(profile_id: int | None, received: datetime, *, text: str = "hello", network: str = "simulator", direction: str = "in",
            tags: tuple[int, ...] = (), first_response: datetime | None = None, replied_by: int | None = None,
            completed: datetime | None = None, completed_by: int | None = None, external_id: str = "", in_reply_to: str = "",
            author: str = "@someone", followers: int = 10, likes: int = 0, reposts: int = 0, replies: int = 0, lang: str = "en",
            status: str | None = None, kind: str = "mention") -> int:
    from govsocial_app.services.textnorm import search_text

    with session_scope() as s:
        m = Message(
            network=network, external_id=external_id or f"x{next(_ids)}", profile_id=profile_id, direction=direction, kind=kind,
            in_reply_to_external_id=in_reply_to, author_handle=author, author_name=author.lstrip("@"), author_followers=followers,
            text=text, search_text=search_text(text, author), lang=lang, created_at=received, received_at=received,
            status=status or ("completed" if completed else ("sent" if direction == "out" else "open")),
            first_response_at=first_response, replied_by_id=replied_by, completed_at=completed, completed_by=completed_by,
            likes=likes, reposts=reposts, replies=replies,
        )
        s.add(m)
        s.flush()
        for t in tags:
            s.add(MessageTag(message_id=m.id, tag_id=t))
        return m.id


def post(profile_id: int, published: datetime, author_id: int, *, text: str = "Our post", snapshots: list[dict] = ()) -> int:
    with session_scope() as s:
        p = Post(author_id=author_id, text=text, status="published")
        s.add(p)
        s.flush()
        t = PostTarget(post_id=p.id, profile_id=profile_id, status="published", idempotency_key=f"k{next(_ids)}",
                       external_id=f"e{next(_ids)}", published_at=published)
        s.add(t)
        s.flush()
        for snap in snapshots:
            s.add(PostMetricSnapshot(target_id=t.id, **snap))
        return t.id


def daily(profile_id: int, day: date, followers: int, posts: int = 0) -> None:
    with session_scope() as s:
        s.add(ProfileMetricDaily(profile_id=profile_id, day=day, followers=followers, posts=posts))
