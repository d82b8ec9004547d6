"""Readability: OSMAN for Arabic checked by hand on the authors' own example, and its ordering of their graded
texts; Flesch reading ease for English through textstat."""

from __future__ import annotations

import pytest

from govsocial_app.services.cap.readability import arabic_counts, osman, score

# From OsmanReadability's TestOSMAN (El-Haj): the greeting, fully diacritised.
GREETING = "السَّلامُ عَلَيكُمْ وَرَحْمَةُ اللهِ وَبَرَكَاتُهُ".replace("السَّلامُ", "\u0627\u0644\u0633\u0651\u0644\u0627\u0645\u064f")
# The three texts of its earlier TestOSMAN, undiacritised: a children's book, a sports news story, a university book.
EASY = "ذهب هند وأحمد الى المدرسة. هند تحب الرسم والمطالعة"
NEWS = ("كشفت دراسة أجرتها بي بي سي إن تكلفة مشاهدة مبارايات كرة القدم في بريطانيا انخفضت أو ظلت على ما هي عليه "
        "لغالبية مشجعي اللعبة.")
ACADEMIC = ("وأن مضامين النماذج الرياضية في أي علم من العلوم الطبيعية لا يتدخل في شأنها علم الرياضيات، "
            "فالمعادلة الفيزيائية الرياضية هي لغة")


def test_osman_by_hand_on_the_diacritised_greeting():
    counts = arabic_counts(GREETING)
    # السّلامُ 1+2 (damma, shadda) | عَلَيكُمْ 1+2+1 (fatha before ya is long) | وَرَحْمَةُ 4 | اللهِ 1 | وَبَرَكَاتُهُ 3+2+2
    assert (counts.words, counts.sentences, counts.syllables) == (5, 1, 19)
    assert counts.long_words == 2  # السلام, وبركاته: more than 5 letters
    assert counts.complex_words == 1  # وَبَرَكَاتُهُ has 6 vowel marks
    assert counts.faseeh_words == 0 and counts.estimated is False
    value, estimated = osman(GREETING)
    assert value == pytest.approx(200.791 - 1.015 * 5 - 24.181 * (2 + 19 + 1 + 0) / 5) and not estimated
    assert value == pytest.approx(89.3196, abs=1e-4)


def test_osman_orders_the_authors_graded_texts_without_diacritics():
    easy, news, academic = (osman(t)[0] for t in (EASY, NEWS, ACADEMIC))
    assert easy > news > academic
    assert osman(EASY)[1] is True  # estimated
    assert score(NEWS, "ar").passed
    run_on = "، ".join([ACADEMIC] * 3)  # one 63-word sentence of long words
    assert not score(run_on, "ar").passed


def test_faseeh_words_count():
    # "الفيزيائية" (6+ syllables, with ئ) is faseeh; so is a long word ending in ون
    counts = arabic_counts("المعادلة الفيزيائية والمستخدمون")
    assert counts.faseeh_words == 2


def test_english_flesch():
    easy = score("Move to higher ground now. Do not drive through flooded roads.", "en-US")
    assert easy.measure == "flesch_reading_ease" and easy.passed and easy.grade is not None
    hard = score("Municipal authorities recommend immediate precautionary relocation of vulnerable populations.", "en")
    assert not hard.passed and hard.score < easy.score


def test_languages_without_a_measure():
    assert score("Bonjour", "fr") is None
    assert osman("") == (0.0, True)
