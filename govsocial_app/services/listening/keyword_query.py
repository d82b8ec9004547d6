"""Boolean keyword queries for brand keywords and listening topics: parse, match locally, render per network."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from connectors.base import SearchQuery
from govsocial_app.services import textnorm
from govsocial_app.services.errors import UserError

__all__ = [
    "And",
    "Hashtag",
    "Lang",
    "Mention",
    "NETWORKS",
    "Not",
    "Or",
    "Phrase",
    "Query",
    "QuerySyntaxError",
    "Term",
    "describe_syntax",
    "highlight_terms",
    "network_lang",
    "network_searches",
    "parse",
    "prepare",
    "required_words",
    "to_network_query",
    "words_of",
]

MAX_QUERY_LENGTH = 1000  # KeywordSearch.query is a VARCHAR(1000)
MAX_DEPTH = 20  # nesting of parentheses and NOTs; far beyond any real query, keeps recursion bounded
MAX_SEARCHES = 8  # network searches one query may expand to on networks without OR
NETWORKS = ("x", "bluesky", "mastodon", "simulator")


class QuerySyntaxError(UserError, ValueError):
    """A query the parser cannot accept.

    `position` is the 0-based index in the query string where the problem is (for a caret
    under the input box); the message counts from 1, as people do. `msgid` and `params` let
    the UI translate the message: `translate(err.msgid, lang, **err.params)`."""

    def __init__(self, message: str, position: int, *, msgid: str = "", params: dict | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.msgid = msgid or message
        self.params = params or {}

    @classmethod
    def at(cls, msgid: str, position: int, **params) -> QuerySyntaxError:
        params = {"position": position + 1, **params}
        return cls(msgid.format(**params), position, msgid=msgid, params=params)


# ---------------------------------------------------------------- the AST


class _Message:
    """One message prepared for matching: its analysis, language and author forms."""

    __slots__ = ("text", "lang", "_handle", "_author")

    def __init__(self, text: str, lang: str, author_handle: str):
        self.text = textnorm.analyse(text)
        self.lang = _lang(lang)
        self._handle, self._author = author_handle, None

    @property
    def author(self) -> frozenset[str]:
        """The author's forms, analysed when first asked for: only `@handle` terms read them (inbox rules prepare
        every new message, from thousands of authors, and most rules never ask)."""
        if self._author is None:
            self._author = _author_forms(self._handle)
        return self._author


@lru_cache(maxsize=256)
def _lang(lang: str) -> str:
    return lang.strip().lower().replace("_", "-")


@lru_cache(maxsize=4096)  # inbox rules prepare every new message: the same authors and languages come back
def _author_forms(author_handle: str) -> frozenset[str]:
    handle = author_handle.strip().lstrip("@")
    return textnorm.analyse("@" + handle).forms if handle else frozenset()


class Query:
    """A parsed query. Nodes are frozen dataclasses and compare by meaning: the `source`
    fields (what the user typed, kept for network searches) are left out of equality."""

    def matches(self, text: str, lang: str = "", author_handle: str = "") -> bool:
        """Does a message match? Terms, phrases, hashtags and handles go through textnorm, so
        case, Arabic diacritics and letter variants, and digit scripts do not matter."""
        return self._eval(_Message(text, lang, author_handle))

    def matches_prepared(self, msg: _Message) -> bool:
        """`matches` for a message analysed once with `prepare`, to test it against many queries (inbox rules)."""
        return self._eval(msg)

    def _eval(self, msg: _Message) -> bool:
        raise NotImplementedError

    def __str__(self) -> str:
        """The query in our own syntax, normalised; parse(str(q)) == q."""
        return _Canonical().render(self)


@dataclass(frozen=True)
class Term(Query):
    """One normalised word; matches a whole token (an Arabic word also through its article)."""

    word: str
    source: str = field(default="", compare=False, repr=False)

    def _eval(self, msg: _Message) -> bool:
        return self.word in msg.text.forms


@dataclass(frozen=True)
class Phrase(Query):
    """Normalised words that must be consecutive: `"exact phrase"`, or one typed word that
    normalises to several tokens (covid-19 → covid 19)."""

    words: tuple[str, ...]
    source: str = field(default="", compare=False, repr=False)

    def _eval(self, msg: _Message) -> bool:
        return msg.text.has_sequence(self.words)


@dataclass(frozen=True)
class Hashtag(Query):
    """`#tag` (stored without `#`): matches that hashtag only, not the bare word."""

    tag: str
    source: str = field(default="", compare=False, repr=False)

    def _eval(self, msg: _Message) -> bool:
        return "#" + self.tag in msg.text.forms


@dataclass(frozen=True)
class Mention(Query):
    """`@handle` (stored without `@`): a mention in the text, or the message's author."""

    handle: str
    source: str = field(default="", compare=False, repr=False)

    def _eval(self, msg: _Message) -> bool:
        key = "@" + self.handle
        return key in msg.text.forms or key in msg.author


@dataclass(frozen=True)
class Lang(Query):
    """`lang:en`: the message's language is one of `codes` (a region in the message's tag,
    en-GB, still matches en). A message with no language tag matches no lang: filter."""

    codes: tuple[str, ...]

    def _eval(self, msg: _Message) -> bool:
        return any(msg.lang == c or msg.lang.startswith(c + "-") for c in self.codes)


@dataclass(frozen=True)
class Not(Query):
    operand: Query

    def _eval(self, msg: _Message) -> bool:
        return not self.operand._eval(msg)


@dataclass(frozen=True)
class And(Query):
    operands: tuple[Query, ...]

    def _eval(self, msg: _Message) -> bool:
        for q in self.operands:  # a plain loop: matching runs per message per query (inbox rules, brand keywords)
            if not q._eval(msg):
                return False
        return True


@dataclass(frozen=True)
class Or(Query):
    operands: tuple[Query, ...]

    def _eval(self, msg: _Message) -> bool:
        for q in self.operands:
            if q._eval(msg):
                return True
        return False


_LEAVES = (Term, Phrase, Hashtag, Mention)


def _searchable(q: Query, negated: bool = False) -> bool:
    """Does every match have to contain some word, phrase, hashtag or handle? A query that only
    excludes or filters (NOT flood, lang:en, flood OR -rain) would match the whole firehose."""
    if isinstance(q, Not):
        return _searchable(q.operand, not negated)
    if isinstance(q, _LEAVES):
        return not negated
    if isinstance(q, (And, Or)):
        # De Morgan: under a NOT, an AND behaves as an OR and the other way round.
        need_all = isinstance(q, Or) != negated
        results = (_searchable(c, negated) for c in q.operands)
        return all(results) if need_all else any(results)
    return False


# ---------------------------------------------------------------- lexer

_QUOTES = '"“”„«»'  # phone keyboards type curly quotes; Arabic writing uses guillemets
_OPEN = "(（"
_CLOSE = ")）"
_MINUS = "-−"
_SPECIAL = _QUOTES + _OPEN + _CLOSE
_KEYWORDS = {"OR", "AND", "NOT"}
_LANG_CODE = regex.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "-", "OR", "AND", "NOT", "word", "phrase"
    text: str
    pos: int


def _lex(query: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in _OPEN:
            out.append(_Token("(", ch, i))
            i += 1
        elif ch in _CLOSE:
            out.append(_Token(")", ch, i))
            i += 1
        elif ch in _QUOTES:
            end = next((j for j in range(i + 1, n) if query[j] in _QUOTES), -1)
            if end < 0:
                raise QuerySyntaxError.at("Unclosed quote at position {position}", i)
            out.append(_Token("phrase", query[i + 1 : end], i))
            i = end + 1
        elif ch in _MINUS and (i + 1 == n or query[i + 1].isspace()):
            raise QuerySyntaxError.at("'-' at position {position} must be directly followed by what to exclude, as in -rain", i)
        elif ch in _MINUS:
            out.append(_Token("-", ch, i))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _SPECIAL:
                j += 1
            word = query[i:j]
            out.append(_Token(word if word in _KEYWORDS else "word", word, i))
            i = j
    return out


# ---------------------------------------------------------------- parser


_OPERAND_START = {"(", "-", "NOT", "word", "phrase"}


class _Parser:
    """Recursive descent over: or := and (OR and)* ; and := unary ((AND)? unary)* ;
    unary := (NOT | -)* primary ; primary := ( or ) | "phrase" | word."""

    def __init__(self, tokens: list[_Token], length: int):
        self.tokens = tokens
        self.end = length
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def starts_operand(self) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind in _OPERAND_START

    def parse(self) -> Query:
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:  # parse_or only stops early at a ')'
            raise QuerySyntaxError.at("Unmatched ')' at position {position}", tok.pos)
        return node

    def parse_or(self) -> Query:
        operands = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.next()
            if not self.starts_operand():
                raise QuerySyntaxError.at("OR needs a term on both sides (position {position})", tok.pos)
            operands.append(self.parse_and())
        return _make(Or, operands)

    def parse_and(self) -> Query:
        tok = self.peek()
        if tok is None:
            raise QuerySyntaxError.at("The query ends where a term was expected (position {position})", self.end)
        if tok.kind in ("OR", "AND"):
            raise QuerySyntaxError.at(tok.kind + " needs a term on both sides (position {position})", tok.pos)
        if tok.kind == ")":
            raise QuerySyntaxError.at("Unmatched ')' at position {position}", tok.pos)
        operands = [self.parse_unary()]
        while (tok := self.peek()) is not None:
            if tok.kind == "AND":
                self.next()
                if not self.starts_operand():
                    raise QuerySyntaxError.at("AND needs a term on both sides (position {position})", tok.pos)
            elif tok.kind not in _OPERAND_START:
                break
            operands.append(self.parse_unary())
        return _merge_langs(_make(And, operands))

    def parse_unary(self) -> Query:
        negations: list[_Token] = []
        while (tok := self.peek()) is not None and tok.kind in ("NOT", "-"):
            negations.append(self.next())
        if negations and not self.starts_operand():
            last = negations[-1]
            raise QuerySyntaxError.at(
                "{op} at position {position} needs a term after it", last.pos, op="NOT" if last.kind == "NOT" else "'-'"
            )
        if len(negations) > MAX_DEPTH:
            raise QuerySyntaxError.at("Too many NOTs in a row at position {position}", negations[0].pos)
        node = self.parse_primary()
        for _ in negations:
            node = Not(node)
        return node

    def parse_primary(self) -> Query:
        tok = self.next()
        if tok.kind == "(":
            if self.peek() is None:
                raise QuerySyntaxError.at("Unclosed parenthesis at position {position}", tok.pos)
            if self.peek().kind == ")":
                raise QuerySyntaxError.at("Empty parentheses at position {position}", tok.pos)
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QuerySyntaxError.at("Parentheses are nested too deeply at position {position}", tok.pos)
            node = self.parse_or()
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != ")":
                raise QuerySyntaxError.at("Unclosed parenthesis at position {position}", tok.pos)
            self.next()
            return node
        if tok.kind == "phrase":
            return _phrase(tok)
        return _word(tok)  # starts_operand() guarantees a word here


def _make(cls, operands: list[Query]) -> Query:
    """And/Or with nested groups of the same kind flattened; a single operand stands alone."""
    flat: list[Query] = []
    for q in operands:
        flat.extend(q.operands if isinstance(q, cls) else (q,))
    return flat[0] if len(flat) == 1 else cls(tuple(flat))


def _merge_langs(q: Query) -> Query:
    # A message has one language, so "lang:en lang:ar" read literally could never match. Several
    # lang: filters in one AND group therefore mean "any of these languages" (parentheses inside
    # the group don't matter, it is flattened first). The merged filter takes the first one's place.
    if not isinstance(q, And):
        return q
    langs = [c for c in q.operands if isinstance(c, Lang)]
    if len(langs) < 2:
        return q
    merged = Lang(tuple(sorted({code for lang in langs for code in lang.codes})))
    rest: list[Query] = []
    for c in q.operands:
        if c is langs[0]:
            rest.append(merged)
        elif not isinstance(c, Lang):
            rest.append(c)
    return rest[0] if len(rest) == 1 else And(tuple(rest))


def _phrase(tok: _Token) -> Query:
    words = tuple(textnorm.normalize(tok.text).split())
    if not words:
        raise QuerySyntaxError.at("Empty phrase at position {position}", tok.pos)
    return Phrase(words, source=textnorm.clean(tok.text))


def _word(tok: _Token) -> Query:
    raw = tok.text
    key, colon, value = raw.partition(":")
    if colon and key.lower() == "lang":
        codes = value.lower().split(",")
        if not all(_LANG_CODE.fullmatch(c) for c in codes):
            raise QuerySyntaxError.at("lang: at position {position} needs a language code, as in lang:en or lang:en,ar", tok.pos)
        return Lang(tuple(sorted(set(codes))))
    words = textnorm.normalize(raw).split()
    source = textnorm.clean(raw)
    if not words:
        raise QuerySyntaxError.at("'{word}' at position {position} has no letters or digits to search for", tok.pos, word=raw)
    if len(words) > 1:
        return Phrase(tuple(words), source=source)
    word = words[0]
    if word.startswith("#"):
        return Hashtag(word[1:], source=source)
    if word.startswith("@"):
        return Mention(word[1:], source=source)
    return Term(word, source=source)


def parse(query: str) -> Query:
    """Parse the documented syntax (see describe_syntax()); raises QuerySyntaxError only."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError.at(
            "The query is too long: at most {limit} characters (position {position})", MAX_QUERY_LENGTH, limit=MAX_QUERY_LENGTH
        )
    tokens = _lex(query)
    if not tokens:
        raise QuerySyntaxError.at("Empty query", 0)
    node = _Parser(tokens, len(query)).parse()
    if not _searchable(node):
        raise QuerySyntaxError.at(
            "Nothing to search for: every alternative needs a word, phrase, #hashtag or @handle that is not excluded", 0
        )
    return node


# ---------------------------------------------------------------- rendering

_PLAIN_WORD = regex.compile(r"[\p{L}\p{N}_][\p{L}\p{M}\p{N}_]*")
_X_HANDLE = regex.compile(r"[a-z0-9_]{1,15}")


def _spelled(q: Query) -> str:
    """A leaf as the user spelled it (textnorm.clean), for network searches, which fold text
    their own way: sending our folded "مدينه" for "مدينة" could miss posts there. Falls back to
    the normalised form when the spelling carries punctuation a network could read as syntax."""
    if isinstance(q, Term):
        return q.source if _PLAIN_WORD.fullmatch(q.source) else q.word
    if isinstance(q, Hashtag):
        plain = q.source[:1] == "#" and _PLAIN_WORD.fullmatch(q.source[1:].lstrip("_"))
        return q.source if plain else "#" + q.tag
    if isinstance(q, Mention):
        return "@" + q.handle
    return q.source or " ".join(q.words)  # Phrase


def _nnf(q: Query, negate: bool = False) -> Query:
    """Push NOT down to the leaves (De Morgan), so a renderer only ever negates a leaf."""
    if isinstance(q, Not):
        return _nnf(q.operand, not negate)
    if isinstance(q, (And, Or)):
        cls = type(q) if not negate else (Or if isinstance(q, And) else And)
        return _make(cls, [_nnf(c, negate) for c in q.operands])
    return Not(q) if negate else q


class _Canonical:
    """Our own syntax from the normalised forms: parse(render(q)) == q for any AST parse() makes."""

    def leaf(self, q: Query) -> str:
        if isinstance(q, Term):
            return q.word
        if isinstance(q, Phrase):
            return '"' + " ".join(q.words) + '"'
        if isinstance(q, Hashtag):
            return "#" + q.tag
        if isinstance(q, Mention):
            return "@" + q.handle
        return "lang:" + ",".join(q.codes)

    def negated(self, q: Not) -> str:
        inner = self.render(q.operand)
        return "-" + (f"({inner})" if isinstance(q.operand, (And, Or)) else inner)

    def render(self, q: Query) -> str:
        if isinstance(q, Not):
            return self.negated(q)
        if isinstance(q, And):
            return " ".join(f"({self.render(c)})" if isinstance(c, Or) else self.render(c) for c in q.operands)
        if isinstance(q, Or):
            return " OR ".join(f"({self.render(c)})" if isinstance(c, Or) else self.render(c) for c in q.operands)
        return self.leaf(q)


class _XDialect(_Canonical):
    """X API v2 search: space is AND, OR, -, quotes, #, @, lang:, parentheses. Call it on the
    _nnf() form. Mixed AND/OR is always bracketed, as X's documentation recommends."""

    def leaf(self, q: Query) -> str:
        if isinstance(q, Phrase):
            return f'"{_spelled(q)}"'
        if isinstance(q, Mention) and _X_HANDLE.fullmatch(q.handle):
            return f"(@{q.handle} OR from:{q.handle})"  # our @handle also means "posted by"
        if isinstance(q, Lang):
            if len(q.codes) == 1:
                return "lang:" + q.codes[0]
            return "(" + " OR ".join("lang:" + c for c in q.codes) + ")"
        return _spelled(q)

    def negated(self, q: Not) -> str:
        operand = q.operand
        if isinstance(operand, Mention) and _X_HANDLE.fullmatch(operand.handle):
            return f"-@{operand.handle} -from:{operand.handle}"
        if isinstance(operand, Lang):
            return " ".join("-lang:" + c for c in operand.codes)
        return "-" + self.leaf(operand)

    def render(self, q: Query) -> str:
        if isinstance(q, And):
            return " ".join(f"({self.render(c)})" if isinstance(c, Or) else self.render(c) for c in q.operands)
        if isinstance(q, Or):
            return " OR ".join(f"({self.render(c)})" if isinstance(c, And) else self.render(c) for c in q.operands)
        return super().render(q)


def _plain_leaf(q: Query, network: str) -> str:
    """One positive leaf for a network without operators. Bluesky keeps quoted phrases; Mastodon
    and the simulator get bare words. Mastodon reads "@name" as an account lookup, so a handle
    goes bare there."""
    if isinstance(q, Phrase):
        if network == "bluesky":
            return f'"{_spelled(q)}"'
        return " ".join(_PLAIN_WORD.findall(_spelled(q))) or " ".join(q.words)
    if isinstance(q, Mention) and network == "mastodon":
        return q.handle
    return _spelled(q)


def _required(q: Query) -> list[Query]:
    """Positive leaves that every match must contain, in query order. Takes the _nnf() form, where
    a NOT only ever wraps a leaf (and so requires nothing)."""
    if isinstance(q, _LEAVES):
        return [q]
    if isinstance(q, And):
        return list(dict.fromkeys(leaf for c in q.operands for leaf in _required(c)))
    if isinstance(q, Or):
        common = set.intersection(*(set(_required(c)) for c in q.operands))
        return [leaf for leaf in _required(q.operands[0]) if leaf in common]
    return []


def _required_langs(q: Query) -> frozenset[str] | None:
    """The languages every match must be in, or None when any language can match (_nnf() form)."""
    if isinstance(q, Lang):
        return frozenset(q.codes)
    if isinstance(q, And):
        sets = [s for c in q.operands if (s := _required_langs(c)) is not None]
        return frozenset.intersection(*sets) if sets else None
    if isinstance(q, Or):
        sets = [_required_langs(c) for c in q.operands]
        return None if any(s is None for s in sets) else frozenset().union(*sets)
    return None


_Clause = tuple[tuple[Query, ...], frozenset[str] | None]  # positive leaves, language constraint


def _clauses(q: Query) -> list[_Clause]:
    """The _nnf() form of a query as alternatives, keeping only what plain searches can say. Every
    match of the query matches one clause; a clause may match more (its NOTs are gone)."""
    if isinstance(q, _LEAVES):
        return [((q,), None)]
    if isinstance(q, Lang):
        return [((), frozenset(q.codes))]
    if isinstance(q, Or):
        return [clause for c in q.operands for clause in _clauses(c)]
    if isinstance(q, And):
        parts = [_clauses(c) for c in q.operands]
        if _product_size(parts) > MAX_SEARCHES:
            # Too many combinations: search by the operand with the fewest clauses that has a
            # term in each. Any match of the AND matches that operand, so nothing is lost.
            return min([p for p in parts if all(leaves for leaves, _ in p)] or parts, key=len)
        out = []
        for combo in itertools.product(*parts):
            leaves = tuple(dict.fromkeys(leaf for ls, _ in combo for leaf in ls))
            langs = [lg for _, lg in combo if lg is not None]
            constraint = frozenset.intersection(*langs) if langs else None
            if constraint != frozenset():  # two different languages required: can never match
                out.append((leaves, constraint))
        return out
    return [((), None)]  # NOT: a plain search cannot exclude, so it constrains nothing


def _product_size(parts: list[list[_Clause]]) -> int:
    size = 1
    for p in parts:
        size *= len(p)
    return size


def _check_network(network: str) -> None:
    if network not in NETWORKS:
        raise ValueError(f"unknown network {network!r}; expected one of {', '.join(NETWORKS)}")


def to_network_query(query: Query, network: str) -> str:
    """The query in `network`'s own search syntax, as far as that network supports it.

    "x": the whole query. Other networks have no OR or NOT: the result is the terms every match
    must contain, which finds a superset (empty when the query is an OR with nothing in common:
    use network_searches() then). The language goes separately, see network_lang().
    Network search is looser than ours anyway (its own tokenising and stemming), so the app always
    re-checks each result with Query.matches() before it enters the inbox."""
    _check_network(network)
    if network == "x":
        return _XDialect().render(_nnf(query))
    return " ".join(dict.fromkeys(_plain_leaf(leaf, network) for leaf in _required(_nnf(query))))


def network_lang(query: Query) -> str:
    """The one language every match must be in (for Bluesky's and Mastodon's separate language
    parameter), or "" when the query allows several or any."""
    langs = _required_langs(_nnf(query))
    return next(iter(langs)) if langs is not None and len(langs) == 1 else ""


def network_searches(query: Query, network: str) -> list[SearchQuery]:
    """The searches to run on `network` so that together they find every post the query matches.

    X gets one search. Networks without OR get one search per alternative ("flood OR فيضان" is
    two searches), each with its own language when it has exactly one. Past MAX_SEARCHES
    alternatives each is cut to its first term, so searches are broader and fewer (still possibly
    more than MAX_SEARCHES: an OR of many terms needs them all). Results still go through matches()."""
    _check_network(network)
    if network == "x":
        return [SearchQuery(terms=to_network_query(query, "x"))]
    clauses = _clauses(_nnf(query))
    if len(clauses) > MAX_SEARCHES:
        # Too many alternatives: widen each to its first term; still covers every match.
        clauses = [((leaves[0],), None) for leaves, _ in clauses if leaves]
    searches: dict[tuple[str, str], None] = {}
    for leaves, langs in clauses:
        terms = " ".join(dict.fromkeys(_plain_leaf(leaf, network) for leaf in leaves))
        lang = next(iter(langs)) if langs is not None and len(langs) == 1 else ""
        if terms:
            searches[(terms, lang)] = None
    return [SearchQuery(terms=t, lang=lg) for t, lg in searches]


# ---------------------------------------------------------------- help and highlighting


def highlight_terms(query: Query) -> list[str]:
    """The positive terms, normalised (as tokens() produces them), in query order, once each:
    words, phrases as "w1 w2", "#tag" and "@handle". Negated terms and lang: are left out."""
    out: list[str] = []

    def walk(q: Query, negated: bool) -> None:
        if isinstance(q, Not):
            walk(q.operand, not negated)
        elif isinstance(q, (And, Or)):
            for c in q.operands:
                walk(c, negated)
        elif not negated and isinstance(q, Phrase):
            out.append(" ".join(q.words))
        elif not negated and isinstance(q, _LEAVES):
            out.append(_Canonical().leaf(q))

    walk(query, False)
    return list(dict.fromkeys(out))


_HELP = """\
Words separated by spaces must all appear: flood warning
OR between words means either one: flood OR فيضان
Exclude with NOT or a minus sign: flood -drill, flood NOT drill
Quotes for an exact phrase: "boil water notice"
Parentheses group: (flood OR storm) warning
#hashtag matches that hashtag; @handle matches a mention or posts by that account
lang:en or lang:ar keeps posts in those languages; lang:en,ar allows both
NOT binds tightest, then AND, then OR: a b OR c means (a b) OR c
Case, Arabic diacritics, hamza and alef forms, ة/ه, ى/ي and Arabic digits do not matter."""


def describe_syntax() -> str:
    """Short help for the query box (English msgid; the UI translates it)."""
    return _HELP


def required_words(q: Query) -> frozenset[str] | None:
    """Words of which a message must have at least one, among its text's forms and its author's (`words_of`), for
    the query to match it; None when it can match without any (NOT, or a lang: filter alone). Inbox rules test a
    message only against the queries whose words it has: 50 rules' queries no longer run on every message."""
    if isinstance(q, Term):
        return frozenset([q.word])
    if isinstance(q, Phrase):
        return frozenset(q.words[:1])  # every word of a phrase is among the forms of a text that has it
    if isinstance(q, Hashtag):
        return frozenset(["#" + q.tag])
    if isinstance(q, Mention):
        return frozenset(["@" + q.handle])
    if isinstance(q, Or):
        out: set[str] = set()
        for operand in q.operands:
            words = required_words(operand)
            if words is None:
                return None
            out |= words
        return frozenset(out)
    if isinstance(q, And):
        best: frozenset[str] | None = None
        for operand in q.operands:
            words = required_words(operand)
            if words is not None and (best is None or len(words) < len(best)):
                best = words
        return best
    return None


def words_of(msg: _Message) -> frozenset[str]:
    """What `required_words` is looked up in: the forms of the message's text and of its author."""
    return msg.text.forms | msg.author


def prepare(text: str, lang: str = "", author_handle: str = "") -> _Message:
    """A message analysed once (text, language, author) for `Query.matches_prepared`."""
    return _Message(text, lang, author_handle)
