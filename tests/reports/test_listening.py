"""Listening: burst score, sentiment (English and Arabic), topic matching on ingest, and the per-topic view in SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, VipList, VipMember
from govsocial_app.services.listening import topics as L
from govsocial_app.services.errors import UserError
from tests.reports import factory as F
from tests.reports.conftest import at


# ---------------------------------------------------------------- formulas


def test_burst_score_formula():
    # (x - mean) / sqrt(max(var, mean) + 1)
    assert L.burst_score(5, [0] * 7) == pytest.approx(5.0)
    assert L.burst_score(25, [20] * 7) == pytest.approx(5 / 21 ** 0.5)
    base = [2, 4, 2, 4, 2, 4, 2]
    mean = sum(base) / 7
    var = sum((b - mean) ** 2 for b in base) / 7
    assert L.burst_score(10, base) == pytest.approx((10 - mean) / (max(var, mean) + 1) ** 0.5)
    assert L.burst_score(3, [3] * 7) == 0
    assert L.burst_score(0, [10] * 7) < 0


def test_trending_uses_each_terms_own_baseline():
    until = at(20)
    rows = []
    for day in range(1, 8):  # "bins" is talked about every day; "foxes" never was
        rows += [(until - timedelta(days=day, hours=1), "bins overflowing again")] * 10
    rows += [(until - timedelta(hours=2), "bins overflowing again")] * 11
    rows += [(until - timedelta(hours=3), "foxes everywhere tearing open bags")] * 6
    terms = {t.term: t for t in L.trending(rows, until)}
    assert "foxes" in terms and terms["foxes"].count == 6 and terms["foxes"].score == pytest.approx(6.0)
    assert "bins" not in terms  # 11 against a steady 10 a day is no burst, though it is the most said word


def test_english_sentiment_is_vader():
    assert L.sentiment("Thank you, the crews were amazing!", "en") > 0.5
    assert L.sentiment("This is a disgrace, nobody came and the street is flooded", "en") < -0.3


@pytest.mark.parametrize("text, sign", [
    ("شكراً لكم على الخدمة الممتازة", 1),
    ("الخدمة سيئة جداً والشارع وسخ", -1),
    ("يعطيكم العافيه، المتطوعون أبطال", 1),
    ("الوضع مش حلو أبداً", -1),  # negated positive
    ("الخدمة ليست سيئة", 1),  # negated negative
    ("إهمال وتأخير، حسبي الله", -1),
    ("متى يفتح الشارع؟", 0),
])
def test_arabic_lexicon_sentiment(text, sign):
    score = L.sentiment(text, "ar")
    assert (score > 0.05) if sign > 0 else (score < -0.05) if sign < 0 else (abs(score) <= 0.05)


def test_arabic_normalisation_and_boosters():
    plain = L.arabic_sentiment("الخدمة سيئة")
    assert L.arabic_sentiment("الخدمه سَيِّئَة") == pytest.approx(plain)  # ة/ه and diacritics fold
    assert L.arabic_sentiment("الخدمة سيئة جدا") < plain


def test_content_terms_drop_noise():
    assert L.content_terms("@city The bins on #MillLane are overflowing 2026") == ["bins", "#milllane", "overflowing"]


# ---------------------------------------------------------------- topics in the database


@pytest.fixture
def topic_db(any_db, request):
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    uid = auth.create_user("pub@t.gov", "Pat", "correct horse battery", "publisher", Actor.system("test"))
    actor = Actor(uid, "Pat", "publisher")
    pid = F.profile("@city", name="City")
    ids = {
        "bins_en": F.message(pid, at(12, 9), text="The bins on Mill Lane are overflowing, disgusting", author="@dana_reports",
                             followers=48000, likes=20, reposts=5),
        "bins_ar": F.message(pid, at(13, 9), text="حاويات النفايات ممتلئة في شارعنا", author="@noor", followers=300, lang="ar", likes=1),
        "bins_mastodon": F.message(pid, at(14, 9), text="Thanks for emptying the bins so quickly!", network="mastodon",
                                   author="@fan", followers=50),
        "other": F.message(pid, at(14, 10), text="Lovely sunset tonight", author="@walker"),
        "old": F.message(pid, at(1, 9), text="bins again", author="@early"),
    }
    with session_scope() as s:
        vl = VipList(name="Reporters")
        s.add(vl)
        s.flush()
        s.add(VipMember(list_id=vl.id, network="simulator", handle="dana_reports"))
    L.match_new_messages(list(ids.values()))
    return {"actor": actor, "pid": pid, **ids}


def test_topic_matches_existing_and_new_messages(topic_db):
    tid = L.create_topic(topic_db["actor"], "Bins", ["bins OR bin", "النفايات"])
    assert L.topics()[0].matches == 4
    new = F.message(topic_db["pid"], at(15, 9), text="Bin lorry skipped our road", author="@x")
    assert L.match_new_messages([new])["topics"] == 1
    assert L.match_new_messages([new])["topics"] == 0  # idempotent
    L.update_topic(topic_db["actor"], tid, "Bins", ["bins"])  # narrower: rebuilt from scratch
    assert L.topics()[0].matches == 3
    with session_scope() as s:
        assert s.get(Message, new).sentiment is not None  # scored on ingest


def test_topic_view(topic_db):
    tid = L.create_topic(topic_db["actor"], "Bins", ["bins OR bin", "النفايات"])
    view = L.topic_view(tid, at(11), at(21))
    assert view.total == 3
    assert view.networks == {"simulator": 2, "mastodon": 1}
    assert sum(n for n, _s, _p, _neg in view.sentiment_by_hour.values()) == 3
    assert sum(p for _n, _s, p, _neg in view.sentiment_by_hour.values()) == 1
    assert sum(neg for _n, _s, _p, neg in view.sentiment_by_hour.values()) == 2
    top = view.voices[0]
    assert (top.handle, top.followers, top.engagements, top.vip_lists) == ("@dana_reports", 48000, 25, ["Reporters"])
    assert top.score == 48000 * 26
    only_mastodon = L.topic_view(tid, at(11), at(21), networks=("mastodon",))
    assert only_mastodon.total == 1


def test_topic_validation(topic_db):
    with pytest.raises(UserError):
        L.create_topic(topic_db["actor"], "Empty", [])
    with pytest.raises(UserError):
        L.create_topic(topic_db["actor"], "Broken", ["(bins"])
    tid = L.create_topic(topic_db["actor"], "Bins", ["bins"])
    L.archive_topic(topic_db["actor"], tid)
    assert L.topics() == []


def test_concerns_cluster_into_labelled_themes():
    texts = (["The bins on my street were not collected again"] * 8 + ["Bin collection missed, rubbish everywhere"] * 8
             + ["Pothole on Mill Lane damaged my tyre"] * 8 + ["Huge pothole near the school, fix the road"] * 8)
    found = L.concerns(texts, max_clusters=2)
    assert len(found) == 2 and sorted(c.size for c in found) == [16, 16]
    labels = " ".join(c.label for c in found)
    assert "pothole" in labels and ("bins" in labels or "collected" in labels or "collection" in labels)
