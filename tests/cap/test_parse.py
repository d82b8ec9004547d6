"""The CAP 1.2 parser on the OASIS specification's examples (with Arabic info blocks), and every bad input it must
turn into a typed error: malformed XML, another CAP version, a huge document, XML bombs, external entities,
polygons that do not close, missing required fields, schema violations and bad references."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from govsocial_app.services.cap.errors import (
    CapError,
    DocumentTooLarge,
    InvalidGeometry,
    InvalidReferences,
    MalformedXML,
    MissingField,
    NotCap12,
    PolygonNotClosed,
    SchemaInvalid,
    UnsafeXML,
)
from govsocial_app.services.cap.parse import parse_alert, split_quoted
from tests.cap.helpers import FLOOD, SPEC_EXAMPLES, fixture

UTC = timezone.utc


@pytest.mark.parametrize("name", SPEC_EXAMPLES + FLOOD)
def test_every_fixture_parses_with_an_arabic_block(name):
    alert = parse_alert(fixture(name))
    assert alert.infos, name
    assert any(info.base_language == "ar" for info in alert.infos)
    assert all(info.event and info.urgency and info.severity and info.certainty for info in alert.infos)


def test_thunderstorm_warning_every_field():
    alert = parse_alert(fixture("a2_thunderstorm"))
    assert (alert.identifier, alert.sender) == ("KSTO1055887203", "KSTO@NWS.NOAA.GOV")
    assert alert.sent == datetime(2003, 6, 17, 21, 57, tzinfo=UTC)  # -07:00 converted to UTC
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    en, ar = alert.infos
    assert en.language == "en-US" and ar.language == "ar"  # en-US is CAP's default when <language> is absent
    assert en.categories == ("Met",) and en.response_types == ("Shelter",)
    assert (en.urgency, en.severity, en.certainty) == ("Immediate", "Severe", "Observed")
    assert en.event_codes[0].name == "SAME" and en.event_codes[0].value == "SVR"
    assert en.expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)
    assert en.headline == "SEVERE THUNDERSTORM WARNING"
    assert en.instruction.startswith("TAKE COVER")
    assert en.contact == "BARUFFALDI/JUSKIE"
    area = en.areas[0]
    assert area.polygons[0][0] == (38.47, -120.14) and area.polygons[0][-1] == (38.47, -120.14)
    assert [g.value for g in area.geocodes] == ["006109", "006009", "006003"]
    # shapely works in (lon, lat): the polygon's bounds are the CAP pairs swapped
    minx, miny, maxx, maxy = area.geometry.bounds
    assert (minx, miny, maxx, maxy) == (-120.14, 38.34, -119.74, 38.62)
    assert ar.headline == "تحذير من عاصفة رعدية شديدة"
    assert alert.expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)


def test_homeland_security_parameters_resources_and_an_area_without_shape():
    alert = parse_alert(fixture("a1_homeland_security"))
    en = alert.infos[0]
    assert en.parameter("HSAS") == "ORANGE" and en.parameter("missing") is None
    assert en.resources[0].mime_type == "image/gif" and en.resources[0].uri.endswith("getAdvisoryImage")
    assert en.web == "http://www.dhs.gov/dhspublic/display?theme=29"
    assert en.areas[0].geometry is None  # described in words only
    assert alert.expires is None  # no block expires


def test_earthquake_update_references_and_a_zero_radius_circle():
    alert = parse_alert(fixture("a3_earthquake_update"))
    assert alert.msg_type == "Update"
    (ref,) = alert.references
    assert (ref.sender, ref.identifier) == ("trinet@caltech.edu", "TRI13970876.1")
    assert ref.sent == datetime(2003, 6, 12, 3, 30, tzinfo=UTC)
    assert str(ref) == "trinet@caltech.edu,TRI13970876.1,2003-06-12T03:30:00-00:00"
    circle = alert.infos[0].areas[0].circles[0]
    assert (circle.lat, circle.lon, circle.radius_km) == (32.9525, -115.5527, 0.0)
    assert alert.infos[0].areas[0].geometry.geom_type == "Point"


def test_amber_alert_three_languages_and_geocodes():
    alert = parse_alert(fixture("a4_amber_alert"))
    assert alert.languages() == ("en-US", "es-US", "ar-US")
    assert alert.source == "SW"
    assert [i.base_language for i in alert.infos] == ["en", "es", "ar"]
    assert all(i.areas[0].geocodes[0].value == "006037" for i in alert.infos)


def test_flood_cancel_references_two_messages_and_incidents_keep_quoted_spaces():
    alert = parse_alert(fixture("flood_cancel"))
    assert alert.msg_type == "Cancel"
    assert [r.identifier for r in alert.references] == ["NWS-FLW-STO-2026-0412", "NWS-FLW-STO-2026-0413"]
    assert alert.incidents == ("Riverton Flood 2026",)
    assert alert.note.startswith("The river has crested")


def test_split_quoted():
    assert split_quoted('a "b c" d') == ("a", "b c", "d")
    assert split_quoted("") == ()


def test_text_input_and_utf16_are_read():
    text = fixture("flood_alert").decode("utf-8")
    assert parse_alert(text).identifier == "NWS-FLW-STO-2026-0412"
    utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert parse_alert(utf16).infos[1].headline.startswith("تحذير")


# ---------------------------------------------------------------- bad input, each a typed error


def _replace(name: str, old: str, new: str) -> bytes:
    data = fixture(name).decode("utf-8")
    assert old in data, old
    return data.replace(old, new, 1).encode("utf-8")


def test_malformed_xml():
    with pytest.raises(MalformedXML, match="not well-formed"):
        parse_alert(fixture("flood_alert")[:-30])
    with pytest.raises(MalformedXML):
        parse_alert(b"")
    with pytest.raises(MalformedXML):
        parse_alert(b"\xff\xfe\x00garbage")


def test_other_cap_versions_and_other_documents_are_named():
    with pytest.raises(NotCap12, match="CAP 1.1") as info:
        parse_alert(fixture("cap11_alert"))
    assert info.value.found == "CAP 1.1" and info.value.code == "wrong_version"
    with pytest.raises(NotCap12, match="CAP 1.0"):
        parse_alert(b'<alert xmlns="http://www.incident.com/cap/1.0"><identifier>x</identifier></alert>')
    with pytest.raises(NotCap12, match="HTML page"):
        parse_alert(b"<html><body>Service unavailable</body></html>")
    with pytest.raises(NotCap12, match="no namespace"):
        parse_alert(b"<alert><identifier>x</identifier></alert>")


def test_too_large_is_refused_before_parsing():
    with pytest.raises(DocumentTooLarge) as info:
        parse_alert(fixture("flood_alert"), max_bytes=1000)
    assert info.value.limit == 1000 and info.value.code == "too_large"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>"""


def test_xml_bomb_is_refused():
    with pytest.raises(UnsafeXML):
        parse_alert(BILLION_LAUGHS)


def test_external_entities_are_refused_and_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    for target in (secret.as_uri(), "http://127.0.0.1:9/evil.dtd"):
        xxe = (f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "{target}">]>'
               '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>').encode()
        with pytest.raises(UnsafeXML) as info:
            parse_alert(xxe)
        assert "TOP-SECRET" not in str(info.value)


def test_a_doctype_hidden_after_padding_or_in_utf16_is_still_refused():
    padded = b'<?xml version="1.0"?>' + b" " * 10_000 + b'<!DOCTYPE a [<!ENTITY x "y">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>'
    with pytest.raises(UnsafeXML):
        parse_alert(padded)
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><alert/>'.encode("utf-16")
    with pytest.raises(UnsafeXML):
        parse_alert(utf16)


def test_an_undeclared_entity_is_refused():
    with pytest.raises((UnsafeXML, MalformedXML)):
        parse_alert(b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>')


def test_polygon_that_does_not_close():
    data = _replace("a2_thunderstorm", "38.62,-119.89 38.47,-120.14</polygon>", "38.62,-119.89 38.40,-120.14</polygon>")
    with pytest.raises(PolygonNotClosed, match="does not close") as info:
        parse_alert(data)
    assert info.value.code == "polygon_not_closed" and "info 1 area 1 polygon 1" in str(info.value)


@pytest.mark.parametrize("polygon, message", [
    ("38.47,-120.14 38.34,-119.95 38.47,-120.14", "at least 4"),
    ("38.47,-120.14 38.34 -119.95 38.52,-119.74 38.47,-120.14", "not a \"lat,lon\" pair"),
    ("98.47,-120.14 38.34,-119.95 38.52,-119.74 98.47,-120.14", "latitude 98.47"),
    ("38.47,-220.14 38.34,-119.95 38.52,-119.74 38.47,-220.14", "longitude -220.14"),
    ("38.47,abc 38.34,-119.95 38.52,-119.74 38.47,abc", "not a pair of numbers"),
    ("38.47,nan 38.34,-119.95 38.52,-119.74 38.47,nan", "not a finite"),
    ("38.0,-120.0 38.0,-120.0 38.0,-120.0 38.0,-120.0", "encloses no area"),
])
def test_bad_polygons(polygon, message):
    data = _replace("a2_thunderstorm", "38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14", polygon)
    with pytest.raises(InvalidGeometry, match=message):
        parse_alert(data)


@pytest.mark.parametrize("circle, message", [
    ("32.9525,-115.5527", "lat,lon radius"),
    ("32.9525,-115.5527 -3", "non-negative"),
    ("32.9525,-115.5527 ten", "not a number"),
    ("32.9525,-115.5527 20000", "quarter of the Earth"),
])
def test_bad_circles(circle, message):
    data = _replace("a3_earthquake_update", "<circle>32.9525,-115.5527 0</circle>", f"<circle>{circle}</circle>")
    with pytest.raises(InvalidGeometry, match=message):
        parse_alert(data)


@pytest.mark.parametrize("element", ["identifier", "sender", "sent", "status", "msgType", "scope"])
def test_missing_required_alert_fields(element):
    data = fixture("a2_thunderstorm").decode()
    start = data.index(f"<{element}>")
    end = data.index(f"</{element}>") + len(element) + 3
    with pytest.raises(MissingField) as info:
        parse_alert(data[:start] + data[end:])
    assert info.value.field == element and info.value.where == "alert" and info.value.code == "missing_field"


@pytest.mark.parametrize("element", ["category", "event", "urgency", "severity", "certainty"])
def test_missing_required_info_fields(element):
    data = fixture("a3_earthquake_update").decode()
    start = data.index(f"<{element}>")
    end = data.index(f"</{element}>") + len(element) + 3
    with pytest.raises(MissingField, match=f"<{element}>"):
        parse_alert(data[:start] + data[end:])


def test_empty_required_field_counts_as_missing():
    with pytest.raises(MissingField, match="<sender>"):
        parse_alert(_replace("flood_alert", "<sender>w-nws.webmaster@noaa.gov</sender>", "<sender>  </sender>"))


def test_schema_violations_list_each_problem_with_its_line():
    data = _replace("flood_alert", "<severity>Severe</severity>", "<severity>Catastrophic</severity>")
    with pytest.raises(SchemaInvalid) as info:
        parse_alert(data)
    assert "Catastrophic" in str(info.value) and info.value.detail[0].startswith("line ")
    # the same document is read when the source's admin turned schema validation off
    assert parse_alert(data, validate_schema=False).infos[0].severity == "Catastrophic"


def test_elements_out_of_order_break_the_schema():
    data = _replace("flood_alert", "<status>Actual</status>\n  <msgType>Alert</msgType>", "<msgType>Alert</msgType>\n  <status>Actual</status>")
    with pytest.raises(SchemaInvalid):
        parse_alert(data)


def test_a_z_time_zone_is_not_cap():
    with pytest.raises(SchemaInvalid):
        parse_alert(_replace("flood_alert", "<sent>2026-11-24T09:05:00-08:00</sent>", "<sent>2026-11-24T17:05:00Z</sent>"))
    with pytest.raises(SchemaInvalid, match="not a CAP date-time"):
        parse_alert(_replace("flood_alert", "<sent>2026-11-24T09:05:00-08:00</sent>", "<sent>2026-11-24T17:05:00Z</sent>"),
                    validate_schema=False)


@pytest.mark.parametrize("references", [
    "w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0412",
    "w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0412,yesterday",
    ",NWS-FLW-STO-2026-0412,2026-11-24T09:05:00-08:00",
])
def test_bad_references(references):
    data = _replace("flood_update", "w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0412,2026-11-24T09:05:00-08:00", references)
    with pytest.raises(InvalidReferences):
        parse_alert(data)


def test_every_error_is_a_cap_error_with_a_code():
    for cls in (DocumentTooLarge, UnsafeXML, MalformedXML, NotCap12, MissingField, SchemaInvalid, InvalidReferences,
                InvalidGeometry, PolygonNotClosed):
        assert issubclass(cls, CapError) and cls.code != CapError.code


def test_signed_alerts_are_noted():
    data = _replace("flood_alert", "</alert>", '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></alert>')
    assert parse_alert(data).signed is True
    assert parse_alert(fixture("flood_alert")).signed is False
