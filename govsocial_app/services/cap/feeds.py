"""Alert sources: read an Atom or RSS index of CAP entries (or one CAP URL), poll it politely, fetch what is new.

Polite polling: conditional GET (ETag / Last-Modified), a per-source minimum interval (IPAWS asks for at most one
request per 2 minutes), Cache-Control max-age and Retry-After honoured, exponential back-off while a feed is down.
`poll_source` is one poll: it takes the source's saved PollState and returns the new one with what changed."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx
from lxml import etree

from connectors.http import USER_AGENT, make_client, parse_retry_after
from govsocial_app.services.cap.errors import CapError, DocumentTooLarge, FeedError, NotCap12
from govsocial_app.services.cap.model import Alert
from govsocial_app.services.cap.parse import is_cap12_root, parse_alert, parse_alert_element
from govsocial_app.services.cap.xmlsafe import DEFAULT_MAX_BYTES, parse_untrusted

__all__ = [
    "ACCEPT",
    "FetchedAlert",
    "IndexEntry",
    "IndexFeed",
    "PollPolicy",
    "PollResult",
    "PollState",
    "next_delay",
    "parse_index",
    "poll_source",
    "policy_for",
]

log = logging.getLogger(__name__)

ACCEPT = "application/atom+xml, application/rss+xml, application/cap+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"
MAX_INDEX_BYTES = 4 * 1024 * 1024
MAX_ENTRIES_PER_POLL = 100  # the rest waits for the next poll; a flood of entries never starves other sources
FETCH_CONCURRENCY = 4
SEEN_LIMIT = 5000  # entry fingerprints remembered per source

_ATOM = "{http://www.w3.org/2005/Atom}"
_CAP_TYPES = ("application/cap+xml", "application/common-alerting-protocol+xml")

# Hosts that publish their own polling rule. IPAWS (FEMA's public feed): no more than one request every 2 minutes.
HOST_MIN_INTERVAL_S: dict[str, float] = {"apps.fema.gov": 120.0}


# ---------------------------------------------------------------- index documents


@dataclass(frozen=True)
class IndexEntry:
    """One entry of an index: where its CAP document is and when it last changed. `inline` holds the CAP alert
    element itself when the index carries it (IPAWS's feed, Atom content), so no second request is needed."""

    id: str
    link: str
    updated: str = ""  # as the feed wrote it: only compared for equality
    title: str = ""
    inline: bytes = field(default=b"", repr=False)

    @property
    def fingerprint(self) -> str:
        """Changes whenever the entry does: a new id, or the same id with a new updated time."""
        return f"{self.id}\x1f{self.updated}"


@dataclass(frozen=True)
class IndexFeed:
    kind: Literal["atom", "rss", "cap", "alerts"]
    title: str
    entries: tuple[IndexEntry, ...]


def _txt(el: etree._Element | None) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def _safe_link(href: str, base_url: str) -> str:
    url = urljoin(base_url, href.strip()) if base_url else href.strip()
    return url if urlsplit(url).scheme in ("http", "https") else ""


def _atom_entries(root: etree._Element, base_url: str) -> list[IndexEntry]:
    entries = []
    for entry in root.findall(_ATOM + "entry"):
        entry_id = _txt(entry.find(_ATOM + "id"))
        updated = _txt(entry.find(_ATOM + "updated")) or _txt(entry.find(_ATOM + "published"))
        links = entry.findall(_ATOM + "link")
        chosen = ""
        # Prefer a link typed as CAP, then rel=alternate, then a link with no rel (RFC 4287: alternate).
        for predicate in (
            lambda l: (l.get("type") or "").split(";")[0].strip() in _CAP_TYPES,
            lambda l: (l.get("rel") or "alternate") == "alternate" and (l.get("type") or "").endswith("xml"),
            lambda l: (l.get("rel") or "alternate") == "alternate",
        ):
            for link in links:
                if predicate(link) and link.get("href"):
                    chosen = _safe_link(link.get("href", ""), base_url)
                    break
            if chosen:
                break
        if not chosen and entry_id.startswith(("http://", "https://")):
            chosen = entry_id  # NWS's feeds name each entry by its CAP URL
        inline = b""
        content = entry.find(_ATOM + "content")
        if content is not None:
            for child in content:
                if is_cap12_root(child):
                    inline = etree.tostring(child)
                    break
        if not entry_id:
            entry_id = chosen
        if entry_id and (chosen or inline):
            entries.append(IndexEntry(entry_id, chosen, updated, _txt(entry.find(_ATOM + "title"))[:300], inline))
    return entries


def _rss_entries(root: etree._Element, base_url: str) -> list[IndexEntry]:
    entries = []
    channel = root.find("channel")
    for item in (channel if channel is not None else root).findall("item"):
        link = ""
        for enclosure in item.findall("enclosure"):
            if (enclosure.get("type") or "").split(";")[0].strip() in _CAP_TYPES and enclosure.get("url"):
                link = _safe_link(enclosure.get("url", ""), base_url)
                break
        if not link:
            link = _safe_link(_txt(item.find("link")), base_url)
        guid = _txt(item.find("guid"))
        if not link and guid and (item.find("guid").get("isPermaLink", "true") == "true"):
            link = _safe_link(guid, base_url)
        updated = _txt(item.find("pubDate")) or _txt(item.find("{http://purl.org/dc/elements/1.1/}date"))
        entry_id = guid or link
        if entry_id and link:
            entries.append(IndexEntry(entry_id, link, updated, _txt(item.find("title"))[:300]))
    return entries


def index_from_element(root: etree._Element, *, base_url: str = "") -> IndexFeed:
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == _ATOM + "feed":
        return IndexFeed("atom", _txt(root.find(_ATOM + "title"))[:300], tuple(_atom_entries(root, base_url)))
    if tag in ("rss", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF") or tag.endswith("}rss"):
        title = _txt(root.find("channel/title"))[:300]
        return IndexFeed("rss", title, tuple(_rss_entries(root, base_url)))
    if is_cap12_root(root):
        # A single CAP document configured as the source: its (sender, identifier) is the entry.
        ident = f"{_txt(root.find('{urn:oasis:names:tc:emergency:cap:1.2}sender'))},{_txt(root.find('{urn:oasis:names:tc:emergency:cap:1.2}identifier'))}"
        sent = _txt(root.find("{urn:oasis:names:tc:emergency:cap:1.2}sent"))
        return IndexFeed("cap", "", (IndexEntry(ident, base_url, sent, "", etree.tostring(root)),))
    inline = [child for child in root if is_cap12_root(child)]
    if inline:
        # IPAWS's public feed: a container element whose children are whole CAP alerts.
        entries = []
        for child in inline:
            ns = "{urn:oasis:names:tc:emergency:cap:1.2}"
            ident = f"{_txt(child.find(ns + 'sender'))},{_txt(child.find(ns + 'identifier'))}"
            entries.append(IndexEntry(ident, "", _txt(child.find(ns + "sent")), "", etree.tostring(child)))
        return IndexFeed("alerts", "", tuple(entries))
    local = tag.rsplit("}", 1)[-1]
    if local == "alert":
        parse_alert_element(root)  # raises NotCap12 with the version found
    if local.lower() == "html":
        raise FeedError("The address returned an HTML page, not an Atom or RSS feed or a CAP message.")
    raise FeedError(f"The document's root is <{local or '?'}>: not Atom, RSS, or CAP 1.2.")


def parse_index(data: bytes | str, *, base_url: str = "", max_bytes: int = MAX_INDEX_BYTES) -> IndexFeed:
    """The entries of an Atom or RSS index of CAP messages, an IPAWS-style container of alerts, or a single CAP
    message. Raises CapError subclasses only (FeedError, MalformedXML, UnsafeXML, DocumentTooLarge, NotCap12)."""
    root = parse_untrusted(data, max_bytes=max_bytes, what="feed")
    return index_from_element(root, base_url=base_url)


# ---------------------------------------------------------------- polling guidance


@dataclass(frozen=True)
class PollPolicy:
    interval_s: float = 60.0  # the admin's setting
    min_interval_s: float = 5.0  # never faster than this, whatever the admin or the server says
    max_interval_s: float = 900.0  # a huge max-age must not blind us for hours during an emergency
    max_backoff_s: float = 1800.0

    def __post_init__(self) -> None:
        for value in (self.interval_s, self.min_interval_s, self.max_interval_s, self.max_backoff_s):
            if not math.isfinite(value) or value <= 0:
                raise ValueError("poll intervals must be positive numbers of seconds")


def policy_for(url: str, interval_s: float = 60.0) -> PollPolicy:
    """The policy for a source URL: the admin's interval, raised to the host's published minimum (IPAWS 120 s)."""
    host = (urlsplit(url).hostname or "").lower()
    floor = max((v for h, v in HOST_MIN_INTERVAL_S.items() if host == h or host.endswith("." + h)), default=5.0)
    return PollPolicy(interval_s=max(interval_s, floor), min_interval_s=floor)


def _max_age(headers: Mapping[str, str]) -> float | None:
    value = headers.get("cache-control", "")
    if re.search(r"(?i)\b(no-store|no-cache)\b", value):
        return None
    match = re.search(r"(?i)\bs-maxage\s*=\s*\"?(\d+)|\bmax-age\s*=\s*\"?(\d+)", value)
    if not match:
        return None
    seconds = float(match.group(1) or match.group(2))
    age = headers.get("age", "").strip()
    if age.isdigit():
        seconds -= float(age)
    return max(0.0, seconds)


def next_delay(
    policy: PollPolicy,
    *,
    headers: Mapping[str, str] | None = None,
    failures: int = 0,
    retry_after: float | None = None,
) -> float:
    """Seconds until the next poll: the interval, or longer when the server asks (Retry-After, max-age, capped at
    max_interval_s) or the source keeps failing (doubling from the interval, capped at max_backoff_s)."""
    delay = policy.interval_s
    if headers is not None:
        age = _max_age(headers)
        if age is not None:
            delay = max(delay, min(age, policy.max_interval_s))
    if failures > 0:
        delay = max(delay, min(policy.interval_s * (2 ** min(failures, 20)), policy.max_backoff_s))
    if retry_after is not None:
        delay = max(delay, retry_after)  # an explicit request from the server wins, even past our caps
    return max(delay, policy.min_interval_s)


# ---------------------------------------------------------------- one poll


@dataclass(frozen=True)
class PollState:
    """What a source remembers between polls (stored as JSON by store.py)."""

    etag: str = ""
    last_modified: str = ""
    seen: tuple[str, ...] = ()  # entry fingerprints already handled, newest last
    failures: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"etag": self.etag, "last_modified": self.last_modified, "seen": list(self.seen), "failures": self.failures}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PollState:
        data = data or {}
        seen = data.get("seen") or []
        return cls(
            etag=str(data.get("etag") or ""),
            last_modified=str(data.get("last_modified") or ""),
            seen=tuple(str(s) for s in seen if isinstance(s, str)),
            failures=int(data.get("failures") or 0),
        )


@dataclass(frozen=True)
class FetchedAlert:
    """A new or changed entry: its parsed alert and raw bytes (to store), or the typed error it gave."""

    entry: IndexEntry
    alert: Alert | None = None
    raw: bytes = field(default=b"", repr=False)
    error: CapError | None = None


@dataclass(frozen=True)
class PollResult:
    status: Literal["ok", "not_modified", "error"]
    state: PollState
    next_poll_in_s: float
    alerts: tuple[FetchedAlert, ...] = ()
    http_status: int | None = None
    error: str = ""  # the logged reason when status == "error": shown as the source's status
    error_code: str = ""
    entries_total: int = 0
    deferred: int = 0  # new entries left for the next poll (MAX_ENTRIES_PER_POLL)
    feed_kind: str = ""  # atom, rss, cap, alerts: what the source turned out to be


class _HTTPProblem(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None, code: str = "http_error"):
        super().__init__(message)
        self.status, self.retry_after, self.code = status, retry_after, code


async def _get(client: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int) -> httpx.Response:
    """A GET whose body is read up to max_bytes (streamed: a hostile server cannot fill memory)."""
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return httpx.Response(304, headers=response.headers, request=response.request)
            if response.status_code >= 400:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise _HTTPProblem(f"HTTP {response.status_code} {response.reason_phrase} from {url}", response.status_code, retry_after)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise DocumentTooLarge(int(declared), max_bytes, "download")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise DocumentTooLarge(size, max_bytes, "download")
                chunks.append(chunk)
            return httpx.Response(response.status_code, headers=response.headers, content=b"".join(chunks), request=response.request)
    except httpx.TimeoutException:
        raise _HTTPProblem(f"{url} did not answer in time", code="timeout") from None
    except httpx.TransportError as exc:
        raise _HTTPProblem(f"{url} could not be reached ({type(exc).__name__})", code="unreachable") from None
    except httpx.InvalidURL as exc:
        raise _HTTPProblem(f"{url} is not a valid address ({exc})", code="invalid_url") from None


def _same_site(url: str, source_url: str, allowed_hosts: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    source_host = (urlsplit(source_url).hostname or "").lower()
    if not host:
        return False
    return host == source_host or any(host == h.lower() or host.endswith("." + h.lower()) for h in allowed_hosts)


async def _fetch_entry(
    client: httpx.AsyncClient, entry: IndexEntry, source_url: str, allowed_hosts: Sequence[str], max_bytes: int,
    validate_schema: bool,
) -> FetchedAlert:
    if entry.inline:
        raw = entry.inline
    else:
        # A feed is untrusted: its links may only lead to the feed's own host or hosts the admin allowed, so a
        # hostile index cannot make the server fetch internal addresses (SSRF).
        if not _same_site(entry.link, source_url, allowed_hosts):
            return FetchedAlert(entry, error=FeedError(f"Entry link {entry.link[:200]} is on another host than the feed; add the host to the source's allowed hosts to follow it."))
        response = await _get(client, entry.link, {"Accept": "application/cap+xml, application/xml;q=0.9, */*;q=0.1"}, max_bytes)
        raw = response.content
    try:
        alert = parse_alert(raw, max_bytes=max_bytes, validate_schema=validate_schema)
    except CapError as exc:
        return FetchedAlert(entry, raw=raw, error=exc)
    return FetchedAlert(entry, alert=alert, raw=raw)


async def poll_source(
    url: str,
    state: PollState = PollState(),
    *,
    policy: PollPolicy | None = None,
    client: httpx.AsyncClient | None = None,
    allowed_hosts: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    validate_schema: bool = True,
) -> PollResult:
    """One poll of a source. Never raises for the feed's faults: a feed that is down, answers garbage or sends a
    broken CAP document gives status "error" (with the reason) or a FetchedAlert carrying its CapError.
    Entries whose download failed are not marked seen, so the next poll tries them again."""
    policy = policy or policy_for(url)
    own_client = client is None
    client = client or make_client(headers={"Accept": ACCEPT, "User-Agent": USER_AGENT}, timeout=20.0)
    headers = {"Accept": ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        try:
            response = await _get(client, url, headers, max(MAX_INDEX_BYTES, max_bytes))
        except _HTTPProblem as exc:
            failed = replace(state, failures=state.failures + 1)
            delay = next_delay(policy, failures=failed.failures, retry_after=exc.retry_after)
            return PollResult("error", failed, delay, http_status=exc.status, error=str(exc), error_code=exc.code)
        except CapError as exc:
            failed = replace(state, failures=state.failures + 1)
            return PollResult("error", failed, next_delay(policy, failures=failed.failures), error=exc.message, error_code=exc.code)
        if response.status_code == 304:
            ok = replace(state, failures=0)
            return PollResult("not_modified", ok, next_delay(policy, headers=response.headers), http_status=304)
        try:
            index = parse_index(response.content, base_url=str(response.url), max_bytes=max(MAX_INDEX_BYTES, max_bytes))
        except CapError as exc:
            failed = replace(state, failures=state.failures + 1)
            return PollResult("error", failed, next_delay(policy, headers=response.headers, failures=failed.failures),
                              http_status=response.status_code, error=exc.message, error_code=exc.code)
        seen = set(state.seen)
        fresh = [entry for entry in index.entries if entry.fingerprint not in seen]
        deferred = max(0, len(fresh) - MAX_ENTRIES_PER_POLL)
        fresh = fresh[:MAX_ENTRIES_PER_POLL]
        semaphore = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def one(entry: IndexEntry) -> FetchedAlert | None:
            async with semaphore:
                try:
                    return await _fetch_entry(client, entry, url, allowed_hosts, max_bytes, validate_schema)
                except _HTTPProblem as exc:
                    log.info("CAP entry %s not fetched: %s", entry.link, exc)
                    return None  # transient: left unseen, tried again next poll
                except CapError as exc:  # too large
                    return FetchedAlert(entry, error=exc)

        results = await asyncio.gather(*(one(entry) for entry in fresh))
        fetched = tuple(r for r in results if r is not None)
        handled = [r.entry.fingerprint for r in fetched]
        # Keep the fingerprints still listed in the feed (plus the new ones), so the memory does not grow forever.
        listed = {entry.fingerprint for entry in index.entries}
        kept = [fp for fp in state.seen if fp in listed] + handled
        new_state = PollState(
            etag=response.headers.get("etag", "") or "",
            last_modified=response.headers.get("last-modified", "") or "",
            seen=tuple(dict.fromkeys(kept))[-SEEN_LIMIT:],
            failures=0,
        )
        if deferred or len(fetched) < len(fresh):
            # Do not let a 304 hide the entries still to fetch.
            new_state = replace(new_state, etag="", last_modified="")
        return PollResult("ok", new_state, next_delay(policy, headers=response.headers), fetched, response.status_code,
                          entries_total=len(index.entries), deferred=deferred, feed_kind=index.kind)
    finally:
        if own_client:
            await client.aclose()


def http_date(when: datetime) -> str:
    """An HTTP date (for tests and for the outbound feed's Last-Modified)."""
    return email.utils.format_datetime(when.astimezone(UTC), usegmt=True)


def due(last_polled: datetime | None, next_poll_in_s: float, now: datetime) -> bool:
    """Whether a source is due: the job runs often and polls only the sources whose time has come."""
    return last_polled is None or now >= last_polled + timedelta(seconds=next_poll_in_s)
