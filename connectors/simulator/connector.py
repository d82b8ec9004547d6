"""SimulatorConnector: the Connector protocol over the built-in simulated network."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

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
    SearchQuery,
    TransientError,
)
from connectors.simulator import mapping
from connectors.simulator.client import ConfigError, SimConfig, SimulatorServer, cursor_at
from connectors.simulator.limits import LIMITS

log = logging.getLogger(__name__)
T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SimulatorConnector:
    """A simulated social network that behaves like a real one behind the same interface.

    config: handle, profile_key, state_path (SQLite file shared by every process; default
    data/simulator.db), scenario ("normal" or "flood"), scenario_started_at, time_scale,
    fault_429_rate, fault_5xx_rate, and optionally timezone, city, city_ar, display_name,
    rate_limit (calls per 5 minutes, 0 = off) and idempotency_ttl (seconds, 0 = forever)."""

    network = "simulator"
    limits: Limits = LIMITS
    # The simulated network can do every moderation action, so the whole flow can be tried without a real one.
    moderation = tuple(ModerationSupport(a) for a in ("hide", "unhide", "delete", "block", "mute", "report"))

    def __init__(self, credentials: Credentials, *, clock: Callable[[], datetime] | None = None):
        self._clock = clock or _utc_now
        self._server: SimulatorServer | None = None
        self._config_error: ConfigError | None = None
        try:
            self.config: SimConfig | None = SimConfig.from_mapping(credentials.config or {})
            self._server = SimulatorServer(self.config, self._now)
            if not self.config.honour_idempotency:
                self.limits = dataclasses.replace(LIMITS, supports_idempotency=False)
        except ConfigError as exc:
            # A bad profile must not crash whoever builds connectors; every call reports it instead.
            self.config = None
            self._config_error = exc

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo else now.replace(tzinfo=timezone.utc)

    @property
    def server(self) -> SimulatorServer:
        """The simulated network itself, for tests and benchmarks that look behind the API."""
        if self._server is None:
            error = self._config_error
            if error is not None and error.auth:
                raise AuthError(str(error))
            raise PermanentError(str(error) if error else "the simulator is not configured")
        return self._server

    def _sync(self, call: Callable[[SimulatorServer], T]) -> T:
        server = self.server
        try:
            return call(server)
        except sqlite3.Error as exc:
            raise TransientError(f"the simulator's state file is unavailable: {exc}") from exc
        except OSError as exc:
            raise TransientError(f"the simulator's state file is unavailable: {exc}") from exc

    async def _call(self, call: Callable[[SimulatorServer], T]) -> T:
        # SQLite and the generator block; a thread keeps the event loop free while they work.
        return await asyncio.to_thread(self._sync, call)

    # ------------------------------------------------------------ the Connector protocol

    async def check(self) -> Author:
        return mapping.author_from_raw(await self._call(lambda s: s.verify_credentials()))

    async def fetch_mentions(self, cursor: str = "") -> Page:
        return self._page(await self._call(lambda s: s.mentions(cursor)))

    async def search(self, query: SearchQuery, cursor: str = "") -> Page:
        if not query.terms.strip():
            raise PermanentError("empty search query")
        return self._page(await self._call(lambda s: s.search(query.terms, lang=query.lang, cursor=cursor, limit=query.limit)))

    async def publish(self, post: OutboundPost) -> PublishResult:
        raw = await self._call(
            lambda s: s.create_status(
                post.text, idempotency_key=post.idempotency_key, in_reply_to_id=post.in_reply_to_id, media=tuple(post.media),
                link=post.link,
            )
        )
        return mapping.publish_result_from_raw(raw)

    async def find_published(self, post: OutboundPost, since: datetime) -> PublishResult | None:
        """Our own posts since `since` with the same text and parent (never by key: a network may ignore keys)."""
        raw = await self._call(lambda s: s.find_own_post(post.text, post.link, post.in_reply_to_id, since))
        return mapping.publish_result_from_raw(raw) if raw else None

    async def profile_metrics(self) -> ProfileMetrics:
        return mapping.profile_metrics_from_raw(await self._call(lambda s: s.account_metrics()))

    async def post_metrics(self, external_ids: list[str]) -> list[PostMetrics]:
        ids = list(external_ids)
        return [mapping.post_metrics_from_raw(raw) for raw in await self._call(lambda s: s.status_metrics(ids))]

    async def moderate(self, action: str, target: ModerationTarget) -> ModerationResult:
        if action not in {m.action for m in self.moderation}:
            raise NotSupported("The simulator does not know this moderation action.")
        raw = await self._call(lambda s: s.moderate(action, target.external_id, target.author_external_id, target.note))
        return ModerationResult(action, _state(action, raw), raw)

    async def moderation_state(self, action: str, target: ModerationTarget) -> ModerationResult | None:
        raw = await self._call(lambda s: s.moderation_status(target.external_id, target.author_external_id))
        took = {"hide": raw["hidden"], "unhide": not raw["hidden"], "delete": raw["deleted"]}.get(action)
        if took is None:
            took = action in raw["account_actions"]
        return ModerationResult(action, _state(action, raw), raw) if took else None

    async def aclose(self) -> None:
        """Nothing to release: every call opens and closes its own SQLite connection."""

    @staticmethod
    def _page(raw: dict[str, Any]) -> Page:
        items, skipped = mapping.messages_from_raw(raw.get("items"))
        for reason in skipped:
            log.warning("simulator: skipped an item: %s", reason)
        return Page(items=items, cursor=str(raw.get("next_cursor") or ""), skipped=skipped,
                    rate_limit=mapping.rate_limit_from_raw(raw.get("rate_limit")))

    # ------------------------------------------------------------ extras: demo seeding, tests, benchmarks

    def history(self, since: datetime, until: datetime, *, include_public: bool = False) -> list[InboundMessage]:
        """Back-fill: every mention-stream event with since <= created/edited/deleted time < until, never past
        the clock, oldest first, exactly as paging fetch_mentions over that span would report them.
        Blocking (about a second per month); use asyncio.to_thread from async code."""
        items, _skipped = mapping.messages_from_raw(self._sync(lambda s: s.history(since, until, include_public=include_public)))
        return items

    def moderation_status(self, external_id: str, account_id: str = "") -> dict[str, Any]:
        """What the simulated network shows for a comment now (hidden, deleted) and for its author: for tests and demos."""
        return self._sync(lambda s: s.moderation_status(external_id, account_id))

    @staticmethod
    def cursor_at(moment: datetime) -> str:
        """A fetch_mentions/search cursor that resumes at `moment` (inclusive)."""
        return cursor_at(moment)

    def inject_faults(self, faults: list[str]) -> None:
        """Queue faults for the next calls of this profile, in every process: "429" (or "429:<seconds>"),
        "500"/"502"/"503"/"504", "timeout", "timeout-after" (the call takes effect, then times out),
        "401"/"403" (AuthError), "400"/"422" (PermanentError). Raises ValueError for anything else."""
        self._sync(lambda s: s.inject_faults(list(faults)))

    def pending_faults(self) -> list[str]:
        return self._sync(lambda s: s.pending_faults())

    def received_log(self) -> list[dict[str, Any]]:
        """Every publish call the network received, oldest first: id, called_at, idempotency_key,
        external_id ("" when nothing was created), deduplicated, text, in_reply_to_id and outcome
        ("created", "deduplicated", "rejected: ..." or "fault: ...")."""
        return self._sync(lambda s: s.received_log())

    def published_posts(self) -> list[dict[str, Any]]:
        """Our posts as the network stores them, oldest first."""
        return self._sync(lambda s: s.published_posts())


def _state(action: str, raw: dict[str, Any]) -> str:
    if action in ("hide", "unhide", "delete"):
        return "deleted" if raw.get("deleted") else "hidden" if raw.get("hidden") else "visible"
    return {"block": "blocked", "mute": "muted", "report": "reported"}[action]
