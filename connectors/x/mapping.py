"""Pure functions from X API v2 JSON to the connector dataclasses."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from connectors import json_fields
from connectors.base import (
    KIND_KEYWORD,
    KIND_MENTION,
    KIND_REPLY,
    Author,
    InboundMessage,
    PermanentError,
    PostMetrics,
    ProfileMetrics,
    PublishResult,
)

_obj, _str, _count = json_fields.obj, json_fields.text, json_fields.count

NETWORK = "x"


def _id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.isdigit():
        raise PermanentError(f"{what}: missing or non-numeric id")
    return value


def _optional_count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def parse_datetime(value: Any, what: str = "created_at") -> datetime:
    if not isinstance(value, str) or not value:
        raise PermanentError(f"{what}: missing timestamp")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PermanentError(f"{what}: unreadable timestamp {value[:40]!r}") from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def users_by_id(body: Any) -> dict[str, dict[str, Any]]:
    """`includes.users` indexed by id; malformed entries are ignored (their posts then get a bare author)."""
    includes = body.get("includes") if isinstance(body, dict) else None
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {u["id"]: u for u in users if isinstance(u, dict) and isinstance(u.get("id"), str)}


def map_user(user: Any) -> Author:
    user = _obj(user, "user")
    metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
    username = _str(user.get("username"))
    verified_type = _str(user.get("verified_type"))
    return Author(
        external_id=_id(user.get("id"), "user"),
        handle=f"@{username}" if username else "",
        display_name=_str(user.get("name")),
        avatar_url=_str(user.get("profile_image_url")),
        followers=_count(metrics.get("followers_count")),
        verified=user.get("verified") is True or verified_type in ("blue", "business", "government"),
    )


def post_url(username: str, post_id: str) -> str:
    return f"https://x.com/{username}/status/{post_id}" if username else f"https://x.com/i/web/status/{post_id}"


def map_post(
    post: Any,
    users: dict[str, dict[str, Any]] | None = None,
    *,
    kind: str = KIND_KEYWORD,
    own_user_id: str = "",
) -> InboundMessage:
    """A Post (tweet) object, with its author from `includes.users`, as an InboundMessage.

    An edited post keeps its original id (the first of `edit_history_tweet_ids`) so that
    every edit lands on the same message; `edited_at` is the newest version's time."""
    post = _obj(post, "post")
    latest_id = _id(post.get("id"), "post")
    history = post.get("edit_history_tweet_ids")
    original_id = latest_id
    if isinstance(history, list) and history and isinstance(history[0], str) and history[0].isdigit():
        original_id = history[0]
    created_at = parse_datetime(post.get("created_at"))
    author_id = _id(post.get("author_id"), "post author")
    user = (users or {}).get(author_id)
    author = map_user(user) if isinstance(user, dict) else Author(external_id=author_id, handle="")
    note = post.get("note_tweet")
    # Posts over 280 characters carry their full text in note_tweet; `text` is then truncated.
    text = _str(note.get("text")) if isinstance(note, dict) and note.get("text") else _str(post.get("text"))
    in_reply_to = ""
    referenced = post.get("referenced_tweets")
    if isinstance(referenced, list):
        for ref in referenced:
            if isinstance(ref, dict) and ref.get("type") == "replied_to" and isinstance(ref.get("id"), str):
                in_reply_to = ref["id"]
    if own_user_id and kind == KIND_MENTION and _str(post.get("in_reply_to_user_id")) == own_user_id:
        kind = KIND_REPLY
    metrics = post.get("public_metrics") if isinstance(post.get("public_metrics"), dict) else {}
    return InboundMessage(
        network=NETWORK,
        external_id=original_id,
        author=author,
        # v2 returns &amp; &lt; &gt; escaped in text.
        text=html.unescape(text),
        created_at=created_at,
        kind=kind,
        conversation_id=_str(post.get("conversation_id")),
        in_reply_to_id=in_reply_to,
        url=post_url(author.handle.lstrip("@"), latest_id),
        lang=_str(post.get("lang")) if post.get("lang") != "und" else "",
        likes=_count(metrics.get("like_count")),
        reposts=_count(metrics.get("retweet_count")) + _count(metrics.get("quote_count")),
        replies=_count(metrics.get("reply_count")),
        edited_at=created_at if original_id != latest_id else None,
        raw=post,
    )


def page_posts(body: Any) -> tuple[list[Any], dict[str, Any], str, list[str]]:
    """(posts, meta, next_token, partial errors) of a paginated v2 response; PermanentError if it is not one."""
    body = _obj(body, "response")
    data = body.get("data", [])
    if not isinstance(data, list):
        raise PermanentError("response: data is not a list")
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    next_token = _str(meta.get("next_token"))
    errors = body.get("errors")
    problems = []
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict):
                problems.append(_str(error.get("detail")) or _str(error.get("title")) or "partial error")
    return data, meta, next_token, problems


def map_profile_metrics(body: Any) -> ProfileMetrics:
    user = _obj(_obj(body, "response").get("data"), "user")
    metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
    return ProfileMetrics(
        followers=_count(metrics.get("followers_count")),
        following=_count(metrics.get("following_count")),
        posts=_count(metrics.get("tweet_count")),
    )


def map_post_metrics(post: Any) -> PostMetrics:
    post = _obj(post, "post")
    metrics = post.get("public_metrics") if isinstance(post.get("public_metrics"), dict) else {}
    private = post.get("non_public_metrics") if isinstance(post.get("non_public_metrics"), dict) else {}
    return PostMetrics(
        external_id=_id(post.get("id"), "post"),
        impressions=_optional_count(metrics.get("impression_count")),
        likes=_count(metrics.get("like_count")),
        reposts=_count(metrics.get("retweet_count")) + _count(metrics.get("quote_count")),
        replies=_count(metrics.get("reply_count")),
        # Only the author's own user token sees link clicks.
        clicks=_optional_count(private.get("url_link_clicks")),
    )


def map_created_post(body: Any, username: str = "") -> PublishResult:
    data = _obj(_obj(body, "response").get("data"), "created post")
    post_id = _id(data.get("id"), "created post")
    # POST /2/tweets answers with id and text only; the publish time is not reported.
    return PublishResult(external_id=post_id, url=post_url(username, post_id))
