"""The agency's jurisdiction (a GeoJSON boundary) and the decision for each received alert: raise it, or store it
only, always with the reasons. Pure functions: the caller passes the clock and what it knows of earlier alerts."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep
from shapely.validation import explain_validity

from govsocial_app.services.cap.errors import InvalidBoundary
from govsocial_app.services.cap.model import (
    CERTAINTY_ORDER,
    SEVERITY_ORDER,
    URGENCY_ORDER,
    Alert,
    Info,
    Reference,
)

__all__ = [
    "MAX_BOUNDARY_BYTES",
    "Decision",
    "Jurisdiction",
    "Reason",
    "Thresholds",
    "decide",
    "load_boundary",
]

MAX_BOUNDARY_BYTES = 20 * 1024 * 1024  # a detailed county outline is a few MB of GeoJSON
MAX_BOUNDARY_VERTICES = 500_000

# Every user-facing message is an English msgid with {named} parameters, for translate(msgid, lang, **params).
MESSAGES = {
    "outside_area": "The alert's area ({areas}) is outside the jurisdiction.",
    "no_area": "The alert gives no area, so it cannot be placed in the jurisdiction.",
    "below_severity": "Severity {value} is below the threshold ({threshold}).",
    "below_urgency": "Urgency {value} is below the threshold ({threshold}).",
    "below_certainty": "Certainty {value} is below the threshold ({threshold}).",
    "unknown_value": "{field} is Unknown, and Unknown values are set not to raise alerts.",
    "expired": "The alert expired at {expires}.",
    "not_actual": "Status {status} is not a real-world alert (only {statuses} are raised).",
    "not_a_warning": "Message type {msg_type} is a system reply, not a warning.",
    "not_public": "Scope {scope} is not public.",
    "no_info": "The message has no information block to post.",
    "in_area": "The alert's area overlaps the jurisdiction.",
    "geocode_match": "The alert names {geocode}, which is in the jurisdiction.",
    "meets_thresholds": "Severity, urgency and certainty meet the thresholds.",
    "updates_raised": "It updates an alert that was raised ({reference}); posts about it need a follow-up.",
    "cancels_raised": "It cancels an alert that was raised ({reference}); posts about it need a follow-up.",
    "cancels_unraised": "It cancels an alert that was stored without being raised ({reference}).",
    "references_unknown": "It refers to an earlier alert that was never received ({reference}).",
}

Action = Literal["raise", "store"]
Kind = Literal["new", "update", "cancel"]
EarlierState = Literal["raised", "stored"]


@dataclass(frozen=True)
class Reason:
    code: str  # a key of MESSAGES
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return MESSAGES[self.code]

    def english(self) -> str:
        return self.msgid.format(**self.params)


@dataclass(frozen=True)
class Decision:
    action: Action
    kind: Kind
    reasons: tuple[Reason, ...]  # why (for "store": every rule that failed; for "raise": what matched)
    info_indexes: tuple[int, ...] = ()  # the info blocks that qualified; drafts are built from these
    follow_up: tuple[Reference, ...] = ()  # earlier raised alerts whose published posts must be flagged

    @property
    def raised(self) -> bool:
        return self.action == "raise"

    def summary(self) -> str:
        return " ".join(reason.english() for reason in self.reasons)


@dataclass(frozen=True)
class Thresholds:
    """An alert is raised when at least one info block meets all three (or is Unknown and unknown_passes)."""

    min_severity: str = "Moderate"
    min_urgency: str = "Expected"
    min_certainty: str = "Likely"
    unknown_passes: bool = True  # an official alert with an Unknown value is shown rather than hidden
    statuses: tuple[str, ...] = ("Actual",)
    public_only: bool = True
    raise_without_area: bool = False  # a source that only ever sends area-less national alerts may turn this on

    def __post_init__(self) -> None:
        for value, order, name in (
            (self.min_severity, SEVERITY_ORDER, "severity"),
            (self.min_urgency, URGENCY_ORDER, "urgency"),
            (self.min_certainty, CERTAINTY_ORDER, "certainty"),
        ):
            if value not in order:
                raise ValueError(f"{name} threshold must be one of {', '.join(order)}; got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_severity": self.min_severity, "min_urgency": self.min_urgency, "min_certainty": self.min_certainty,
            "unknown_passes": self.unknown_passes, "statuses": list(self.statuses), "public_only": self.public_only,
            "raise_without_area": self.raise_without_area,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Thresholds:
        data = dict(data or {})
        if "statuses" in data:
            data["statuses"] = tuple(data["statuses"])
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class Jurisdiction:
    name: str
    geometry: BaseGeometry  # Polygon or MultiPolygon in (lon, lat), WGS 84
    geocodes: frozenset[tuple[str, str]] = frozenset()  # e.g. ("SAME", "006067"), ("UGC", "CAZ017")

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prepared", prep(self.geometry))

    def intersects(self, geometry: BaseGeometry) -> bool:
        return self._prepared.intersects(geometry)  # type: ignore[attr-defined]

    def to_geojson(self) -> dict[str, Any]:
        return shapely.geometry.mapping(self.geometry)  # type: ignore[attr-defined]


def _coords_ok(geometry: BaseGeometry) -> None:
    minx, miny, maxx, maxy = geometry.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InvalidBoundary("The boundary has coordinates that are not numbers.")
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidBoundary(
            "The boundary's coordinates are outside longitude -180..180 / latitude -90..90: GeoJSON must be WGS 84 "
            "in [longitude, latitude] order (a projected file, or latitude first, would look like this)."
        )


def _geometries(obj: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(obj, Mapping):
        raise InvalidBoundary("The boundary is not a GeoJSON object.")
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            raise InvalidBoundary("The FeatureCollection has no features.")
        for feature in features:
            yield from _geometries(feature)
    elif kind == "Feature":
        geometry = obj.get("geometry")
        if geometry is None:
            raise InvalidBoundary("A Feature in the boundary has no geometry.")
        yield from _geometries(geometry)
    elif kind == "GeometryCollection":
        for geometry in obj.get("geometries") or []:
            yield from _geometries(geometry)
    elif kind in ("Polygon", "MultiPolygon"):
        yield obj
    else:
        raise InvalidBoundary(f"The boundary must be a Polygon or MultiPolygon; found {kind!r}.")


def _rings_closed(geometry: Mapping[str, Any]) -> None:
    """GeoJSON (RFC 7946 §3.1.6) requires closed rings; shapely would close them silently, hiding a cut-off file."""
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry.get("type") == "Polygon" else (coords if isinstance(coords, list) else [])
    if not isinstance(polygons, list) or not polygons:
        raise InvalidBoundary(f"The {geometry.get('type')} has no coordinates.")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise InvalidBoundary(f"The {geometry.get('type')} has malformed coordinates.")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise InvalidBoundary("A polygon ring in the boundary has fewer than 4 positions.")
            if ring[0] != ring[-1]:
                raise InvalidBoundary(
                    f"A polygon ring in the boundary does not close: it starts at {ring[0]} and ends at {ring[-1]}."
                )


def load_boundary(data: str | bytes | Mapping[str, Any], *, name: str = "", geocodes: Iterable[tuple[str, str]] = ()) -> Jurisdiction:
    """A Jurisdiction from GeoJSON: a Polygon, MultiPolygon, or a Feature/FeatureCollection of them (unioned).
    Raises InvalidBoundary with a message an admin can act on; repairs nothing silently."""
    if isinstance(data, (bytes, str)):
        if len(data) > MAX_BOUNDARY_BYTES:
            raise InvalidBoundary(f"The boundary file is larger than {MAX_BOUNDARY_BYTES // (1024 * 1024)} MB.")
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise InvalidBoundary(f"The boundary is not valid JSON: {exc}") from None
    else:
        obj = data
    parts = []
    for geometry in _geometries(obj):
        _rings_closed(geometry)
        try:
            geom = shape(geometry)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.ShapelyError) as exc:
            raise InvalidBoundary(f"A {geometry.get('type')} in the boundary has malformed coordinates ({exc}).") from None
        if geom.is_empty:
            raise InvalidBoundary("A polygon in the boundary is empty.")
        if shapely.get_num_coordinates(geom) > MAX_BOUNDARY_VERTICES:
            raise InvalidBoundary(f"The boundary has more than {MAX_BOUNDARY_VERTICES} points; simplify it first.")
        _coords_ok(geom)
        for ring_owner in getattr(geom, "geoms", [geom]):
            ring = list(ring_owner.exterior.coords)
            if len(ring) < 4:
                raise InvalidBoundary("A polygon in the boundary has fewer than 4 positions.")
        if not geom.is_valid:
            raise InvalidBoundary(f"A polygon in the boundary is not valid: {explain_validity(geom)}.")
        if geom.area == 0:
            raise InvalidBoundary("A polygon in the boundary encloses no area.")
        parts.append(geom)
    if not parts:
        raise InvalidBoundary("The boundary has no polygon.")
    union = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    if not isinstance(union, (Polygon, MultiPolygon)):
        raise InvalidBoundary("The boundary's polygons do not form an area.")
    if not name and isinstance(obj, Mapping):
        props = obj.get("properties") or (obj.get("features") or [{}])[0].get("properties") or {}
        name = str(props.get("name") or "") if isinstance(props, Mapping) else ""
    return Jurisdiction(name=name or "Jurisdiction", geometry=union, geocodes=frozenset((str(k), str(v)) for k, v in geocodes))


# ---------------------------------------------------------------- the decision


def _rank(value: str, order: tuple[str, ...]) -> int | None:
    return order.index(value) if value in order else None


def _threshold_reasons(info: Info, t: Thresholds) -> list[Reason]:
    reasons = []
    for field_name, value, threshold, order, code in (
        ("Severity", info.severity, t.min_severity, SEVERITY_ORDER, "below_severity"),
        ("Urgency", info.urgency, t.min_urgency, URGENCY_ORDER, "below_urgency"),
        ("Certainty", info.certainty, t.min_certainty, CERTAINTY_ORDER, "below_certainty"),
    ):
        rank = _rank(value, order)
        if rank is None:
            if not t.unknown_passes:
                reasons.append(Reason("unknown_value", {"field": field_name}))
        elif rank > order.index(threshold):
            reasons.append(Reason(code, {"value": value, "threshold": threshold}))
    return reasons


def _area_reasons(info: Info, jurisdiction: Jurisdiction | None, t: Thresholds) -> tuple[list[Reason], list[Reason]]:
    """(failures, matches) for the info's areas."""
    if jurisdiction is None:
        return [], []
    if not info.areas:
        return ([] if t.raise_without_area else [Reason("no_area")]), []
    for area in info.areas:
        for pair in area.geocodes:
            if (pair.name, pair.value) in jurisdiction.geocodes:
                return [], [Reason("geocode_match", {"geocode": f"{pair.name} {pair.value}"})]
    has_shape = False
    for area in info.areas:
        geometry = area.geometry
        if geometry is None:
            continue
        has_shape = True
        if jurisdiction.intersects(geometry):
            return [], [Reason("in_area")]
    if not has_shape and not any(area.geocodes for area in info.areas):
        # An area described only in words ("U.S. nationwide") cannot be placed.
        return ([] if t.raise_without_area else [Reason("no_area")]), []
    names = "; ".join(a.description for a in info.areas)[:200]
    return [Reason("outside_area", {"areas": names})], []


def _expired(info: Info, now: datetime) -> bool:
    return info.expires is not None and info.expires <= now


def decide(
    alert: Alert,
    jurisdiction: Jurisdiction | None,
    thresholds: Thresholds = Thresholds(),
    *,
    now: datetime,
    earlier: Callable[[Reference], EarlierState | None] | Mapping[tuple[str, str], EarlierState] = lambda ref: None,
) -> Decision:
    """Raise or store-only, with reasons. `earlier` says what became of a referenced message: "raised", "stored" or
    None when it was never received (a mapping keyed by Reference.key works too). With no jurisdiction configured,
    every qualifying alert is raised (area is not checked)."""
    lookup = (lambda ref: earlier.get(ref.key)) if isinstance(earlier, Mapping) else earlier
    kind: Kind = {"Update": "update", "Cancel": "cancel"}.get(alert.msg_type, "new")  # type: ignore[assignment]

    gate: list[Reason] = []
    if alert.status not in thresholds.statuses:
        gate.append(Reason("not_actual", {"status": alert.status, "statuses": ", ".join(thresholds.statuses)}))
    if alert.msg_type in ("Ack", "Error"):
        gate.append(Reason("not_a_warning", {"msg_type": alert.msg_type}))
    if thresholds.public_only and alert.scope != "Public":
        gate.append(Reason("not_public", {"scope": alert.scope}))
    if gate:
        return Decision("store", kind, tuple(gate))

    # An Update or Cancel of something we raised must reach the people who posted about it, wherever it now points.
    follow_up, ref_reasons = [], []
    for ref in alert.references:
        state = lookup(ref)
        if state == "raised":
            follow_up.append(ref)
            code = "cancels_raised" if kind == "cancel" else "updates_raised"
            ref_reasons.append(Reason(code, {"reference": str(ref)}))
        elif kind == "cancel":
            code = "cancels_unraised" if state == "stored" else "references_unknown"
            ref_reasons.append(Reason(code, {"reference": str(ref)}))
    if kind in ("update", "cancel") and follow_up:
        indexes = tuple(range(len(alert.infos)))
        return Decision("raise", kind, tuple(r for r in ref_reasons if r.code in ("updates_raised", "cancels_raised")), indexes, tuple(follow_up))
    if kind == "cancel":
        return Decision("store", kind, tuple(ref_reasons) or (Reason("references_unknown", {"reference": "-"}),))

    if not alert.infos:
        return Decision("store", kind, (Reason("no_info"),))

    failures: list[Reason] = []
    qualifying: list[int] = []
    matches: list[Reason] = []
    all_expired = all(_expired(info, now) for info in alert.infos)
    for index, info in enumerate(alert.infos):
        if _expired(info, now):
            continue
        info_fail = _threshold_reasons(info, thresholds)
        area_fail, area_match = _area_reasons(info, jurisdiction, thresholds)
        if not info_fail and not area_fail:
            qualifying.append(index)
            matches.extend(area_match)
        failures.extend(info_fail + area_fail)
    if all_expired:
        latest = max(info.expires for info in alert.infos if info.expires is not None)
        return Decision("store", kind, (Reason("expired", {"expires": latest.isoformat()}),))
    if not qualifying:
        return Decision("store", kind, tuple(_dedupe(failures)))
    reasons = _dedupe(matches) + [Reason("meets_thresholds")]
    return Decision("raise", kind, tuple(reasons), tuple(qualifying))


_ONCE = {"outside_area", "no_area"}  # the same place in another language is the same reason


def _dedupe(reasons: list[Reason]) -> list[Reason]:
    seen, out = set(), []
    for reason in reasons:
        key = (reason.code,) if reason.code in _ONCE else (reason.code, tuple(sorted(reason.params.items())))
        if key not in seen:
            seen.add(key)
            out.append(reason)
    return out
