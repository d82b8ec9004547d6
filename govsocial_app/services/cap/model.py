"""Plain dataclasses for a received CAP 1.2 alert: alert, info blocks, resources, areas and references."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

__all__ = [
    "CERTAINTY_ORDER",
    "SEVERITY_ORDER",
    "URGENCY_ORDER",
    "Alert",
    "Area",
    "Circle",
    "Info",
    "Reference",
    "Resource",
    "ValuePair",
]

# From most to least pressing; "Unknown" sits outside every order (see jurisdiction.Thresholds).
SEVERITY_ORDER = ("Extreme", "Severe", "Moderate", "Minor")
URGENCY_ORDER = ("Immediate", "Expected", "Future", "Past")
CERTAINTY_ORDER = ("Observed", "Likely", "Possible", "Unlikely")


@dataclass(frozen=True, slots=True)
class ValuePair:
    """A <valueName>/<value> pair: eventCode, parameter and geocode all use this shape."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Reference:
    """One "sender,identifier,sent" triple from <references>: an earlier message this one updates or cancels."""

    sender: str
    identifier: str
    sent: datetime

    @property
    def key(self) -> tuple[str, str]:
        """CAP identifiers are unique per sender, so (sender, identifier) names a message."""
        return (self.sender, self.identifier)

    def __str__(self) -> str:
        from govsocial_app.services.cap.dates import format_cap_datetime

        return f"{self.sender},{self.identifier},{format_cap_datetime(self.sent)}"


@dataclass(frozen=True, slots=True)
class Circle:
    """A CAP circle: centre in WGS 84 degrees and radius in kilometres."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class Area:
    description: str
    # Each polygon is its closed ring of (lat, lon) pairs exactly as CAP orders them.
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[ValuePair, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None

    @cached_property
    def geometry(self) -> Any:
        """The polygons and circles as one shapely geometry in (lon, lat), or None for a geocode-only area."""
        from govsocial_app.services.cap.geometry import area_geometry

        return area_geometry(self.polygons, self.circles)


@dataclass(frozen=True, slots=True)
class Resource:
    description: str
    mime_type: str
    size: int | None = None
    uri: str = ""
    deref_uri: str = field(default="", repr=False)  # base64 content; can be megabytes
    digest: str = ""


@dataclass(frozen=True)
class Info:
    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    response_types: tuple[str, ...] = ()
    audience: str = ""
    event_codes: tuple[ValuePair, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    contact: str = ""
    parameters: tuple[ValuePair, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()

    def parameter(self, name: str) -> str | None:
        for pair in self.parameters:
            if pair.name == name:
                return pair.value
        return None

    @property
    def base_language(self) -> str:
        """"en" for "en-US", "ar" for "ar-SA": what the composer and readability checks key on."""
        return self.language.split("-", 1)[0].lower()


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime
    status: str  # Actual, Exercise, System, Test, Draft
    msg_type: str  # Alert, Update, Cancel, Ack, Error
    scope: str  # Public, Restricted, Private
    source: str = ""
    restriction: str = ""
    addresses: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    note: str = ""
    references: tuple[Reference, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[Info, ...] = ()
    signed: bool = False  # carries an XML Signature (not verified here)
    warnings: tuple[str, ...] = ()  # what the parser repaired or ignored, for the source's log

    @property
    def key(self) -> tuple[str, str]:
        return (self.sender, self.identifier)

    @property
    def reference(self) -> Reference:
        """How a later Update or Cancel refers to this message."""
        return Reference(self.sender, self.identifier, self.sent)

    @property
    def expires(self) -> datetime | None:
        """The latest expiry among the info blocks (None when any block has none: it does not lapse by itself)."""
        values = [info.expires for info in self.infos]
        if not values or any(v is None for v in values):
            return None
        return max(values)  # type: ignore[type-var]

    def languages(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for info in self.infos:
            seen.setdefault(info.language, None)
        return tuple(seen)
