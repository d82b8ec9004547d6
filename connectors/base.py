"""The one interface every social network connector implements, and the plain data that crosses it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


# ---------------------------------------------------------------- errors


class ConnectorError(Exception):
    """Base class: every failure a connector raises is one of the subclasses below."""


class AuthError(ConnectorError):
    """Credentials are missing, expired or revoked: the profile needs reconnecting."""


class RateLimited(ConnectorError):
    """The network asked us to slow down. `retry_after` is in seconds."""

    def __init__(self, message: str = "rate limited", retry_after: float = 60.0):
        super().__init__(message)
        self.retry_after = float(retry_after)


class TransientError(ConnectorError):
    """A failure worth retrying later: 5xx, timeouts, connection resets."""


class PermanentError(ConnectorError):
    """A failure that retrying will not fix: validation errors, 4xx, malformed data."""


class NotFound(PermanentError):
    """The thing acted on is gone from the network (a deleted comment, an unknown post)."""


class NotSupported(ConnectorError):
    """The network has no way to do this (for example, Mastodon cannot hide someone else's reply). `reason` is an
    English sentence for the translation catalogue: the button that would do it shows it instead."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Author:
    external_id: str
    handle: str
    display_name: str = ""
    avatar_url: str = ""
    followers: int = 0
    verified: bool = False


# Message kinds the inbox knows about.
KIND_MENTION = "mention"
KIND_COMMENT = "comment"
KIND_DM = "dm"
KIND_REPLY = "reply"
KIND_KEYWORD = "keyword"
KIND_POST = "post"
MESSAGE_KINDS = (KIND_MENTION, KIND_COMMENT, KIND_DM, KIND_REPLY, KIND_KEYWORD, KIND_POST)


@dataclass(frozen=True)
class InboundMessage:
    """One message as the network reports it. `external_id` is unique per network."""

    network: str
    external_id: str
    author: Author
    text: str
    created_at: datetime  # timezone-aware, UTC
    kind: str = KIND_MENTION
    conversation_id: str = ""  # the thread root's id on the network, when known
    in_reply_to_id: str = ""
    url: str = ""
    lang: str = ""
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    deleted: bool = False  # the network reports it as deleted
    edited_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class MediaAttachment:
    path: str  # a local file path (never a public URL) that the connector uploads
    mime_type: str
    alt_text: str


@dataclass(frozen=True)
class OutboundPost:
    text: str
    idempotency_key: str
    in_reply_to_id: str = ""  # network id of the message being answered
    media: tuple[MediaAttachment, ...] = ()
    link: str = ""


@dataclass(frozen=True)
class PublishResult:
    external_id: str
    url: str = ""
    published_at: datetime | None = None


@dataclass(frozen=True)
class SearchQuery:
    """A brand-keyword search as a network understands it.

    `terms` is the network-native query string built from our boolean syntax;
    `lang` narrows results when the network supports it."""

    terms: str
    lang: str = ""
    limit: int = 50


@dataclass(frozen=True)
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of inbound messages plus the cursor to resume from next time.

    A cursor is an opaque string the connector alone understands. Items that
    could not be mapped are reported in `skipped` with a reason, never raised."""

    items: list[InboundMessage]
    cursor: str = ""
    skipped: list[str] = field(default_factory=list)
    rate_limit: RateLimit | None = None


@dataclass(frozen=True)
class ProfileMetrics:
    followers: int = 0
    following: int = 0
    posts: int = 0


@dataclass(frozen=True)
class PostMetrics:
    external_id: str
    impressions: int | None = None
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    clicks: int | None = None


@dataclass(frozen=True)
class Limits:
    """Per-network publishing rules."""

    max_chars: int
    counting: str = "graphemes"  # "graphemes", "x-weighted" or "codepoints"
    url_length: int | None = None  # a URL counts as this many chars, when the network shortens links
    max_images: int = 4
    max_image_bytes: int = 5_000_000
    image_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    alt_text_max: int = 1500
    supports_idempotency: bool = False
    supports_search: bool = True


# ---------------------------------------------------------------- moderation (issue 16)

MOD_HIDE, MOD_UNHIDE, MOD_DELETE, MOD_BLOCK, MOD_MUTE, MOD_REPORT = "hide", "unhide", "delete", "block", "mute", "report"
MODERATION_ACTIONS = (MOD_HIDE, MOD_UNHIDE, MOD_DELETE, MOD_BLOCK, MOD_MUTE, MOD_REPORT)
# Setting the same state twice is harmless for these; a report filed twice is two reports.
IDEMPOTENT_MODERATION = frozenset({MOD_HIDE, MOD_UNHIDE, MOD_DELETE, MOD_BLOCK, MOD_MUTE})


@dataclass(frozen=True)
class ModerationSupport:
    """How a network does one moderation action: "network" (through its API), "in_app" (the network cannot, so
    GovSocial records it and hides the message in GovSocial only) or "none". `reason` explains in_app and none."""

    action: str
    mode: str = "network"
    reason: str = ""


@dataclass(frozen=True)
class ModerationTarget:
    """The comment or reply acted on, as the network knows it."""

    external_id: str
    author_external_id: str = ""
    author_handle: str = ""
    in_reply_to_id: str = ""
    conversation_id: str = ""  # the thread's root: the agency's own post
    note: str = ""  # sent with a report, where the network takes one


@dataclass(frozen=True)
class ModerationResult:
    """What the network answered: the state it now reports ("hidden", "visible", "deleted", "blocked", "muted",
    "reported") and its answer, trimmed, to keep as evidence."""

    action: str
    state: str
    response: dict[str, Any] = field(default_factory=dict)


def unsupported(*actions: str, reason: str, mode: str = "none") -> tuple[ModerationSupport, ...]:
    return tuple(ModerationSupport(a, mode, reason) for a in actions)


def moderation_support(connector: Any) -> dict[str, ModerationSupport]:
    """Every moderation action with how this connector (class or instance) does it; a connector that declares
    nothing supports nothing."""
    declared = {m.action: m for m in getattr(connector, "moderation", ())}
    return {a: declared.get(a, ModerationSupport(a, "none", "This network's connector cannot moderate.")) for a in MODERATION_ACTIONS}


@dataclass(frozen=True)
class Credentials:
    """What the app decrypts and hands a connector. `secrets` never reach the browser."""

    network: str
    config: dict[str, Any] = field(default_factory=dict)  # non-secret: instance URL, handle, page id
    secrets: dict[str, Any] = field(default_factory=dict)  # tokens, app passwords


@dataclass(frozen=True)
class Field:
    """One input on the "Connect a profile" form. Label and help are English source strings for the translation
    catalogue. A secret field is stored encrypted and never shown back to the browser."""

    name: str
    label: str
    help: str = ""
    required: bool = True
    secret: bool = False


@dataclass(frozen=True)
class Network:
    """What a connector package says about a network it serves (its `about.py`): the registry, the connect form,
    the composer and the profile service read this and restate none of it."""

    name: str
    label: str
    connector: type  # the Connector class
    fields: tuple[Field, ...]
    limits: Limits  # publishing limits before a profile is connected (a Mastodon server may raise them after)

    @property
    def config_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.secret)

    @property
    def secret_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.secret)


@runtime_checkable
class Connector(Protocol):
    """Implemented once per network. Every method may raise the errors above, nothing else."""

    network: str
    limits: Limits

    async def check(self) -> Author:
        """Verify the credentials and return the connected account."""

    async def fetch_mentions(self, cursor: str = "") -> Page:
        """Mentions, comments, replies and direct messages addressed to the profile, newest last."""

    async def search(self, query: SearchQuery, cursor: str = "") -> Page:
        """Public posts matching a brand-keyword search."""

    async def publish(self, post: OutboundPost) -> PublishResult:
        """Publish a post or a reply. Must be safe to call twice with the same idempotency key."""

    async def find_published(self, post: OutboundPost, since: datetime) -> PublishResult | None:
        """Reconcile after an ambiguous failure: the post if an earlier attempt made it (published at or after
        `since`), None when the network confirms it is absent. Raises (TransientError, PermanentError, ...) when
        it cannot tell: the caller must then neither resend nor guess."""

    async def profile_metrics(self) -> ProfileMetrics:
        """Follower and post counts for the connected account."""

    async def post_metrics(self, external_ids: list[str]) -> list[PostMetrics]:
        """Engagement numbers for our own published posts."""

    async def aclose(self) -> None:
        """Release network resources."""


@runtime_checkable
class Moderator(Protocol):
    """Optional: a connector that can moderate comments and replies on the agency's own posts. It lists what it
    can do in `moderation` (see `moderation_support`), and raises NotSupported for anything else."""

    moderation: tuple[ModerationSupport, ...]

    async def moderate(self, action: str, target: ModerationTarget) -> ModerationResult:
        """Do `action` on `target`; raises AuthError, RateLimited, TransientError, OutcomeUnknown, NotFound,
        PermanentError or NotSupported."""

    async def moderation_state(self, action: str, target: ModerationTarget) -> ModerationResult | None:
        """Reconcile after an ambiguous failure: the result if the network shows `action` took effect, None if it
        shows it did not. Raises NotSupported when the network cannot tell (the caller then decides whether
        repeating is safe: see IDEMPOTENT_MODERATION)."""


def replace(obj, **changes):
    """dataclasses.replace, re-exported so callers need not import dataclasses."""
    return dataclasses.replace(obj, **changes)
