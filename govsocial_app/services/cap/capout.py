"""CAP out: the agency's own emergency posts as CAP 1.2 messages (Alert, Update, Cancel) and an Atom feed of them.
Pure functions from plain dataclasses to bytes; every message is valid against the OASIS CAP 1.2 schema."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from lxml import etree

from govsocial_app.services.cap.dates import format_cap_datetime
from govsocial_app.services.cap.model import CERTAINTY_ORDER, SEVERITY_ORDER, URGENCY_ORDER, Circle, Reference, ValuePair
from govsocial_app.services.cap.schema import CAP12_NS, schema_errors
from govsocial_app.services.cap.errors import SchemaInvalid

__all__ = [
    "CAP_MIME",
    "FeedEntry",
    "FeedMeta",
    "OutArea",
    "OutInfo",
    "OutMessage",
    "cancel_of",
    "make_identifier",
    "to_atom",
    "to_cap_xml",
    "update_of",
]

CAP_MIME = "application/cap+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other")
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")
# CAP 1.2 §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters (< and &)".
_FORBIDDEN = re.compile(r"[\s,<&]")
# XML 1.0 cannot carry most control characters; a pasted one must not make the feed unreadable.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class OutArea:
    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # closed rings of (lat, lon)
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[ValuePair, ...] = ()


@dataclass(frozen=True)
class OutInfo:
    language: str  # "en-US", "ar"
    event: str
    headline: str
    description: str = ""
    instruction: str = ""
    web: str = ""
    category: tuple[str, ...] = ("Safety",)
    response_types: tuple[str, ...] = ()
    urgency: str = "Immediate"
    severity: str = "Severe"
    certainty: str = "Observed"
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str = ""
    contact: str = ""
    parameters: tuple[ValuePair, ...] = ()
    areas: tuple[OutArea, ...] = ()


@dataclass(frozen=True)
class OutMessage:
    identifier: str
    sender: str
    sent: datetime
    msg_type: Literal["Alert", "Update", "Cancel"] = "Alert"
    status: Literal["Actual", "Exercise", "System", "Test", "Draft"] = "Actual"
    scope: Literal["Public", "Restricted", "Private"] = "Public"
    infos: tuple[OutInfo, ...] = ()
    references: tuple[Reference, ...] = ()
    note: str = ""
    incidents: tuple[str, ...] = ()
    source: str = ""

    @property
    def reference(self) -> Reference:
        return Reference(self.sender, self.identifier, self.sent)


def make_identifier(domain: str, post_id: int | str, version: int) -> str:
    """A CAP identifier unique for the agency: "<domain>.post-<id>.v<version>" without forbidden characters."""
    return _FORBIDDEN.sub("-", f"{domain}.post-{post_id}.v{version}")


def update_of(previous: OutMessage, *, identifier: str, sent: datetime, infos: tuple[OutInfo, ...], note: str = "") -> OutMessage:
    """An Update that supersedes `previous` (and everything `previous` itself referenced)."""
    return OutMessage(identifier, previous.sender, sent, "Update", previous.status, previous.scope, infos,
                      _chain(previous), note, previous.incidents, previous.source)


def cancel_of(previous: OutMessage, *, identifier: str, sent: datetime, note: str, infos: tuple[OutInfo, ...] = ()) -> OutMessage:
    """A Cancel of `previous` (a withdrawn post). CAP lets a Cancel carry info; without it only the note explains."""
    return OutMessage(identifier, previous.sender, sent, "Cancel", previous.status, previous.scope, infos,
                      _chain(previous), note, previous.incidents, previous.source)


def _chain(previous: OutMessage) -> tuple[Reference, ...]:
    refs = list(previous.references) + [previous.reference]
    return tuple(dict.fromkeys(refs))


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text or "")


def _sub(parent: etree._Element, name: str, text: str | None) -> None:
    if text is None or text == "":
        return
    etree.SubElement(parent, f"{{{CAP12_NS}}}{name}").text = _clean(text)


def _pair(parent: etree._Element, name: str, pair: ValuePair) -> None:
    el = etree.SubElement(parent, f"{{{CAP12_NS}}}{name}")
    _sub(el, "valueName", pair.name or "-")
    etree.SubElement(el, f"{{{CAP12_NS}}}value").text = _clean(pair.value)


def _quoted(values: Sequence[str]) -> str:
    return " ".join(f'"{v}"' if re.search(r"\s", v) else v for v in values if v)


def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


def _check(message: OutMessage) -> None:
    for name in ("identifier", "sender"):
        value = getattr(message, name)
        if not value or _FORBIDDEN.search(value):
            raise ValueError(f"CAP {name} {value!r} must be non-empty, without spaces, commas, < or &")
    if message.msg_type in ("Update", "Cancel") and not message.references:
        raise ValueError(f"a CAP {message.msg_type} must reference the message(s) it replaces")
    for info in message.infos:
        for value, allowed, name in ((info.urgency, URGENCY_ORDER + ("Unknown",), "urgency"),
                                     (info.severity, SEVERITY_ORDER + ("Unknown",), "severity"),
                                     (info.certainty, CERTAINTY_ORDER + ("Unknown",), "certainty")):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        if not info.category or any(c not in CATEGORIES for c in info.category):
            raise ValueError(f"category must be among {', '.join(CATEGORIES)}; got {info.category!r}")
        if any(r not in RESPONSE_TYPES for r in info.response_types):
            raise ValueError(f"responseType must be among {', '.join(RESPONSE_TYPES)}")
        if not info.event.strip():
            raise ValueError("every info block needs an event")
        for area in info.areas:
            for ring in area.polygons:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    raise ValueError("a CAP polygon needs 4 or more (lat, lon) pairs, the first equal to the last")


def to_cap_element(message: OutMessage) -> etree._Element:
    _check(message)
    root = etree.Element(f"{{{CAP12_NS}}}alert", nsmap={None: CAP12_NS})
    _sub(root, "identifier", message.identifier)
    _sub(root, "sender", message.sender)
    _sub(root, "sent", format_cap_datetime(message.sent))
    _sub(root, "status", message.status)
    _sub(root, "msgType", message.msg_type)
    _sub(root, "source", message.source)
    _sub(root, "scope", message.scope)
    _sub(root, "note", message.note)
    _sub(root, "references", " ".join(str(ref) for ref in message.references))
    _sub(root, "incidents", _quoted(message.incidents))
    for info in message.infos:
        el = etree.SubElement(root, f"{{{CAP12_NS}}}info")
        _sub(el, "language", info.language)
        for category in info.category:
            _sub(el, "category", category)
        _sub(el, "event", info.event)
        for response in info.response_types:
            _sub(el, "responseType", response)
        _sub(el, "urgency", info.urgency)
        _sub(el, "severity", info.severity)
        _sub(el, "certainty", info.certainty)
        for name in ("effective", "onset", "expires"):
            value = getattr(info, name)
            if value is not None:
                _sub(el, name, format_cap_datetime(value))
        _sub(el, "senderName", info.sender_name)
        _sub(el, "headline", info.headline)
        _sub(el, "description", info.description)
        _sub(el, "instruction", info.instruction)
        _sub(el, "web", info.web)
        _sub(el, "contact", info.contact)
        for pair in info.parameters:
            _pair(el, "parameter", pair)
        for area in info.areas:
            area_el = etree.SubElement(el, f"{{{CAP12_NS}}}area")
            _sub(area_el, "areaDesc", area.description or "-")
            for ring in area.polygons:
                _sub(area_el, "polygon", " ".join(f"{_fmt(lat)},{_fmt(lon)}" for lat, lon in ring))
            for circle in area.circles:
                _sub(area_el, "circle", f"{_fmt(circle.lat)},{_fmt(circle.lon)} {_fmt(circle.radius_km)}")
            for pair in area.geocodes:
                _pair(area_el, "geocode", pair)
    return root


def to_cap_xml(message: OutMessage, *, validate: bool = True) -> bytes:
    """The message as a UTF-8 CAP 1.2 document. ValueError for a message CAP cannot express; with `validate`,
    SchemaInvalid if the result broke the schema (a bug here, never the user's text)."""
    root = to_cap_element(message)
    if validate:
        errors = schema_errors(root)
        if errors:
            raise SchemaInvalid(f"generated CAP is invalid: {errors[0]}", detail=errors)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---------------------------------------------------------------- the Atom feed


@dataclass(frozen=True)
class FeedMeta:
    id: str  # a permanent IRI, e.g. "tag:riverton.gov,2026:cap" or the feed's URL
    title: str
    self_url: str  # where the feed is served (/api/cap.atom on the public URL)
    author: str
    updated: datetime | None = None  # defaults to the newest entry's sent time


@dataclass(frozen=True)
class FeedEntry:
    message: OutMessage
    cap_url: str  # where this message's CAP document is served
    html_url: str = ""  # a human page for it, when there is one
    updated: datetime | None = None  # defaults to message.sent


def _atom(parent: etree._Element | None, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    tag = f"{{{ATOM_NS}}}{name}"
    el = etree.Element(tag, nsmap={None: ATOM_NS}) if parent is None else etree.SubElement(parent, tag)
    for key, value in attrs.items():
        el.set(key, value)
    if text is not None:
        el.text = _clean(text)
    return el


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("feed times need a time zone")
    return value.replace(microsecond=0).isoformat()


def to_atom(meta: FeedMeta, entries: Sequence[FeedEntry], *, inline_cap: bool = False) -> bytes:
    """An Atom 1.0 (RFC 4287) feed: one entry per CAP message, newest first, each linking its CAP document
    (rel="alternate", type="application/cap+xml"; the convention of NWS's and IPAWS's CAP indexes). With
    `inline_cap` the CAP alert is also carried in the entry's <content>."""
    ordered = sorted(entries, key=lambda e: (e.updated or e.message.sent), reverse=True)
    root = _atom(None, "feed")
    _atom(root, "id", meta.id)
    _atom(root, "title", meta.title)
    newest = meta.updated or (ordered[0].updated or ordered[0].message.sent if ordered else None)
    if newest is None:
        raise ValueError("an empty feed needs FeedMeta.updated")
    _atom(root, "updated", _rfc3339(newest))
    author = _atom(root, "author")
    _atom(author, "name", meta.author)
    _atom(root, "link", rel="self", type="application/atom+xml", href=meta.self_url)
    _atom(root, "generator", "GovSocial")
    for item in ordered:
        message = item.message
        info = message.infos[0] if message.infos else None
        entry = _atom(root, "entry")
        _atom(entry, "id", item.cap_url)
        prefix = {"Update": "Update: ", "Cancel": "Cancelled: "}.get(message.msg_type, "")
        title = (info.headline or info.event) if info else (message.note or message.identifier)
        _atom(entry, "title", prefix + title)
        _atom(entry, "updated", _rfc3339(item.updated or message.sent))
        _atom(entry, "published", _rfc3339(message.sent))
        _atom(entry, "link", rel="alternate", type=CAP_MIME, href=item.cap_url)
        if item.html_url:
            _atom(entry, "link", rel="related", type="text/html", href=item.html_url)
        summary = (info.description or info.instruction) if info else message.note
        if summary:
            _atom(entry, "summary", summary[:1000])
        if info is not None:
            for category in info.category:
                _atom(entry, "category", term=category, scheme="urn:oasis:names:tc:emergency:cap:1.2:category")
        if inline_cap:
            content = _atom(entry, "content", type=CAP_MIME)
            content.append(to_cap_element(message))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
