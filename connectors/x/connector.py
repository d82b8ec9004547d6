"""XConnector: the Connector protocol over the X API v2 for one account."""

from __future__ import annotations

import hashlib
import html
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors import http, textcount
from connectors.base import (
    KIND_KEYWORD,
    KIND_MENTION,
    AuthError,
    Author,
    Credentials,
    InboundMessage,
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
from connectors.media import check_media
from connectors.x import mapping
from connectors.x.client import PAGE_SIZE, DuplicatePost, XClient
from connectors.x.limits import LIMITS

log = logging.getLogger(__name__)

# A poll reads at most this many pages; an unfinished range is carried in the cursor.
MAX_PAGES_PER_POLL = 5

# How far back publish() looks for a post it may already have made (after a crash or an
# ambiguous timeout). X itself refuses identical text within a similar window.
DUPLICATE_WINDOW = timedelta(hours=24)

FetchPage = Callable[[str, str, str], Awaitable[Any]]


@dataclass(frozen=True)
class Cursor:
    """Where a newest-first X timeline was left.

    `since` is the newest id fully delivered. When a poll stopped part way (page cap or
    failure), the posts between `since` and `until` (exclusive) are still owed, and
    `top` is the newest id already delivered, which becomes `since` once they are in."""

    since: str = ""
    until: str = ""
    top: str = ""

    @classmethod
    def parse(cls, value: str) -> Cursor:
        parts = value.split(":") if value else []
        if not all(p.isdigit() for p in parts) or len(parts) not in (0, 1, 3):
            # An unreadable cursor must not jam polling: start again from the newest posts.
            log.warning("x: ignoring unreadable cursor %r", value[:60])
            return cls()
        return cls(*parts) if parts else cls()

    def __str__(self) -> str:
        return f"{self.since}:{self.until}:{self.top}" if self.until else self.since


def _newer(a: str, b: str) -> bool:
    return not b or (len(a), a) > (len(b), b)


def _normalise(text: str) -> str:
    """Text as X stores it, for duplicate detection: X rewrites every link to t.co, so links are dropped."""
    text = re.sub(r"https?://\S+", "", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


class XConnector(http.OwnsHttpClient):
    network = "x"
    limits = LIMITS

    def __init__(self, credentials: Credentials, *, http_client: httpx.AsyncClient | None = None):
        self.user_id = str(credentials.config.get("user_id") or "")
        if not self.user_id.isdigit():
            raise PermanentError("X profile needs its numeric user_id")
        bearer = str(credentials.secrets.get("bearer_token") or "")
        user_token = str(credentials.secrets.get("user_access_token") or "")
        if not bearer and not user_token:
            raise AuthError("X profile has neither a bearer token nor a user access token; connect it again")
        self._take_http_client(http_client)
        digest = hashlib.sha256(f"{self.user_id}".encode()).hexdigest()[:12]
        self._client = XClient(self._http, bearer_token=bearer, user_token=user_token, budget_key=f"x:{digest}")
        self._username = str(credentials.config.get("username") or "")

    # ------------------------------------------------------------ account

    # X hides replies to our own posts (PUT /2/tweets/:id/hidden); it cannot delete or report others' posts by API.
    moderation = (
        ModerationSupport("hide"), ModerationSupport("unhide"), ModerationSupport("mute"), ModerationSupport("block"),
        *unsupported("delete", reason="X does not let you delete other people's replies; hide the reply instead."),
        *unsupported("report", reason="Reports are made in the network's own app."),
    )

    async def moderate(self, action: str, target: ModerationTarget) -> ModerationResult:
        from connectors.moderation import answer

        if action in ("hide", "unhide"):
            status, body = await self._client.hide_reply(target.external_id, action == "hide")
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, dict) or "hidden" not in data:
                raise PermanentError("X answered without saying whether the reply is hidden")
            return ModerationResult(action, "hidden" if data["hidden"] else "visible", answer(status, body))
        if action in ("mute", "block"):
            if not target.author_external_id:
                raise PermanentError("the author's user id is not known")
            call = self._client.mute if action == "mute" else self._client.block
            status, body = await call(self.user_id, target.author_external_id)
            data = body.get("data") if isinstance(body, dict) else {}
            took = bool((data or {}).get("muting" if action == "mute" else "blocking"))
            return ModerationResult(action, ("muted" if action == "mute" else "blocked") if took else "visible", answer(status, body))
        raise NotSupported({m.action: m.reason for m in self.moderation}.get(action) or "X cannot do that.")

    async def moderation_state(self, action: str, target: ModerationTarget) -> ModerationResult | None:
        # X does not report whether a reply is hidden; every action offered sets a state, so repeating it is safe.
        raise NotSupported("X cannot tell whether a reply is hidden.")

    async def check(self) -> Author:
        body = await self._client.me() if self._client.has_user_token else await self._client.user(self.user_id)
        data = body.get("data") if isinstance(body, dict) else None
        author = mapping.map_user(data)
        if author.external_id != self.user_id:
            raise AuthError(f"the token belongs to user {author.external_id}, not the connected profile {self.user_id}")
        self._username = author.handle.lstrip("@")
        return author

    async def profile_metrics(self) -> ProfileMetrics:
        return mapping.map_profile_metrics(await self._client.user(self.user_id))

    async def post_metrics(self, external_ids: list[str]) -> list[PostMetrics]:
        results: list[PostMetrics] = []
        ids = [i for i in external_ids if i.isdigit()]
        for start in range(0, len(ids), 100):
            body = await self._client.posts(ids[start : start + 100])
            posts, _, _, problems = mapping.page_posts(body)
            for problem in problems:
                log.info("x: metrics unavailable: %s", problem)  # deleted posts come back as partial errors
            for post in posts:
                try:
                    results.append(mapping.map_post_metrics(post))
                except PermanentError as exc:
                    log.info("x: unreadable metrics: %s", exc)
        return results

    # ------------------------------------------------------------ inbound

    async def fetch_mentions(self, cursor: str = "") -> Page:
        async def fetch(since: str, until: str, token: str) -> Any:
            return await self._client.mentions(self.user_id, since_id=since, until_id=until, token=token)

        return await self._collect(fetch, cursor, kind=KIND_MENTION, endpoint="mentions", max_items=PAGE_SIZE * MAX_PAGES_PER_POLL)

    async def search(self, query: SearchQuery, cursor: str = "") -> Page:
        terms = query.terms.strip()
        if not terms:
            raise PermanentError("empty search query")
        if query.lang and "lang:" not in terms:
            terms = f"({terms}) lang:{query.lang}"

        page_size = max(10, min(query.limit, PAGE_SIZE))

        async def fetch(since: str, until: str, token: str) -> Any:
            return await self._client.search_recent(terms, since_id=since, until_id=until, token=token, max_results=page_size)

        return await self._collect(fetch, cursor, kind=KIND_KEYWORD, endpoint="search", max_items=max(1, query.limit))

    async def _collect(self, fetch: FetchPage, cursor_text: str, *, kind: str, endpoint: str, max_items: int) -> Page:
        """Read newest-first pages of the owed range, deliver them oldest first, and say what is still owed.

        X pages backwards in time, so stopping early (page cap or failure) leaves a hole
        between the old cursor and the oldest post read. The cursor records that hole and
        the next poll fills it before moving on, so nothing is lost or delivered twice."""
        cursor = Cursor.parse(cursor_text)
        raw_posts: list[tuple[Any, dict[str, dict[str, Any]]]] = []
        skipped: list[str] = []
        token = ""
        finished = False
        for _ in range(MAX_PAGES_PER_POLL):
            try:
                body = await fetch(cursor.since, cursor.until, token)
                posts, _meta, token, problems = mapping.page_posts(body)
            except (TransientError, RateLimited) as exc:
                if not raw_posts:
                    raise
                log.warning("x: paging stopped, the rest of the range is owed to the next poll: %s", exc)
                break
            users = mapping.users_by_id(body)
            skipped.extend(f"partial error: {p}" for p in problems)
            raw_posts.extend((post, users) for post in posts)
            if not token or not cursor.since or len(raw_posts) >= max_items:
                # No cursor yet: the newest page is all we want.
                finished = not token or not cursor.since
                break

        ids = [p.get("id") for p, _ in raw_posts if isinstance(p, dict) and isinstance(p.get("id"), str) and p["id"].isdigit()]
        newest = max(ids, key=lambda i: (len(i), i), default="")
        oldest = min(ids, key=lambda i: (len(i), i), default="")
        top = cursor.top if cursor.top and not _newer(newest, cursor.top) else (newest or cursor.top)
        if finished or not raw_posts:
            next_cursor = Cursor(since=top or cursor.since)
        else:
            next_cursor = Cursor(since=cursor.since, until=oldest, top=top)

        items: list[InboundMessage] = []
        for post, users in raw_posts:
            try:
                items.append(mapping.map_post(post, users, kind=kind, own_user_id=self.user_id))
            except PermanentError as exc:
                post_id = post.get("id") if isinstance(post, dict) else None
                log.info("x: skipped %s: %s", post_id, exc)
                skipped.append(f"{post_id}: {exc}")
        items.sort(key=lambda m: (len(_latest_id(m)), _latest_id(m)))
        return Page(items=items, cursor=str(next_cursor), skipped=skipped, rate_limit=self._client.budget(endpoint).current)

    # ------------------------------------------------------------ outbound

    async def publish(self, post: OutboundPost) -> PublishResult:
        """POST /2/tweets. X has no idempotency key, so an earlier identical post is looked up first."""
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        if not text.strip() and not post.media:
            raise PermanentError("an X post needs text or media")
        if (over := -textcount.remaining(text, self.limits)) > 0:
            raise PermanentError(f"text is {over} characters over X's limit of {self.limits.max_chars}")
        check_media(post, LIMITS)
        existing = await self._find_own_post(text)
        if existing is not None:
            return existing
        media_ids = []
        for attachment in post.media:
            media_id = await self._client.upload_image(attachment.path, attachment.mime_type)
            await self._client.set_alt_text(media_id, attachment.alt_text)
            media_ids.append(media_id)
        try:
            body = await self._client.create_post(text, in_reply_to_id=post.in_reply_to_id, media_ids=media_ids)
        except DuplicatePost:
            # X refuses a repeat of a recent post; if it is ours, the earlier attempt did succeed.
            if (existing := await self._find_own_post(text)) is not None:
                return existing
            raise
        return mapping.map_created_post(body, self._username)

    async def find_published(self, post: OutboundPost, since: datetime) -> PublishResult | None:
        """X has no idempotency key and no record key we choose: reconcile by our own recent posts (GET
        /2/users/:id/tweets, newest first) with the same text, created since the first attempt. A failure to
        look propagates, so the publisher marks the post "unknown — check" rather than resending."""
        text = post.text
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        return await self._find_own_post(text, since=since, strict=True)

    async def _find_own_post(self, text: str, *, since: datetime | None = None, strict: bool = False) -> PublishResult | None:
        wanted = _normalise(text)
        try:
            body = await self._client.own_recent_posts(self.user_id)
            posts, _, _, _ = mapping.page_posts(body)
        except (PermanentError, TransientError) as exc:
            if strict:
                raise
            # Not being able to look is no reason not to publish; X's own duplicate check still applies.
            log.info("x: could not check recent posts for a duplicate: %s", exc)
            return None
        cutoff = since if since is not None else datetime.now(UTC) - DUPLICATE_WINDOW
        for candidate in posts:
            if not isinstance(candidate, dict) or not isinstance(candidate.get("id"), str):
                continue
            try:
                created = mapping.parse_datetime(candidate.get("created_at"))
            except PermanentError:
                continue
            if created >= cutoff and _normalise(html.unescape(str(candidate.get("text") or ""))) == wanted:
                return PublishResult(
                    external_id=candidate["id"], url=mapping.post_url(self._username, candidate["id"]), published_at=created
                )
        return None


def _latest_id(message: InboundMessage) -> str:
    raw_id = message.raw.get("id") if isinstance(message.raw, dict) else None
    return raw_id if isinstance(raw_id, str) else message.external_id

