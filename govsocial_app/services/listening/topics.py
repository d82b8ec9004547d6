"""Listening: topics (saved keyword queries) over everything ingested, with volume, network share, sentiment, trending
terms by burst detection, influential voices and constituent concerns; and the matching that runs on ingest."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlmodel import Session, col

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import ListeningTopic, Message, Setting, TopicMatch, VipList, VipMember
from govsocial_app.services import audit, settings_store, textnorm
from govsocial_app.db import sql
from govsocial_app.services.listening import claims, keyword_query
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.reporting.reports import Series

log = logging.getLogger(__name__)

MAX_QUERIES = 10
WATERMARK = "listening.watermark"  # the highest message id already matched against topics and claims
_BATCH = 2000
POSITIVE, NEGATIVE = 0.05, -0.05  # VADER's own thresholds for calling a compound score positive or negative
BURST_MIN_COUNT = 3
BURST_MIN_SCORE = 2.0
BASELINE_WINDOWS = 7
CONCERN_SAMPLE = 2000


# ---------------------------------------------------------------- sentiment

# One meaning, one colour, wherever sentiment is drawn (chart bars and their legends, on screen and on paper):
# negative red, neutral grey, positive green (Radix red 9, slate 9 and green 10, each at least 3:1 on white).
SENTIMENT_COLORS = {"negative": "#e5484d", "neutral": "#8b8d98", "positive": "#2b9a66"}


def sentiment_series(positive, neutral, negative) -> tuple[Series, Series, Series]:
    """The three sentiment series of a chart, named and coloured by what they mean, never by their position."""
    return (
        Series("Positive", tuple(positive), SENTIMENT_COLORS["positive"]),
        Series("Neutral", tuple(neutral), SENTIMENT_COLORS["neutral"]),
        Series("Negative", tuple(negative), SENTIMENT_COLORS["negative"]),
    )


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


# A compact Arabic lexicon: Modern Standard Arabic plus common Gulf, Levantine and Egyptian forms seen in
# complaints and praise addressed to public bodies. Words are folded by textnorm (so أ/ا, ة/ه, ى/ي and the
# article do not matter). Weights follow VADER's scale (about ±1 to ±3).
AR_POSITIVE = {
    "شكرا": 2.0, "شكر": 1.5, "مشكور": 2.0, "مشكورين": 2.0, "يعطيكم العافيه": 2.0, "العافيه": 1.0, "ممتاز": 2.5, "ممتازه": 2.5,
    "رائع": 2.5, "رائعه": 2.5, "جميل": 2.0, "جميله": 2.0, "حلو": 1.5, "حلوه": 1.5, "حلوة": 1.5, "زين": 1.5, "تمام": 1.2,
    "احسنتم": 2.5, "احسنت": 2.5, "ابطال": 2.5, "بطل": 2.0, "سريع": 1.2, "سريعه": 1.2, "نظيف": 1.5, "نظيفه": 1.5, "مفيد": 1.5,
    "مفيده": 1.5, "شاكرين": 2.0, "ممنون": 2.0, "ممنونين": 2.0, "الله يعطيكم": 2.0, "بارك الله": 2.0, "جزاكم الله": 2.0,
    "سعيد": 2.0, "سعداء": 2.0, "مبسوط": 2.0, "مبسوطين": 2.0, "فرحان": 2.0, "احترام": 1.5, "الاحترام": 1.5, "تقدير": 1.5,
    "متعاون": 1.5, "لطيف": 1.5, "لطفهم": 1.5, "لطف": 1.2, "مساعده": 1.0, "انجاز": 2.0, "نجاح": 2.0, "افضل": 1.5, "أفضل": 1.5,
    "روعه": 2.5, "يجنن": 2.0, "حلوين": 1.5, "كويس": 1.5, "كويسه": 1.5, "منيح": 1.5, "منيحه": 1.5, "الحمد لله": 1.2, "امان": 1.0,
    "آمن": 1.0, "امنه": 1.0, "رائعين": 2.5, "متميز": 2.0, "شكراً": 2.0, "تسلموا": 2.0, "تسلمون": 2.0, "يسلمو": 2.0,
}
AR_NEGATIVE = {
    "سيء": -2.0, "سيئ": -2.0, "سيئه": -2.0, "سيئة": -2.0, "سي": -1.5, "زفت": -2.5, "خايس": -2.5, "تعبان": -1.5, "فاشل": -2.5,
    "فاشله": -2.5, "فشل": -2.0, "مهزله": -2.5, "فضيحه": -2.5, "عار": -2.5, "كارثه": -2.5, "كارثي": -2.5, "مشكله": -1.5,
    "مشاكل": -1.5, "مشكلة": -1.5, "غاضب": -2.0, "غضب": -2.0, "زعلان": -2.0, "زعلانين": -2.0, "متضايق": -1.8, "قرفان": -2.0,
    "قرف": -2.0, "ظلم": -2.5, "حرام": -1.8, "حرام عليكم": -2.5, "اهمال": -2.5, "إهمال": -2.5, "تاخير": -1.5, "تأخير": -1.5,
    "متاخر": -1.5, "بطيء": -1.5, "بطيئ": -1.5, "وسخ": -2.0, "وسخه": -2.0, "قذر": -2.0, "خطير": -2.0, "خطيره": -2.0, "خطر": -2.0,
    "خائف": -1.8, "خايف": -1.8, "خوف": -1.8, "مرعب": -2.5, "ذعر": -2.0, "غرق": -1.5, "تدمير": -2.5, "دمار": -2.5, "ضحايا": -2.5,
    "قتلى": -3.0, "مات": -2.5, "موت": -2.5, "حزين": -2.0, "حزن": -2.0, "مؤسف": -2.0, "للاسف": -1.5, "للأسف": -1.5, "اسوا": -2.5,
    "أسوأ": -2.5, "مقرف": -2.5, "سرقه": -2.0, "لصوص": -2.0, "كذب": -2.0, "كذابين": -2.5, "مسموم": -2.5, "مسمومه": -2.5,
    "ملوث": -2.0, "ملوثه": -2.0, "مقطوع": -1.5, "انقطاع": -1.5, "انقطعت": -1.5, "معطل": -1.5, "معطله": -1.5, "خربان": -2.0,
    "خربانه": -2.0, "عالقون": -1.5, "عالقين": -1.5, "ممتلئ": -0.8, "نفدت": -1.5, "وين": -0.5, "ليش": -0.8, "لماذا": -0.5,
    "ما حدا": -1.0, "محد": -1.0, "يا حسرة": -2.0, "حسبي الله": -2.5, "مصيبه": -2.5, "مصيبة": -2.5,
}
AR_NEGATORS = frozenset({"لا", "ما", "مش", "مو", "ليس", "ليست", "لم", "لن", "غير", "مب", "مهو", "مهي", "مافي", "ماكو", "بدون"})
AR_BOOSTERS = {"جدا": 0.3, "كثير": 0.2, "كتير": 0.2, "مره": 0.2, "وايد": 0.2, "اوي": 0.3, "للغايه": 0.3, "تماما": 0.2, "جداً": 0.3}
_EMOJI = {"😡": -2.5, "😠": -2.0, "🤬": -3.0, "😢": -2.0, "😭": -2.0, "💔": -2.0, "😤": -1.5, "👎": -2.0, "😞": -1.8,
          "🙏": 1.0, "👏": 2.0, "❤": 2.5, "❤️": 2.5, "😍": 2.5, "👍": 2.0, "🌷": 1.0, "😊": 2.0, "💪": 1.5, "🥰": 2.5}


@lru_cache(maxsize=1)
def _ar_lexicon() -> tuple[dict[str, float], dict[tuple[str, ...], float]]:
    words: dict[str, float] = {}
    phrases: dict[tuple[str, ...], float] = {}
    for table in (AR_POSITIVE, AR_NEGATIVE):
        for raw, weight in table.items():
            parts = tuple(textnorm.normalize(raw).split())
            if len(parts) == 1:
                words[parts[0]] = weight
            elif parts:
                phrases[parts] = weight
    return words, phrases


def _normalise_score(total: float) -> float:
    """VADER's normalisation: maps an unbounded sum of valences into (-1, 1)."""
    return total / math.sqrt(total * total + 15) if total else 0.0


def arabic_sentiment(text: str) -> float:
    """Lexicon score in [-1, 1]. A negator (لا، ما، مش، مو، ليس …) up to two words before a sentiment word flips and damps
    it, as VADER does (×-0.74); a booster (جدا، كثير، وايد …) right after it strengthens it. Known limits: sarcasm,
    words outside the lexicon, suffixes (بيتنا، شكرهم) and the many dialects it does not list are not understood."""
    words, phrases = _ar_lexicon()
    analysis = textnorm.analyse(text)
    full = analysis.normalized.split()  # one entry per word, like positions
    stems = [min(p, key=len) for p in analysis.positions]  # the word without its article
    total = 0.0
    used: set[int] = set()
    for phrase, weight in phrases.items():
        n = len(phrase)
        for i in range(len(full) - n + 1):
            if tuple(full[i : i + n]) == phrase and not used.intersection(range(i, i + n)):
                total += weight
                used.update(range(i, i + n))
    for i, tok in enumerate(full):
        if i in used:
            continue
        weight = 0.0
        for form in (tok, stems[i] if i < len(stems) else tok):
            # The word itself, without a leading و/ف ("and"/"so"), or without the feminine ending (ة, folded to ه).
            for candidate in (form, form[1:] if form[:1] in ("و", "ف") else "", form[:-1] if form.endswith("ه") else ""):
                if candidate and candidate in words:
                    weight = words[candidate]
                    break
            if weight:
                break
        if not weight:
            continue
        if any(full[j] in AR_NEGATORS for j in range(max(0, i - 2), i)):
            weight *= -0.74
        if i + 1 < len(full) and full[i + 1] in AR_BOOSTERS:
            weight += math.copysign(AR_BOOSTERS[full[i + 1]] * 3, weight)
        total += weight
    total += sum(w for e, w in _EMOJI.items() if e in text)
    return round(_normalise_score(total), 4)


def sentiment(text: str, lang: str = "") -> float:
    """Compound sentiment in [-1, 1]: VADER for English (and anything not Arabic), the Arabic lexicon for Arabic."""
    is_arabic = lang.startswith("ar") or (not lang and re.search(r"[\u0600-\u06FF]", text or "") is not None)
    if is_arabic:
        return arabic_sentiment(text)
    return round(_vader().polarity_scores(text or "")["compound"], 4)


# ---------------------------------------------------------------- burst detection


def burst_score(current: float, baseline: list[float]) -> float:
    """How unusual `current` is against the term's own baseline windows:
    (x - mean) / sqrt(max(variance, mean) + 1). The variance floor at the mean is Poisson noise (a term seen ~20 times a
    day wobbles by ~sqrt(20) on its own); the +1 smooths terms with no history, so a new term needs several mentions."""
    n = len(baseline)
    mean = sum(baseline) / n if n else 0.0
    var = sum((b - mean) ** 2 for b in baseline) / n if n else 0.0
    return (current - mean) / math.sqrt(max(var, mean) + 1.0)


# ---------------------------------------------------------------- topics


@dataclass(frozen=True)
class TopicSummary:
    id: int
    name: str
    queries: list[str]
    matches: int


def _parse_all(queries: list[str]) -> list[keyword_query.Query]:
    clean = [q.strip() for q in queries if q and q.strip()]
    if not clean:
        raise UserError("Add at least one keyword query.")
    if len(clean) > MAX_QUERIES:
        raise UserError(f"A topic has at most {MAX_QUERIES} queries.")
    return [keyword_query.parse(q) for q in clean]


def create_topic(actor: Actor, name: str, queries: list[str]) -> int:
    require(actor, "listening.edit")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise UserError("Give the topic a name of up to 120 characters.")
    _parse_all(queries)
    with session_scope() as s:
        topic = ListeningTopic(name=name, queries=[q.strip() for q in queries if q.strip()], created_by=actor.user_id)
        s.add(topic)
        s.flush()
        audit.record(s, actor, "topic.create", "listening_topic", topic.id, name=name, queries=topic.queries)
        topic_id = topic.id
    rematch_topic(topic_id)
    return topic_id


def update_topic(actor: Actor, topic_id: int, name: str, queries: list[str]) -> None:
    require(actor, "listening.edit")
    _parse_all(queries)
    with session_scope() as s:
        topic = s.get(ListeningTopic, topic_id)
        if topic is None or topic.deleted_at is not None:
            raise UserError("That topic does not exist.")
        topic.name = (name or topic.name).strip()[:120]
        topic.queries = [q.strip() for q in queries if q.strip()]
        audit.record(s, actor, "topic.update", "listening_topic", topic_id, name=topic.name, queries=topic.queries)
    rematch_topic(topic_id)


def archive_topic(actor: Actor, topic_id: int) -> None:
    require(actor, "listening.edit")
    with session_scope() as s:
        topic = s.get(ListeningTopic, topic_id)
        if topic is None or topic.deleted_at is not None:
            raise UserError("That topic does not exist.")
        topic.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "topic.archive", "listening_topic", topic_id)


def topics() -> list[TopicSummary]:
    with session_scope() as s:
        counts = dict(s.execute(select(TopicMatch.topic_id, func.count(TopicMatch.id)).group_by(TopicMatch.topic_id)).all())
        rows = s.execute(select(ListeningTopic).where(col(ListeningTopic.deleted_at).is_(None)).order_by(ListeningTopic.name)).scalars()
        return [TopicSummary(t.id, t.name, list(t.queries), int(counts.get(t.id, 0))) for t in rows]


def _matches(parsed: list[keyword_query.Query], text: str, lang: str, handle: str) -> bool:
    return any(q.matches(text, lang, handle) for q in parsed)


def _prefilter(parsed: list[keyword_query.Query]):
    """SQL over search_text that every match passes (each alternative's required words), so only candidates reach
    Query.matches(). Built from keyword_query.network_searches(), which lists the alternatives a plain search needs."""
    alternatives = []
    for q in parsed:
        for search in keyword_query.network_searches(q, "simulator"):
            words = [w for w in textnorm.normalize(search.terms).split() if w]
            likes = [Message.search_text.like(textnorm.like_pattern(w.lstrip("#@")), escape="\\") for w in words if textnorm.like_pattern(w.lstrip("#@"))]
            if likes:
                alternatives.append(and_(*likes))
    return or_(*alternatives) if alternatives else None


def rematch_topic(topic_id: int) -> int:
    """Recompute a topic's matches over everything ingested (derived rows: safe to rebuild)."""
    with session_scope() as s:
        topic = s.get(ListeningTopic, topic_id)
        if topic is None:
            return 0
        parsed = _parse_all(list(topic.queries))
        s.execute(TopicMatch.__table__.delete().where(TopicMatch.topic_id == topic_id))
        cond = _prefilter(parsed)
        after, made = 0, 0
        while True:
            q = select(Message.id, Message.text, Message.lang, Message.author_handle).where(col(Message.deleted_at).is_(None), Message.id > after)
            if cond is not None:
                q = q.where(cond)
            rows = s.execute(q.order_by(Message.id).limit(_BATCH)).all()
            if not rows:
                break
            hits = [{"topic_id": topic_id, "message_id": r[0], "matched_at": datetime.now(timezone.utc)} for r in rows if _matches(parsed, r[1], r[2], r[3])]
            if hits:
                s.execute(TopicMatch.__table__.insert(), hits)
                made += len(hits)
            after = rows[-1][0]
    return made


def _score_sentiment(s: Session, rows) -> None:
    todo = [{"mid": r[0], "sentiment": sentiment(r[1], r[2])} for r in rows if r[3] is None]
    if todo:
        table = Message.__table__
        s.connection().execute(table.update().where(table.c.id == bindparam("mid")).values(sentiment=bindparam("sentiment")), todo)


def match_new_messages(message_ids: list[int]) -> dict[str, int]:
    """Score and match these messages in their own transaction (the catch-up job, a new topic's backfill).
    Safe to call twice for the same ids."""
    with session_scope() as s:
        return match_in_session(s, message_ids)


def match_in_session(s: Session, message_ids: list[int]) -> dict[str, int]:
    """Scores sentiment, adds topic matches and flags claim matches inside the caller's transaction (the intake
    pipeline's listening step). Safe to call twice for the same ids."""
    ids = sorted(set(message_ids))
    if not ids:
        return {"topics": 0, "claims": 0}
    made = 0
    live = [(t.id, _parse_all(list(t.queries))) for t in s.execute(select(ListeningTopic).where(col(ListeningTopic.deleted_at).is_(None))).scalars()]
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        rows = s.execute(select(Message.id, Message.text, Message.lang, Message.sentiment, Message.author_handle)
                         .where(col(Message.id).in_(chunk))).all()
        _score_sentiment(s, rows)
        existing = set(s.execute(select(TopicMatch.topic_id, TopicMatch.message_id).where(col(TopicMatch.message_id).in_(chunk))).all())
        hits = [
            {"topic_id": tid, "message_id": r[0], "matched_at": datetime.now(timezone.utc)}
            for r in rows for tid, parsed in live
            if (tid, r[0]) not in existing and _matches(parsed, r[1], r[2], r[4])
        ]
        if hits:
            s.execute(TopicMatch.__table__.insert(), hits)
            made += len(hits)
    return {"topics": made, "claims": claims.match_in_session(s, ids)}


def catch_up(limit: int = 20_000) -> dict[str, int]:
    """Match whatever arrived since the last run: the job's safety net when the intake pipeline's listening step failed."""
    mark = int(settings_store.get(WATERMARK, 0) or 0)
    with session_scope() as s:
        ids = list(s.execute(select(Message.id).where(Message.id > mark).order_by(Message.id).limit(limit)).scalars())
    if not ids:
        return {"topics": 0, "claims": 0}
    result = match_new_messages(ids)
    with session_scope() as s:
        # Machine state, not a person's change: stored directly, without an audit row every two minutes.
        row = s.get(Setting, WATERMARK)
        if row is None:
            s.add(Setting(key=WATERMARK, value=ids[-1]))
        else:
            row.value = max(int(row.value or 0), ids[-1])
    return result


# ---------------------------------------------------------------- the per-topic view


@dataclass(frozen=True)
class Voice:
    network: str
    handle: str
    name: str
    messages: int
    followers: int
    engagements: int
    score: float  # reach × engagement: followers × (1 + engagements on their messages in the topic)
    vip_lists: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Trend:
    term: str
    count: int
    baseline: float
    score: float


@dataclass(frozen=True)
class Concern:
    label: str
    size: int
    examples: list[str]


@dataclass(frozen=True)
class TopicView:
    topic: TopicSummary
    since: datetime
    until: datetime
    total: int
    by_hour: dict[str, int]
    networks: dict[str, int]
    sentiment_by_hour: dict[str, tuple[int, float, int, int]]  # hour → (scored, sum, positive, negative)
    trends: list[Trend]
    voices: list[Voice]
    concerns: list[Concern]


def _topic_scope(topic_id: int, since: datetime, until: datetime, networks: tuple[str, ...]):
    cond = [TopicMatch.topic_id == topic_id, Message.received_at >= since, Message.received_at < until, col(Message.deleted_at).is_(None)]
    if networks:
        cond.append(col(Message.network).in_(networks))
    return and_(*cond)


def voices(s: Session, where, limit: int = 10) -> list[Voice]:
    eng = func.sum(Message.likes + Message.reposts + Message.replies)
    reach = func.max(Message.author_followers)
    score = reach * (1 + eng)
    rows = s.execute(
        select(Message.network, Message.author_handle, func.max(Message.author_name), func.count(Message.id), reach, eng, score)
        .join(TopicMatch, TopicMatch.message_id == Message.id).where(where)
        .group_by(Message.network, Message.author_handle).order_by(score.desc(), func.count(Message.id).desc()).limit(limit)
    ).all()
    if not rows:
        return []
    from govsocial_app.services.inbox.vip import normalize_handle

    keys = {(r[0], normalize_handle(r[1])) for r in rows}
    lists: dict[tuple[str, str], list[str]] = {}
    for network, handle, name in s.execute(
        select(VipMember.network, VipMember.handle, VipList.name).join(VipList, VipList.id == VipMember.list_id)
        .where(col(VipMember.deleted_at).is_(None), col(VipList.deleted_at).is_(None),
               col(VipMember.handle).in_({h for _, h in keys}))
    ).all():
        if (network, handle) in keys:
            lists.setdefault((network, handle), []).append(name)
    return [Voice(r[0], r[1], r[2] or r[1], int(r[3]), int(r[4] or 0), int(r[5] or 0), float(r[6] or 0),
                  sorted(lists.get((r[0], normalize_handle(r[1])), []))) for r in rows]


_TERM_STOP = claims.STOPWORDS | frozenset(textnorm.normalize(w) for w in """
amp http https www com co rt via im dont cant left right same still again another anyone anything something nothing
really please thanks thank know think want need like make made back way much many well good new one two out off
لها له لهم مره مرة اخري أخرى اخر كل كان كانت عند عندنا فيه فيها هناك هنا شيء ايش شو يا بس كمان
""".split())


def content_terms(text: str) -> list[str]:
    """Words and hashtags worth trending or clustering on: no stop words, no @mentions, no numbers, no 1–2 letter bits."""
    out = []
    for piece in textnorm.normalize(text).split():
        if piece.startswith("@") or piece.isdigit() or len(piece.lstrip("#")) < 3 or piece in _TERM_STOP:
            continue
        out.append(piece)
    return out


def trending(rows: list[tuple[datetime, str]], until: datetime, *, window: timedelta = timedelta(days=1),
             baseline_windows: int = BASELINE_WINDOWS, limit: int = 10) -> list[Trend]:
    """Terms bursting in the last window against their own previous `baseline_windows` windows (see burst_score)."""
    counts = [Counter() for _ in range(baseline_windows + 1)]  # index 0: the current window
    for at, text in rows:
        k = int((until - at) / window)
        if 0 <= k <= baseline_windows:
            counts[k].update(set(content_terms(text)))
    out = []
    for term, x in counts[0].items():
        if x < BURST_MIN_COUNT:
            continue
        base = [counts[k][term] for k in range(1, baseline_windows + 1)]
        z = burst_score(x, base)
        if z >= BURST_MIN_SCORE:
            out.append(Trend(term, x, sum(base) / baseline_windows, round(z, 2)))
    return sorted(out, key=lambda t: (-t.score, -t.count, t.term))[:limit]


def concerns(texts: list[str], *, max_clusters: int = 6) -> list[Concern]:
    """Themes by TF-IDF over content words and k-means; each labelled with its centroid's top three terms."""
    docs = [t for t in texts if len(content_terms(t)) >= 2]
    if len(docs) < 12:
        return []
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=content_terms, min_df=2, max_df=0.6, sublinear_tf=True)
    try:
        matrix = vec.fit_transform(docs)
    except ValueError:  # no term left after the document-frequency cut
        return []
    if matrix.shape[1] < 3:
        return []
    k = max(2, min(max_clusters, round(math.sqrt(len(docs) / 8))))
    model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(matrix)
    vocab = vec.get_feature_names_out()
    sizes = Counter(model.labels_)
    out = []
    for c in range(k):
        top = model.cluster_centers_[c].argsort()[::-1][:3]
        label = " · ".join(vocab[i] for i in top if model.cluster_centers_[c][i] > 0)
        members = [i for i, lab in enumerate(model.labels_) if lab == c]
        # The examples closest to the centre read as the theme.
        members.sort(key=lambda i: -float(matrix[i].dot(model.cluster_centers_[c])[0]))
        out.append(Concern(label, sizes[c], [" ".join(docs[i].split())[:160] for i in members[:2]]))
    return sorted((c for c in out if c.label), key=lambda c: -c.size)


def topic_view(topic_id: int, since: datetime, until: datetime, networks: tuple[str, ...] = ()) -> TopicView:
    summary = next((t for t in topics() if t.id == topic_id), None)
    if summary is None:
        raise UserError("That topic does not exist.")
    where = _topic_scope(topic_id, since, until, networks)
    with session_scope() as s:
        hour = sql.hour_bucket(s, Message.received_at)
        joined = select(Message.id).join(TopicMatch, TopicMatch.message_id == Message.id)
        by_hour = dict(s.execute(joined.with_only_columns(hour, func.count(Message.id)).where(where).group_by(hour)).all())
        by_network = dict(s.execute(joined.with_only_columns(Message.network, func.count(Message.id)).where(where).group_by(Message.network)).all())
        scored = col(Message.sentiment).is_not(None)
        sent = {
            r[0]: (int(r[1] or 0), float(r[2] or 0.0), int(r[3] or 0), int(r[4] or 0))
            for r in s.execute(
                joined.with_only_columns(hour, func.sum(case((scored, 1), else_=0)), func.sum(Message.sentiment),
                                         func.sum(case((Message.sentiment >= POSITIVE, 1), else_=0)),
                                         func.sum(case((Message.sentiment <= NEGATIVE, 1), else_=0)))
                .where(where).group_by(hour)
            ).all()
        }
        voice_rows = voices(s, where)
        recent_since = max(since, until - timedelta(days=BASELINE_WINDOWS + 1))
        recent = s.execute(joined.with_only_columns(Message.received_at, Message.text)
                           .where(_topic_scope(topic_id, recent_since, until, networks))).all()
        sample = list(s.execute(joined.with_only_columns(Message.text).where(where, Message.direction == "in")
                                .order_by(Message.received_at.desc()).limit(CONCERN_SAMPLE)).scalars())
    return TopicView(
        summary, since, until, sum(by_hour.values()), {k: int(v) for k, v in by_hour.items()},
        {k: int(v) for k, v in by_network.items()}, sent, trending([(a, t) for a, t in recent], until), voice_rows, concerns(sample),
    )


def ensure_demo_topics(actor: Actor) -> list[int]:
    """Example topics for demo mode (only when there are none), so the Listening page shows real matches at once."""
    if topics():
        return []
    return [
        create_topic(actor, "Bins and waste", ["bin OR bins OR rubbish OR waste OR recycling OR litter", "النفايات OR القمامة OR الحاويات"]),
        create_topic(actor, "Roads and traffic", ["roadworks OR pothole OR potholes OR traffic OR road", "الزحام OR الطرق OR الحفر OR الشارع"]),
        create_topic(actor, "Flooding and the dam", ['flood OR flooding OR "flash flood" OR فيضان OR سيول', "(dam OR السد) -beaver"]),
    ]
