"""Typed errors for everything CAP: each has a stable `code` for source statuses and logs, and an English message."""

from __future__ import annotations

__all__ = [
    "CapError",
    "DocumentTooLarge",
    "FeedError",
    "InvalidBoundary",
    "InvalidGeometry",
    "InvalidReferences",
    "MalformedXML",
    "MissingField",
    "NotCap12",
    "PolygonNotClosed",
    "SchemaInvalid",
    "UnsafeXML",
]


class CapError(Exception):
    """Base class. `code` is stable (stored as a source's status); the message says what was wrong and where."""

    code = "cap_error"

    def __init__(self, message: str, *, detail: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.detail = tuple(detail)

    def __reduce__(self):  # picklable across process pools and for logging handlers
        return (_rebuild, (type(self), self.message, self.detail, dict(self.__dict__)))


def _rebuild(cls, message, detail, state):
    obj = cls.__new__(cls)
    CapError.__init__(obj, message, detail=detail)
    obj.__dict__.update(state)
    return obj


class DocumentTooLarge(CapError):
    code = "too_large"

    def __init__(self, size: int, limit: int, what: str = "document"):
        super().__init__(f"The {what} is {size} bytes, more than the limit of {limit} bytes.")
        self.size, self.limit = size, limit


class UnsafeXML(CapError):
    """A DOCTYPE, an entity declaration or reference, or an external resource: the signs of an XML bomb or XXE."""

    code = "unsafe_xml"


class MalformedXML(CapError):
    code = "malformed_xml"


class NotCap12(CapError):
    """Well-formed XML that is not a CAP 1.2 alert (another CAP version, an HTML error page, some other XML)."""

    code = "wrong_version"

    def __init__(self, message: str, *, found: str = ""):
        super().__init__(message)
        self.found = found


class SchemaInvalid(CapError):
    """The document breaks the OASIS CAP 1.2 schema; `detail` lists each violation with its line."""

    code = "schema_invalid"


class MissingField(SchemaInvalid):
    code = "missing_field"

    def __init__(self, field: str, where: str, line: int | None = None):
        at = f" (line {line})" if line else ""
        super().__init__(f"Required CAP element <{field}> is missing in <{where}>{at}.")
        self.field, self.where, self.line = field, where, line


class InvalidReferences(CapError):
    code = "invalid_references"


class InvalidGeometry(CapError):
    code = "invalid_geometry"


class PolygonNotClosed(InvalidGeometry):
    code = "polygon_not_closed"


class InvalidBoundary(CapError):
    """An uploaded jurisdiction boundary that is not a usable GeoJSON Polygon or MultiPolygon."""

    code = "invalid_boundary"


class FeedError(CapError):
    """An index feed (Atom, RSS) that cannot be read."""

    code = "invalid_feed"
