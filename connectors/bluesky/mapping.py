"""Pure functions from AT Protocol XRPC JSON to GovSocial's connector dataclasses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
    replace,
)
from connectors.bluesky.records import POST_COLLECTION

NETWORK = "bluesky"
WEB_URL = "https://bsky.app"

# Notification reasons that belong in the inbox, and the kind each becomes.
# A quote is somebody talking about our post in their own thread: treat it like a mention.
INBOX_REASONS = {"mention": KIND_MENTION, "reply": KIND_REPLY, "quote": KIND_MENTION}

_AT_URI = re.compile(r"^at://(?P<repo>[^/?#\s]+)/(?P<collection>[^/?#\s]+)/(?P<rkey>[^/?#\s]+)$")
# RFC 3339 as atproto writes it; fractions may carry more digits than Python's microseconds.
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$")


@dataclass(frozen=True)
class Session:
    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str


# ---------------------------------------------------------------- field access


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PermanentError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _str(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise PermanentError(f"{what}: missing or invalid {key!r}")
    return value


def _opt_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _count(obj: dict[str, Any], key: str) -> int:
    # Counters are advisory: a missing or odd value reads as zero rather than failing the item.
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def parse_datetime(value: Any, what: str = "datetime") -> datetime:
    """An atproto datetime as an aware UTC datetime; a missing zone is read as UTC."""
    match = _DATETIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise PermanentError(f"{what}: not an RFC 3339 datetime: {value!r}")
    day, time, fraction, zone = match.groups()
    fraction = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z", "z") else zone
    try:
        parsed = datetime.fromisoformat(f"{day}T{time}.{fraction}{zone}")
    except ValueError as exc:
        raise PermanentError(f"{what}: {exc}: {value!r}") from exc
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise PermanentError(f"{what}: out of range: {value!r}") from exc


def parse_at_uri(uri: Any) -> tuple[str, str, str]:
    """(repo, collection, rkey) of an at:// record URI."""
    match = _AT_URI.match(uri) if isinstance(uri, str) else None
    if match is None:
        raise PermanentError(f"not an at:// record URI: {uri!r}")
    return match["repo"], match["collection"], match["rkey"]


def post_url(uri: str, handle: str = "") -> str:
    """The bsky.app address of a post; the DID stands in when the handle is unknown or invalid."""
    repo, collection, rkey = parse_at_uri(uri)
    if collection != POST_COLLECTION:
        return ""
    who = handle if handle and handle != "handle.invalid" else repo
    return f"{WEB_URL}/profile/{who}/post/{rkey}"


# ---------------------------------------------------------------- sessions and identities


def session_from(data: Any) -> Session:
    """createSession / refreshSession output."""
    data = _obj(data, "session")
    return Session(
        did=_str(data, "did", "session"),
        handle=_str(data, "handle", "session"),
        access_jwt=_str(data, "accessJwt", "session"),
        refresh_jwt=_str(data, "refreshJwt", "session"),
    )


def did_from_resolve(data: Any) -> str:
    """com.atproto.identity.resolveHandle output."""
    did = _str(_obj(data, "resolveHandle"), "did", "resolveHandle")
    if not did.startswith("did:"):
        raise PermanentError(f"resolveHandle: not a DID: {did!r}")
    return did


def author_from(profile: Any) -> Author:
    """profileViewBasic, profileView or profileViewDetailed."""
    profile = _obj(profile, "author")
    verification = profile.get("verification")
    verified = isinstance(verification, dict) and verification.get("verifiedStatus") == "valid"
    return Author(
        external_id=_str(profile, "did", "author"),
        handle=_str(profile, "handle", "author"),
        display_name=_opt_str(profile, "displayName"),
        avatar_url=_opt_str(profile, "avatar"),
        followers=_count(profile, "followersCount"),
        verified=verified,
    )


def profile_metrics_from(profile: Any) -> ProfileMetrics:
    """app.bsky.actor.getProfile output (profileViewDetailed)."""
    profile = _obj(profile, "profile")
    _str(profile, "did", "profile")
    return ProfileMetrics(
        followers=_count(profile, "followersCount"),
        following=_count(profile, "followsCount"),
        posts=_count(profile, "postsCount"),
    )


# ---------------------------------------------------------------- posts


def _langs(record: dict[str, Any]) -> str:
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        return langs[0]
    return ""


def _thread(uri: str, record: dict[str, Any]) -> tuple[str, str]:
    """(conversation id, in-reply-to id): the thread root and parent URIs; a top-level post is its own root."""
    reply = record.get("reply")
    if reply is None:
        return uri, ""
    reply = _obj(reply, "reply")
    root = _str(_obj(reply.get("root"), "reply.root"), "uri", "reply.root")
    parent = _str(_obj(reply.get("parent"), "reply.parent"), "uri", "reply.parent")
    return root, parent


def _message(
    uri: str,
    author_json: Any,
    record_json: Any,
    indexed_at: Any,
    kind: str,
    raw: dict[str, Any],
    counts: dict[str, Any] | None = None,
) -> InboundMessage:
    parse_at_uri(uri)
    author = author_from(author_json)
    record = _obj(record_json, "record")
    text = record.get("text", "")
    if not isinstance(text, str):
        raise PermanentError(f"{uri}: record text is not a string")
    # createdAt is what the author's client claims; fall back to when the AppView saw it.
    try:
        created_at = parse_datetime(record.get("createdAt"), "createdAt")
    except PermanentError:
        created_at = parse_datetime(indexed_at, "indexedAt")
    conversation, parent = _thread(uri, record)
    counts = counts or {}
    return InboundMessage(
        network=NETWORK,
        external_id=uri,
        author=author,
        text=text,
        created_at=created_at,
        kind=kind,
        conversation_id=conversation,
        in_reply_to_id=parent,
        url=post_url(uri, author.handle),
        lang=_langs(record),
        likes=_count(counts, "likeCount"),
        reposts=_count(counts, "repostCount") + _count(counts, "quoteCount"),
        replies=_count(counts, "replyCount"),
        raw=raw,
    )


def message_from_notification(notification: Any, own_did: str = "") -> InboundMessage | None:
    """One listNotifications item as an inbox message; None for reasons the inbox ignores (likes, follows…).

    The AppView sends one notification per post and recipient, and a mention outranks a reply, so
    an answer to one of `own_did`'s posts that also tags us arrives as reason "mention": the
    record's parent tells us it is a reply."""
    notification = _obj(notification, "notification")
    reason = notification.get("reason")
    kind = INBOX_REASONS.get(reason) if isinstance(reason, str) else None
    if kind is None:
        return None
    uri = _str(notification, "uri", "notification")
    message = _message(
        uri,
        notification.get("author"),
        notification.get("record"),
        notification.get("indexedAt"),
        kind,
        notification,
    )
    answers_us = bool(own_did and message.in_reply_to_id) and parse_at_uri(message.in_reply_to_id)[0] == own_did
    if answers_us and message.kind != KIND_REPLY:
        message = replace(message, kind=KIND_REPLY)
    return message


def message_from_post_view(view: Any, kind: str = KIND_KEYWORD) -> InboundMessage:
    """An app.bsky.feed.defs#postView (searchPosts, getPosts) as an inbound message."""
    view = _obj(view, "post")
    uri = _str(view, "uri", "post")
    return _message(uri, view.get("author"), view.get("record"), view.get("indexedAt"), kind, view, view)


def sort_key(item: Any) -> tuple[datetime, str]:
    """(indexedAt, uri) of a notification or post view: the order the AppView pages them in."""
    item = _obj(item, "item")
    uri = _str(item, "uri", "item")
    return parse_datetime(item.get("indexedAt"), f"{uri} indexedAt"), uri


def post_metrics_from(view: Any) -> PostMetrics:
    view = _obj(view, "post")
    return PostMetrics(
        external_id=_str(view, "uri", "post"),
        likes=_count(view, "likeCount"),
        reposts=_count(view, "repostCount") + _count(view, "quoteCount"),
        replies=_count(view, "replyCount"),
    )


def posts_from(data: Any) -> list[Any]:
    """The `posts` array of getPosts or searchPosts output."""
    posts = _obj(data, "posts response").get("posts")
    if not isinstance(posts, list):
        raise PermanentError("posts response: missing 'posts' array")
    return posts


def notifications_from(data: Any) -> tuple[list[Any], str]:
    """(notifications, API cursor) of listNotifications output."""
    data = _obj(data, "listNotifications")
    items = data.get("notifications")
    if not isinstance(items, list):
        raise PermanentError("listNotifications: missing 'notifications' array")
    return items, _opt_str(data, "cursor")


def search_page_from(data: Any) -> tuple[list[Any], str]:
    """(post views, API cursor) of searchPosts output."""
    return posts_from(data), _opt_str(_obj(data, "searchPosts"), "cursor")


# ---------------------------------------------------------------- publishing


def strong_ref(data: Any, what: str = "post") -> dict[str, str]:
    """A com.atproto.repo.strongRef (uri + cid) from any object carrying both."""
    data = _obj(data, what)
    uri = _str(data, "uri", what)
    parse_at_uri(uri)
    return {"uri": uri, "cid": _str(data, "cid", what)}


def reply_refs(parent_view: Any) -> dict[str, dict[str, str]]:
    """The `reply` field for an answer to `parent_view`: its root is the parent's root, or the parent itself."""
    parent = strong_ref(parent_view, "parent post")
    record = _obj(_obj(parent_view, "parent post").get("record"), "parent record")
    reply = record.get("reply")
    root = strong_ref(_obj(reply, "parent reply").get("root"), "parent reply.root") if reply is not None else parent
    return {"root": root, "parent": parent}


def blob_from_upload(data: Any) -> dict[str, Any]:
    """The blob object of com.atproto.repo.uploadBlob output, passed back verbatim in the embed."""
    blob = _obj(_obj(data, "uploadBlob").get("blob"), "uploadBlob.blob")
    if not isinstance(blob.get("ref"), dict) or not _opt_str(blob, "mimeType"):
        raise PermanentError("uploadBlob: blob lacks a ref or mimeType")
    return blob


def created_ref_from(data: Any) -> dict[str, str]:
    """com.atproto.repo.createRecord output as a strong ref."""
    return strong_ref(data, "createRecord")


def publish_result_from(uri: str, record: Any, handle: str) -> PublishResult:
    """Our post as published: its at:// URI, web address and the createdAt we wrote into it."""
    record = _obj(record, "record")
    try:
        published_at = parse_datetime(record.get("createdAt"), "createdAt")
    except PermanentError:
        published_at = None
    return PublishResult(external_id=uri, url=post_url(uri, handle), published_at=published_at)


def existing_record_from(data: Any) -> tuple[str, dict[str, Any]]:
    """(uri, record value) of com.atproto.repo.getRecord output."""
    data = _obj(data, "getRecord")
    uri = _str(data, "uri", "getRecord")
    parse_at_uri(uri)
    return uri, _obj(data.get("value"), "getRecord.value")
