"""Post length as each network counts it: graphemes, X's weighted units, or code points, with URL shortening."""

from __future__ import annotations

import unicodedata

import regex

from connectors.base import Limits

__all__ = ["X_URL_LENGTH", "count", "fits", "graphemes", "remaining", "url_spans", "x_weight"]

X_URL_LENGTH = 23

# twitter-text v3 config: these code point ranges weigh 1, everything else weighs 2.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_TRAILING_PUNCTUATION = ".,;:!?'\")]}>»”’"

_SCHEME_URL = regex.compile(r"(?i)\bhttps?://[^\s<>\"]+")

# Generic TLDs that X links even without a scheme; its list is longer, this covers what government posts use.
_GENERIC_TLDS = (
    "com|org|net|gov|edu|int|mil|info|biz|io|app|dev|news|online|site|xyz|me|tv|co|"
    "health|museum|page|blog|media|global|social|store|tech|travel|city|london|nyc"
)
_BARE_DOMAIN = regex.compile(
    rf"""(?ix)
    (?<![\w@./\-])                                  # not part of an email, path or longer host
    (?P<host>(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+
        (?P<tld>{_GENERIC_TLDS}|[a-z]{{2}}))
    (?![\w-])
    (?P<path>(?::\d{{1,5}})?/[^\s<>\"]*)?
    """
)

_GRAPHEME = regex.compile(r"\X")
_EMOJI_PRESENTATION = regex.compile(r"\p{Emoji_Presentation}|\uFE0F|\u20E3|\p{Regional_Indicator}")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING_PUNCTUATION:
        # Keep a closing bracket that balances one inside the URL (Wikipedia-style links).
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def url_spans(text: str, *, bare_domains: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each URL in `text`. With `bare_domains`, scheme-less hosts count too, as X links them."""
    spans = []
    for match in _SCHEME_URL.finditer(text):
        url = _trim(match.group())
        if "." in url.split("://", 1)[1]:
            spans.append((match.start(), match.start() + len(url)))
    if bare_domains:
        taken = list(spans)
        for match in _BARE_DOMAIN.finditer(text):
            start = match.start()
            if any(s <= start < e for s, e in taken):
                continue
            tld = match.group("tld").lower()
            # twitter-text skips a single label on a country-code TLD without a path ("file.py", "gov.uk"),
            # except for .co and .tv; "www.gov.uk" is linked. Overcounting is the safe side elsewhere.
            short = match.group("host").count(".") == 1
            if len(tld) == 2 and tld not in ("co", "tv") and short and not match.group("path"):
                continue
            url = _trim(match.group())
            spans.append((start, start + len(url)))
        spans.sort()
    return spans


def _strip_urls(text: str, *, bare_domains: bool) -> tuple[str, int]:
    """The text with URLs cut out, and how many URLs there were."""
    spans = url_spans(text, bare_domains=bare_domains)
    if not spans:
        return text, 0
    pieces, last = [], 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return "".join(pieces), len(spans)


def graphemes(text: str) -> list[str]:
    """User-perceived characters (extended grapheme clusters)."""
    return _GRAPHEME.findall(text)


def x_weight(code_point: int) -> int:
    for low, high in _X_LIGHT_RANGES:
        if low <= code_point <= high:
            return 1
    return 2


def _is_emoji(cluster: str) -> bool:
    if _EMOJI_PRESENTATION.search(cluster):
        return True
    # A ZWJ sequence of pictographs is one emoji even when its parts default to text style.
    return "\u200d" in cluster and bool(_PICTOGRAPHIC.search(cluster))


def _x_weighted(text: str) -> int:
    total = 0
    for cluster in _GRAPHEME.findall(text):
        if _is_emoji(cluster):
            total += 2  # twitter-text counts a whole emoji sequence as one heavy character
        else:
            total += sum(x_weight(ord(ch)) for ch in cluster)
    return total


def count(text: str, limits: Limits) -> int:
    """The length of `text` in the units `limits.max_chars` is measured in."""
    if limits.counting == "x-weighted":
        # twitter-text normalises to NFC before weighing, so "e" + combining accent is one light character.
        stripped, urls = _strip_urls(unicodedata.normalize("NFC", text), bare_domains=True)
        return _x_weighted(stripped) + urls * (limits.url_length or X_URL_LENGTH)
    if limits.url_length is not None:
        stripped, urls = _strip_urls(text, bare_domains=False)
        extra = urls * limits.url_length
    else:
        stripped, extra = text, 0
    if limits.counting == "codepoints":
        return len(stripped) + extra
    if limits.counting == "graphemes":
        return len(_GRAPHEME.findall(stripped)) + extra
    raise ValueError(f"unknown counting rule {limits.counting!r}")


def remaining(text: str, limits: Limits) -> int:
    """Characters left before the limit; negative when the text is too long."""
    return limits.max_chars - count(text, limits)


def fits(text: str, limits: Limits) -> bool:
    return remaining(text, limits) >= 0
