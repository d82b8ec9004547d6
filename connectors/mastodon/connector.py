"""MastodonConnector: the Connector protocol over one Mastodon (or API-compatible) account."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from connectors import http, textcount
from connectors.base import (
    AuthError,
    Author,
    Credentials,
    InboundMessage,
    Limits,
    ModerationResult,
    ModerationSupport,
    ModerationTarget,
    NotSupported,
    OutboundPost,
    Page,
    PermanentError,
    PostMetrics,
    ProfileMetrics,
    PublishResult,
    RateLimited,
    SearchQuery,
    TransientError,
    unsupported,
)
from connectors.mastodon import mapping
from connectors.media import check_media
from connectors.mastodon.client import NOTIFICATIONS_PAGE, STATUSES_PAGE, MastodonClient, normalise_instance_url
from connectors.mastodon.limits import DEFAULT_LIMITS, limits_from_instance

IN_APP_REASON = ("Mastodon cannot hide replies to your posts. This hides the reply in GovSocial only; you can also mute, "
                 "block or report the author.")

log = logging.getLogger(__name__)

HASHTAGS_ONLY = "this server searches hashtags only"
_text_search_cache: dict[str, tuple[float, bool]] = {}


class HashtagsOnly(PermanentError):
    """The server cannot search post text (no full-text index): only `#tag` keywords can work there."""

_SINGLE_HASHTAG = re.compile(r"#(\w+)")

# One poll reads at most this many pages; the cursor carries the rest to the next poll.
MAX_PAGES_PER_POLL = 5

# Servers cap `limit` below what we ask (Mastodon before 4.1: 30 notifications; forks: 40), but none
# below 20, so only a page shorter than this proves we have caught up.
SMALLEST_SERVER_PAGE = 20

# Instance limits change rarely; asking on every publish cost 4 requests and 4-5 s each on a real server.
LIMITS_TTL_S = 6 * 3600.0
_limits_cache: dict[str, tuple[float, Limits]] = {}

# Reconciling after an ambiguous publish reads at most this many pages of our own statuses.
RECONCILE_PAGES = 3
# Clocks differ between us and the server: look this far before the first attempt.
CLOCK_SKEW = timedelta(minutes=2)


def reset_caches() -> None:
    """Forget cached instance limits and search capabilities; for tests."""
    _limits_cache.clear()
    _text_search_cache.clear()


FetchPage = Callable[[str, int], Awaitable[tuple[list[Any], str]]]


def id_key(value: str) -> tuple[int, str]:
    """Order Mastodon ids: numeric strings by value, anything else after them lexically."""
    return (len(value), value) if value.isdigit() else (1 << 30, value)


def newer(candidate: str, cursor: str) -> bool:
    return not cursor or id_key(candidate) > id_key(cursor)


class MastodonConnector(http.OwnsHttpClient):
    network = "mastodon"

    def __init__(self, credentials: Credentials, *, http_client: httpx.AsyncClient | None = None):
        token = credentials.secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError("Mastodon profile has no access_token; connect it again")
        self.instance_url = normalise_instance_url(str(credentials.config.get("instance_url") or ""))
        self.instance_host = urllib.parse.urlsplit(self.instance_url).netloc
        self._take_http_client(http_client)
        digest = hashlib.sha256(token.encode()).hexdigest()[:16]
        self._profile_key = f"mastodon:{self.instance_host}:{digest}"
        self._client = MastodonClient(self.instance_url, token, self._http, http.budget_for(self._profile_key))
        self.limits: Limits = DEFAULT_LIMITS
        self._limits_loaded = False
        self._account_id = str(credentials.config.get("account_id") or "")

    # ------------------------------------------------------------ account

    # Mastodon has no way to hide someone else's reply to your post: GovSocial hides it in GovSocial only, and the
    # author can be muted, blocked or reported to the server's moderators.
    moderation = (
        *unsupported("hide", "unhide", mode="in_app", reason=IN_APP_REASON),
        ModerationSupport("block"), ModerationSupport("mute"), ModerationSupport("report"),
        *unsupported("delete", reason="Mastodon does not let you delete other people's posts."),
    )

    async def moderate(self, action: str, target: ModerationTarget) -> ModerationResult:
        if action in ("block", "mute"):
            if not target.author_external_id:
                raise PermanentError("the author's account id is not known")
            rel = await self._client.account_action(target.author_external_id, action)
            return ModerationResult(action, "blocked" if rel.get("blocking") else "muted" if rel.get("muting") else "visible", rel)
        if action == "report":
            body = await self._client.report(target.author_external_id, target.external_id, target.note)
            return ModerationResult(action, "reported", body)
        reason = IN_APP_REASON if action in ("hide", "unhide") else "Mastodon does not let you delete other people's posts."
        raise NotSupported(reason)

    async def moderation_state(self, action: str, target: ModerationTarget) -> ModerationResult | None:
        if action in ("block", "mute"):
            rel = await self._client.relationship(target.author_external_id)
            took = rel.get("blocking" if action == "block" else "muting")
            return ModerationResult(action, "blocked" if action == "block" else "muted", rel) if took else None
        raise NotSupported("Mastodon cannot list the reports you filed.")

    async def check(self) -> Author:
        account = await self._client.verify_credentials()
        author = mapping.map_account(account, self.instance_host)
        self._account_id = author.external_id
        await self.load_limits()
        return author

    async def load_limits(self) -> Limits:
        """Read the instance's own limits, cached per profile for LIMITS_TTL_S; keep the defaults if the instance will not say."""
        if not self._limits_loaded:
            cached = _limits_cache.get(self._profile_key)
            if cached is not None and cached[0] > time.monotonic():
                self.limits, self._limits_loaded = cached[1], True
                return self.limits
            try:
                self.limits = limits_from_instance(await self._client.instance(), DEFAULT_LIMITS)
                self._limits_loaded = True
                _limits_cache[self._profile_key] = (time.monotonic() + LIMITS_TTL_S, self.limits)
            except (TransientError, PermanentError) as exc:
                log.warning("mastodon %s: instance limits unavailable, using defaults: %s", self.instance_host, exc)
        return self.limits

    async def _own_account_id(self) -> str:
        if not self._account_id:
            self._account_id = mapping.map_account(await self._client.verify_credentials()).external_id
        return self._account_id

    async def profile_metrics(self) -> ProfileMetrics:
        return mapping.map_profile_metrics(await self._client.verify_credentials())

    async def post_metrics(self, external_ids: list[str]) -> list[PostMetrics]:
        limiter = asyncio.Semaphore(4)

        async def one(status_id: str) -> PostMetrics | None:
            async with limiter:
                try:
                    return mapping.map_post_metrics(await self._client.status(status_id))
                except PermanentError as exc:
                    # Deleted on the network (404) or unreadable: no numbers, but the rest still count.
                    log.info("mastodon %s: no metrics for status %s: %s", self.instance_host, status_id, exc)
                    return None

        results = await asyncio.gather(*(one(i) for i in external_ids))
        return [r for r in results if r is not None]

    # ------------------------------------------------------------ inbound

    async def fetch_mentions(self, cursor: str = "") -> Page:
        own_id = await self._own_account_id()

        def mapper(notification: Any) -> InboundMessage:
            return mapping.map_notification(notification, own_account_id=own_id, instance_host=self.instance_host)

        async def fetch(min_id: str, limit: int) -> tuple[list[Any], str]:
            return await self._client.mention_notifications(min_id=min_id, limit=limit)

        return await self._collect(fetch, mapper, cursor, page_size=NOTIFICATIONS_PAGE, max_items=NOTIFICATIONS_PAGE * MAX_PAGES_PER_POLL)

    async def recheck(self, external_ids: list[str]) -> list[InboundMessage]:
        """The current state of statuses we received: Mastodon sends no notification when a mention is edited or
        deleted, so the poller asks again for recent ones. A 404 means deleted (reported with deleted=True)."""
        limiter = asyncio.Semaphore(4)
        own_id = await self._own_account_id()

        async def one(status_id: str) -> InboundMessage | None:
            async with limiter:
                try:
                    status = await self._client.status(status_id)
                except PermanentError as exc:
                    if "HTTP 404" in str(exc) or "HTTP 410" in str(exc):
                        return _deleted(self.network, status_id)
                    log.info("mastodon %s: could not re-check %s: %s", self.instance_host, status_id, exc)
                    return None
                try:
                    return mapping.map_status(status, kind="mention", own_account_id=own_id, instance_host=self.instance_host)
                except PermanentError:
                    return None

        return [m for m in await asyncio.gather(*(one(i) for i in external_ids)) if m is not None]

    async def search(self, query: SearchQuery, cursor: str = "") -> Page:
        terms = query.terms.strip()
        if not terms:
            raise PermanentError("empty search query")
        page_size = max(1, min(STATUSES_PAGE, query.limit))
        words = terms.split()
        hashtags = [w[1:] for w in words if _SINGLE_HASHTAG.fullmatch(w)]
        # Only hashtags (one, or several that must all be present): the tag timeline, which every server
        # serves, even those whose search finds no post text (issue 14).
        tag = _SINGLE_HASHTAG.fullmatch(words[0]) if words and len(hashtags) == len(words) else None

        if cursor == "0":
            cursor = ""  # written by earlier versions; it meant "nothing seen yet"

        async def fetch(min_id: str, limit: int) -> tuple[list[Any], str]:
            if tag:
                return await self._client.tag_timeline(tag.group(1), min_id=min_id, limit=limit, all_tags=tuple(hashtags[1:]))
            # /api/v2/search takes no min_id: one page of the newest matches; _collect drops what is not newer.
            return await self._client.search_statuses(terms, limit=limit)

        def mapper(status: Any) -> InboundMessage:
            return mapping.map_status(status, instance_host=self.instance_host)

        page = await self._collect(fetch, mapper, cursor, page_size=page_size, max_items=max(1, query.limit),
                                   single_page=not tag)
        if page.cursor == "0":
            page = Page(items=page.items, cursor="", skipped=page.skipped, rate_limit=page.rate_limit)
        if not tag and not page.items and not cursor and await self.searches_hashtags_only():
            raise HashtagsOnly(HASHTAGS_ONLY)
        if query.lang:
            # Neither endpoint filters by language; statuses without a language tag are kept.
            kept = [m for m in page.items if not m.lang or m.lang.split("-")[0] == query.lang.split("-")[0]]
            page = Page(items=kept, cursor=page.cursor, skipped=page.skipped, rate_limit=page.rate_limit)
        return page

    async def _collect(
        self,
        fetch: FetchPage,
        mapper: Callable[[Any], InboundMessage],
        cursor: str,
        *,
        page_size: int,
        max_items: int,
        single_page: bool = False,
    ) -> Page:
        """Walk forward from `cursor` with min_id, oldest first, until caught up or `max_items` read.

        A failure after some pages were read returns what was read with the cursor
        just past it, so the next poll resumes exactly there: nothing is lost or repeated."""
        items: list[InboundMessage] = []
        skipped: list[str] = []
        position = cursor
        seen = 0
        while True:
            try:
                batch, offered = await fetch(position, page_size)
            except (TransientError, RateLimited) as exc:
                if position == cursor:
                    raise
                log.warning("mastodon %s: paging stopped at %s, resuming next poll: %s", self.instance_host, position, exc)
                break
            fresh: list[tuple[str, Any]] = []
            for raw in batch:
                raw_id = raw.get("id") if isinstance(raw, dict) else None
                if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and str(raw_id):
                    # Servers that ignore min_id (or search) may repeat what we already have.
                    if newer(str(raw_id), position):
                        fresh.append((str(raw_id), raw))
                else:
                    skipped.append(f"item without an id: {str(raw)[:80]}")
            fresh.sort(key=lambda pair: id_key(pair[0]))
            for raw_id, raw in fresh:
                try:
                    items.append(mapper(raw))
                except PermanentError as exc:
                    log.info("mastodon %s: skipped %s: %s", self.instance_host, raw_id, exc)
                    skipped.append(f"{raw_id}: {exc}")
            seen += len(fresh)
            if fresh:
                position = fresh[-1][0]
            elif batch and offered and newer(offered, position):
                # A page of unusable items: step over it by the Link header so it is not re-read forever.
                position = offered
            # Without a cursor we only want the newest page; a short or stale page means we are caught up.
            if single_page or not cursor or not fresh or len(batch) < min(page_size, SMALLEST_SERVER_PAGE) or seen >= max_items:
                break
        if not position:
            # Nothing exists yet: "0" makes the next poll read everything that arrives, however much.
            position = "0"
        return Page(items=items, cursor=position, skipped=skipped, rate_limit=self._client.rate_limit)

    async def searches_hashtags_only(self) -> bool:
        """True when the server cannot search post text: a word from our own newest status (which every
        full-text Mastodon lets its author find) finds nothing. Cached per instance; False when unsure."""
        cached = _text_search_cache.get(self.instance_host)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            own = await self._client.own_statuses(await self._own_account_id(), limit=5)
        except (TransientError, PermanentError, RateLimited):
            return False
        for status in own:
            if not isinstance(status, dict):
                continue
            words = sorted({w for w in re.findall(r"[^\W\d_]{5,}", mapping.html_to_text(status.get("content")))}, key=len, reverse=True)
            if not words:
                continue
            try:
                found, _ = await self._client.search_statuses(words[0], limit=STATUSES_PAGE)
            except (TransientError, PermanentError, RateLimited):
                return False
            hashtags_only = not any(isinstance(s, dict) and str(s.get("id")) == str(status.get("id")) for s in found)
            _text_search_cache[self.instance_host] = (time.monotonic() + LIMITS_TTL_S, hashtags_only)
            return hashtags_only
        return False

    # ------------------------------------------------------------ outbound

    async def find_published(self, post: OutboundPost, since: datetime) -> PublishResult | None:
        """Reconcile after an ambiguous publish: our own statuses since the first attempt, matched by text
        (and the status answered). None only when the pages read reach back past `since` without a match;
        a failure to read, or a window we could not read to its start, raises (never a guess)."""
        wanted = _normalise(_status_text(post))
        cutoff = since - CLOCK_SKEW
        account_id = await self._own_account_id()
        max_id = ""
        for _ in range(RECONCILE_PAGES):
            statuses = await self._client.own_statuses(account_id, limit=STATUSES_PAGE, max_id=max_id)
            if not statuses:
                return None
            for status in statuses:
                if not isinstance(status, dict):
                    continue
                try:
                    created = mapping.parse_datetime(status.get("created_at"))
                except PermanentError:
                    continue
                if created < cutoff:
                    return None
                if (_normalise(mapping.html_to_text(status.get("content"))) == wanted
                        and str(status.get("in_reply_to_id") or "") == (post.in_reply_to_id or "")):
                    return mapping.map_publish_result(status)
            if len(statuses) < min(STATUSES_PAGE, SMALLEST_SERVER_PAGE):
                return None
            max_id = str(statuses[-1].get("id") or "") if isinstance(statuses[-1], dict) else ""
            if not max_id:
                break
        raise TransientError("could not read back far enough to confirm whether the post was published")

    async def publish(self, post: OutboundPost) -> PublishResult:
        if not post.idempotency_key:
            raise PermanentError("an idempotency key is required to publish")
        limits = await self.load_limits()
        text = _status_text(post)
        if not text.strip() and not post.media:
            raise PermanentError("a Mastodon status needs text or media")
        if (over := -textcount.remaining(text, limits)) > 0:
            raise PermanentError(f"text is {over} characters over this instance's limit of {limits.max_chars}")
        check_media(post, limits, per="status")
        media_ids = []
        for attachment in post.media:
            media = await self._client.upload_media(attachment.path, attachment.mime_type, attachment.alt_text)
            media_ids.append(str(media["id"]))
        status = await self._client.post_status(
            text, idempotency_key=post.idempotency_key, in_reply_to_id=post.in_reply_to_id, media_ids=media_ids
        )
        return mapping.map_publish_result(status)


def _deleted(network: str, external_id: str) -> InboundMessage:
    """A stand-in for a message the network no longer has: ingest records the deletion as a version."""
    return InboundMessage(network=network, external_id=external_id, author=Author("", ""), text="",
                          created_at=datetime.now(timezone.utc), deleted=True)


def _status_text(post: OutboundPost) -> str:
    text = post.text
    if post.link and post.link not in text:
        text = f"{text}\n\n{post.link}" if text else post.link
    return text


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()

