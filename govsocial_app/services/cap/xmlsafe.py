"""One hardened XML parser for everything that comes from outside: no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

from lxml import etree

from govsocial_app.services.cap.errors import DocumentTooLarge, MalformedXML, UnsafeXML

__all__ = ["DEFAULT_MAX_BYTES", "parse_untrusted"]

# An IPAWS message with embedded audio (<derefUri>) runs to a few MB; NWS messages are 5-50 kB.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024

# libxml2 options: never substitute entities, never load a DTD or anything over the network, keep libxml2's own
# limits on depth and text size (huge_tree=False), and drop what we never read. lxml parsers are not thread-safe,
# so each thread builds its own (cheap) rather than sharing a module-level one.


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        recover=False,
    )


_MARKERS = tuple(
    marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY") for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def _has_doctype(data: bytes) -> bool:
    # Looked for before libxml2 sees a byte (the whole input: a prolog can be padded); the docinfo check after
    # parsing covers encodings this misses. A CDATA section quoting "<!DOCTYPE" is refused too: a price worth paying.
    return any(marker in data for marker in _MARKERS)


def parse_untrusted(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "document") -> etree._Element:
    """The root element of `data`, or a typed error: DocumentTooLarge, UnsafeXML or MalformedXML. Never anything else.

    Any DOCTYPE is refused outright: CAP, Atom and RSS never need one, and refusing it closes XML bombs
    (billion laughs, quadratic blow-up) and external entities (XXE) before any entity is even declared."""
    if isinstance(data, str):
        data = data.encode("utf-8")
        # A str that declares another encoding would confuse libxml2; the text is already decoded.
        if data.lstrip().startswith(b"<?xml"):
            end = data.find(b"?>")
            data = data[end + 2 :] if end != -1 else data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedXML(f"The {what} is not text or bytes.")
    data = bytes(data)
    if len(data) > max_bytes:
        raise DocumentTooLarge(len(data), max_bytes, what)
    if not data.strip():
        raise MalformedXML(f"The {what} is empty.")
    if _has_doctype(data):
        raise UnsafeXML(f"The {what} declares a DOCTYPE or entities, which are refused (XML bomb or external entity protection).")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc) or "not well-formed"
        lowered = message.lower()
        if "entity" in lowered and ("undefined" in lowered or "not defined" in lowered):
            raise UnsafeXML(f"The {what} uses an undeclared entity ({message}).") from None
        raise MalformedXML(f"The {what} is not well-formed XML: {message}") from None
    except (ValueError, etree.LxmlError) as exc:  # e.g. an encoding declaration lxml cannot use
        raise MalformedXML(f"The {what} could not be read as XML: {exc}") from None
    if root is None:
        raise MalformedXML(f"The {what} has no root element.")
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXML(f"The {what} declares a DOCTYPE, which is refused.")
    if _contains_entity_refs(root):
        raise UnsafeXML(f"The {what} refers to entities, which are refused.")
    return root


def _contains_entity_refs(root: etree._Element) -> bool:
    # With resolve_entities=False an undeclared &x; can survive as an _Entity node; it must never reach our code.
    for node in root.iter(etree.Entity):
        return True
    return False
