"""The one text normaliser behind keyword matching, listening topics, claim matching and inbox search."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

__all__ = [
    "TextAnalysis",
    "analyse",
    "clean",
    "like_pattern",
    "normalize",
    "search_text",
    "tokens",
]

# ---------------------------------------------------------------- character folding
#
# Choices for Arabic follow the usual search-engine practice (Lucene's ArabicNormalizer does
# the same): people type the same word with or without diacritics and with whichever hamza,
# alef or final-letter form their keyboard gives them, so all of those must meet.
#   * harakat, tanween, shadda, sukun, superscript alef, the small Quranic annotation marks and
#     the letter-attached honorific signs are dropped; so is tatweel (kashida), which is
#     only a stretch for typesetting.
#   * أ إ آ ٱ → ا: hamza/madda/wasla on alef is routinely left out in informal writing.
#   * ؤ → و and ئ → ي: the carrier letter is kept and the hamza dropped, same reason.
#     A standalone hamza ء is a letter in its own right and is kept.
#   * ى → ي: alef maqsura and yaa are interchanged at the end of words, especially in Egypt.
#     The cost is that على ("on") and علي ("Ali") meet; search engines accept that cost too.
#   * ة → ه: taa marbuta is very often typed as haa at the end of a word.
#   * Persian keheh ک and farsi yeh ی → Arabic ك and ي: Persian/Urdu keyboard layouts are common
#     among Arabic writers and look identical on screen.
#   * Arabic-Indic (٠-٩) and Persian (۰-۹) digits → ASCII, so "٢٠٢٦" finds "2026".

_ARABIC_MARKS = [
    *range(0x0610, 0x061B),  # signs written above letters (honorifics and the like)
    *range(0x064B, 0x0660),  # harakat, tanween, shadda, sukun, madda/hamza above and below...
    0x0670,  # superscript (dagger) alef
    *range(0x06D6, 0x06EE),  # Quranic annotation marks
    *range(0x08D3, 0x0900),  # Arabic Extended-A marks (Quranic and African orthographies)
    0x0640,  # tatweel
]

# Invisible characters that change rendering but never meaning. Dropping the zero-width joiners
# merges Persian half-spaced words and breaks emoji sequences, which does not hurt word search.
_INVISIBLE = [
    0x00AD,  # soft hyphen
    0x061C,  # Arabic letter mark
    *range(0x200B, 0x2010),  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner and invisible operators
    *range(0x2066, 0x206A),  # bidi isolates
    0xFEFF,  # BOM / zero-width no-break space
]

_LETTER_FOLDS = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ؤ": "و", "ئ": "ي", "ى": "ي", "ة": "ه",
    "ک": "ك", "ی": "ي",
}

_DIGITS = {
    **{0x0660 + i: str(i) for i in range(10)},  # Arabic-Indic
    **{0x06F0 + i: str(i) for i in range(10)},  # Persian (Extended Arabic-Indic)
}

_STRIP = dict.fromkeys(_ARABIC_MARKS + _INVISIBLE)
_FOLD = {**_STRIP, **{ord(k): v for k, v in _LETTER_FOLDS.items()}, **_DIGITS}


def _fold(text: str) -> str:
    # NFKC twice: the first pass turns presentation forms and compatibility characters into
    # plain letters (and composes ا + hamza into أ, so the folds above catch it); removing marks
    # and joiners can leave a base letter next to a combining mark it was kept apart from, and
    # the second pass composes those, so what the tokeniser sees is NFKC text again.
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return unicodedata.normalize("NFKC", text)


def clean(text: str) -> str:
    """Light clean-up that keeps the user's spelling: NFKC, no invisibles, no Arabic diacritics or
    tatweel, single spaces. Case, letter variants, digits and punctuation are kept.

    Used where our text goes to a network's own search, which folds letters its own way:
    sending "مدينه" for "مدينة" could miss posts there. normalize(clean(x)) == normalize(x)."""
    text = unicodedata.normalize("NFKC", text).translate(_STRIP)
    return " ".join(unicodedata.normalize("NFKC", text).split())


# ---------------------------------------------------------------- pieces: words, #hashtags, @mentions
#
# A word is letters, digits and underscores, with any combining marks after them; a mark that
# follows no letter (a variation selector after an emoji, say) is just a separator. Underscore is
# a word character as in most tokenisers, because it is part of hashtags and handles.
# `#` and `@` only start a hashtag or mention when no word character comes right before them,
# so "C#", "a#b" and e-mail addresses stay plain words.

_W = r"[\p{L}\p{M}\p{N}_]"
_W0 = r"[\p{L}\p{N}_]"
_HANDLE_PART = rf"{_W0}(?:[\p{{L}}\p{{M}}\p{{N}}_.\-]*{_W})?"  # dots and hyphens inside, not at the end
_PIECE = regex.compile(
    rf"""
      (?P<tag>(?<!{_W})\#_*[\p{{L}}\p{{N}}]{_W}*)
    | (?P<mention>(?<!{_W})@{_HANDLE_PART}(?:@{_HANDLE_PART})?)   # @name or Mastodon's @name@instance
    | (?P<word>{_W0}{_W}*)
    """,
    regex.VERBOSE,
)

# Hashtag parts: an acronym before a capitalised word (NHS|Wales), a capitalised or lower-case
# word, an all-caps run, a number. Underscores separate parts. Letters without case (Arabic, CJK)
# fall under \p{Lo} and stay whole.
_UP = r"[\p{Lu}\p{Lt}]\p{M}*"
_LOW = r"[\p{Ll}\p{Lm}\p{Lo}]\p{M}*"
_TAG_PART = regex.compile(rf"(?:{_UP})+(?={_UP}{_LOW})|(?:{_UP})?(?:{_LOW})+|(?:{_UP})+|(?:\p{{N}}\p{{M}}*)+")

# Light Arabic prefix stripping. Only the definite article is removed, optionally with a
# preposition (ب / ك) or a conjunction (و / ف) in front of it, or the contracted ل + ال = لل.
# A bare و or ف is never stripped: too many words begin with those letters (وزير, فريق).
# The stem must keep at least three letters. Known limits: words whose own first letters are
# "ال…" (الهام, after folding إلهام) also yield a false stem (هام); "للـ" before a word that
# itself starts with ل (للجنه) yields جنه instead of لجنه. Both only add an extra token.
_AR_PREFIX = regex.compile(r"([وف]?)(ال|بال|كال|لل)(\p{Script=Arabic}{3}.*)")


def _arabic_forms(word: str) -> list[str]:
    m = _AR_PREFIX.fullmatch(word)
    if not m:
        return []
    conj, article, stem = m.groups()
    forms = []
    if conj:
        forms.append(word[len(conj):])  # والفيضان → الفيضان
    if article != "ال":
        forms.append("ال" + stem)  # بالفيضان, للفيضان → الفيضان
    forms.append(stem)
    return forms


def _casefold(text: str) -> str:
    # casefold() turns Turkish İ into i + combining dot above; drop the dot so "İstanbul"
    # meets "istanbul" as every user expects. casefold() can also undo a composition
    # (ǰ → j + caron); NFKC again so the result is normalised and normalize() stays idempotent.
    # Repeat until nothing changes: "İ" followed by its own combining dot casefolds to i + two dots, and one pass
    # would leave one (Hypothesis found 'İ̇'). Each pass that changes anything removes a character, so this ends.
    while True:
        folded = unicodedata.normalize("NFKC", text.casefold().replace("i\u0307", "i"))
        if folded == text:
            return folded
        text = folded


def _word_forms(word: str) -> list[str]:
    """The casefolded word first, then the extra forms it should also match."""
    folded = _casefold(word)
    return [folded, *_arabic_forms(folded)]


def _dedupe(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class TextAnalysis:
    """A text cut into positions, for matching.

    `positions` has one entry per word, hashtag or mention, in order; each entry is the set of
    forms that position matches (for a hashtag: `#tag` and `tag`; for a mention: `@handle` and
    `handle`; for an Arabic word with an article: the word and its stripped stems).
    `expanded` is the same stream with every hashtag replaced by its parts, so a phrase can
    match "flood watch" inside #FloodWatch."""

    normalized: str
    tokens: tuple[str, ...]
    forms: frozenset[str]  # the tokens as a set, for single-term lookups
    positions: tuple[frozenset[str], ...]
    expanded: tuple[frozenset[str], ...]

    def has_sequence(self, words: tuple[str, ...] | list[str]) -> bool:
        """True when `words` (already normalised) occur at consecutive positions."""
        n = len(words)
        if n == 0:
            return False
        for stream in (self.positions, self.expanded):
            for start in range(len(stream) - n + 1):
                if all(words[i] in stream[start + i] for i in range(n)):
                    return True
        return False


@lru_cache(maxsize=2048)  # a message is matched against every topic in turn; analyse it once
def analyse(text: str) -> TextAnalysis:
    folded = _fold(text)
    normalized: list[str] = []
    tokens: list[str] = []
    positions: list[frozenset[str]] = []
    expanded: list[frozenset[str]] = []
    for m in _PIECE.finditer(folded):
        raw = m.group()
        piece = _casefold(raw)
        normalized.append(piece)
        if m.lastgroup == "word":
            forms = _word_forms(raw)
            tokens.extend(forms)
            positions.append(frozenset(forms))
            expanded.append(positions[-1])
        elif m.lastgroup == "tag":
            # Split on the case-preserved text: once casefolded, FloodWatch has no boundary left.
            parts = [p for chunk in raw[1:].split("_") for p in _TAG_PART.findall(chunk)]
            part_forms = [_word_forms(p) for p in parts]
            body_forms = _word_forms(raw[1:])
            tokens.extend([piece, *body_forms, *(f for forms in part_forms for f in forms)])
            positions.append(frozenset([piece, *body_forms]))
            expanded.extend(frozenset(forms) for forms in part_forms)
        else:
            forms = [piece, piece[1:]]
            local, _, domain = piece[1:].partition("@")
            if domain:
                # Mastodon shows a remote mention as just "@name" in the post text.
                forms += ["@" + local, local]
            tokens.extend(forms)
            positions.append(frozenset(forms))
            expanded.append(positions[-1])
    return TextAnalysis(
        normalized=" ".join(normalized),
        tokens=_dedupe(tokens),
        forms=frozenset(tokens),
        positions=tuple(positions),
        expanded=tuple(expanded),
    )


# ---------------------------------------------------------------- public helpers


def normalize(text: str) -> str:
    """Fold `text` for comparison: NFKC, casefold, Arabic folding (see above), digits to ASCII,
    invisibles removed, punctuation and symbols turned into spaces, single spaces.

    Hashtags and mentions keep their `#` / `@` (and a handle keeps its dots and hyphens), so
    "#FloodWatch" stays "#floodwatch" and "@city.bsky.social" stays whole. Idempotent."""
    return analyse(text).normalized


def tokens(text: str) -> list[str]:
    """Normalised tokens of `text`, each listed once, in order of first appearance.

    Besides each word: a hashtag yields `#tag`, `tag` and its parts (camelCase, letter/digit and
    underscore boundaries: #FloodWatch2026 → #floodwatch2026, floodwatch2026, flood, watch, 2026);
    a mention yields `@handle` and `handle` (and `@name`, `name` for Mastodon's @name@instance);
    an Arabic word with the definite article also yields the stripped forms
    (والفيضان → والفيضان, الفيضان, فيضان)."""
    return list(analyse(text).tokens)


def _handle_tokens(handle: str) -> list[str]:
    handle = handle.strip().lstrip("@")
    return list(analyse("@" + handle).tokens) if handle else []


def search_text(text: str, author_handle: str = "", author_name: str = "") -> str:
    """The string stored with a message for the inbox free-text search.

    It is `normalize(text)`, then the extra tokens (hashtag parts, bare handles, Arabic stems),
    then the author's handle and name, all normalised. Sections are joined with " | ": `|` never
    survives normalize(), so a searched phrase cannot match across two sections. Search it with
    `like_pattern(query)` (or FTS over normalize(query)); wrap both sides in spaces for whole words."""
    analysis = analyse(text)
    seen = set(analysis.normalized.split())
    extra = [t for t in analysis.tokens if t not in seen]
    author = _dedupe([*_handle_tokens(author_handle), *normalize(author_name).split()])
    sections = [analysis.normalized, " ".join(extra), " ".join(author)]
    return " | ".join(s for s in sections if s)


def like_pattern(query: str, escape: str = "\\") -> str:
    """A SQL LIKE pattern for `query` over search_text(): `%<normalized>%`, with LIKE's own
    wildcards escaped (normalize() keeps `_`). Use it with `ESCAPE '\\'`. Empty query → ""."""
    q = normalize(query)
    if not q:
        return ""
    for ch in (escape, "%", "_"):
        q = q.replace(ch, escape + ch)
    return f"%{q}%"


def excerpt(text: str | None, n: int) -> str:
    """One line of at most `n` characters for a notice or a list row: whitespace folded, cut with "…".
    The one excerpt helper (the inbox, approvals, pause, the calendar and post lists each had their own)."""
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def initials(name: str) -> str:
    """Up to two letters for an avatar: the first letter or digit of each of the first two words that have one, so
    an emoji, a flag or a quotation mark in a display name ("Sandra 🇺🇦", 'ليلى "الحربي"') never shows as a letter."""
    out = []
    for word in (name or "").replace("@", " ").split():
        first = next((ch for ch in word if ch.isalnum()), None)
        if first is not None:
            out.append(first)
            if len(out) == 2:
                break
    return "".join(out).upper() or "?"
