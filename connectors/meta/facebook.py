"""FacebookConnector: the Connector protocol over one Facebook Page through the Graph API."""

from __future__ import annotations

import json
from datetime import datetime
import logging
from pathlib import Path
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
    OutboundPost,
    Page,
    PermanentError,
    PostMetrics,
    ProfileMetrics,
    PublishResult,
    SearchQuery,
    unsupported,
)
from connectors.meta import mapping
from connectors.meta.client import DuplicatePost, GraphClient, quote_id
from connectors.media import check_media, read_media
from connectors.meta.common import TimeCursor, build_page, recent, same_text
from connectors.meta.limits import FACEBOOK_LIMITS

log = logging.getLogger(__name__)

COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id,from{id}},permalink_url,like_count,comment_count"
TAGGED_FIELDS = "id,message,created_time,from{id,name},permalink_url"
# Comments are polled under this many of the Page's newest posts; older threads need the webhook.
POSTS_WATCHED = 25


class FacebookConnector(http.OwnsHttpClient):
    network = "facebook"
    limits = FACEBOOK_LIMITS

    def __init__(self, credentials: Credentials, *, http_client: httpx.AsyncClient | None = None):
        self.page_id = str(credentials.config.get("page_id") or "")
        if not self.page_id.isdigit():
            raise PermanentError("Facebook profile needs its numeric page_id")
        token = str(credentials.secrets.get("page_access_token") or "")
        if not token:
            raise AuthError("Facebook Page has no page_access_token; connect it again")
        self._take_http_client(http_client)
        self._graph = GraphClient(self._http, token, http.budget_for(f"facebook:{self.page_id}"))

    # Page comments: hide and unhide (is_hidden), delete, and ban the author from the Page (blocked).
    moderation = (
        ModerationSupport("hide"), ModerationSupport("unhide"), ModerationSupport("delete"), ModerationSupport("block"),
        *unsupported("mute", reason="Facebook pages cannot mute people."),
        *unsupported("report", reason="Reports are made in the network's own app."),
    )

    async def moderate(self, action: str, target: ModerationTarget) -> ModerationResult:
        from connectors.meta.client import moderate

        cid = quote_id(target.external_id)
        if action in ("hide", "unhide"):
            body = await moderate(self._graph, "POST", cid, {"is_hidden": "true" if action == "hide" else "false"})
            if not (isinstance(body, dict) and body.get("success") is True):
                raise PermanentError("Facebook did not confirm the change")
            return ModerationResult(action, "hidden" if action == "hide" else "visible", {"body": body})
        if action == "delete":
            body = await moderate(self._graph, "DELETE", cid)
            return ModerationResult(action, "deleted", {"body": body})
        if action == "block":
            if not target.author_external_id:
                raise PermanentError("the author's id is not known")
            body = await moderate(self._graph, "POST", f"{self.page_id}/blocked", {"user": target.author_external_id})
            return ModerationResult(action, "blocked", {"body": body})
        raise NotSupported({m.action: m.reason for m in self.moderation}.get(action) or "Facebook cannot do that.")

    async def moderation_state(self, action: str, target: ModerationTarget) -> ModerationResult | None:
        from connectors.base import NotFound

        if action not in ("hide", "unhide", "delete"):
            raise NotSupported("Facebook cannot tell whether this was done.")
        try:
            body = await self._graph.get(quote_id(target.external_id), {"fields": "id,is_hidden"})
        except NotFound:
            return ModerationResult(action, "deleted", {"gone": True}) if action == "delete" else None
        except PermanentError as exc:
            if "does not exist" in str(exc):
                return ModerationResult(action, "deleted", {"gone": True}) if action == "delete" else None
            raise
        hidden = bool(body.get("is_hidden")) if isinstance(body, dict) else False
        took = {"hide": hidden, "unhide": not hidden, "delete": False}[action]
        return ModerationResult(action, "hidden" if hidden else "visible", {"body": body}) if took else None

    async def check(self) -> Author:
        page = await self._graph.get(self.page_id, {"fields": "id,name,username,picture{url},followers_count,fan_count,verification_status"})
        author = mapping.map_fb_page(page)
        if author.external_id != self.page_id:
            raise AuthError(f"the token is for Page {author.external_id}, not {self.page_id}")
        return author

    async def profile_metrics(self) -> ProfileMetrics:
        return mapping.map_fb_profile_metrics(await self._graph.get(self.page_id, {"fields": "followers_count,fan_count"}))

    async def post_metrics(self, external_ids: list[str]) -> list[PostMetrics]:
        fields = "id,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
        results: list[PostMetrics] = []
        for start in range(0, len(external_ids), 50):  # the ?ids= lookup takes at most 50
            body = await self._graph.get("", {"ids": ",".join(external_ids[start : start + 50]), "fields": fields})
            for post in (body.values() if isinstance(body, dict) else []):
                try:
                    results.append(mapping.map_fb_post_metrics(post))
                except PermanentError as exc:
                    log.info("facebook: unreadable metrics: %s", exc)
        return results

    async def fetch_mentions(self, cursor: str = "") -> Page:
        """Comments under the Page's recent posts and posts the Page is tagged in, oldest first."""
        position = TimeCursor.parse(cursor)
        since = {"since": position.since} if position.since else {}
        skipped: list[str] = []
        raw: list[tuple[Any, Any]] = []

        tagged = await self._graph.edge(f"{self.page_id}/tagged", {"fields": TAGGED_FIELDS, "limit": 50, **since})
        raw.extend((post, mapping.map_fb_tagged_post) for post in tagged)

        posts = await self._graph.edge(f"{self.page_id}/feed", {"fields": "id,updated_time", "limit": POSTS_WATCHED}, max_pages=1)
        for post in posts:
            post_id = post.get("id") if isinstance(post, dict) else None
            if not isinstance(post_id, str):
                skipped.append(f"feed item without an id: {str(post)[:80]}")
                continue
            if position.since and not _touched_since(post, position.since):
                continue
            comments = await self._graph.edge(
                f"{quote_id(post_id)}/comments",
                {"fields": COMMENT_FIELDS, "filter": "stream", "order": "chronological", "limit": 100, **since},
            )
            for comment in comments:
                if _from_id(comment) == self.page_id:
                    continue  # our own replies are not inbound
                raw.append((comment, lambda c, p=post_id: mapping.map_fb_comment(c, post_id=p, page_id=self.page_id)))
        return build_page(position, raw, skipped, self._graph.budget.current, self.network)

    async def search(self, query: SearchQuery, cursor: str = "") -> Page:
        raise PermanentError("Facebook has no public search API")

    async def publish(self, post: OutboundPost) -> PublishResult:
        """A Page post (text, link, photos) or, with in_reply_to_id, a comment reply."""
        text = post.text
        if (over := -textcount.remaining(text, self.limits)) > 0:
            raise PermanentError(f"text is {over} characters over Facebook's limit")
        check_media(post, self.limits)
        target = post.in_reply_to_id
        existing = await self._find_own(text, target)
        if existing is not None:
            return existing
        try:
            if target:
                body = await self._graph.post(f"{quote_id(target)}/comments", {"message": text})
            elif post.media:
                body = await self._publish_photos(post)
            else:
                data = {"message": text}
                if post.link:
                    data["link"] = post.link
                body = await self._graph.post(f"{self.page_id}/feed", data)
        except DuplicatePost:
            # The earlier attempt did go through; hand back that post rather than fail.
            if (existing := await self._find_own(text, target)) is not None:
                return existing
            raise
        new_id = (body.get("post_id") or body.get("id")) if isinstance(body, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise PermanentError("Facebook answered without an id")
        return PublishResult(external_id=new_id, url=f"https://www.facebook.com/{new_id}")

    async def _publish_photos(self, post: OutboundPost) -> Any:
        """Photos are uploaded unpublished, then attached to one feed post, so the post appears once, complete."""
        media_ids = []
        for attachment in post.media:
            content = read_media(attachment.path)
            data = {"published": "false", "alt_text_custom": attachment.alt_text}
            body = await self._graph.post(
                f"{self.page_id}/photos", data, files={"source": (Path(attachment.path).name, content, attachment.mime_type)}, idempotent=True
            )
            if not isinstance(body, dict) or not isinstance(body.get("id"), str):
                raise PermanentError("photo upload answered without an id")
            media_ids.append(body["id"])
        data = {"message": post.text}
        for index, media_id in enumerate(media_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": media_id})
        return await self._graph.post(f"{self.page_id}/feed", data)

    async def find_published(self, post: OutboundPost, since: datetime) -> PublishResult | None:
        """The Graph API has no idempotency: reconcile by the Page's recent posts (or the comment's replies)
        with the same text. Failing to look raises, so the publisher never resends on a guess."""
        return await self._find_own(post.text, post.in_reply_to_id, strict=True)

    async def _find_own(self, text: str, reply_to: str, *, strict: bool = False) -> PublishResult | None:
        """An identical recent post or reply by the Page, which an earlier attempt may have made."""
        if not text.strip():
            if strict:
                raise PermanentError("a post without text cannot be looked up on Facebook; check the Page")
            return None
        try:
            if reply_to:
                items = await self._graph.edge(
                    f"{quote_id(reply_to)}/comments",
                    {"fields": "id,message,created_time,from{id}", "order": "reverse_chronological", "limit": 50},
                    max_pages=1,
                )
            else:
                items = await self._graph.edge(f"{self.page_id}/posts", {"fields": "id,message,created_time", "limit": 10}, max_pages=1)
        except PermanentError as exc:
            if strict:
                raise
            log.info("facebook: could not check for an earlier identical post: %s", exc)
            return None
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            if reply_to and _from_id(item) != self.page_id:
                continue
            if same_text(str(item.get("message") or ""), text) and recent(item.get("created_time")):
                return PublishResult(external_id=item["id"], url=f"https://www.facebook.com/{item['id']}",
                                     published_at=mapping.parse_datetime(item["created_time"]))
        return None


def _from_id(item: Any) -> str:
    sender = item.get("from") if isinstance(item, dict) else None
    return str(sender.get("id") or "") if isinstance(sender, dict) else ""


def _touched_since(post: dict[str, Any], since: int) -> bool:
    try:
        return int(mapping.parse_datetime(post.get("updated_time"), "updated_time").timestamp()) >= since
    except PermanentError:
        return True  # unknown: look anyway
