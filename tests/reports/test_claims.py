"""Claim matching: precision and recall on a labelled English/Arabic set, and the tracker's database side."""

from __future__ import annotations

import re

import pytest

from govsocial_app.services.listening import claims as C
from govsocial_app.services.inbox.stream import claim_labels
from govsocial_app.services.errors import UserError
from tests.reports import factory as F
from tests.reports.claim_fixtures import CLAIMS, MESSAGES
from tests.reports.conftest import at

_ARABIC = re.compile(r"[\u0600-\u06FF]")


def _scores(pairs):
    tp = sum(1 for pred, gold in pairs if pred and gold)
    fp = sum(1 for pred, gold in pairs if pred and not gold)
    fn = sum(1 for pred, gold in pairs if gold and not pred)
    return tp / (tp + fp), tp / (tp + fn), tp, fp, fn


def test_labelled_set_is_big_enough():
    assert len(MESSAGES) >= 200
    langs = {("ar" if _ARABIC.search(t) else "en") for t, _ in MESSAGES}
    assert langs == {"en", "ar"}
    assert sum(1 for _, label in MESSAGES if label) >= 80


def test_precision_and_recall_on_the_labelled_set():
    keys = list(CLAIMS)
    verdicts = C.match_texts([CLAIMS[k][1] for k in keys], [t for t, _ in MESSAGES])
    pairs = {"all": [], "en": [], "ar": [], "cross": []}
    for (text, label), row in zip(MESSAGES, verdicts):
        lang = "ar" if _ARABIC.search(text) else "en"
        for key, v in zip(keys, row):
            pair = (v.matched, label == key)
            pairs["all"].append(pair)
            pairs[lang].append(pair)
            if CLAIMS[key][0] != lang:
                pairs["cross"].append(pair)
    results = {name: _scores(p) for name, p in pairs.items()}
    for name, (p, r, tp, fp, fn) in results.items():
        print(f"claim matching [{name}]: precision {p:.3f} recall {r:.3f} (tp {tp}, fp {fp}, fn {fn})")
    # Measured when written: all P 0.978 R 0.967 (tp 87, fp 2, fn 3). The floors leave room for honest tuning only.
    assert results["all"][0] >= 0.95 and results["all"][1] >= 0.93
    assert results["en"][0] >= 0.9 and results["en"][1] >= 0.9
    assert results["ar"][0] >= 0.9 and results["ar"][1] >= 0.85
    assert results["cross"][0] >= 0.9 and results["cross"][1] >= 0.85  # the claim in one language, the message in the other


def test_denials_are_not_spreading():
    v = C.judge("The Halden Dam has failed", "The dam has not failed. Stop spreading panic")
    assert v.denied and not v.matched and v.coverage >= 0.6
    assert C.judge("مياه الصنبور مسمومة", "مياه الصنبور مسمومة؟ الخبر غير صحيح").matched is False


def test_normaliser_makes_spelling_variants_meet():
    # diacritics, hamza forms, taa marbuta as haa, Arabic-Indic digits
    assert C.judge("البلدية ستغلق المكتبة نهائياً", "البلديه سَتُغلق المكتبه نهائيا").matched
    assert C.judge("Council tax is going up 20% next year", "ضريبة البلدية سترتفع ٢٠٪").matched


def _actor(role: str):
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    uid = auth.create_user(f"{role}@claims.gov", role.title(), "correct horse battery", role, Actor.system("test"))
    return Actor(uid, role.title(), role)


@pytest.fixture
def claim_db(any_db):
    staff = _actor("publisher")
    pid = F.profile("@city", name="City")
    old = F.message(pid, at(10, 9), text="Heard the dam burst upstream, can anyone confirm?", author="@early_bird", followers=900)
    other = F.message(pid, at(10, 10), text="Lovely walk along the river today", author="@walker")
    claim_id = C.create_claim(staff, "The Halden Dam has failed", "The Halden Dam is intact and monitored around the clock.",
                              "https://riverton.gov/dam")
    return {"staff": staff, "pid": pid, "old": old, "other": other, "claim": claim_id}


def test_registering_a_claim_backfills_matches(claim_db):
    labels = claim_labels([claim_db["old"], claim_db["other"]])
    assert labels == {claim_db["old"]: ["Claim: The Halden Dam has failed"]}
    summary = C.claims()[0]
    assert summary.matches == 1 and summary.last_match_at == at(10, 9)


def test_new_messages_are_matched_on_ingest(claim_db):
    new = F.message(claim_db["pid"], at(11, 8), text="السد انهار!!! اطلعوا من البيوت", author="@ar_user", followers=50, lang="ar",
                    likes=3)
    calm = F.message(claim_db["pid"], at(11, 9), text="Dam is fine, the rumour is fake", author="@calm")
    assert C.match_new_messages([new, calm]) == 1
    assert C.match_new_messages([new]) == 0  # idempotent
    view = C.claim_view(claim_db["claim"], at(1), at(30))
    assert [m.id for m in view.messages] == [new, claim_db["old"]]
    assert [s.handle for s in view.spreaders] == ["@early_bird", "@ar_user"]  # by reach
    assert sum(view.by_hour.values()) == 2


def test_correction_reply_is_prefilled_and_fits(claim_db):
    text = C.correction_reply(claim_db["claim"], claim_db["old"])
    assert text == "@early_bird The Halden Dam is intact and monitored around the clock. https://riverton.gov/dam"
    long_claim = C.create_claim(claim_db["staff"], "The shelter is full", "x " * 400, "https://riverton.gov/shelters")
    reply = C.correction_reply(long_claim, claim_db["old"])
    assert len(reply) <= 500 and reply.endswith("… https://riverton.gov/shelters")


def test_claim_validation_and_archive(claim_db):
    from govsocial_app.services.authz import PermissionDenied

    with pytest.raises(UserError):
        C.create_claim(claim_db["staff"], "dam", "fix")
    with pytest.raises(UserError):
        C.create_claim(claim_db["staff"], "The dam has failed", "It has not.", "javascript:alert(1)")
    with pytest.raises(PermissionDenied):
        C.create_claim(_actor("viewer"), "The dam has failed", "It has not.")
    C.archive_claim(claim_db["staff"], claim_db["claim"])
    assert claim_labels([claim_db["old"]]) == {}
    assert C.claims() == []
