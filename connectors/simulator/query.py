"""The simulated network's search syntax: words, "phrases", -exclusions, OR and parentheses, English and Arabic."""

from __future__ import annotations

import re
from collections.abc import Callable

from connectors.base import PermanentError

# Syntax, the native query language the app's boolean searches are written in for this network:
#   flood warning            both words (AND is implicit; a literal AND is accepted too)
#   "flash flood"            the words next to each other, in that order
#   flood OR سيول            either
#   -recipe  NOT recipe      excludes
#   (dam OR السد) (failed OR انهار)   grouping; AND binds tighter than OR
# Matching is case-insensitive on whole words. Arabic words also match with an attached article or
# conjunction (السد finds والسد), and diacritics and letter variants are folded as search engines do.

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLDS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_ARABIC_PREFIXES = ("", "ال", "و", "وال", "ب", "بال", "ل", "لل", "ف", "فال", "ك", "كال")
_WORD = re.compile(r"[#@]?\w+")
_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<neg>-)?"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+))')
_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")

Predicate = Callable[[list[str]], bool]


def normalise(text: str) -> str:
    return _ARABIC_MARKS.sub("", text.casefold()).translate(_ARABIC_FOLDS)


def words(text: str) -> list[str]:
    """The searchable words of a text, normalised, hashtags and mentions keeping their sigil."""
    return _WORD.findall(normalise(text))


def _word_matcher(term: str) -> Predicate:
    if term[0] in "#@":
        return lambda ws: term in ws
    if _ARABIC_LETTER.search(term):
        forms = {p + term for p in _ARABIC_PREFIXES}
        return lambda ws: any(w.lstrip("#@") in forms for w in ws)
    return lambda ws: any(w.lstrip("#@") == term for w in ws)


def _phrase_matcher(phrase: list[str]) -> Predicate:
    needle = " " + " ".join(phrase) + " "
    return lambda ws: needle in " " + " ".join(w.lstrip("#@") for w in ws) + " "


class _Parser:
    def __init__(self, query: str):
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        for match in _TOKEN.finditer(query):
            if match.start() != pos:
                break
            pos = match.end()
            if match["open"]:
                self.tokens.append(("(", ""))
            elif match["close"]:
                self.tokens.append((")", ""))
            elif match["phrase"] is not None:
                if match["neg"]:
                    self.tokens.append(("NOT", ""))
                self.tokens.append(("PHRASE", match["phrase"]))
            else:
                word = match["word"]
                if word in ("OR", "AND", "NOT"):
                    self.tokens.append((word, ""))
                elif word == "-":
                    self.tokens.append(("NOT", ""))
                elif word.startswith("-") and len(word) > 1:
                    self.tokens.append(("NOT", ""))
                    self.tokens.append(("WORD", word[1:]))
                else:
                    self.tokens.append(("WORD", word))
        if query[pos:].strip():
            raise PermanentError(f"invalid search query near {query[pos:pos + 20]!r}")
        self.i = 0

    def peek(self) -> str:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else ""

    def parse(self) -> Predicate:
        if not self.tokens:
            raise PermanentError("empty search query")
        expr = self.or_expr()
        if self.i != len(self.tokens):
            raise PermanentError("invalid search query: unbalanced parentheses")
        return expr

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.i += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda ws: any(p(ws) for p in parts))

    def and_expr(self) -> Predicate:
        parts = []
        while self.peek() not in ("", "OR", ")"):
            if self.peek() == "AND":
                self.i += 1
                continue
            parts.append(self.unary())
        if not parts:
            raise PermanentError("invalid search query: an operator has nothing to apply to")
        return parts[0] if len(parts) == 1 else (lambda ws: all(p(ws) for p in parts))

    def unary(self) -> Predicate:
        if self.peek() == "NOT":
            self.i += 1
            inner = self.unary()
            return lambda ws: not inner(ws)
        return self.atom()

    def atom(self) -> Predicate:
        if self.i >= len(self.tokens):
            raise PermanentError("invalid search query: it ends with an operator")
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "(":
            inner = self.or_expr()
            if self.peek() != ")":
                raise PermanentError("invalid search query: unbalanced parentheses")
            self.i += 1
            return inner
        if kind == "PHRASE":
            phrase = [w.lstrip("#@") for w in words(value)]
            if not phrase:
                raise PermanentError("invalid search query: empty phrase")
            return _phrase_matcher(phrase) if len(phrase) > 1 else _word_matcher(phrase[0])
        if kind == "WORD":
            term = words(value)
            if not term:
                raise PermanentError(f"invalid search query: {value[:20]!r} has no letters or digits")
            if len(term) > 1:  # "covid-19" and the like: the words in sequence
                return _phrase_matcher([w.lstrip("#@") for w in term])
            return _word_matcher(term[0])
        raise PermanentError(f"invalid search query: unexpected {kind}")


def compile_query(query: str) -> Predicate:
    """A predicate over `words(text)`; PermanentError for a query the network would reject."""
    return _Parser(query or "").parse()
