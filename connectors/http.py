"""The one shared httpx client factory: timeouts, retries with backoff, Retry-After, rate budgets and typed errors."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from connectors.base import (
    AuthError,
    ConnectorError,
    PermanentError,
    RateLimit,
    RateLimited,
    TransientError,
)
from connectors.netguard import BlockedAddress, guarded_transport

__all__ = [
    "MAX_HONOURED_RETRY_AFTER",
    "OwnsHttpClient",
    "USER_AGENT",
    "OutcomeUnknown",
    "RateBudget",
    "budget_for",
    "error_message",
    "json_body",
    "make_client",
    "parse_rate_limit",
    "parse_retry_after",
    "reset_budgets",
    "send",
    "sleep",
]

log = logging.getLogger(__name__)

USER_AGENT = "GovSocial/0.1 (+self-hosted)"

# Waiting longer than this inside a request would hold a scheduler slot hostage;
# past it we hand the wait back to the caller as RateLimited.
MAX_HONOURED_RETRY_AFTER = 30.0

# Used when a 429 carries no hint at all: long enough not to hammer the network.
DEFAULT_RATE_LIMIT_WAIT = 60.0

_RESEND_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class OutcomeUnknown(TransientError):
    """A non-idempotent write failed after it may have reached the network.

    Retrying blindly could publish twice, so the caller must reconcile (look the
    post up) before trying again."""


def make_client(
    base_url: str = "",
    *,
    headers: dict | None = None,
    timeout: float = 15.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient with our user agent, JSON accept header and bounded timeouts."""
    merged = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    merged.update(headers or {})
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
    return httpx.AsyncClient(
        base_url=base_url,
        headers=merged,
        # A dead host should fail fast; a slow upload may legitimately take the full budget.
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=limits,
        # httpx drops the Authorization header when a redirect leaves the origin.
        follow_redirects=True,
        # Instance URLs come from whoever connects a profile, and redirects from the network: only public addresses.
        transport=transport or guarded_transport(limits=limits),
    )


class OwnsHttpClient:
    """A connector or client that uses the HTTP client it is given (shared; whoever made it closes it), or makes its
    own with make_client() and closes that in aclose()."""

    _http: httpx.AsyncClient
    _owns_http: bool = False

    def _take_http_client(self, http_client: httpx.AsyncClient | None) -> httpx.AsyncClient:
        self._owns_http = http_client is None
        self._http = http_client or make_client()
        return self._http

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


async def sleep(seconds: float) -> None:
    """The backoff sleep. Tests monkeypatch `connectors.http.sleep` to record waits instead."""
    await asyncio.sleep(seconds)


# ---------------------------------------------------------------- header parsing


def _now() -> float:
    """Wall-clock seconds; tests replace it together with `sleep` so waiting advances time."""
    return time.time()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (_now() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _parse_reset(value: str, now: float) -> datetime | None:
    """A reset header is an epoch, a delta in seconds (IETF draft) or an ISO 8601 time (Mastodon)."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    if math.isnan(number) or math.isinf(number) or number < 0:
        return None
    # Anything below ~2001 as an epoch must be a delta instead.
    epoch = number if number > 1e9 else now + number
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _int_header(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        # IETF drafts allow "100, 100;w=60"; the first item is the one that applies.
        return int(float(value.split(",")[0].split(";")[0].strip()))
    except (ValueError, OverflowError):
        return None


_RATE_LIMIT_PREFIXES = ("x-ratelimit-", "x-rate-limit-", "ratelimit-")


def parse_rate_limit(headers: Mapping[str, str], *, now: float | None = None) -> RateLimit | None:
    """Read X-RateLimit-*, x-rate-limit-* (X) or RateLimit-* (IETF, Bluesky) headers; None when absent."""
    now = _now() if now is None else now
    for prefix in _RATE_LIMIT_PREFIXES:
        limit = _int_header(headers.get(prefix + "limit"))
        remaining = _int_header(headers.get(prefix + "remaining"))
        reset_raw = headers.get(prefix + "reset")
        reset_at = _parse_reset(reset_raw, now) if reset_raw is not None else None
        if limit is not None or remaining is not None or reset_at is not None:
            return RateLimit(limit=limit, remaining=remaining, reset_at=reset_at)
    return None


# ---------------------------------------------------------------- rate budgets


class RateBudget:
    """What a network says is left of one profile's rate limit, so we stop asking before it says 429."""

    def __init__(self, key: str, *, clock: Callable[[], float] | None = None):
        self.key = key
        # Resolved per call so tests that move `connectors.http._now` forward move every budget with it.
        self._clock = clock or (lambda: _now())
        self._current = RateLimit()

    @property
    def current(self) -> RateLimit:
        return self._current

    def update(self, headers: Mapping[str, str]) -> RateLimit:
        parsed = parse_rate_limit(headers, now=self._clock())
        if parsed is not None:
            self._current = parsed
        return self._current

    def mark_exhausted(self, retry_after: float) -> None:
        """Record a 429 whose headers carried no budget, so callers stop until it passes."""
        reset_at = datetime.fromtimestamp(self._clock() + max(0.0, retry_after), UTC)
        self._current = RateLimit(limit=self._current.limit, remaining=0, reset_at=reset_at)

    def seconds_until_reset(self) -> float:
        reset_at = self._current.reset_at
        if reset_at is None:
            return 0.0
        return max(0.0, reset_at.timestamp() - self._clock())

    def check(self) -> None:
        """Raise RateLimited while the budget is spent and its reset lies ahead."""
        if self._current.remaining is None or self._current.remaining > 0:
            return
        wait = self.seconds_until_reset()
        if wait > 0:
            raise RateLimited(f"rate budget for {self.key} exhausted", retry_after=wait)

    def __repr__(self) -> str:
        return f"RateBudget({self.key!r}, {self._current!r})"


_budgets: dict[str, RateBudget] = {}


def budget_for(profile_key: str) -> RateBudget:
    """The process-wide budget for one profile (or one profile's endpoint group)."""
    budget = _budgets.get(profile_key)
    if budget is None:
        budget = _budgets[profile_key] = RateBudget(profile_key)
    return budget


def reset_budgets() -> None:
    """Forget every budget; for tests."""
    _budgets.clear()


# ---------------------------------------------------------------- errors from responses


def _first_str(*candidates: Any) -> str:
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return ""


def error_message(response: httpx.Response) -> str:
    """The network's own explanation from an error body (Mastodon, X, Meta, atproto shapes), else the status line."""
    message = ""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        errors = body.get("errors")
        first_error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        message = _first_str(
            error.get("message") if isinstance(error, dict) else None,  # Meta Graph
            body.get("detail"),  # X v2 problem
            body.get("message"),  # atproto
            first_error.get("message"),  # X v1.1 / v2 partial errors
            first_error.get("detail"),
            body.get("error_description"),  # OAuth
            error,  # Mastodon
            body.get("title"),
        )
    if not message:
        text = response.text.strip() if response.content else ""
        message = text[:200] if text and not text.startswith("<") else ""
    status = f"HTTP {response.status_code}"
    return f"{status}: {message}" if message else f"{status} {response.reason_phrase}".strip()


def json_body(response: httpx.Response, *, wrote: bool | None = None) -> Any:
    """The decoded JSON body. A network answering 2xx with something else is a PermanentError for a read,
    but for a write (`wrote`, by default any POST or PATCH) it is OutcomeUnknown: a 2xx says the server
    acted, so the caller must reconcile rather than record a failure that a retry would turn into a double."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        message = f"{response.request.url}: expected JSON, got {response.headers.get('content-type', '?')}"
        if wrote is None:
            wrote = response.request.method.upper() in ("POST", "PATCH")
        if wrote and response.status_code < 300:
            raise OutcomeUnknown(message + "; the server answered success, so the write may have been done") from exc
        raise PermanentError(message) from exc


ErrorMapper = Callable[[httpx.Response], ConnectorError | None]


def _retry_hint(response: httpx.Response) -> float | None:
    hint = parse_retry_after(response.headers.get("retry-after"))
    if hint is not None:
        return hint
    limit = parse_rate_limit(response.headers)
    if limit is not None and limit.reset_at is not None:
        return max(0.0, limit.reset_at.timestamp() - _now())
    return None


def _error_for(response: httpx.Response, error_mapper: ErrorMapper | None) -> ConnectorError:
    if error_mapper is not None:
        mapped = error_mapper(response)
        if mapped is not None:
            return mapped
    status = response.status_code
    message = error_message(response)
    if status in (401, 403):
        return AuthError(message)
    if status == 429:
        hint = _retry_hint(response)
        return RateLimited(message, retry_after=DEFAULT_RATE_LIMIT_WAIT if hint is None else hint)
    if status == 503:
        hint = parse_retry_after(response.headers.get("retry-after"))
        if hint is not None and hint > MAX_HONOURED_RETRY_AFTER:
            return RateLimited(message, retry_after=hint)
        error = TransientError(message)
        error.retry_after = hint  # type: ignore[attr-defined]
        return error
    if status >= 500:
        return TransientError(message)
    return PermanentError(message)


# ---------------------------------------------------------------- send


def _resend_safe(method: str, idempotent: bool | None) -> bool:
    # An Idempotency-Key header does NOT make a POST safe to resend: many servers (mastodon_mock, several
    # Mastodon-API servers, proxies in front of them) ignore it, and a resend after a 502 that came after
    # the server stored the post published it twice. Only the caller can vouch for a write (`idempotent=True`).
    if idempotent is not None:
        return idempotent
    return method.upper() in _RESEND_SAFE_METHODS


def _should_retry(resend_safe: bool) -> Callable[[BaseException], bool]:
    def predicate(exc: BaseException) -> bool:
        if isinstance(exc, RateLimited):
            # A 429 means the network did nothing, so even a plain POST may go again.
            return exc.retry_after <= MAX_HONOURED_RETRY_AFTER
        if isinstance(exc, OutcomeUnknown):
            return False
        if isinstance(exc, TransientError):
            return resend_safe or getattr(exc, "not_sent", False)
        return False

    return predicate


_backoff = wait_exponential_jitter(initial=0.5, max=8.0, jitter=0.5)


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    hint = getattr(exc, "retry_after", None)
    if hint is not None:
        return float(hint)
    return _backoff(state)


async def _do_sleep(seconds: float) -> None:
    # Looked up at call time so a monkeypatched `connectors.http.sleep` takes effect.
    await sleep(seconds)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    budget: RateBudget | None = None,
    retries: int = 3,
    idempotent: bool | None = None,
    error_mapper: ErrorMapper | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying what is safe to retry; return a response below 400 or raise a typed error.

    `idempotent` overrides the method-based guess of whether a resend could act
    twice (POST/PATCH never count as idempotent by themselves, Idempotency-Key or not: after an
    ambiguous failure they raise OutcomeUnknown and the caller reconciles).
    `error_mapper` lets a connector translate network-specific error bodies first."""
    resend_safe = _resend_safe(method, idempotent)

    async def attempt_once() -> httpx.Response:
        if budget is not None:
            budget.check()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__ or exc.__context__, BlockedAddress):
                raise PermanentError(f"{method} {url}: {exc}") from exc
            error = TransientError(f"{method} {url}: could not connect ({type(exc).__name__})")
            error.not_sent = True  # type: ignore[attr-defined]
            raise error from exc
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            error = TransientError(f"{method} {url}: could not connect ({type(exc).__name__})")
            error.not_sent = True  # type: ignore[attr-defined]
            raise error from exc
        except httpx.TimeoutException as exc:
            raise _ambiguous(resend_safe, f"{method} {url}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            if isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)):
                raise PermanentError(f"{method} {url}: {exc}") from exc
            raise _ambiguous(resend_safe, f"{method} {url}: network error ({type(exc).__name__})") from exc
        except httpx.InvalidURL as exc:
            raise PermanentError(f"{method} {url}: {exc}") from exc
        if budget is not None:
            budget.update(response.headers)
        if response.status_code < 400:
            return response
        error = _error_for(response, error_mapper)
        if isinstance(error, RateLimited) and budget is not None:
            budget.mark_exhausted(error.retry_after)
        if response.status_code == 503 and isinstance(error, TransientError) and resend_safe:
            error.not_sent = True  # type: ignore[attr-defined]
        elif not resend_safe and not isinstance(error, OutcomeUnknown) and (
            isinstance(error, TransientError) or (response.status_code >= 500 and isinstance(error, RateLimited))
        ):
            # Any 5xx to a write may come from a proxy after the server acted (observed: 502 after the post was
            # stored), and a 503 with a long Retry-After is no proof that nothing was done.
            error = OutcomeUnknown(str(error))
        log.debug("%s %s -> %s (%s)", method, url, response.status_code, error)
        raise error

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(0, retries) + 1),
        wait=_wait,
        retry=retry_if_exception(_should_retry(resend_safe)),
        sleep=_do_sleep,
        reraise=True,
        before_sleep=lambda state: log.info(
            "retrying %s %s in %.1fs after %s", method, url, state.upcoming_sleep, state.outcome.exception()
        ),
    )
    return await retrying(attempt_once)


def _ambiguous(resend_safe: bool, message: str) -> TransientError:
    return TransientError(message) if resend_safe else OutcomeUnknown(message + "; the request may have been processed")
