"""Translation memory: approved sentence pairs (English↔Arabic, or any pair) and fuzzy suggestions for a new
sentence, scored 0-100 with rapidfuzz. In memory and fast enough for tens of thousands of pairs; store.py persists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import regex
from rapidfuzz import fuzz, process

from govsocial_app.services.textnorm import normalize

__all__ = ["DEFAULT_MIN_SCORE", "Suggestion", "TMEntry", "TranslationMemory", "base_language", "split_sentences"]

DEFAULT_MIN_SCORE = 75.0  # below this a "close" sentence usually means something else
_SENTENCES = regex.compile(r"(?<=[.!?؟。])\s+|\n+")


def base_language(tag: str) -> str:
    return (tag or "").split("-", 1)[0].split("_", 1)[0].lower()


def split_sentences(text: str) -> list[str]:
    """The sentences of a post, as the composer offers them one by one."""
    return [s.strip() for s in _SENTENCES.split(text or "") if s and s.strip()]


@dataclass(frozen=True)
class TMEntry:
    source_lang: str
    target_lang: str
    source: str
    target: str
    id: int | None = None
    approved_by: str = ""
    approved_at: datetime | None = None

    def reversed(self) -> TMEntry:
        return TMEntry(self.target_lang, self.source_lang, self.target, self.source, self.id, self.approved_by, self.approved_at)


@dataclass(frozen=True)
class Suggestion:
    entry: TMEntry  # oriented as asked: entry.source is in the requested source language
    score: float  # 0-100; 100 for the same sentence once folded (case, Arabic letter forms, punctuation)
    exact: bool


class TranslationMemory:
    """Approved pairs indexed per (source, target) base language; each pair also serves the reverse direction."""

    def __init__(self, entries: Iterable[TMEntry] = ()):
        self._entries: dict[tuple[str, str], list[TMEntry]] = {}
        self._keys: dict[tuple[str, str], list[str]] = {}
        self._exact: dict[tuple[str, str], dict[str, list[int]]] = {}
        self._seen: set[tuple[str, str, str, str]] = set()
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._seen)

    def _index(self, entry: TMEntry) -> None:
        pair = (base_language(entry.source_lang), base_language(entry.target_lang))
        key = normalize(entry.source)
        if not key:
            return
        entries = self._entries.setdefault(pair, [])
        self._keys.setdefault(pair, []).append(key)
        self._exact.setdefault(pair, {}).setdefault(key, []).append(len(entries))
        entries.append(entry)

    def add(self, entry: TMEntry) -> bool:
        """Remember an approved pair; False when the same pair (once folded) is already known."""
        if not entry.source.strip() or not entry.target.strip():
            return False
        src, tgt = base_language(entry.source_lang), base_language(entry.target_lang)
        if src == tgt:
            raise ValueError("a translation pair needs two different languages")
        fingerprint = (src, tgt, normalize(entry.source), normalize(entry.target))
        mirrored = (tgt, src, fingerprint[3], fingerprint[2])
        if fingerprint in self._seen or mirrored in self._seen:
            return False
        self._seen.add(fingerprint)
        self._index(entry)
        self._index(entry.reversed())
        return True

    def suggest(self, sentence: str, source_lang: str, target_lang: str, *, limit: int = 3,
                min_score: float = DEFAULT_MIN_SCORE) -> list[Suggestion]:
        """Approved translations of `sentence` or of sentences close to it, best first (newest first on ties)."""
        pair = (base_language(source_lang), base_language(target_lang))
        key = normalize(sentence)
        entries = self._entries.get(pair)
        if not key or not entries:
            return []
        results: dict[int, Suggestion] = {}
        for index in self._exact[pair].get(key, []):
            results[index] = Suggestion(entries[index], 100.0, True)
        if len(results) < limit:
            # Indel similarity (rapidfuzz's ratio) over the folded text: an edit-distance score, the usual measure of
            # a translation-memory "fuzzy match". partial/WRatio would rate a short sentence inside a long one 100.
            for _choice, value, index in process.extract(key, self._keys[pair], scorer=fuzz.ratio,
                                                         limit=limit + len(results), score_cutoff=min_score):
                if index not in results:
                    results[index] = Suggestion(entries[index], round(float(value), 1), False)
        ordered = sorted(results.items(), key=lambda item: (-item[1].score, -item[0]))
        unique, seen_targets = [], set()
        for _index, suggestion in ordered:
            target_key = normalize(suggestion.entry.target)
            if target_key in seen_targets:
                continue
            seen_targets.add(target_key)
            unique.append(suggestion)
            if len(unique) >= limit:
                break
        return unique

    def suggest_post(self, text: str, source_lang: str, target_lang: str, **kw) -> list[tuple[str, list[Suggestion]]]:
        """Suggestions for each sentence of a post, in order."""
        return [(sentence, self.suggest(sentence, source_lang, target_lang, **kw)) for sentence in split_sentences(text)]
