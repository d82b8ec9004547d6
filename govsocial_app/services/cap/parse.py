"""Read a CAP 1.2 document into model.Alert: hardened XML, required fields, the OASIS schema, then the semantics
the schema cannot state (dates, references, polygons that close). Every failure is a typed CapError."""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from govsocial_app.services.cap.dates import parse_cap_datetime
from govsocial_app.services.cap.errors import (
    CapError,
    InvalidGeometry,
    InvalidReferences,
    MalformedXML,
    MissingField,
    NotCap12,
    SchemaInvalid,
)
from govsocial_app.services.cap.geometry import parse_circle, parse_polygon, polygon_geometry
from govsocial_app.services.cap.model import Alert, Area, Circle, Info, Reference, Resource, ValuePair
from govsocial_app.services.cap.schema import CAP12_NS, schema_errors
from govsocial_app.services.cap.xmlsafe import DEFAULT_MAX_BYTES, parse_untrusted

__all__ = ["MAX_INFOS", "is_cap12_root", "parse_alert", "parse_alert_element", "split_quoted"]

_NS = "{" + CAP12_NS + "}"
_DSIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"
_OTHER_CAP = {
    "urn:oasis:names:tc:emergency:cap:1.1": "CAP 1.1",
    "http://www.incident.com/cap/1.0": "CAP 1.0",
    "urn:oasis:names:tc:emergency:cap:1.0": "CAP 1.0",
}
MAX_INFOS = 100  # the schema sets no bound; a real message has one per language and event

_REQUIRED_ALERT = ("identifier", "sender", "sent", "status", "msgType", "scope")
_REQUIRED_INFO = ("category", "event", "urgency", "severity", "certainty")
_REQUIRED_RESOURCE = ("resourceDesc", "mimeType")
_QUOTED = re.compile(r'"([^"]*)"|(\S+)')


def split_quoted(text: str) -> tuple[str, ...]:
    """CAP's space-delimited lists (addresses, incidents), where a value with spaces is in double quotes."""
    return tuple(m.group(1) if m.group(1) is not None else m.group(2) for m in _QUOTED.finditer(text or ""))


def is_cap12_root(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and element.tag == _NS + "alert"


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _check_root(root: etree._Element) -> None:
    tag = root.tag if isinstance(root.tag, str) else ""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    local = _local(tag)
    if local == "alert" and namespace == CAP12_NS:
        return
    if local == "alert" and namespace in _OTHER_CAP:
        raise NotCap12(f"This is a {_OTHER_CAP[namespace]} message; only CAP 1.2 is read.", found=_OTHER_CAP[namespace])
    if local == "alert":
        where = f"namespace {namespace!r}" if namespace else "no namespace"
        raise NotCap12(f"An <alert> in {where} is not CAP 1.2 (expected {CAP12_NS}).", found=namespace or "none")
    if local.lower() == "html":
        raise NotCap12("The address returned an HTML page, not a CAP message.", found="html")
    raise NotCap12(f"The document's root is <{local or '?'}>, not a CAP 1.2 <alert>.", found=local)


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return el.find(_NS + name)


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return el.findall(_NS + name)


def _text(el: etree._Element, name: str) -> str:
    child = el.find(_NS + name)
    if child is None:
        return ""
    return "".join(child.itertext()).strip()


def _require(el: etree._Element, names: tuple[str, ...], where: str) -> None:
    for name in names:
        child = _child(el, name)
        if child is None or not "".join(child.itertext()).strip():
            raise MissingField(name, where, getattr(el, "sourceline", None))


def _check_required(root: etree._Element) -> None:
    _require(root, _REQUIRED_ALERT, "alert")
    for info in _children(root, "info"):
        _require(info, _REQUIRED_INFO, "info")
        for resource in _children(info, "resource"):
            _require(resource, _REQUIRED_RESOURCE, "resource")
        for area in _children(info, "area"):
            _require(area, ("areaDesc",), "area")
        for container in ("eventCode", "parameter"):
            for pair in _children(info, container):
                _require(pair, ("valueName",), container)
        for area in _children(info, "area"):
            for pair in _children(area, "geocode"):
                _require(pair, ("valueName",), "geocode")


def _date(el: etree._Element, name: str, required: bool = False) -> datetime | None:
    raw = _text(el, name)
    if not raw:
        if required:
            raise MissingField(name, _local(el.tag))
        return None
    try:
        return parse_cap_datetime(raw)
    except ValueError as exc:
        raise SchemaInvalid(f"<{name}> {exc}.") from None


def _pairs(el: etree._Element, name: str) -> tuple[ValuePair, ...]:
    return tuple(ValuePair(_text(p, "valueName"), _text(p, "value")) for p in _children(el, name))


def _decimal(el: etree._Element, name: str, warnings: list[str]) -> float | None:
    raw = _text(el, name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        warnings.append(f"<{name}> {raw[:40]!r} is not a number; ignored")
        return None


def parse_references(text: str) -> tuple[Reference, ...]:
    refs = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise InvalidReferences(f"<references> entry {token[:120]!r} is not \"sender,identifier,sent\".")
        try:
            sent = parse_cap_datetime(parts[2])
        except ValueError as exc:
            raise InvalidReferences(f"<references> entry {token[:120]!r}: {exc}.") from None
        refs.append(Reference(parts[0], parts[1], sent))
    return tuple(refs)


def _area(el: etree._Element, where: str, warnings: list[str]) -> Area:
    polygons = tuple(parse_polygon(_text_of(p), f"{where} polygon {i + 1}") for i, p in enumerate(_children(el, "polygon")))
    for i, points in enumerate(polygons):
        try:
            polygon_geometry(points)
        except InvalidGeometry as exc:
            raise InvalidGeometry(f"{where} polygon {i + 1}: {exc.message}") from None
    circles = tuple(Circle(*parse_circle(_text_of(c), f"{where} circle {i + 1}")) for i, c in enumerate(_children(el, "circle")))
    return Area(
        description=_text(el, "areaDesc"),
        polygons=polygons,
        circles=circles,
        geocodes=_pairs(el, "geocode"),
        altitude=_decimal(el, "altitude", warnings),
        ceiling=_decimal(el, "ceiling", warnings),
    )


def _text_of(el: etree._Element) -> str:
    return "".join(el.itertext()).strip()


def _resource(el: etree._Element, warnings: list[str]) -> Resource:
    size_raw = _text(el, "size")
    size = None
    if size_raw:
        try:
            size = int(size_raw)
        except ValueError:
            warnings.append(f"<resource><size> {size_raw[:40]!r} is not an integer; ignored")
    return Resource(
        description=_text(el, "resourceDesc"),
        mime_type=_text(el, "mimeType"),
        size=size,
        uri=_text(el, "uri"),
        deref_uri=_text(el, "derefUri"),
        digest=_text(el, "digest"),
    )


def _info(el: etree._Element, index: int, warnings: list[str]) -> Info:
    where = f"info {index + 1}"
    return Info(
        language=_text(el, "language") or "en-US",
        categories=tuple(_text_of(c) for c in _children(el, "category")),
        event=_text(el, "event"),
        urgency=_text(el, "urgency"),
        severity=_text(el, "severity"),
        certainty=_text(el, "certainty"),
        response_types=tuple(_text_of(c) for c in _children(el, "responseType")),
        audience=_text(el, "audience"),
        event_codes=_pairs(el, "eventCode"),
        effective=_date(el, "effective"),
        onset=_date(el, "onset"),
        expires=_date(el, "expires"),
        sender_name=_text(el, "senderName"),
        headline=_text(el, "headline"),
        description=_text(el, "description"),
        instruction=_text(el, "instruction"),
        web=_text(el, "web"),
        contact=_text(el, "contact"),
        parameters=_pairs(el, "parameter"),
        resources=tuple(_resource(r, warnings) for r in _children(el, "resource")),
        areas=tuple(_area(a, f"{where} area {i + 1}", warnings) for i, a in enumerate(_children(el, "area"))),
    )


def parse_alert_element(root: etree._Element, *, validate_schema: bool = True) -> Alert:
    """An already-parsed <alert> element (from parse_untrusted, or inline in an index feed) as an Alert."""
    try:
        _check_root(root)
        _check_required(root)
        if validate_schema:
            errors = schema_errors(root)
            if errors:
                raise SchemaInvalid(f"The CAP message does not follow the CAP 1.2 schema: {errors[0]}", detail=errors)
        infos_el = _children(root, "info")
        if len(infos_el) > MAX_INFOS:
            raise SchemaInvalid(f"The message has {len(infos_el)} <info> blocks; at most {MAX_INFOS} are read.")
        warnings: list[str] = []
        sent = _date(root, "sent", required=True)
        assert sent is not None
        alert = Alert(
            identifier=_text(root, "identifier"),
            sender=_text(root, "sender"),
            sent=sent,
            status=_text(root, "status"),
            msg_type=_text(root, "msgType"),
            scope=_text(root, "scope"),
            source=_text(root, "source"),
            restriction=_text(root, "restriction"),
            addresses=split_quoted(_text(root, "addresses")),
            codes=tuple(_text_of(c) for c in _children(root, "code")),
            note=_text(root, "note"),
            references=parse_references(_text(root, "references")),
            incidents=split_quoted(_text(root, "incidents")),
            infos=tuple(_info(el, i, warnings) for i, el in enumerate(infos_el)),
            signed=root.find(_DSIG) is not None,
            warnings=tuple(warnings),
        )
    except CapError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, etree.LxmlError) as exc:
        # Whatever odd shape got past the checks above still ends as a typed error, never a crash.
        raise MalformedXML(f"The CAP message could not be read: {type(exc).__name__}: {exc}") from None
    return alert


def parse_alert(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES, validate_schema: bool = True) -> Alert:
    """Parse one CAP 1.2 document. Raises only CapError subclasses: DocumentTooLarge, UnsafeXML, MalformedXML,
    NotCap12, MissingField, SchemaInvalid, InvalidReferences, InvalidGeometry (PolygonNotClosed)."""
    root = parse_untrusted(data, max_bytes=max_bytes, what="CAP message")
    return parse_alert_element(root, validate_schema=validate_schema)
