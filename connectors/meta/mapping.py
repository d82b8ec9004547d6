"""Pure functions from Meta Graph API JSON (Facebook Pages, Instagram) to the connector dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors import json_fields
from connectors.base import (
    KIND_COMMENT,
    KIND_MENTION,
    KIND_REPLY,
    Author,
    InboundMessage,
    PermanentError,
    PostMetrics,
    ProfileMetrics,
)

_obj, _str, _count = json_fields.obj, json_fields.text, json_fields.count


def _id(value: Any, what: str) -> str:
    # Graph ids are digits, or "<page>_<post>" for Page posts.
    if not isinstance(value, str) or not value or not value.replace("_", "").isdigit():
        raise PermanentError(f"{what}: missing or malformed id")
    return value


def _summary_count(value: Any) -> int:
    """`reactions.summary(total_count)` style edges: {"data": [], "summary": {"total_count": 3}}."""
    summary = value.get("summary") if isinstance(value, dict) else None
    return _count(summary.get("total_count")) if isinstance(summary, dict) else 0


def parse_datetime(value: Any, what: str = "created_time") -> datetime:
    """Graph timestamps look like 2024-01-15T10:30:00+0000."""
    if not isinstance(value, str) or not value:
        raise PermanentError(f"{what}: missing timestamp")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PermanentError(f"{what}: unreadable timestamp {value[:40]!r}") from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


# ---------------------------------------------------------------- Facebook


def map_fb_from(value: Any) -> Author:
    """The `from` of a comment or post. Without pages_read_user_content Meta omits it for people."""
    if not isinstance(value, dict):
        return Author(external_id="", handle="", display_name="Facebook user")
    name = _str(value.get("name"))
    return Author(external_id=_str(value.get("id")), handle=name, display_name=name)


def map_fb_comment(comment: Any, *, post_id: str = "", page_id: str = "") -> InboundMessage:
    comment = _obj(comment, "comment")
    comment_id = _id(comment.get("id"), "comment")
    parent = comment.get("parent")
    parent_id = _str(parent.get("id")) if isinstance(parent, dict) else ""
    # A reply under a comment of ours is a reply to us; anything else under our post is a comment.
    parent_from = parent.get("from") if isinstance(parent, dict) else None
    ours = isinstance(parent_from, dict) and page_id and parent_from.get("id") == page_id
    return InboundMessage(
        network="facebook",
        external_id=comment_id,
        author=map_fb_from(comment.get("from")),
        text=_str(comment.get("message")),
        created_at=parse_datetime(comment.get("created_time")),
        kind=KIND_REPLY if ours else KIND_COMMENT,
        conversation_id=post_id,
        in_reply_to_id=parent_id or post_id,
        url=_str(comment.get("permalink_url")),
        likes=_count(comment.get("like_count")),
        replies=_count(comment.get("comment_count")),
        raw=comment,
    )


def map_fb_tagged_post(post: Any) -> InboundMessage:
    post = _obj(post, "post")
    post_id = _id(post.get("id"), "post")
    return InboundMessage(
        network="facebook",
        external_id=post_id,
        author=map_fb_from(post.get("from")),
        text=_str(post.get("message")),
        created_at=parse_datetime(post.get("created_time")),
        kind=KIND_MENTION,
        conversation_id=post_id,
        url=_str(post.get("permalink_url")),
        likes=_summary_count(post.get("reactions")),
        replies=_summary_count(post.get("comments")),
        reposts=_count(post.get("shares", {}).get("count")) if isinstance(post.get("shares"), dict) else 0,
        raw=post,
    )


def map_fb_page(page: Any) -> Author:
    page = _obj(page, "page")
    picture = page.get("picture")
    picture_data = picture.get("data") if isinstance(picture, dict) else None
    return Author(
        external_id=_id(page.get("id"), "page"),
        handle=_str(page.get("username")) or _str(page.get("name")),
        display_name=_str(page.get("name")),
        avatar_url=_str(picture_data.get("url")) if isinstance(picture_data, dict) else "",
        followers=_count(page.get("followers_count")) or _count(page.get("fan_count")),
        verified=page.get("verification_status") == "blue_verified",
    )


def map_fb_profile_metrics(page: Any) -> ProfileMetrics:
    page = _obj(page, "page")
    return ProfileMetrics(followers=_count(page.get("followers_count")) or _count(page.get("fan_count")))


def map_fb_post_metrics(post: Any) -> PostMetrics:
    post = _obj(post, "post")
    shares = post.get("shares")
    return PostMetrics(
        external_id=_id(post.get("id"), "post"),
        likes=_summary_count(post.get("reactions")),
        replies=_summary_count(post.get("comments")),
        reposts=_count(shares.get("count")) if isinstance(shares, dict) else 0,
    )


# ---------------------------------------------------------------- Instagram


def map_ig_user(user: Any) -> Author:
    user = _obj(user, "Instagram user")
    username = _str(user.get("username"))
    return Author(
        external_id=_id(user.get("id"), "Instagram user"),
        handle=f"@{username}" if username else "",
        display_name=_str(user.get("name")) or username,
        avatar_url=_str(user.get("profile_picture_url")),
        followers=_count(user.get("followers_count")),
    )


def _ig_author(item: dict[str, Any]) -> Author:
    sender = item.get("from")
    username = _str(item.get("username")) or (_str(sender.get("username")) if isinstance(sender, dict) else "")
    sender_id = _str(sender.get("id")) if isinstance(sender, dict) else ""
    return Author(external_id=sender_id or username, handle=f"@{username}" if username else "", display_name=username)


def map_ig_comment(comment: Any, *, media_id: str = "", parent_id: str = "", parent_is_ours: bool = False) -> InboundMessage:
    comment = _obj(comment, "comment")
    author = _ig_author(comment)
    return InboundMessage(
        network="instagram",
        external_id=_id(comment.get("id"), "comment"),
        author=author,
        text=_str(comment.get("text")),
        created_at=parse_datetime(comment.get("timestamp"), "timestamp"),
        kind=KIND_REPLY if parent_is_ours else KIND_COMMENT,
        conversation_id=media_id,
        in_reply_to_id=parent_id or media_id,
        likes=_count(comment.get("like_count")),
        raw=comment,
    )


def map_ig_tagged_media(media: Any) -> InboundMessage:
    media = _obj(media, "media")
    media_id = _id(media.get("id"), "media")
    return InboundMessage(
        network="instagram",
        external_id=media_id,
        author=_ig_author(media),
        text=_str(media.get("caption")),
        created_at=parse_datetime(media.get("timestamp"), "timestamp"),
        kind=KIND_MENTION,
        conversation_id=media_id,
        url=_str(media.get("permalink")),
        likes=_count(media.get("like_count")),
        replies=_count(media.get("comments_count")),
        raw=media,
    )


def map_ig_profile_metrics(user: Any) -> ProfileMetrics:
    user = _obj(user, "Instagram user")
    return ProfileMetrics(
        followers=_count(user.get("followers_count")),
        following=_count(user.get("follows_count")),
        posts=_count(user.get("media_count")),
    )


def map_ig_post_metrics(media: Any) -> PostMetrics:
    media = _obj(media, "media")
    return PostMetrics(
        external_id=_id(media.get("id"), "media"),
        likes=_count(media.get("like_count")),
        replies=_count(media.get("comments_count")),
    )


def container_status(body: Any) -> str:
    """The status_code of a media container: EXPIRED, ERROR, FINISHED, IN_PROGRESS or PUBLISHED."""
    status = _str(_obj(body, "container").get("status_code"))
    if not status:
        raise PermanentError("container status missing")
    return status


def graph_page(body: Any) -> tuple[list[Any], str]:
    """(data, next page URL) of a Graph edge."""
    body = _obj(body, "response")
    data = body.get("data", [])
    if not isinstance(data, list):
        raise PermanentError("response: data is not a list")
    paging = body.get("paging")
    next_url = _str(paging.get("next")) if isinstance(paging, dict) else ""
    return data, next_url
