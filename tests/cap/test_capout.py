"""CAP out: the agency's own messages (Alert, Update with references, Cancel) and the Atom feed of them, each
validated against the official OASIS CAP 1.2 schema."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from govsocial_app.services.cap.capout import (
    FeedEntry,
    FeedMeta,
    OutArea,
    OutInfo,
    OutMessage,
    cancel_of,
    make_identifier,
    to_atom,
    to_cap_xml,
    update_of,
)
from govsocial_app.services.cap.feeds import parse_index
from govsocial_app.services.cap.model import Circle, ValuePair
from govsocial_app.services.cap.parse import parse_alert
from govsocial_app.services.cap.schema import schema_errors

T0 = datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc)
ATOM = "{http://www.w3.org/2005/Atom}"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
RING = ((38.52, -121.52), (38.52, -121.44), (38.60, -121.44), (38.60, -121.52), (38.52, -121.52))
AREA = OutArea("Riverton riverside", polygons=(RING,), circles=(Circle(38.575, -121.49, 2.5),),
               geocodes=(ValuePair("SAME", "006067"),))


def _message() -> OutMessage:
    infos = (
        OutInfo("en-US", "Flood", "Flood warning for the riverside", "The river is rising.", "Move to higher ground now.",
                "https://riverton.gov/flood", category=("Met",), response_types=("Evacuate",), expires=T0 + timedelta(hours=8),
                sender_name="City of Riverton", areas=(AREA,)),
        OutInfo("ar", "فيضان", "تحذير من الفيضان على ضفة النهر", "منسوب النهر يرتفع.", "انتقلوا إلى مكان مرتفع الآن.",
                "https://riverton.gov/flood", category=("Met",), expires=T0 + timedelta(hours=8), areas=(AREA,)),
    )
    return OutMessage(make_identifier("riverton.gov", 42, 1), "alerts@riverton.gov", T0, infos=infos, incidents=("Riverton Flood",))


def _valid(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert schema_errors(root) == ()
    return root


def test_alert_update_and_cancel_are_valid_cap_and_read_back():
    alert = _message()
    update = update_of(alert, identifier=make_identifier("riverton.gov", 42, 2), sent=T0 + timedelta(hours=1), infos=alert.infos)
    cancel = cancel_of(update, identifier=make_identifier("riverton.gov", 42, 3), sent=T0 + timedelta(hours=2), note="Withdrawn: the river crested.")
    for message in (alert, update, cancel):
        _valid(to_cap_xml(message))
    first = parse_alert(to_cap_xml(alert))
    assert first.sent == T0 and first.incidents == ("Riverton Flood",)
    assert [i.language for i in first.infos] == ["en-US", "ar"]
    assert first.infos[1].headline == "تحذير من الفيضان على ضفة النهر"
    assert first.infos[0].areas[0].polygons[0] == RING and first.infos[0].areas[0].circles[0].radius_km == 2.5
    read_update = parse_alert(to_cap_xml(update))
    assert read_update.msg_type == "Update" and [r.identifier for r in read_update.references] == ["riverton.gov.post-42.v1"]
    read_cancel = parse_alert(to_cap_xml(cancel))
    assert read_cancel.msg_type == "Cancel" and read_cancel.infos == ()
    assert [r.identifier for r in read_cancel.references] == ["riverton.gov.post-42.v1", "riverton.gov.post-42.v2"]
    assert b"<sent>2026-11-24T17:00:00-00:00</sent>" in to_cap_xml(alert)  # UTC as CAP writes it


def test_what_cap_cannot_express_is_refused_before_writing():
    message = _message()
    with pytest.raises(ValueError, match="identifier"):
        to_cap_xml(OutMessage("post 42", "alerts@riverton.gov", T0))
    with pytest.raises(ValueError, match="identifier"):
        to_cap_xml(OutMessage("a,b", "alerts@riverton.gov", T0))
    with pytest.raises(ValueError, match="must reference"):
        to_cap_xml(OutMessage("x", "alerts@riverton.gov", T0, msg_type="Update"))
    with pytest.raises(ValueError, match="severity"):
        to_cap_xml(OutMessage("x", "s", T0, infos=(OutInfo("en", "e", "h", severity="Bad"),)))
    with pytest.raises(ValueError, match="polygon"):
        to_cap_xml(OutMessage("x", "s", T0, infos=(OutInfo("en", "e", "h", areas=(OutArea("a", polygons=(RING[:-1],)),)),)))
    with pytest.raises(ValueError, match="time zone"):
        to_cap_xml(OutMessage("x", "s", T0.replace(tzinfo=None)))
    assert message  # the good one is fine


def test_user_text_with_markup_and_control_characters_stays_valid():
    nasty = OutInfo("en", "Flood <b>&amp;", "Headline with <script>alert(1)</script> & \x07 bell", "]]> end")
    xml = to_cap_xml(OutMessage("x", "s", T0, infos=(nasty,)))
    info = parse_alert(xml).infos[0]
    assert info.headline == "Headline with <script>alert(1)</script> &  bell" and info.description == "]]> end"


def test_atom_feed_links_each_cap_document_newest_first():
    alert = _message()
    update = update_of(alert, identifier=make_identifier("riverton.gov", 42, 2), sent=T0 + timedelta(hours=1), infos=alert.infos)
    cancel = cancel_of(update, identifier=make_identifier("riverton.gov", 42, 3), sent=T0 + timedelta(hours=2), note="Withdrawn.")
    base = "https://riverton.gov/api/cap"
    entries = [FeedEntry(m, f"{base}/{m.identifier}.xml", html_url=f"https://riverton.gov/posts/{m.identifier}") for m in (alert, update, cancel)]
    feed = to_atom(FeedMeta("tag:riverton.gov,2026:cap", "City of Riverton warnings", "https://riverton.gov/api/cap.atom", "City of Riverton"), entries)
    root = etree.fromstring(feed)
    assert root.tag == ATOM + "feed" and root.findtext(ATOM + "updated") == "2026-11-24T19:00:00+00:00"
    assert root.find(ATOM + "link").get("rel") == "self"
    titles = [e.findtext(ATOM + "title") for e in root.findall(ATOM + "entry")]
    assert titles == ["Cancelled: Withdrawn.", "Update: Flood warning for the riverside", "Flood warning for the riverside"]
    for entry in root.findall(ATOM + "entry"):
        cap_link = next(l for l in entry.findall(ATOM + "link") if l.get("type") == "application/cap+xml")
        assert cap_link.get("rel") == "alternate" and cap_link.get("href").startswith(base)
        for required in ("id", "title", "updated"):
            assert entry.findtext(ATOM + required)
    # our own index reader (what a partner agency's GovSocial would run) reads it back
    index = parse_index(feed)
    assert [e.link for e in index.entries] == [f"{base}/{m.identifier}.xml" for m in (cancel, update, alert)]


def test_atom_with_inline_cap_carries_valid_alerts():
    alert = _message()
    cancel = cancel_of(alert, identifier="riverton.gov.post-42.v2", sent=T0 + timedelta(hours=1), note="Withdrawn.")
    feed = to_atom(FeedMeta("tag:x", "X", "https://x/cap.atom", "X"), [FeedEntry(m, f"https://x/{m.identifier}.xml") for m in (alert, cancel)], inline_cap=True)
    root = etree.fromstring(feed)
    inline = [e.find(f"{ATOM}content/{CAP}alert") for e in root.findall(ATOM + "entry")]
    assert len(inline) == 2 and all(el is not None and schema_errors(el) == () for el in inline)
    assert {e.inline != b"" for e in parse_index(feed).entries} == {True}


def test_an_empty_feed_needs_a_time():
    with pytest.raises(ValueError):
        to_atom(FeedMeta("tag:x", "X", "https://x/cap.atom", "X"), [])
    assert b"<feed" in to_atom(FeedMeta("tag:x", "X", "https://x/cap.atom", "X", updated=T0), [])
