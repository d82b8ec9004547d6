"""Hypothesis on the CAP parser (2,550 cases in all, 1,000 of them mutated real CAP documents): random bytes,
random text and mutated documents never raise anything but CapError; generated valid alerts survive a
write-then-read round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govsocial_app.services.cap.capout import OutArea, OutInfo, OutMessage, to_cap_xml
from govsocial_app.services.cap.errors import CapError
from govsocial_app.services.cap.feeds import parse_index
from govsocial_app.services.cap.model import Circle
from govsocial_app.services.cap.parse import parse_alert
from tests.cap.helpers import FLOOD, SPEC_EXAMPLES, fixture

DOCS = [fixture(name) for name in SPEC_EXAMPLES + FLOOD]
ELEMENT_NAMES = ["alert", "info", "area", "polygon", "circle", "geocode", "references", "sent", "expires", "identifier",
                 "sender", "msgType", "status", "scope", "category", "event", "urgency", "severity", "certainty",
                 "valueName", "value", "resource", "size", "language", "altitude"]
NASTY = ["<", ">", "&", "&amp;", "&lt;", "&#0;", "&#x1F;", "&#xD800;", "&x;", "<!DOCTYPE a>", "<![CDATA[x]]>",
         "<?pi x?>", "<!-- c -->", "\x00", "\ufeff", "-00:00", "99,999", "1e308", "nan", "-0", " ", "\n",
         '"', "'", "Update", "Cancel", "Ack", "Error", "1.1", "cap:1.1", "xmlns=\"x\"", "٣٫٥", "🌊", "\u202e"]

SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _never_crashes(data) -> None:
    for validate in (True, False):
        try:
            parse_alert(data, validate_schema=validate)
        except CapError as exc:
            assert exc.code and str(exc)


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes(data):
    _never_crashes(data)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=2000))
def test_random_text(text):
    _never_crashes(text)


@st.composite
def mutated_documents(draw):
    data = bytearray(draw(st.sampled_from(DOCS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate", "rename", "retext"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "delete":
            j = draw(st.integers(i, min(len(data), i + 200)))
            del data[i:j]
        elif kind == "insert":
            data[i:i] = draw(st.sampled_from(NASTY)).encode("utf-8", "surrogatepass")
        elif kind == "replace":
            data[i : i + 1] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "truncate":
            del data[i:]
        elif kind == "duplicate":
            j = draw(st.integers(i, min(len(data), i + 400)))
            data[j:j] = data[i:j]
        elif kind == "rename":
            old, new = draw(st.sampled_from(ELEMENT_NAMES)), draw(st.sampled_from(ELEMENT_NAMES))
            data = bytearray(bytes(data).replace(f"<{old}>".encode(), f"<{new}>".encode(), draw(st.integers(1, 3))))
        else:  # replace an element's text with something odd
            old = draw(st.sampled_from(ELEMENT_NAMES))
            start = bytes(data).find(f"<{old}>".encode())
            if start != -1:
                end = bytes(data).find(b"</", start)
                if end != -1:
                    data[start + len(old) + 2 : end] = draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
    return bytes(data)


@SETTINGS
@given(mutated_documents())
def test_mutated_cap_documents(data):
    _never_crashes(data)


@settings(max_examples=300, deadline=None)
@given(mutated_documents())
def test_mutated_documents_as_index_feeds(data):
    try:
        parse_index(data)
    except CapError:
        pass


# ---------------------------------------------------------------- generated valid alerts round-trip

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(lambda s: s.strip())
_lat = st.floats(-60, 60, allow_nan=False).map(lambda v: round(v, 4))
_lon = st.floats(-170, 170, allow_nan=False).map(lambda v: round(v, 4))


@st.composite
def out_messages(draw):
    sent = datetime(2020, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=draw(st.integers(0, 10**8)))
    lat, lon = draw(_lat), draw(_lon)
    size = draw(st.floats(0.01, 1.0, allow_nan=False).map(lambda v: round(v, 3)))
    ring = ((lat, lon), (lat, round(lon + size, 4)), (round(lat + size, 4), round(lon + size, 4)), (lat, lon))
    area = OutArea(draw(_text), polygons=(ring,), circles=(Circle(lat, lon, draw(st.floats(0, 50, allow_nan=False).map(lambda v: round(v, 2)))),))
    infos = tuple(
        OutInfo(language, draw(_text), draw(_text), draw(_text), draw(_text),
                urgency=draw(st.sampled_from(["Immediate", "Expected", "Future", "Past", "Unknown"])),
                severity=draw(st.sampled_from(["Extreme", "Severe", "Moderate", "Minor", "Unknown"])),
                certainty=draw(st.sampled_from(["Observed", "Likely", "Possible", "Unlikely", "Unknown"])),
                expires=sent + timedelta(hours=draw(st.integers(1, 48))), areas=(area,))
        for language in draw(st.lists(st.sampled_from(["en-US", "ar", "es-US", "fr-CA"]), min_size=1, max_size=3, unique=True))
    )
    ident = draw(st.from_regex(r"[A-Za-z0-9._\-]{1,40}", fullmatch=True))
    return OutMessage(ident, "alerts@riverton.gov", sent, infos=infos)


@settings(max_examples=150, deadline=None)
@given(out_messages())
def test_generated_alerts_round_trip(message):
    alert = parse_alert(to_cap_xml(message))
    assert alert.identifier == message.identifier and alert.sent == message.sent.replace(microsecond=0)
    assert [i.language for i in alert.infos] == [i.language for i in message.infos]
    for got, sent in zip(alert.infos, message.infos):
        assert (got.headline, got.severity, got.urgency, got.certainty) == (sent.headline.strip(), sent.severity, sent.urgency, sent.certainty)
        assert got.areas[0].polygons == sent.areas[0].polygons
        assert got.areas[0].geometry is not None
