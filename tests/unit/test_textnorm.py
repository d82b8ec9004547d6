"""Tests for the shared text normaliser: English and Arabic folding, tokens, search text."""

from __future__ import annotations

import sqlite3

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial_app.services.textnorm import analyse, clean, like_pattern, normalize, search_text, tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English: case, punctuation, whitespace
        ("Flood WARNING!", "flood warning"),
        ("  boil\twater\n\nnotice  ", "boil water notice"),
        ("Don't panic, it's a drill.", "don t panic it s a drill"),
        ("ＦＬＯＯＤ ①", "flood 1"),  # NFKC: fullwidth letters, circled digit
        ("Straße", "strasse"),  # casefold, not lower()
        ("İstanbul ISTANBUL", "istanbul istanbul"),
        ("flood_watch", "flood_watch"),  # underscore is a word character
        ("C# and a#b", "c and a b"),  # # after a letter is not a hashtag
        ("info@city.gov", "info city gov"),  # an e-mail address is not a mention
        ("thanks @Dana_Reports.", "thanks @dana_reports"),
        ("@City.Bsky.Social, hi", "@city.bsky.social hi"),
        ("#FloodWatch2026!", "#floodwatch2026"),
        ("❤️ 🔥 → ok", "ok"),  # symbols are separators
        # Arabic diacritics and tatweel
        ("فَيَضَانٌ", "فيضان"),
        ("مـــديـنـة", "مدينه"),
        ("الْقُرْآنُ", "القران"),
        ("ٱلرَّحْمَٰنِ", "الرحمن"),  # wasla, shadda, superscript alef
        ("قُلْ هُوَ ۚ", "قل هو"),  # Quranic pause mark
        # letter variants
        ("أحمد إسلام آمن", "احمد اسلام امن"),
        ("مدرسة", "مدرسه"),
        ("على مستشفى", "علي مستشفي"),
        ("مسؤول رئيس", "مسوول رييس"),
        ("ماء", "ماء"),  # a standalone hamza is a letter and stays
        ("کتاب فارسی", "كتاب فارسي"),  # Persian keheh and yeh
        ("ﻻ ﺍﻟﻠﻪ", "لا الله"),  # presentation forms
        # digits
        ("٢٠٢٦ ١٢:٣٠", "2026 12 30"),
        ("۱۴۰۳", "1403"),
        # invisible characters
        ("fl\u200bood w\u200carn\u200ding", "flood warning"),
        ("\u202bفيضان\u202c \u200fالوادي\u200e \u2067x\u2069", "فيضان الوادي x"),
        ("\ufeffsoft\u00adhyphen", "softhyphen"),
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_diacritics_and_variants_meet():
    assert normalize("إِنْذَارُ الفَيَضَانِ فِي المَدِينَةِ") == normalize("انذار الفيضان في المدينه")
    assert normalize("مستشفى") == normalize("مستشفي")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#FloodWatch2026", ["#floodwatch2026", "floodwatch2026", "flood", "watch", "2026"]),
        ("#flood_watch", ["#flood_watch", "flood_watch", "flood", "watch"]),
        ("#NHSWales", ["#nhswales", "nhswales", "nhs", "wales"]),
        ("#COVID19", ["#covid19", "covid19", "covid", "19"]),
        ("#flood", ["#flood", "flood"]),
        ("#فيضان_الوادي", ["#فيضان_الوادي", "فيضان_الوادي", "فيضان", "الوادي", "وادي"]),
        ("#فَيَضانُ_المدينة", ["#فيضان_المدينه", "فيضان_المدينه", "فيضان", "المدينه", "مدينه"]),
        ("@dana_reports", ["@dana_reports", "dana_reports"]),
        ("@city.bsky.social.", ["@city.bsky.social", "city.bsky.social"]),
        ("@city-council.bsky.social", ["@city-council.bsky.social", "city-council.bsky.social"]),
        ("@Dana@Mastodon.Social", ["@dana@mastodon.social", "dana@mastodon.social", "@dana", "dana"]),
        ("flood flood FLOOD", ["flood"]),
    ],
)
def test_tokens(text, expected):
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("والفيضان", ["والفيضان", "الفيضان", "فيضان"]),
        ("بالفيضان", ["بالفيضان", "الفيضان", "فيضان"]),
        ("وبالفيضان", ["وبالفيضان", "بالفيضان", "الفيضان", "فيضان"]),
        ("للمدينة", ["للمدينه", "المدينه", "مدينه"]),
        ("الفيضان", ["الفيضان", "فيضان"]),
        ("وزير", ["وزير"]),  # a bare و is never stripped
        ("فريق", ["فريق"]),
        ("وفيضان", ["وفيضان"]),
        ("الله", ["الله"]),  # stem would be shorter than three letters
        ("الحر", ["الحر"]),
    ],
)
def test_arabic_article_forms(word, expected):
    assert tokens(word) == expected


def test_phrase_positions_include_hashtag_parts():
    a = analyse("Stay safe #FloodWatch today")
    assert a.has_sequence(("flood", "watch", "today"))
    assert a.has_sequence(("#floodwatch", "today"))
    assert a.has_sequence(("safe", "#floodwatch"))
    assert not a.has_sequence(("safe", "today"))
    assert not a.has_sequence(())


def test_search_text_sections():
    st_ = search_text("Stay safe #FloodWatch, says @Dana", "@City_Fire", "City Fire Dept.")
    assert st_ == (
        "stay safe #floodwatch says @dana"
        " | floodwatch flood watch dana"
        " | @city_fire city_fire city fire dept"
    )
    assert search_text("") == ""
    assert search_text("hi", author_name="Ann") == "hi | ann"


def test_search_text_like_in_sqlite():
    """The stored string and like_pattern() agree in a real SQL LIKE, Arabic and English alike."""
    rows = {
        1: ("Flood warning for the valley", "cityfire", "City Fire"),
        2: ("تحذير من الفَيَضَانِ في المدينة", "dana", "دانة"),
        3: ("Stay safe #FloodWatch", "", ""),
        4: ("flood_watch or floodXwatch", "", ""),
    }
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, search_text TEXT)")
    db.executemany("INSERT INTO m VALUES (?, ?)", [(k, search_text(*v)) for k, v in rows.items()])

    def find(q):
        cur = db.execute("SELECT id FROM m WHERE search_text LIKE ? ESCAPE '\\' ORDER BY id", (like_pattern(q),))
        return [r[0] for r in cur]

    assert find("FLOOD") == [1, 3, 4]
    assert find("فيضان") == [2]
    assert find("المدينه") == [2]
    assert find("مدينة") == [2]
    assert find("flood watch") == [3]  # hashtag parts are stored as a phrase
    assert find("flood_watch") == [4]  # `_` is escaped, so it does not match floodXwatch's X
    assert find("@cityfire") == [1]
    assert find("دانه") == [2]
    assert like_pattern("  !!! ") == ""


def test_clean_keeps_spelling():
    assert clean("  مدينةٌ\u200b  Flood!  ") == "مدينة Flood!"
    assert clean("أَحْمَد") == "أحمد"


# ---------------------------------------------------------------- properties

_ARABIC_AND_FRIENDS = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.characters(min_codepoint=0x08A0, max_codepoint=0x08FF),
        st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF),
        st.characters(min_codepoint=0x2000, max_codepoint=0x206F),
        st.sampled_from("#@_.-' \t\nAaZzİiß0123456789\u0301\u0307ǰ"),
    ),
    max_size=40,
)
_ANY_TEXT = st.one_of(st.text(max_size=60), _ARABIC_AND_FRIENDS)
_OUTPUT_CHARS = regex.compile(r"[\p{L}\p{M}\p{N}_#@.\- ]*")


@settings(max_examples=1000)
@given(_ANY_TEXT)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=500)
@given(_ANY_TEXT)
def test_normalize_output_shape(text):
    out = normalize(text)
    assert _OUTPUT_CHARS.fullmatch(out)
    assert out == " ".join(out.split())


@settings(max_examples=500)
@given(_ANY_TEXT)
def test_clean_then_normalize_equals_normalize(text):
    assert normalize(clean(text)) == normalize(text)


@settings(max_examples=300)
@given(_ANY_TEXT)
def test_every_normalized_piece_is_a_token(text):
    toks = set(tokens(text))
    assert set(normalize(text).split()) <= toks


def test_a_dotted_capital_i_with_a_second_dot_folds_in_one_pass():
    # Found by Hypothesis: 'İ' + U+0307 folded to 'i' + U+0307 on the first pass and to 'i' on the second.
    assert normalize("İ\u0307") == normalize(normalize("İ\u0307")) == "i"
    assert normalize("İstanbul") == "istanbul"


def test_initials_are_letters_never_emoji_flags_or_quotes():
    from govsocial_app.services.textnorm import initials

    assert initials("Sandra 🇺🇦") == "S" and initials("Josh 🐘") == "J" and initials("Maureen ✿") == "M"
    assert initials("Riley Responder") == "RR" and initials("@connorhughes2") == "C"
    assert initials('ليلى "الحربي" / Layla') == "لا"  # the quoted surname's first letter, not the quote
    assert initials("🐘 ✿") == "?" and initials("") == "?"
