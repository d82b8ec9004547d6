"""The accessibility checklist flags each item, with the reason, and passes good posts."""

from __future__ import annotations

import pytest

from govsocial_app.services.cap.accessibility import CHECKS, MESSAGES, Media, PostContent, check_post, split_hashtag

GOOD = ("Flood warning for the Riverton riverside until 9 PM. Move to higher ground now. "
        "Road closures and shelters: https://riverton.gov/flood #FloodWarning #Riverton")


def _item(text, key, language="en", media=(), **kw):
    return check_post(PostContent(text, language, tuple(media)), **kw).item(key)


def test_a_good_post_passes_everything_that_applies():
    checklist = check_post(PostContent(GOOD, "en", (Media("image", "Map of the flooded streets along the river", name="map.png"),
                                                    Media("video", has_captions=True, name="briefing.mp4"))))
    assert [i.key for i in checklist.items] == list(CHECKS)
    assert {i.key: i.status for i in checklist.items} == {k: "pass" for k in CHECKS} | {"emoji_words": "n/a"}
    assert checklist.failures == () and checklist.blocking(CHECKS) == ()


@pytest.mark.parametrize("alt", ["", "  ", "image", "Photo.", "IMG_1234.jpg", "DSC0042", "flood.png", "صورة"])
def test_missing_or_useless_alt_text_fails(alt):
    item = _item(GOOD, "alt_text", media=[Media("image", alt, name="flood.jpg"), Media("image", "A volunteer filling sandbags")])
    assert item.status == "fail" and item.details == ("flood.jpg",) and "flood.jpg" in item.english()


def test_video_without_captions_fails_and_no_media_is_not_applicable():
    item = _item(GOOD, "captions", media=[Media("video", name="briefing.mp4")])
    assert item.status == "fail" and "briefing.mp4" in item.english()
    assert _item(GOOD, "captions").status == "n/a" and _item(GOOD, "alt_text").status == "n/a"


def test_multi_word_hashtags_must_be_camel_case():
    item = _item("Stay safe. #floodwarning #stayhome #NWS #FloodWatch #تحذير_فيضان", "hashtag_case")
    assert item.status == "fail"
    assert item.details == ("#floodwarning → #FloodWarning", "#stayhome → #StayHome")
    assert _item("Stay safe #FLOODWARNING", "hashtag_case").details == ("#FLOODWARNING → #FloodWarning",)
    assert split_hashtag("floodwarning") == ["flood", "warning"]


def test_single_words_names_and_acronyms_pass():
    assert _item("Flood news #flood #FEMA #2026", "hashtag_case").status == "pass"
    assert _item("Riverton is safe. #riverton", "hashtag_case").status == "pass"  # the name is a word of the post
    assert _item("All safe. #riverton", "hashtag_case", known_words=["Riverton"]).status == "pass"
    assert _item("No tags here.", "hashtag_case").status == "n/a"


def test_all_caps_sentences_fail_but_acronyms_pass():
    item = _item("EVACUATE NOW. The river is rising.", "all_caps")
    assert item.status == "fail" and item.details == ("EVACUATE NOW.",)
    assert _item("TAKE COVER IN A SUBSTANTIAL SHELTER UNTIL THE STORM PASSES.", "all_caps").status == "fail"
    assert _item("The NWS and FEMA say the river is rising.", "all_caps").status == "pass"
    assert _item("Call 911 or the EOC.", "all_caps").status == "pass"
    assert _item("FEMA NWS", "all_caps").status == "pass"  # acronyms only
    assert _item("انتقلوا إلى مكان مرتفع الآن.", "all_caps", "ar").status == "pass"


def test_emoji_in_place_of_words_or_in_long_runs_fail():
    item = _item("We ❤️ our volunteers. Stay 🏠 tonight!", "emoji_words")
    assert item.status == "fail" and item.details == ("We ❤️ our", "Stay 🏠 tonight")
    assert _item("Flood warning 🌊🌊🌊🌊 stay safe.", "emoji_words").status == "fail"
    assert _item("⚠️ Flood warning. Stay safe 🌊", "emoji_words").status == "pass"
    assert _item("Flood warning.", "emoji_words").status == "n/a"


def test_link_text():
    assert _item("Click here: https://riverton.gov/flood", "link_text").english() == 'Say where a link leads instead of "Click here".'
    assert _item("More info here https://riverton.gov/flood", "link_text").status == "fail"
    assert _item("https://riverton.gov/flood", "link_text").message_key == "link_text.bare"
    assert _item("للمزيد اضغط هنا https://riverton.gov/flood", "link_text", "ar").status == "fail"
    assert _item(GOOD, "link_text").status == "pass"
    assert _item("Shelter list: https://riverton.gov/shelters", "link_text").status == "pass"
    assert _item("No link.", "link_text").status == "n/a"


def test_readability_in_english_and_arabic():
    hard = ("Notwithstanding the aforementioned hydrological considerations, municipal authorities strongly recommend "
            "immediate precautionary relocation of vulnerable populations from designated inundation-susceptible localities.")
    item = _item(hard, "readability")
    assert item.status == "fail" and item.params["measure"] == "Flesch reading ease"
    assert _item(GOOD, "readability").status == "pass"
    assert _item("Move now.", "readability").message_key == "readability.short"
    arabic = "انتقلوا إلى مكان مرتفع الآن. لا تقودوا سياراتكم في الطرق المغمورة بالمياه. اتبعوا تعليمات المسؤولين."
    item = _item(arabic, "readability", "ar")
    assert item.status == "pass" and item.params["measure"] == "OSMAN readability"
    assert _item("Bonjour à tous, la rivière monte vite ce soir près du pont.", "readability", "fr").status == "n/a"


def test_admins_choose_what_blocks():
    checklist = check_post(PostContent("EVACUATE NOW. #floodwarning https://riverton.gov/x", "en", (Media("image", ""),)))
    assert {i.key for i in checklist.failures} >= {"alt_text", "all_caps", "hashtag_case"}
    assert [i.key for i in checklist.blocking({"alt_text"})] == ["alt_text"]
    assert checklist.blocking(set()) == ()


def test_every_message_key_used_exists():
    checklist = check_post(PostContent("x"))
    for item in checklist.items:
        assert item.message_key in MESSAGES
