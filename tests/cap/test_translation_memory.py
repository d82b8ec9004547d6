"""Translation memory: exact and close sentences, both directions, Arabic spelling variants, deduplication."""

from __future__ import annotations

import pytest

from govsocial_app.services.cap.translation_memory import TMEntry, TranslationMemory, split_sentences

PAIRS = [
    TMEntry("en", "ar", "Move to higher ground now.", "انتقلوا إلى مكان مرتفع الآن."),
    TMEntry("en-US", "ar", "Do not drive through flooded roads.", "لا تقودوا سياراتكم في الطرق المغمورة بالمياه."),
    TMEntry("en", "ar", "Shelters are open at the high school.", "الملاجئ مفتوحة في المدرسة الثانوية."),
    TMEntry("en", "fr", "Move to higher ground now.", "Montez sur les hauteurs maintenant."),
]


@pytest.fixture
def tm():
    return TranslationMemory(PAIRS)


def test_exact_match_ignores_case_punctuation_and_spacing(tm):
    (best,) = tm.suggest("move to higher ground NOW!", "en", "ar")
    assert best.exact and best.score == 100.0 and best.entry.target == "انتقلوا إلى مكان مرتفع الآن."


def test_close_sentences_are_scored(tm):
    (close,) = tm.suggest("Move to high ground now.", "en", "ar")
    assert not close.exact and 85 < close.score < 100
    assert tm.suggest("The bridge is closed.", "en", "ar") == []


def test_the_reverse_direction_and_arabic_spelling_variants(tm):
    (best,) = tm.suggest("انتقلوا الى مكان مرتفع الان", "ar", "en")  # hamza-less alef, as people type
    assert best.exact and best.entry.target == "Move to higher ground now." and best.entry.source_lang == "ar"


def test_language_pairs_are_kept_apart(tm):
    assert [s.entry.target for s in tm.suggest("Move to higher ground now.", "en", "fr")] == ["Montez sur les hauteurs maintenant."]
    assert tm.suggest("Move to higher ground now.", "en", "es") == []


def test_duplicates_in_either_direction_are_not_added(tm):
    assert tm.add(TMEntry("en", "ar", "MOVE to higher ground now", "انتقلوا إلى مكان مرتفع الآن")) is False
    assert tm.add(TMEntry("ar", "en", "انتقلوا إلى مكان مرتفع الآن.", "Move to higher ground now.")) is False
    assert len(tm) == 4
    assert tm.add(TMEntry("en", "ar", "Move to higher ground now.", "اصعدوا إلى الأماكن المرتفعة فوراً.")) is True
    targets = [s.entry.target for s in tm.suggest("Move to higher ground now.", "en", "ar", limit=5)]
    assert len(targets) == 2 and targets[0] == "اصعدوا إلى الأماكن المرتفعة فوراً."  # the newer approval first on a tie


def test_same_language_pairs_are_refused(tm):
    with pytest.raises(ValueError):
        tm.add(TMEntry("en-US", "en-GB", "colour", "color"))


def test_a_post_is_suggested_sentence_by_sentence(tm):
    result = tm.suggest_post("Move to higher ground now. Do not drive through flooded roads!\nStay tuned.", "en", "ar")
    assert [sentence for sentence, _ in result] == ["Move to higher ground now.", "Do not drive through flooded roads!", "Stay tuned."]
    assert [len(s) for _, s in result] == [1, 1, 0]
    assert split_sentences("") == []
