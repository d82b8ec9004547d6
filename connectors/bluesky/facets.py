"""Rich-text facet detection for Bluesky posts: mentions, links and hashtags with UTF-8 byte offsets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import regex

from connectors.textcount import url_spans

__all__ = ["Span", "byte_offset", "detect", "is_handle", "to_facets"]

MENTION = "mention"
LINK = "link"
TAG = "tag"

# Ported from @atproto/api rich-text/util.ts so we facet exactly what the Bluesky app would.
_MENTION = regex.compile(r"(^|\s|\()@([a-zA-Z0-9.-]+)\b")
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(rf"(^|\s)[#＃]((?!\ufe0f)[^\s{_INVISIBLE}]*[^\d\s\p{{P}}{_INVISIBLE}]+[^\s{_INVISIBLE}]*)?")
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_HANDLE = regex.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
_GRAPHEME = regex.compile(r"\X")
MAX_TAG_GRAPHEMES = 64
MAX_TAG_BYTES = 640


@dataclass(frozen=True)
class Span:
    """A detected facet: byte range into the UTF-8 text, its kind, and the handle, URI or tag it carries."""

    byte_start: int
    byte_end: int
    kind: str
    value: str


def byte_offset(text: str, index: int) -> int:
    """The UTF-8 byte offset of code point `index`; facets count bytes, Python strings count code points."""
    return len(text[:index].encode("utf-8"))


def is_handle(value: str) -> bool:
    return len(value) <= 253 and bool(_HANDLE.match(value))


def _span(text: str, start: int, end: int, kind: str, value: str) -> Span:
    return Span(byte_offset(text, start), byte_offset(text, end), kind, value)


def detect(text: str) -> list[Span]:
    """Every mention, link and hashtag in `text`, in reading order. Mentions still need resolving to DIDs."""
    spans: list[Span] = []
    for match in _MENTION.finditer(text):
        handle = match.group(2).rstrip(".-")
        if is_handle(handle):
            start = match.start(2) - 1  # the "@"
            spans.append(_span(text, start, match.start(2) + len(handle), MENTION, handle.lower()))
    # Bare domains too ("gov.uk/floods"): the Bluesky app links them, so readers expect a link.
    for start, end in url_spans(text, bare_domains=True):
        url = text[start:end]
        if not url.lower().startswith(("http://", "https://")):
            url = "https://" + url
        spans.append(_span(text, start, end, LINK, url))
    for match in _TAG.finditer(text):
        tag = match.group(2)
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", tag.strip())
        if not tag or len(_GRAPHEME.findall(tag)) > MAX_TAG_GRAPHEMES or len(tag.encode("utf-8")) > MAX_TAG_BYTES:
            continue
        start = match.start(2) - 1  # the "#"
        spans.append(_span(text, start, match.start(2) + len(tag), TAG, tag))
    spans.sort(key=lambda s: s.byte_start)
    return _without_overlaps(spans)


def _without_overlaps(spans: list[Span]) -> list[Span]:
    # Facets must not overlap (clients render one feature per byte); the earlier one wins.
    kept: list[Span] = []
    for span in spans:
        if not kept or span.byte_start >= kept[-1].byte_end:
            kept.append(span)
    return kept


def to_facets(spans: list[Span], dids: Mapping[str, str]) -> list[dict[str, Any]]:
    """app.bsky.richtext.facet objects; a mention whose handle has no DID in `dids` is left as plain text."""
    facets = []
    for span in spans:
        if span.kind == MENTION:
            did = dids.get(span.value)
            if not did:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        elif span.kind == LINK:
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        else:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return facets
