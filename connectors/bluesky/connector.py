"""The Bluesky connector: sessions, the mention poll, search, publishing and metrics over XRPC."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx

from connectors import http as shared_http
from connectors.base import (
    KIND_REPLY,
    AuthError,
    Author,
    ConnectorError,
    Credentials,
    InboundMessage,
    ModerationResult,
    ModerationSupport,
    ModerationTarget,
    NotFound,
    NotSupported,
    OutboundPost,
    Page,
    PermanentError,
    PostMetrics,
    ProfileMetrics,
    PublishResult,
    RateLimited,
    SearchQuery,
    unsupported,
)
from connectors.bluesky import cursors, facets, mapping, records
from connectors.bluesky.client import DEFAULT_SERVICE, RecordNotFound, SessionExpired, XrpcClient
from connectors.bluesky.limits import LIMITS, validate
from connectors.media import read_media

THREADGATE = "app.bsky.feed.threadgate"


def _now_iso() -> str:
    from datetime import timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

__all__ = ["BlueskyConnector"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# A poll walks back at most this many API pages looking for the previous watermark; past that
# the gap is reported in Page.skipped rather than walking an account's whole history.
MAX_POLL_PAGES = 10
NOTIFICATION_PAGE = 100
GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs
PUBLISH_ATTEMPTS = 3

# (access token, API cursor) -> (items newest first, next API cursor)
Fetch = Callable[[str, str], Awaitable[tuple[list[Any], str]]]


class BlueskyConnector:
    """Connector for Bluesky (any AT Protocol PDS), logging in with a handle and an app password.

    config: `handle`; `service_url` (the PDS, default https://bsky.social); `appview_url` (optional
    public AppView for unauthenticated reads); `post_langs` (BCP 47 tags written into every post,
    a list or "ar,en"). secrets: `app_password`."""

    network = "bluesky"
    limits = LIMITS

    def __init__(self, credentials: Credentials, *, http_client: httpx.AsyncClient | None = None):
        config, secrets = credentials.config, credentials.secrets
        self._identifier = str(config.get("handle") or "").strip().lstrip("@")
        self._password = str(secrets.get("app_password") or "")
        self._langs = _langs(config.get("post_langs"))
        service_url = str(config.get("service_url") or DEFAULT_SERVICE)
        self._client = XrpcClient(
            service_url,
            appview_url=str(config.get("appview_url") or ""),
            http_client=http_client,
            budget_key=f"bluesky:{service_url}:{self._identifier}",
        )
        self._session: mapping.Session | None = None
        self._session_lock = asyncio.Lock()

    # ------------------------------------------------------------ session

    async def _login(self) -> mapping.Session:
        if not self._identifier or not self._password:
            raise AuthError("Bluesky needs a handle and an app password")
        try:
            data = await self._client.create_session(self._identifier, self._password)
        except PermanentError as exc:
            # A malformed identifier is answered 400, but to the user it is the same as a wrong password.
            raise AuthError(f"Bluesky rejected the login for {self._identifier}: {exc}") from exc
        self._session = mapping.session_from(data)
        return self._session

    async def _current_session(self) -> mapping.Session:
        async with self._session_lock:
            return self._session or await self._login()

    async def _renew(self, stale: mapping.Session) -> mapping.Session:
        async with self._session_lock:
            if self._session is not None and self._session is not stale:
                return self._session  # another task renewed it while we waited
            try:
                self._session = mapping.session_from(await self._client.refresh_session(stale.refresh_jwt))
            except AuthError:
                # The refresh token expired or was revoked too: only the password can help now.
                log.info("Bluesky refresh failed for %s; logging in again", self._identifier)
                self._session = None
                return await self._login()
            return self._session

    async def _authed(self, call: Callable[[mapping.Session], Awaitable[T]]) -> T:
        """Run `call` with a session, renewing it once if the PDS says the access token expired."""
        session = await self._current_session()
        try:
            return await call(session)
        except SessionExpired:
            return await call(await self._renew(session))

    # ------------------------------------------------------------ Connector protocol

    async def check(self) -> Author:
        data = await self._authed(lambda s: self._client.get_profile(s.access_jwt, s.did))
        return mapping.author_from(data)

    async def profile_metrics(self) -> ProfileMetrics:
        data = await self._authed(lambda s: self._client.get_profile(s.access_jwt, s.did))
        return mapping.profile_metrics_from(data)

    # ------------------------------------------------------------ moderation: threadgate hidden replies, mute

    moderation = (
        ModerationSupport("hide"), ModerationSupport("unhide"), ModerationSupport("mute"),
        *unsupported("delete", reason="Bluesky does not let you delete other people's replies; hide the reply instead."),
        *unsupported("block", reason="Block the author in the Bluesky app; GovSocial can mute them."),
        *unsupported("report", reason="Reports are made in the network's own app."),
    )

    async def _root_of(self, target: ModerationTarget) -> str:
        if target.conversation_id.startswith("at://"):
            return target.conversation_id
        views = await self._get_posts([target.external_id])
        if not views:
            raise NotFound(f"the reply {target.external_id} is gone from Bluesky")
        view = views[0]
        record = view.get("record") if isinstance(view, dict) else None
        reply = record.get("reply") if isinstance(record, dict) else None
        root = (reply or {}).get("root", {}).get("uri") if isinstance(reply, dict) else None
        return root or target.external_id

    async def _threadgate(self, session: mapping.Session, rkey: str) -> dict[str, Any] | None:
        try:
            data = await self._client.get_record_authed(session.access_jwt, session.did, THREADGATE, rkey)
        except RecordNotFound:
            return None
        value = data.get("value") if isinstance(data, dict) else None
        return value if isinstance(value, dict) else None

    async def moderate(self, action: str, target: ModerationTarget) -> ModerationResult:
        if action == "mute":
            if not target.author_external_id:
                raise PermanentError("the author's DID is not known")
            answer = await self._authed(lambda s: self._client.mute_actor(s.access_jwt, target.author_external_id))
            return ModerationResult(action, "muted", answer)
        if action not in ("hide", "unhide"):
            raise NotSupported({m.action: m.reason for m in self.moderation}.get(action) or "Bluesky cannot do that.")
        root = await self._root_of(target)

        async def gate(session: mapping.Session) -> ModerationResult:
            repo, _collection, rkey = mapping.parse_at_uri(root)
            if repo != session.did:
                raise NotSupported("Bluesky hides replies only in threads that start with your own post.")
            current = await self._threadgate(session, rkey)
            record: dict[str, Any] = dict(current or {"$type": THREADGATE, "post": root,
                                                      "createdAt": _now_iso()})
            hidden = [u for u in record.get("hiddenReplies") or [] if u != target.external_id]
            if action == "hide":
                hidden.append(target.external_id)
            record["hiddenReplies"] = hidden[-300:]  # the lexicon's limit
            answer = await self._client.put_record(session.access_jwt, session.did, THREADGATE, rkey, record)
            return ModerationResult(action, "hidden" if action == "hide" else "visible",
                                    {"threadgate": answer, "hiddenReplies": len(hidden)})

        return await self._authed(gate)

    async def moderation_state(self, action: str, target: ModerationTarget) -> ModerationResult | None:
        if action not in ("hide", "unhide"):
            raise NotSupported("Bluesky cannot tell whether this was done.")
        root = await self._root_of(target)

        async def read(session: mapping.Session) -> ModerationResult | None:
            _repo, _collection, rkey = mapping.parse_at_uri(root)
            gate = await self._threadgate(session, rkey) or {}
            hidden = target.external_id in (gate.get("hiddenReplies") or [])
            took = hidden if action == "hide" else not hidden
            return ModerationResult(action, "hidden" if hidden else "visible", {"threadgate": gate}) if took else None

        return await self._authed(read)

    async def post_metrics(self, external_ids: list[str]) -> list[PostMetrics]:
        uris = []
        for uri in external_ids:
            try:
                mapping.parse_at_uri(uri)
            except PermanentError:
                log.warning("Bluesky post metrics: %r is not a post URI", uri)
                continue
            uris.append(uri)
        metrics = []
        for view in await self._get_posts(uris):
            try:
                metrics.append(mapping.post_metrics_from(view))
            except PermanentError as exc:
                log.warning("Bluesky post metrics skipped: %s", exc)
        return metrics

    async def fetch_mentions(self, cursor: str = "") -> Page:
        async def fetch(token: str, api_cursor: str) -> tuple[list[Any], str]:
            data = await self._client.list_notifications(token, limit=NOTIFICATION_PAGE, cursor=api_cursor)
            return mapping.notifications_from(data)

        raws, skipped, mark = await self._poll(fetch, cursors.decode(cursor), "notifications")
        own_did = self._session.did if self._session else ""
        by_uri: dict[str, InboundMessage] = {}
        for raw in raws:
            try:
                message = mapping.message_from_notification(raw, own_did)
            except PermanentError as exc:
                skipped.append(f"notification skipped: {exc}")
                continue
            if message is None:
                continue
            # Should an AppView send both a reply and a mention notification for one post, keep the reply.
            known = by_uri.get(message.external_id)
            if known is None or message.kind == KIND_REPLY:
                by_uri[message.external_id] = message
        return Page(
            items=list(by_uri.values()),
            cursor=cursors.encode(mark),
            skipped=skipped,
            rate_limit=self._client.budgets["read"].current,
        )

    async def search(self, query: SearchQuery, cursor: str = "") -> Page:
        if not query.terms.strip():
            raise PermanentError("Bluesky search needs search terms")
        limit = max(1, min(100, query.limit))

        async def fetch(token: str, api_cursor: str) -> tuple[list[Any], str]:
            data = await self._client.search_posts(token, query.terms, lang=query.lang, limit=limit, cursor=api_cursor)
            return mapping.search_page_from(data)

        raws, skipped, mark = await self._poll(fetch, cursors.decode(cursor), "search results")
        items: list[InboundMessage] = []
        for raw in raws:
            try:
                items.append(mapping.message_from_post_view(raw))
            except PermanentError as exc:
                skipped.append(f"search result skipped: {exc}")
        return Page(
            items=items,
            cursor=cursors.encode(mark),
            skipped=skipped,
            rate_limit=self._client.budgets["read"].current,
        )

    async def publish(self, post: OutboundPost) -> PublishResult:
        text = validate(post)
        rkey = records.record_key(post.idempotency_key)
        session = await self._current_session()
        existing = await self._existing_post(session, rkey)
        if existing is not None:
            return existing  # an earlier attempt got through; do not even rebuild the post
        record = await self._authed(lambda s: self._build_record(s, text, post))
        attempt = 0
        while True:
            try:
                created = await self._authed(
                    lambda s: self._client.create_record(s.access_jwt, s.did, records.POST_COLLECTION, rkey, record)
                )
            except (AuthError, RateLimited):
                raise
            except ConnectorError as exc:
                # A repeat under the same rkey fails (the PDS answers 500); if the record is there, it was ours.
                existing = await self._existing_post(await self._current_session(), rkey)
                if existing is not None:
                    return existing
                attempt += 1
                if isinstance(exc, PermanentError) or attempt >= PUBLISH_ATTEMPTS:
                    raise
                # Safe to send again: the record key guarantees at most one post.
                await shared_http.sleep(0.5 * 2**attempt)
                continue
            uri = mapping.created_ref_from(created)["uri"]
            return mapping.publish_result_from(uri, record, (await self._current_session()).handle)

    async def recheck(self, external_ids: list[str]) -> list[InboundMessage]:
        """Bluesky notifies no deletions: getPosts omits deleted posts, which come back with deleted=True."""
        from datetime import timezone

        views = await self._get_posts(list(external_ids))
        found: dict[str, InboundMessage] = {}
        for view in views:
            try:
                message = mapping.message_from_post_view(view, kind="mention")
            except ConnectorError:
                continue
            found[message.external_id] = message
        return [found.get(uri) or InboundMessage(network=self.network, external_id=uri, author=Author("", ""), text="",
                                                 created_at=datetime.now(timezone.utc), deleted=True)
                for uri in external_ids]

    async def find_published(self, post: OutboundPost, since: datetime) -> PublishResult | None:
        """The record key is derived from the idempotency key, so getRecord answers exactly (404: absent)."""
        return await self._existing_post(await self._current_session(), records.record_key(post.idempotency_key))

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------ helpers

    async def _poll(
        self, fetch: Fetch, mark: cursors.Watermark | None, what: str
    ) -> tuple[list[Any], list[str], cursors.Watermark | None]:
        """Walk newest-first API pages back to `mark`; return the newer items oldest-first and the new mark.

        The first poll (no mark) takes one page: a newly connected account starts from its recent
        items rather than its whole history."""
        fresh: dict[str, tuple[tuple[datetime, str], Any]] = {}
        skipped: list[str] = []
        api_cursor = ""
        reached = mark is None
        for _ in range(MAX_POLL_PAGES if mark else 1):
            items, api_cursor = await self._authed(lambda s, c=api_cursor: fetch(s.access_jwt, c))
            for raw in items:
                try:
                    key = mapping.sort_key(raw)
                except PermanentError as exc:
                    skipped.append(f"{what}: item skipped: {exc}")
                    continue
                if mark is not None and mark.covers(*key):
                    reached = True
                    continue
                fresh.setdefault(key[1] + "\0" + _reason(raw), (key, raw))
            if reached or not api_cursor:
                reached = True
                break
        if not reached:
            skipped.append(
                f"{what}: more than {MAX_POLL_PAGES} pages arrived since the last poll; older ones were not fetched"
            )
        ordered = sorted(fresh.values(), key=lambda entry: entry[0])
        keys = [key for key, _ in ordered]
        new_mark = mark.advance(keys) if mark else cursors.Watermark.first(keys)
        return [raw for _, raw in ordered], skipped, new_mark

    async def _get_posts(self, uris: Sequence[str]) -> list[Any]:
        views: list[Any] = []
        for start in range(0, len(uris), GET_POSTS_BATCH):
            batch = list(uris[start : start + GET_POSTS_BATCH])
            data = await self._authed(lambda s, b=batch: self._client.get_posts(s.access_jwt, b))
            views.extend(mapping.posts_from(data))
        return views

    async def _existing_post(self, session: mapping.Session, rkey: str) -> PublishResult | None:
        try:
            data = await self._client.get_record(session.did, records.POST_COLLECTION, rkey)
        except RecordNotFound:
            return None  # nothing was published under this key yet
        uri, value = mapping.existing_record_from(data)
        return mapping.publish_result_from(uri, value, session.handle)

    async def _build_record(self, session: mapping.Session, text: str, post: OutboundPost) -> dict[str, Any]:
        spans = facets.detect(text)
        dids = await self._resolve_mentions(session, {s.value for s in spans if s.kind == facets.MENTION})
        reply = None
        if post.in_reply_to_id:
            mapping.parse_at_uri(post.in_reply_to_id)
            parents = await self._get_posts([post.in_reply_to_id])
            if not parents:
                raise PermanentError(f"cannot reply: {post.in_reply_to_id} was not found (deleted?)")
            reply = mapping.reply_refs(parents[0])
        images = []
        for media in post.media:
            data = await asyncio.to_thread(read_media, media.path)
            blob = mapping.blob_from_upload(await self._client.upload_blob(session.access_jwt, data, media.mime_type))
            images.append((blob, media.alt_text))
        return records.post_record(
            text, langs=self._langs, facets=facets.to_facets(spans, dids), reply=reply, images=images
        )

    async def _resolve_mentions(self, session: mapping.Session, handles: set[str]) -> dict[str, str]:
        dids = {}
        for handle in sorted(handles):
            try:
                dids[handle] = mapping.did_from_resolve(await self._client.resolve_handle(session.access_jwt, handle))
            except PermanentError:
                # An unknown handle stays plain text, as the Bluesky app leaves it.
                log.info("Bluesky mention @%s did not resolve; left as text", handle)
        return dids


def _reason(raw: Any) -> str:
    return raw.get("reason", "") if isinstance(raw, dict) and isinstance(raw.get("reason"), str) else ""


def _langs(value: Any) -> tuple[str, ...]:
    """`post_langs` from the profile config: a list or a comma-separated string of BCP 47 tags."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(tag.strip() for tag in value if isinstance(tag, str) and tag.strip())[:3]
