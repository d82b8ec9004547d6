"""InstagramConnector: the Connector protocol over one Instagram professional account through the Graph API."""

from __future__ import annotations

import logging
from datetime import datetime
import re
from collections.abc import Callable
from typing import Any

import httpx

from connectors import http, textcount
from connectors.base import (
    AuthError,
    Author,
    Credentials,
    ModerationResult,
    ModerationSupport,
    ModerationTarget,
    NotSupported,
    MediaAttachment,
    OutboundPost,
    Page,
    PermanentError,
    PostMetrics,
    ProfileMetrics,
    PublishResult,
    SearchQuery,
    unsupported,
    TransientError,
)
from connectors.meta import mapping
from connectors.meta.client import GraphClient, quote_id
from connectors.media import check_media
from connectors.meta.common import TimeCursor, build_page, recent, same_text
from connectors.meta.limits import INSTAGRAM_LIMITS, INSTAGRAM_MAX_HASHTAGS, INSTAGRAM_MAX_MENTIONS

log = logging.getLogger(__name__)

COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},like_count,replies{id,text,timestamp,username,from{id,username},like_count}"
TAGGED_FIELDS = "id,caption,timestamp,username,permalink,media_type,like_count,comments_count"
MEDIA_WATCHED = 25
# Meta asks callers to poll a container about once a minute for up to five minutes; images finish in seconds.
CONTAINER_POLLS = 10
CONTAINER_POLL_SECONDS = 3.0

PublicUrlFor = Callable[[MediaAttachment], str]


class InstagramConnector(http.OwnsHttpClient):
    network = "instagram"
    limits = INSTAGRAM_LIMITS

    def __init__(
        self,
        credentials: Credentials,
        *,
        http_client: httpx.AsyncClient | None = None,
        public_url_for: PublicUrlFor | None = None,
    ):
        """`public_url_for` turns an approved attachment into a URL Meta can fetch: the Graph API
        takes images by URL only, never as an upload."""
        self.ig_user_id = str(credentials.config.get("ig_user_id") or "")
        if not self.ig_user_id.isdigit():
            raise PermanentError("Instagram profile needs its numeric ig_user_id")
        token = str(credentials.secrets.get("page_access_token") or "")
        if not token:
            raise AuthError("Instagram profile has no page_access_token; connect it again")
        self._take_http_client(http_client)
        self._graph = GraphClient(self._http, token, http.budget_for(f"instagram:{self.ig_user_id}"))
        self._public_url_for = public_url_for
        self._username = str(credentials.config.get("username") or "")

    # Instagram comments on our media: hide and unhide (hide=true|false) and delete; the API cannot block or mute.
    moderation = (
        ModerationSupport("hide"), ModerationSupport("unhide"), ModerationSupport("delete"),
        *unsupported("block", "mute", reason="Instagram's API cannot block or mute people."),
        *unsupported("report", reason="Reports are made in the network's own app."),
    )

    async def moderate(self, action: str, target: ModerationTarget) -> ModerationResult:
        from connectors.meta.client import moderate

        cid = quote_id(target.external_id)
        if action in ("hide", "unhide"):
            body = await moderate(self._graph, "POST", cid, {"hide": "true" if action == "hide" else "false"})
            if not (isinstance(body, dict) and body.get("success") is True):
                raise PermanentError("Instagram did not confirm the change")
            return ModerationResult(action, "hidden" if action == "hide" else "visible", {"body": body})
        if action == "delete":
            body = await moderate(self._graph, "DELETE", cid)
            return ModerationResult(action, "deleted", {"body": body})
        raise NotSupported({m.action: m.reason for m in self.moderation}.get(action) or "Instagram cannot do that.")

    async def moderation_state(self, action: str, target: ModerationTarget) -> ModerationResult | None:
        from connectors.base import NotFound

        if action not in ("hide", "unhide", "delete"):
            raise NotSupported("Instagram cannot tell whether this was done.")
        try:
            body = await self._graph.get(quote_id(target.external_id), {"fields": "id,hidden"})
        except NotFound:
            return ModerationResult(action, "deleted", {"gone": True}) if action == "delete" else None
        hidden = bool(body.get("hidden")) if isinstance(body, dict) else False
        took = {"hide": hidden, "unhide": not hidden, "delete": False}[action]
        return ModerationResult(action, "hidden" if hidden else "visible", {"body": body}) if took else None

    async def check(self) -> Author:
        user = await self._graph.get(self.ig_user_id, {"fields": "id,username,name,profile_picture_url,followers_count"})
        author = mapping.map_ig_user(user)
        if author.external_id != self.ig_user_id:
            raise AuthError(f"the token reaches Instagram account {author.external_id}, not {self.ig_user_id}")
        self._username = author.handle.lstrip("@")
        return author

    async def profile_metrics(self) -> ProfileMetrics:
        user = await self._graph.get(self.ig_user_id, {"fields": "followers_count,follows_count,media_count"})
        return mapping.map_ig_profile_metrics(user)

    async def post_metrics(self, external_ids: list[str]) -> list[PostMetrics]:
        results: list[PostMetrics] = []
        for start in range(0, len(external_ids), 50):
            body = await self._graph.get("", {"ids": ",".join(external_ids[start : start + 50]), "fields": "id,like_count,comments_count"})
            for media in (body.values() if isinstance(body, dict) else []):
                try:
                    results.append(mapping.map_ig_post_metrics(media))
                except PermanentError as exc:
                    log.info("instagram: unreadable metrics: %s", exc)
        return results

    async def fetch_mentions(self, cursor: str = "") -> Page:
        """Media we are tagged in and comments (with replies) on our recent media, oldest first.

        Caption and comment @-mentions arrive only through the `mentions` webhook, which
        hands over ids for `mentioned_media` / `mentioned_comment`; see mentioned_media()."""
        position = TimeCursor.parse(cursor)
        skipped: list[str] = []
        raw: list[tuple[Any, Any]] = []

        tagged = await self._graph.edge(f"{self.ig_user_id}/tags", {"fields": TAGGED_FIELDS, "limit": 50}, max_pages=2)
        raw.extend((media, mapping.map_ig_tagged_media) for media in tagged)

        own_media = await self._graph.edge(
            f"{self.ig_user_id}/media", {"fields": "id,timestamp,comments_count", "limit": MEDIA_WATCHED}, max_pages=1
        )
        for media in own_media:
            media_id = media.get("id") if isinstance(media, dict) else None
            if not isinstance(media_id, str):
                skipped.append(f"media without an id: {str(media)[:80]}")
                continue
            if isinstance(media, dict) and media.get("comments_count") == 0:
                continue
            comments = await self._graph.edge(f"{quote_id(media_id)}/comments", {"fields": COMMENT_FIELDS, "limit": 50})
            for comment in comments:
                if not isinstance(comment, dict):
                    skipped.append(f"comment is not an object: {str(comment)[:80]}")
                    continue
                parent_ours = self._is_ours(comment)
                if not parent_ours:
                    raw.append((comment, lambda c, m=media_id: mapping.map_ig_comment(c, media_id=m)))
                replies = comment.get("replies")
                for reply in (replies.get("data", []) if isinstance(replies, dict) else []):
                    if isinstance(reply, dict) and self._is_ours(reply):
                        continue
                    raw.append((reply, lambda r, m=media_id, p=str(comment.get("id") or ""), o=parent_ours:
                                mapping.map_ig_comment(r, media_id=m, parent_id=p, parent_is_ours=o)))
        return build_page(position, raw, skipped, self._graph.budget.current, self.network)

    def _is_ours(self, comment: dict[str, Any]) -> bool:
        sender = comment.get("from")
        if isinstance(sender, dict) and sender.get("id") == self.ig_user_id:
            return True
        return bool(self._username) and comment.get("username") == self._username

    async def mentioned_media(self, media_id: str) -> Any:
        """A post that @-mentions us in its caption, given the media id from the `mentions` webhook."""
        field = f"mentioned_media.media_id({media_id}){{{TAGGED_FIELDS}}}"
        return await self._graph.get(self.ig_user_id, {"fields": field})

    async def search(self, query: SearchQuery, cursor: str = "") -> Page:
        raise PermanentError("Instagram has no public search API")

    async def publish(self, post: OutboundPost) -> PublishResult:
        """A reply to a comment (in_reply_to_id), or an image post through the container flow."""
        text = post.text
        if (over := -textcount.remaining(text, self.limits)) > 0:
            raise PermanentError(f"caption is {over} characters over Instagram's limit of {self.limits.max_chars}")
        if len(re.findall(r"(?<!\w)#\w", text)) > INSTAGRAM_MAX_HASHTAGS:
            raise PermanentError(f"Instagram allows at most {INSTAGRAM_MAX_HASHTAGS} hashtags")
        if len(re.findall(r"(?<!\w)@\w", text)) > INSTAGRAM_MAX_MENTIONS:
            raise PermanentError(f"Instagram allows at most {INSTAGRAM_MAX_MENTIONS} @-mentions")
        if post.in_reply_to_id:
            existing = await self._find_own_reply(post.in_reply_to_id, text)
            if existing is not None:
                return existing
            body = await self._graph.post(f"{quote_id(post.in_reply_to_id)}/replies", {"message": text})
            return PublishResult(external_id=_require_id(body, "reply"))
        if not post.media:
            raise PermanentError("an Instagram post needs at least one image")
        check_media(post, self.limits)
        if self._public_url_for is None:
            raise PermanentError("Instagram takes images by public URL only; no public_url_for was configured")
        existing = await self._find_own_media(text)
        if existing is not None:
            return existing
        container = await self._create_container(post)
        await self._wait_until_finished(container)
        body = await self._graph.post(f"{self.ig_user_id}/media_publish", {"creation_id": container})
        media_id = _require_id(body, "published media")
        return PublishResult(external_id=media_id)

    async def _create_container(self, post: OutboundPost) -> str:
        # Creating containers changes nothing visible and they expire in 24 h, so resending is safe.
        if len(post.media) == 1:
            attachment = post.media[0]
            data = {"image_url": self._public_url_for(attachment), "caption": post.text, "alt_text": attachment.alt_text}
            return _require_id(await self._graph.post(f"{self.ig_user_id}/media", data, idempotent=True), "container")
        children = []
        for attachment in post.media:
            data = {"image_url": self._public_url_for(attachment), "is_carousel_item": "true", "alt_text": attachment.alt_text}
            children.append(_require_id(await self._graph.post(f"{self.ig_user_id}/media", data, idempotent=True), "carousel item"))
        for child in children:
            await self._wait_until_finished(child)
        data = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text}
        return _require_id(await self._graph.post(f"{self.ig_user_id}/media", data, idempotent=True), "carousel")

    async def _wait_until_finished(self, container_id: str) -> None:
        for _ in range(CONTAINER_POLLS):
            status = mapping.container_status(await self._graph.get(quote_id(container_id), {"fields": "status_code"}))
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status in ("ERROR", "EXPIRED"):
                raise PermanentError(f"Instagram could not process media container {container_id}: {status}")
            await http.sleep(CONTAINER_POLL_SECONDS)
        raise TransientError(f"media container {container_id} is still processing")

    async def find_published(self, post: OutboundPost, since: datetime) -> PublishResult | None:
        """No idempotency on the Graph API: reconcile by our recent media (or the comment's replies) with the
        same caption or text. Failing to look raises, so the publisher never resends on a guess."""
        if post.in_reply_to_id:
            return await self._find_own_reply(post.in_reply_to_id, post.text, strict=True)
        return await self._find_own_media(post.text, strict=True)

    async def _find_own_media(self, caption: str, *, strict: bool = False) -> PublishResult | None:
        try:
            items = await self._graph.edge(f"{self.ig_user_id}/media", {"fields": "id,caption,timestamp,permalink", "limit": 10}, max_pages=1)
        except PermanentError as exc:
            if strict:
                raise
            log.info("instagram: could not check for an earlier identical post: %s", exc)
            return None
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and same_text(str(item.get("caption") or ""), caption) and recent(item.get("timestamp")):
                return PublishResult(external_id=item["id"], url=str(item.get("permalink") or ""))
        return None

    async def _find_own_reply(self, comment_id: str, text: str, *, strict: bool = False) -> PublishResult | None:
        try:
            items = await self._graph.edge(f"{quote_id(comment_id)}/replies", {"fields": "id,text,timestamp,username,from{id}"}, max_pages=1)
        except PermanentError as exc:
            if strict:
                raise
            log.info("instagram: could not check for an earlier identical reply: %s", exc)
            return None
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and self._is_ours(item) and same_text(str(item.get("text") or ""), text) and recent(item.get("timestamp")):
                return PublishResult(external_id=item["id"])
        return None


def _require_id(body: Any, what: str) -> str:
    value = body.get("id") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise PermanentError(f"Instagram answered the {what} without an id")
    return value
