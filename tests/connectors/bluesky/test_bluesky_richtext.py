"""Facet detection with UTF-8 byte offsets, Bluesky's publishing limits and the derived record key."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import MediaAttachment, OutboundPost, PermanentError
from connectors.bluesky import facets, limits, records

CITIZEN_DID = "did:plc:almc5o2go5pztj4wpgzzxfgv"


def sliced(text: str, spans: list[facets.Span]) -> list[tuple[str, str, str]]:
    encoded = text.encode("utf-8")
    return [(encoded[s.byte_start : s.byte_end].decode("utf-8"), s.kind, s.value) for s in spans]


# ---------------------------------------------------------------- facets


@pytest.mark.parametrize(
    ("prefix", "byte_start"),
    [
        ("", 0),
        ("hi ", 3),
        ("مرحبا ", 11),  # five Arabic letters, two bytes each, then a space
        ("🌊 ", 5),  # an astral emoji is four bytes (and two UTF-16 units)
        ("👨‍👩‍👧‍👦 ", 26),  # a family: four people joined by three ZWJs
        ("🇸🇦 ", 9),  # a flag: two regional indicators
        ("مرحبا 👋🏽 ", 20),  # Arabic, then a waving hand with a skin-tone modifier
        ("e\u0301 ", 4),  # "e" + combining acute: two code points, three bytes
    ],
)
def test_mention_offsets_count_utf8_bytes(prefix, byte_start):
    text = f"{prefix}@resident.test hello"
    [span] = facets.detect(text)
    assert (span.byte_start, span.byte_end) == (byte_start, byte_start + len("@resident.test"))
    assert sliced(text, [span]) == [("@resident.test", "mention", "resident.test")]


def test_mentions_links_and_tags_after_arabic_and_emoji():
    text = "تحذير 🚨 فيضان: @Resident.Test راجع https://example.gov/flood?a=1&b=2. #FloodWatch #فيضان!"
    assert sliced(text, facets.detect(text)) == [
        ("@Resident.Test", "mention", "resident.test"),
        ("https://example.gov/flood?a=1&b=2", "link", "https://example.gov/flood?a=1&b=2"),
        ("#FloodWatch", "tag", "FloodWatch"),
        ("#فيضان", "tag", "فيضان"),
    ]


def test_bare_domains_are_linked_with_https():
    text = "Details at gov.uk/floods and www.example.org."
    assert sliced(text, facets.detect(text)) == [
        ("gov.uk/floods", "link", "https://gov.uk/floods"),
        ("www.example.org", "link", "https://www.example.org"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "email comms@cityhall.test for help",  # an address is not a mention
        "price #1 and #2024",  # numbers are not hashtags
        "a#tag inside a word",
        "@ alone",
        "@no_underscores_in.handles",
        "@localhost",  # a handle needs a dot
    ],
)
def test_things_that_are_not_facets(text):
    assert [s for s in facets.detect(text) if s.kind != "link"] == []


def test_mention_in_parentheses_and_trailing_dot():
    text = "Thanks (@resident.test). Also @cityhall.test."
    assert [v for _, _, v in sliced(text, facets.detect(text))] == ["resident.test", "cityhall.test"]


def test_over_long_tags_are_skipped():
    assert facets.detect("#" + "a" * 65) == []
    assert [s.value for s in facets.detect("#" + "a" * 64)] == ["a" * 64]


def test_link_containing_a_hashtag_is_one_facet():
    text = "see https://example.gov/page#section now"
    assert sliced(text, facets.detect(text)) == [
        ("https://example.gov/page#section", "link", "https://example.gov/page#section")
    ]


def test_to_facets_drops_unresolved_mentions():
    spans = facets.detect("@resident.test @ghost.test #Flood")
    built = facets.to_facets(spans, {"resident.test": CITIZEN_DID})
    assert built == [
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": 0, "byteEnd": 14},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": CITIZEN_DID}],
        },
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": 27, "byteEnd": 33},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Flood"}],
        },
    ]


@settings(max_examples=1000)
@given(st.text())
def test_detect_never_fails_and_spans_are_sane(text):
    spans = facets.detect(text)
    encoded = text.encode("utf-8", "surrogatepass")
    previous_end = 0
    for span in spans:
        assert previous_end <= span.byte_start < span.byte_end <= len(encoded)
        # Offsets fall on character boundaries, so the slice decodes and starts with its marker.
        piece = encoded[span.byte_start : span.byte_end].decode("utf-8", "surrogatepass")
        assert piece[0] in "@#＃" or span.kind == "link"
        previous_end = span.byte_end


@settings(max_examples=1000)
@given(st.text(), st.sampled_from(["@resident.test", "#Flood", "https://example.gov/x"]), st.text())
def test_offsets_match_an_independent_byte_search(before, marker, after):
    # Separate the marker with spaces so it is detected whatever the random text around it.
    text = f"{before} {marker} {after}"
    start = len(f"{before} ".encode("utf-8", "surrogatepass"))
    found = [s for s in facets.detect(text) if s.byte_start == start]
    assert found and found[0].byte_end == start + len(marker.encode())


# ---------------------------------------------------------------- limits


def post(text="Update", **kwargs) -> OutboundPost:
    return OutboundPost(text=text, idempotency_key="k", **kwargs)


def test_300_graphemes_fit_and_301_do_not():
    assert limits.validate(post("ب" * 300)) == "ب" * 300
    with pytest.raises(PermanentError, match=r"301 characters .* limit is 300"):
        limits.validate(post("ب" * 301))


def test_graphemes_not_code_points_are_counted():
    family = "👨‍👩‍👧‍👦"  # seven code points, one grapheme
    assert limits.validate(post(family * 100)) == family * 100


def test_the_3000_byte_cap_applies_too():
    family = "👨‍👩‍👧‍👦"  # 25 bytes each: 121 of them fit in graphemes but not in bytes
    with pytest.raises(PermanentError, match="3000 bytes"):
        limits.validate(post(family * 121))


def test_an_appended_link_counts():
    link = "https://example.gov/" + "x" * 40
    with pytest.raises(PermanentError, match="limit is 300"):
        limits.validate(post("a" * 250, link=link))
    assert limits.validate(post("Read more:", link=link)) == f"Read more:\n{link}"
    assert limits.validate(post(f"See {link}", link=link)) == f"See {link}"


def test_empty_post_is_rejected():
    with pytest.raises(PermanentError, match="empty"):
        limits.validate(post("   "))


def test_image_rules(tmp_path):
    small = tmp_path / "small.png"
    small.write_bytes(b"x" * 1_000_000)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"x" * 1_000_001)
    ok = MediaAttachment(str(small), "image/png", "A flooded street")
    assert limits.validate(post(media=(ok,) * 4))
    with pytest.raises(PermanentError, match="at most 4 images"):
        limits.validate(post(media=(ok,) * 5))
    with pytest.raises(PermanentError, match="1,000,001 bytes"):
        limits.validate(post(media=(MediaAttachment(str(big), "image/jpeg", "alt"),)))
    with pytest.raises(PermanentError, match="video/mp4"):
        limits.validate(post(media=(MediaAttachment(str(small), "video/mp4", "alt"),)))
    with pytest.raises(PermanentError, match="alt text is 2001"):
        limits.validate(post(media=(MediaAttachment(str(small), "image/png", "a" * 2001),)))


# ---------------------------------------------------------------- records


def test_record_key_is_a_deterministic_tid():
    key = records.record_key("post-42")
    assert key == records.record_key("post-42")
    assert key != records.record_key("post-43")
    assert re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", key)


@settings(max_examples=1000)
@given(st.text(min_size=1))
def test_every_idempotency_key_gives_a_valid_tid(idempotency_key):
    key = records.record_key(idempotency_key)
    assert records.is_tid(key)
    # The timestamp bits decode to a plausible time (2023 to about 2031).
    value = 0
    for ch in key:
        value = value * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(ch)
    when = datetime.fromtimestamp((value >> 10) / 1e6, UTC)
    assert 2023 <= when.year <= 2032


def test_empty_idempotency_key_is_refused():
    with pytest.raises(PermanentError):
        records.record_key("")


def test_post_record_shape():
    at = datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC)
    blob = {"$type": "blob", "ref": {"$link": "bafk"}, "mimeType": "image/png", "size": 3}
    record = records.post_record("hi", created_at=at, langs=["ar", "en", "fr", "de"], images=[(blob, "alt")])
    assert record == {
        "$type": "app.bsky.feed.post",
        "text": "hi",
        "createdAt": "2026-11-24T10:00:00.123Z",
        "langs": ["ar", "en", "fr"],
        "embed": {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "alt"}]},
    }
