"""Pure functions from the simulated network's JSON-shaped payloads to the connector dataclasses."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from connectors.base import (
    MESSAGE_KINDS,
    Author,
    InboundMessage,
    PermanentError,
    PostMetrics,
    ProfileMetrics,
    PublishResult,
    RateLimit,
)

NETWORK = "simulator"


def _dict(raw: Any, what: str) -> dict:
    if not isinstance(raw, dict):
        raise PermanentError(f"{what} is not an object")
    return raw


def _str(raw: dict, key: str, *, required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise PermanentError(f"missing {key}")
        return ""
    if not isinstance(value, str):
        raise PermanentError(f"{key} is not a string")
    if required and not value:
        raise PermanentError(f"empty {key}")
    return value


def _count(raw: dict, key: str) -> int:
    value = raw.get(key)
    if value is None:
        return 0
    # bool is an int subclass, and a JSON true is no count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PermanentError(f"{key} is not an integer")
    return max(0, value)


def _optional_count(raw: dict, key: str) -> int | None:
    return None if raw.get(key) is None else _count(raw, key)


def parse_time(value: Any, key: str = "time") -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; naive timestamps are taken as UTC."""
    if not isinstance(value, str) or not value:
        raise PermanentError(f"{key} is not a timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise PermanentError(f"{key} is not a valid timestamp: {value[:40]!r}") from exc


def _optional_time(raw: dict, key: str) -> datetime | None:
    return None if raw.get(key) is None else parse_time(raw.get(key), key)


def _bool(raw: dict, key: str) -> bool:
    value = raw.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise PermanentError(f"{key} is not a boolean")
    return value


def author_from_raw(raw: Any) -> Author:
    account = _dict(raw, "account")
    return Author(
        external_id=_str(account, "id", required=True),
        handle=_str(account, "acct", required=True),
        display_name=_str(account, "display_name"),
        avatar_url=_str(account, "avatar"),
        followers=_count(account, "followers_count"),
        verified=_bool(account, "verified"),
    )


def message_from_raw(raw: Any) -> InboundMessage:
    """One message event. Raises PermanentError, and nothing else, when the payload is unusable."""
    item = _dict(raw, "message")
    kind = _str(item, "kind", required=True)
    if kind not in MESSAGE_KINDS:
        raise PermanentError(f"unknown kind {kind[:20]!r}")
    deleted = _bool(item, "deleted")
    text = _str(item, "text")
    if not text and not deleted:
        raise PermanentError("message without text")
    return InboundMessage(
        network=NETWORK,
        external_id=_str(item, "id", required=True),
        author=author_from_raw(item.get("account")),
        text=text,
        created_at=parse_time(item.get("created_at"), "created_at"),
        kind=kind,
        conversation_id=_str(item, "conversation_id"),
        in_reply_to_id=_str(item, "in_reply_to_id"),
        url=_str(item, "url"),
        lang=_str(item, "language"),
        likes=_count(item, "favourites_count"),
        reposts=_count(item, "reblogs_count"),
        replies=_count(item, "replies_count"),
        deleted=deleted,
        edited_at=_optional_time(item, "edited_at"),
        raw=item,
    )


def messages_from_raw(items: Any) -> tuple[list[InboundMessage], list[str]]:
    """Map a page of items; an unusable item becomes a skip reason instead of an exception."""
    if not isinstance(items, list):
        raise PermanentError("items is not a list")
    mapped: list[InboundMessage] = []
    skipped: list[str] = []
    for raw in items:
        try:
            mapped.append(message_from_raw(raw))
        except PermanentError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            label = raw_id if isinstance(raw_id, str) and raw_id else "item"
            skipped.append(f"{label[:80]}: {exc}")
    return mapped, skipped


def publish_result_from_raw(raw: Any) -> PublishResult:
    item = _dict(raw, "status")
    return PublishResult(
        external_id=_str(item, "id", required=True),
        url=_str(item, "url"),
        published_at=parse_time(item.get("created_at"), "created_at"),
    )


def profile_metrics_from_raw(raw: Any) -> ProfileMetrics:
    item = _dict(raw, "account")
    return ProfileMetrics(
        followers=_count(item, "followers_count"),
        following=_count(item, "following_count"),
        posts=_count(item, "statuses_count"),
    )


def post_metrics_from_raw(raw: Any) -> PostMetrics:
    item = _dict(raw, "metrics")
    return PostMetrics(
        external_id=_str(item, "id", required=True),
        impressions=_optional_count(item, "impressions"),
        likes=_count(item, "favourites_count"),
        reposts=_count(item, "reblogs_count"),
        replies=_count(item, "replies_count"),
        clicks=_optional_count(item, "clicks"),
    )


def rate_limit_from_raw(raw: Any) -> RateLimit | None:
    """The quota a response reports; a missing or garbled report is no report."""
    if not isinstance(raw, dict):
        return None
    try:
        return RateLimit(
            limit=_optional_count(raw, "limit"),
            remaining=_optional_count(raw, "remaining"),
            reset_at=_optional_time(raw, "reset_at"),
        )
    except PermanentError:
        return None
