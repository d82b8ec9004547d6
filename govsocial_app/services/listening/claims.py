"""Misinformation claim tracker: staff register a false claim and its correction; similar ingested messages are flagged,
charted by spread and spreader, labelled in the inbox, and answered with the correction in one tap.

How a message is judged similar to a claim (English and Arabic, and across them):
  * Both texts go through the shared normaliser (textnorm), so case, Arabic diacritics, hamza/alef forms, ة/ه, ى/ي,
    the definite article and digit scripts do not matter.
  * Words are mapped to bilingual *concepts* (dam = سد, failed = انهار/انهيار/collapsed/burst, poisoned = مسموم/سامة ...),
    with dialect spellings; a claim's key terms are its concepts plus its other content words (those match only literally).
  * Key-term coverage: the share of the claim's key terms that the message contains. Cross-language matching only works
    through concepts, which is why the map lists the words rumours in a crisis are made of, in both languages.
  * Character 3–5-gram TF-IDF cosine catches near-copies and inflections the concept map lacks, in the same language.
  * A message that *denies* the claim ("this is fake", "غير صحيح") is not spreading it and is not flagged.
A message matches when coverage >= 0.6 (concepts weigh 1, other words 0.5) with at least two key terms, or cosine >= 0.5
with coverage >= 0.34.
Precision and recall on a labelled set of English and Arabic messages are pinned in tests/reports/test_claims.py."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from connectors import textcount
from connectors.registry import limits_for
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Claim, ClaimMatch, Message
from govsocial_app.services import audit, bus, textnorm
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.events import InboxChanged
from govsocial_app.services.errors import UserError

log = logging.getLogger(__name__)

MIN_COVERAGE = 0.6
MIN_TERMS = 2
MIN_COSINE = 0.5
COSINE_COVERAGE = 0.34
_BATCH = 2000

# Bilingual concepts. A form ending in * matches any word that starts with it (English inflections, Arabic
# verb forms); Arabic forms are written plainly and folded by textnorm like the messages are.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "dam": ("dam", "dams", "reservoir", "سد", "السد", "سدود", "الخزان"),
    "fail": ("fail*", "collaps*", "burst*", "breach*", "broke", "broken", "gave way", "give way", "giving way", "crack*",
             "انهار*", "انهيار", "ينهار", "تنهار", "انفجر*", "تصدع*", "انكسر*", "تحطم*", "فشل", "راح"),
    "water": ("water", "waters", "ماء", "مياه", "مي", "المي", "موية", "مويه"),
    "tap": ("tap", "taps", "drinking", "faucet", "supply", "صنبور", "الصنبور", "حنفية", "الحنفيه", "حنفيات", "الشرب", "شرب"),
    "poison": ("poison*", "toxic", "contaminat*", "unsafe", "deadly", "مسموم*", "سامة", "سام", "سم", "تسمم", "ملوث*", "مسمم*"),
    "council": ("council", "councils", "بلدية", "البلدية", "البلديه", "المجلس", "مجلس"),
    "tax": ("tax", "taxes", "rates", "ضريبة", "ضرائب", "الضريبة", "ضريبه"),
    "rise": ("rise*", "rising", "increase*", "hike*", "up", "higher", "jump*", "ترتفع", "سترتفع", "ارتفاع", "زيادة", "زياده", "يرفع*",
             "رفع", "تزيد", "ستزيد"),
    "twenty": ("20", "twenty", "fifth", "عشرين", "عشرون"),
    "shelter": ("shelter*", "evacuation centre", "rest centre", "ملجأ", "ملجا", "مأوى", "ماوي", "إيواء", "ايواء", "الملاجئ"),
    "full": ("full", "capacity", "packed", "overflowing", "ممتلئ*", "مليان*", "امتلأ*", "امتلا*", "ممتلي*", "مزدحم*"),
    "refuse": ("turn* away", "turning", "refus*", "reject*", "denied", "يرفض*", "رفض*", "يرد*", "يطرد*", "ما يستقبل*", "لا يستقبل*"),
    "library": ("library", "libraries", "مكتبة", "المكتبة", "المكتبه", "مكتبه"),
    "close": ("clos*", "shut*", "shutting", "يغلق*", "ستغلق", "سيغلق*", "إغلاق", "اغلاق", "تقفل*", "يقفل*", "تسكير", "تسكر*", "يسكر*",
              "بتسكر", "سكر*", "اقفال"),
    "forever": ("good", "forever", "permanent*", "نهائي*", "للأبد", "للابد"),
    "loot": ("loot*", "thief", "thieves", "burglar*", "robbing", "لصوص", "لص", "نهب", "سرقة", "سرقات", "حرامي*"),
    "house": ("house", "houses", "homes", "home", "door", "بيت", "بيوت", "منزل", "منازل", "البيوت"),
    "gates": ("gate", "gates", "sluice*", "بوابات", "بوابة", "البوابات"),
    "open": ("open*", "release*", "فتح", "يفتح*", "ستفتح", "سيفتح*"),
    "deliberate": ("purpose", "deliberate*", "intentional*", "عمدا", "عمداً", "قصدا", "متعمد*", "بقصد"),
    "flood": ("flood*", "فيضان*", "سيول", "يغرق*", "تغرق", "اغراق", "إغراق", "غرق"),
    "death": ("death*", "dead", "died", "dying", "killed", "toll", "قتلى", "وفيات", "ضحايا", "موتى", "ماتوا", "وفاة"),
    "hide": ("hid*", "cover* up", "cover-up", "secret*", "lying", "يخفون", "اخفاء", "إخفاء", "يكذبون", "يتستر*"),
    "hospital": ("hospital*", "مستشفى", "المستشفى", "مشفى"),
    "bridge": ("bridge*", "جسر", "الجسر", "كوبري"),
    "power": ("power", "electricity", "blackout", "كهرباء", "الكهرباء"),
    "school": ("school*", "مدرسة", "مدارس", "المدرسة"),
    "evacuate": ("evacuat*", "leave", "get out", "إخلاء", "اخلاء", "غادر*", "اطلعوا", "اهربوا"),
    "sold": ("sold", "sell*", "selling", "developer*", "تباع", "ستباع", "بيع", "يبيع*"),
}

# Words a rumour is never about; the rest of a claim are its key terms.
STOPWORDS = frozenset(textnorm.normalize(w) for w in """
a an the is are was were be been being has have had do does did will would shall should can could may might must
i you he she it we they me him her us them my your his its our their this that these those there here
of in on at to for from by with about as into over under after before than then so and or but if
not no yes just all any some every each more most very too also only still even now again ever
what which who whom whose when where why how
someone people everyone everybody anyone said says saying say heard hear apparently allegedly
next year years week weeks today tonight tomorrow day days going get got gets because due
في من على الى إلى عن مع هذا هذه ذلك تلك هو هي هم هن انا أنا نحن انت أنت انتم أنتم كان كانت يكون
ان أن إن او أو و ثم قد لقد كل بعض جدا الان الآن اليوم الليلة غدا سمعت يقولون يقول قالوا قال
العام عام المقبل مقبل القادم سنة السنة هل ما لا لم لن الذي التي الذين ده دي اللي بسبب لان لأن
""".split())

DENIALS = tuple(textnorm.normalize(p) for p in (
    "not true", "isn't true", "is not true", "untrue", "fake", "false", "hoax", "debunk", "misinformation", "disinformation",
    "stop spreading", "don't believe", "do not believe", "don't share", "no truth", "baseless", "nonsense", "rubbish",
    "is safe", "are safe", "is fine", "still standing", "holding up", "is holding", "has not", "hasn't", "did not", "didn't",
    "not going", "isn't going", "aren't going", "won't", "will not", "no plans", "not closing", "not full",
    "غير صحيح", "ليس صحيح", "مش صحيح", "مو صحيح", "اشاعة", "إشاعة", "اشاعه", "شائعة", "شائعات", "اشاعات", "كذب", "كذبة",
    "لا صحة", "لا أساس", "مفبرك", "لا تصدقوا", "لا تنشروا", "توقفوا عن نشر", "آمنة", "امنه", "سليم", "لم ينهار", "ما انهار",
))


# ---------------------------------------------------------------- text → key terms


@lru_cache(maxsize=1)
def _concept_index() -> tuple[dict[str, str], list[tuple[str, str]], list[tuple[tuple[str, ...], str]]]:
    """(exact form → concept, [(prefix, concept)], [(multi-word phrase, concept)]), all normalised."""
    exact: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    phrases: list[tuple[tuple[str, ...], str]] = []
    for concept, forms in CONCEPTS.items():
        for form in forms:
            star = form.endswith("*")
            words = textnorm.normalize(form.rstrip("*")).split()
            if len(words) > 1:
                phrases.append((tuple(words), concept))
            elif star:
                prefixes.append((words[0], concept))
            else:
                exact[words[0]] = concept
    prefixes.sort(key=lambda p: -len(p[0]))
    return exact, prefixes, phrases


def _concept_of(token: str) -> str | None:
    exact, prefixes, _ = _concept_index()
    if token in exact:
        return exact[token]
    for prefix, concept in prefixes:
        if token.startswith(prefix) and (len(prefix) >= 3 or token == prefix):
            return concept
    return None


@dataclass(frozen=True)
class Terms:
    concepts: frozenset[str]
    words: frozenset[str]  # content words that map to no concept: these match only literally

    @property
    def keys(self) -> frozenset[str]:
        return self.concepts | {"w:" + w for w in self.words}


@lru_cache(maxsize=4096)
def terms(text: str) -> Terms:
    analysis = textnorm.analyse(text)
    concepts: set[str] = set()
    words: set[str] = set()
    _, _, phrases = _concept_index()
    for phrase, concept in phrases:
        if analysis.has_sequence(phrase):
            concepts.add(concept)
    for position in analysis.positions:
        found = None
        for form in sorted(position, key=len, reverse=True):  # an Arabic word and its article-less stems
            form = form.lstrip("#@")
            found = _concept_of(form) or (_concept_of(form[1:]) if form[:1] in ("و", "ف") and len(form) > 3 else None)
            if found:
                break
        if found:
            concepts.add(found)
            continue
        word = min(position, key=len).lstrip("#@")
        if len(word) >= 3 and word not in STOPWORDS and not word.isdigit():
            words.add(word)
    return Terms(frozenset(concepts), frozenset(words))


def denies(text: str) -> bool:
    """Whether a message argues against a claim rather than spreading it."""
    padded = f" {textnorm.normalize(text)} "
    return any(f" {d} " in padded for d in DENIALS)


@dataclass(frozen=True)
class Verdict:
    matched: bool
    score: float
    coverage: float
    cosine: float
    denied: bool


def coverage(claim: Terms, message: Terms) -> tuple[float, int]:
    """(weighted share of the claim's key terms in the message, number of key terms found). Concepts weigh 1 and
    other words 0.5: what a claim asserts (dam + failed) matters more than its incidental words (place names)."""
    total = len(claim.concepts) + 0.5 * len(claim.words)
    if not total:
        return 0.0, 0
    concepts, words = claim.concepts & message.concepts, claim.words & message.words
    return (len(concepts) + 0.5 * len(words)) / total, len(concepts) + len(words)


def judge(claim_text: str, message_text: str, cosine: float = 0.0) -> Verdict:
    claim = terms(claim_text)
    if not claim.keys:
        return Verdict(False, 0.0, 0.0, cosine, False)
    share, found = coverage(claim, terms(message_text))
    denied = denies(message_text)
    similar = (share >= MIN_COVERAGE and found >= min(MIN_TERMS, len(claim.keys))) or (cosine >= MIN_COSINE and share >= COSINE_COVERAGE)
    coverage_ = share
    return Verdict(similar and not denied, round(max(coverage_, cosine), 4), coverage_, cosine, denied)


def cosines(claim_texts: list[str], message_texts: list[str]) -> list[list[float]]:
    """Character 3–5-gram TF-IDF cosine of each message against each claim (rows: messages)."""
    if not claim_texts or not message_texts:
        return [[0.0] * len(claim_texts) for _ in message_texts]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    docs = [textnorm.normalize(t) for t in (*claim_texts, *message_texts)]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vec.fit_transform(docs)
    return cosine_similarity(matrix[len(claim_texts):], matrix[: len(claim_texts)]).tolist()


def match_texts(claim_texts: list[str], message_texts: list[str]) -> list[list[Verdict]]:
    """Every message judged against every claim (rows: messages). Pure: the labelled-set test calls this."""
    sims = cosines(claim_texts, message_texts)
    return [[judge(c, m, sims[i][j]) for j, c in enumerate(claim_texts)] for i, m in enumerate(message_texts)]


# ---------------------------------------------------------------- claims


@dataclass(frozen=True)
class ClaimSummary:
    id: int
    text: str
    correction: str
    link: str
    lang: str
    matches: int
    last_match_at: datetime | None
    created_at: datetime


def create_claim(actor: Actor, text: str, correction: str, link: str = "", lang: str = "en") -> int:
    require(actor, "listening.edit")
    text, correction, link = (text or "").strip(), (correction or "").strip(), (link or "").strip()
    if len(text) < 5:
        raise UserError("Describe the false claim in a few words.")
    if len(text) > 500:
        raise UserError("Keep the claim under 500 characters.")
    if not correction:
        raise UserError("Write the official correction.")
    if link and not re.match(r"https?://\S+$", link):
        raise UserError("The link must start with http:// or https://")
    if len(terms(text).keys) < 1:
        raise UserError("The claim needs at least one word to match on.")
    with session_scope() as s:
        claim = Claim(text=text, correction=correction, link=link[:500], lang=lang if lang in ("en", "ar") else "en", created_by=actor.user_id)
        s.add(claim)
        s.flush()
        audit.record(s, actor, "claim.create", "claim", claim.id, text=text, link=link)
        claim_id = claim.id
    backfill(claim_id)
    return claim_id


def archive_claim(actor: Actor, claim_id: int) -> None:
    require(actor, "listening.edit")
    with session_scope() as s:
        claim = s.get(Claim, claim_id)
        if claim is None or claim.deleted_at is not None:
            raise UserError("That claim does not exist.")
        claim.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "claim.archive", "claim", claim_id)


def _live_claims(s: Session) -> list[Claim]:
    return list(s.execute(select(Claim).where(col(Claim.deleted_at).is_(None)).order_by(Claim.id)).scalars())


def _store(s: Session, pairs: list[tuple[int, int, float]], flagged: set[int] | None = None) -> int:
    """Insert the claim matches not already stored; adds the ids of the messages that got one to `flagged`."""
    if not pairs:
        return 0
    existing = set(s.execute(
        select(ClaimMatch.claim_id, ClaimMatch.message_id).where(col(ClaimMatch.message_id).in_({m for _, m, _ in pairs}))
    ).all())
    new = [{"claim_id": c, "message_id": m, "score": sc, "matched_at": datetime.now(timezone.utc)} for c, m, sc in pairs if (c, m) not in existing]
    if new:
        s.execute(ClaimMatch.__table__.insert(), new)
        if flagged is not None:
            flagged.update(r["message_id"] for r in new)
    return len(new)


def _judge_rows(claims: list[Claim], rows: list[tuple[int, str]]) -> list[tuple[int, int, float]]:
    verdicts = match_texts([c.text for c in claims], [t for _, t in rows])
    return [(claims[j].id, rows[i][0], v.score) for i, row in enumerate(verdicts) for j, v in enumerate(row) if v.matched]


def match_new_messages(message_ids: list[int]) -> int:
    """Flag newly ingested inbound messages that spread a tracked claim, in their own transaction. Returns new matches."""
    with session_scope() as s:
        return match_in_session(s, message_ids)


def match_in_session(s: Session, message_ids: list[int]) -> int:
    """match_new_messages inside the caller's transaction; the flagged messages are announced after its commit."""
    if not message_ids:
        return 0
    claims = _live_claims(s)
    if not claims:
        return 0
    made, flagged = 0, set()
    for start in range(0, len(message_ids), _BATCH):
        chunk = message_ids[start : start + _BATCH]
        rows = s.execute(
            select(Message.id, Message.text).where(col(Message.id).in_(chunk), Message.direction == "in", col(Message.deleted_at).is_(None))
        ).all()
        made += _store(s, _judge_rows(claims, [(i, t) for i, t in rows]), flagged)
    if flagged:
        bus.announce_after_commit(s, InboxChanged.of(changed_ids=flagged))
    return made


def _prefilter(claim: Claim):
    """SQL that keeps only messages containing at least one form of the claim's key terms (a superset of matches)."""
    t = terms(claim.text)
    forms: set[str] = set(t.words)
    for concept in t.concepts:
        for form in CONCEPTS[concept]:
            forms.add(textnorm.normalize(form.rstrip("*")))
    likes = [Message.search_text.like(textnorm.like_pattern(f), escape="\\") for f in forms if f and textnorm.like_pattern(f)]
    return or_(*likes) if likes else None


def backfill(claim_id: int) -> int:
    """Match a claim against everything already ingested (runs when a claim is registered)."""
    made = 0
    with session_scope() as s:
        claim = s.get(Claim, claim_id)
        if claim is None:
            return 0
        cond = _prefilter(claim)
        after = 0
        while True:
            q = select(Message.id, Message.text).where(Message.direction == "in", col(Message.deleted_at).is_(None), Message.id > after)
            if cond is not None:
                q = q.where(cond)
            rows = s.execute(q.order_by(Message.id).limit(_BATCH)).all()
            if not rows:
                break
            made += _store(s, _judge_rows([claim], [(i, t) for i, t in rows]))
            after = rows[-1][0]
    return made


def claims() -> list[ClaimSummary]:
    with session_scope() as s:
        counts = {
            r[0]: (int(r[1]), r[2])
            for r in s.execute(
                select(ClaimMatch.claim_id, func.count(ClaimMatch.id), func.max(Message.received_at))
                .join(Message, Message.id == ClaimMatch.message_id).group_by(ClaimMatch.claim_id)
            ).all()
        }
        out = []
        for c in _live_claims(s):
            n, last = counts.get(c.id, (0, None))
            last = last if last is None or last.tzinfo else last.replace(tzinfo=timezone.utc)
            out.append(ClaimSummary(c.id, c.text, c.correction, c.link, c.lang, n, last, c.created_at))
        return out


def correction_reply(claim_id: int, message_id: int) -> str:
    """The reply the inbox prefills: the author mentioned, the official correction and its link, within the network's limit."""
    with session_scope() as s:
        claim, m = s.get(Claim, claim_id), s.get(Message, message_id)
        if claim is None or m is None:
            raise UserError("That claim or message no longer exists.")
        handle = (m.author_handle or "").strip().lstrip("@")
        network = m.network
        # A direct message needs no mention; a public reply names who it answers.
        mention = f"@{handle} " if handle and m.kind != "dm" else ""
    link = f" {claim.link}" if claim.link else ""
    text = f"{mention}{claim.correction}{link}".strip()
    limits = limits_for(network)
    if textcount.count(text, limits) <= limits.max_chars:
        return text
    # Too long: shorten the correction, never the link.
    body = claim.correction
    while body and textcount.count(f"{mention}{body}…{link}", limits) > limits.max_chars:
        body = body[:-1]
    return f"{mention}{body.rstrip()}…{link}".strip()


# ---------------------------------------------------------------- the tracker view


@dataclass(frozen=True)
class Spreader:
    network: str
    handle: str
    name: str
    messages: int
    followers: int
    engagements: int


@dataclass(frozen=True)
class MatchedMessage:
    id: int
    network: str
    handle: str
    text: str
    received_at: datetime
    score: float
    lang: str


@dataclass(frozen=True)
class ClaimView:
    claim: ClaimSummary
    by_hour: dict[str, int]  # UTC hour bucket → matches
    spreaders: list[Spreader]
    messages: list[MatchedMessage]


def claim_view(claim_id: int, since: datetime, until: datetime, *, limit: int = 30) -> ClaimView:
    from govsocial_app.db import sql

    summary = next((c for c in claims() if c.id == claim_id), None)
    if summary is None:
        raise UserError("That claim does not exist.")
    in_range = and_(ClaimMatch.claim_id == claim_id, Message.received_at >= since, Message.received_at < until,
                    col(Message.deleted_at).is_(None))
    with session_scope() as s:
        hour = sql.hour_bucket(s, Message.received_at)
        by_hour = dict(s.execute(select(hour, func.count(Message.id)).join(ClaimMatch, ClaimMatch.message_id == Message.id)
                                 .where(in_range).group_by(hour)).all())
        eng = func.sum(Message.likes + Message.reposts + Message.replies)
        spreaders = [
            Spreader(r[0], r[1], r[2] or r[1], int(r[3]), int(r[4] or 0), int(r[5] or 0))
            for r in s.execute(
                select(Message.network, Message.author_handle, func.max(Message.author_name), func.count(Message.id),
                       func.max(Message.author_followers), eng)
                .join(ClaimMatch, ClaimMatch.message_id == Message.id).where(in_range)
                .group_by(Message.network, Message.author_handle)
                .order_by(func.max(Message.author_followers).desc(), func.count(Message.id).desc()).limit(10)
            ).all()
        ]
        messages = [
            MatchedMessage(r[0], r[1], r[2], r[3], r[4], float(r[5]), r[6])
            for r in s.execute(
                select(Message.id, Message.network, Message.author_handle, func.substr(Message.text, 1, 280), Message.received_at,
                       ClaimMatch.score, Message.lang)
                .join(ClaimMatch, ClaimMatch.message_id == Message.id).where(in_range)
                .order_by(Message.received_at.desc()).limit(limit)
            ).all()
        ]
    return ClaimView(summary, {k: int(v) for k, v in by_hour.items()}, spreaders, messages)
