"""Pure functions from Mastodon API JSON to the connector dataclasses."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from connectors import json_fields
from connectors.base import (
    KIND_DM,
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

NETWORK = "mastodon"

# ---------------------------------------------------------------- field helpers


def _id(value: Any, what: str) -> str:
    # Mastodon ids are strings of digits, but forks (and old servers) send integers.
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise PermanentError(f"{what}: missing id")
    return str(value)


def parse_datetime(value: Any, what: str = "created_at") -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime; PermanentError when absent or unreadable."""
    if not isinstance(value, str) or not value:
        raise PermanentError(f"{what}: missing timestamp")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PermanentError(f"{what}: unreadable timestamp {value[:40]!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _optional_datetime(value: Any, what: str) -> datetime | None:
    if value is None or value == "":
        return None
    return parse_datetime(value, what)


# ---------------------------------------------------------------- HTML


_BLOCK_TAGS = {"p", "div", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP_TAGS = {"script", "style", "template"}
_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
_TAG = re.compile(r"<[a-zA-Z/!?]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._pre = 0

    def _newlines(self, count: int) -> None:
        # Collapse consecutive block breaks into at most one blank line.
        text = "".join(self.parts)
        existing = len(text) - len(text.rstrip("\n"))
        if text and existing < count:
            self.parts.append("\n" * (count - existing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "pre":
            self._pre += 1
            self._newlines(2)
        elif tag == "li":
            self._newlines(1)
            self.parts.append("• ")
        elif tag in _BLOCK_TAGS:
            self._newlines(2)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self._newlines(2)
        elif tag in _BLOCK_TAGS and tag != "li":
            self._newlines(2)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data if self._pre else _WHITESPACE.sub(" ", data))


def html_to_text(html: Any) -> str:
    """Status HTML as plain text: tags dropped, entities decoded, paragraphs and <br> kept as line breaks.

    The app never renders network HTML, so nothing here needs to be safe to embed."""
    if not isinstance(html, str) or not html:
        return ""
    if not _TAG.search(html):
        # Some servers put plain text in `content`; keep its own line breaks.
        return html.strip()
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip(" ") for line in "".join(parser.parts).split("\n")]
    return "\n".join(lines).strip()


# ---------------------------------------------------------------- entities


def map_account(account: Any, instance_host: str = "") -> Author:
    """An Account entity as an Author; local accounts get the instance host so handles are unambiguous."""
    account = _obj(account, "account")
    acct = _str(account.get("acct")) or _str(account.get("username"))
    if not acct:
        raise PermanentError("account: missing acct")
    if "@" not in acct and instance_host:
        acct = f"{acct}@{instance_host}"
    return Author(
        external_id=_id(account.get("id"), "account"),
        handle=f"@{acct}",
        display_name=_str(account.get("display_name")) or _str(account.get("username")),
        avatar_url=_str(account.get("avatar_static")) or _str(account.get("avatar")),
        followers=_count(account.get("followers_count")),
        # Mastodon has no verified badge; a verified profile link is not the same thing.
        verified=False,
    )


def status_text(status: dict[str, Any]) -> str:
    text = html_to_text(status.get("content"))
    warning = _str(status.get("spoiler_text")).strip()
    # Content warnings often carry the substance ("flooding, road closures"), so keep them visible.
    return f"CW: {warning}\n\n{text}" if warning else text


def map_status(
    status: Any,
    *,
    kind: str = KIND_KEYWORD,
    own_account_id: str = "",
    instance_host: str = "",
) -> InboundMessage:
    """A Status entity as an InboundMessage. A boost maps to the boosted status."""
    status = _obj(status, "status")
    if isinstance(status.get("reblog"), dict):
        status = status["reblog"]
    if own_account_id:
        if status.get("visibility") == "direct":
            kind = KIND_DM
        elif str(status.get("in_reply_to_account_id") or "") == own_account_id:
            kind = KIND_REPLY
    return InboundMessage(
        network=NETWORK,
        external_id=_id(status.get("id"), "status"),
        author=map_account(status.get("account"), instance_host),
        text=status_text(status),
        created_at=parse_datetime(status.get("created_at")),
        kind=kind,
        in_reply_to_id=str(status.get("in_reply_to_id") or ""),
        url=_str(status.get("url")) or _str(status.get("uri")),
        lang=_str(status.get("language")),
        likes=_count(status.get("favourites_count")),
        reposts=_count(status.get("reblogs_count")),
        replies=_count(status.get("replies_count")),
        edited_at=_optional_datetime(status.get("edited_at"), "edited_at"),
        raw=status,
    )


def map_notification(notification: Any, *, own_account_id: str = "", instance_host: str = "") -> InboundMessage:
    """A `mention` Notification as an InboundMessage (a mention, a reply to us, or a direct message)."""
    notification = _obj(notification, "notification")
    if notification.get("type") != "mention":
        raise PermanentError(f"notification {notification.get('id')}: type {notification.get('type')!r} is not a mention")
    if notification.get("status") is None:
        raise PermanentError(f"notification {notification.get('id')}: its status was deleted")
    return map_status(
        notification.get("status"), kind=KIND_MENTION, own_account_id=own_account_id, instance_host=instance_host
    )


def map_profile_metrics(account: Any) -> ProfileMetrics:
    account = _obj(account, "account")
    return ProfileMetrics(
        followers=_count(account.get("followers_count")),
        following=_count(account.get("following_count")),
        posts=_count(account.get("statuses_count")),
    )


def map_post_metrics(status: Any) -> PostMetrics:
    status = _obj(status, "status")
    return PostMetrics(
        external_id=_id(status.get("id"), "status"),
        likes=_count(status.get("favourites_count")),
        reposts=_count(status.get("reblogs_count")),
        replies=_count(status.get("replies_count")),
    )


def map_publish_result(status: Any) -> PublishResult:
    status = _obj(status, "status")
    if "scheduled_at" in status and "params" in status:
        raise PermanentError("the server scheduled the status instead of publishing it")
    return PublishResult(
        external_id=_id(status.get("id"), "status"),
        url=_str(status.get("url")) or _str(status.get("uri")),
        published_at=_optional_datetime(status.get("created_at"), "created_at"),
    )
