"""CAP polygons and circles as shapely geometries in (lon, lat), WGS 84 degrees.

A CAP circle ("lat,lon radius_km") becomes a polygon whose vertices lie on the geodesic circle: each vertex is
the point `radius` away from the centre along one of `CIRCLE_SEGMENTS` bearings, by the spherical direct formula
(great-circle destination) on a sphere of the IUGG mean Earth radius. That is the proper way to buffer a point given
in degrees: `Point(lon, lat).buffer(r_degrees)` would draw a circle in degree space, which on the ground is an
ellipse squashed east-west by cos(latitude) (half as wide as it should be at 60°N).
Approximations, all small and documented here:
- the sphere instead of the WGS 84 ellipsoid: distances within about 0.5 %;
- the polygon has 64 sides and its vertices are pushed out by 1/cos(π/64) (0.12 %), so the polygon contains the
  whole circle: an "is this alert in our area?" test can only err towards yes, never miss an edge;
- circles are not split at the antimeridian or around a pole (their longitudes run past ±180 instead): CAP areas
  that straddle ±180° (Aleutians, Fiji) will not intersect a boundary drawn on the other side.

This module sits below model.py: it works on plain (lat, lon) pairs and anything with a circle's `lat`, `lon` and
`radius_km`, so model.Area can build its geometry from here without the two modules importing each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.validation import explain_validity, make_valid

from govsocial_app.services.cap.errors import InvalidGeometry, PolygonNotClosed



class CircleLike(Protocol):
    """What a circle needs for its polygon (model.Circle has it): centre in WGS 84 degrees, radius in kilometres."""

    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def radius_km(self) -> float: ...

__all__ = [
    "CIRCLE_SEGMENTS",
    "CircleLike",
    "EARTH_RADIUS_KM",
    "area_geometry",
    "circle_polygon",
    "parse_circle",
    "parse_polygon",
    "polygon_geometry",
]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius R1
CIRCLE_SEGMENTS = 64
MAX_POLYGON_POINTS = 10_000  # NWS polygons have tens of points; a million would only be an attack


def _pair(token: str, where: str) -> tuple[float, float]:
    parts = token.split(",")
    if len(parts) != 2:
        raise InvalidGeometry(f"{where}: {token!r} is not a \"lat,lon\" pair.")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidGeometry(f"{where}: {token!r} is not a pair of numbers.") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InvalidGeometry(f"{where}: {token!r} is not a finite coordinate.")
    if not -90.0 <= lat <= 90.0:
        raise InvalidGeometry(f"{where}: latitude {lat} is outside -90..90 (CAP writes \"lat,lon\").")
    if not -180.0 <= lon <= 180.0:
        raise InvalidGeometry(f"{where}: longitude {lon} is outside -180..180.")
    return lat, lon


def parse_polygon(text: str, where: str = "polygon") -> tuple[tuple[float, float], ...]:
    """The (lat, lon) pairs of a CAP polygon; CAP requires at least four, the first equal to the last."""
    tokens = text.split()
    if len(tokens) > MAX_POLYGON_POINTS:
        raise InvalidGeometry(f"{where}: {len(tokens)} points, more than the {MAX_POLYGON_POINTS} accepted.")
    points = tuple(_pair(token, where) for token in tokens)
    if len(points) < 4:
        raise InvalidGeometry(f"{where}: a CAP polygon needs at least 4 coordinate pairs, this one has {len(points)}.")
    if points[0] != points[-1]:
        raise PolygonNotClosed(
            f"{where}: the polygon does not close: it starts at {tokens[0]} and ends at {tokens[-1]} "
            "(CAP 1.2 requires the first and last pairs to be the same)."
        )
    return points


def parse_circle(text: str, where: str = "circle") -> tuple[float, float, float]:
    """A CAP circle string as checked (lat, lon, radius_km); parse.py makes the model's Circle of it."""
    parts = text.split()
    if len(parts) != 2:
        raise InvalidGeometry(f"{where}: {text.strip()!r} is not \"lat,lon radius\".")
    lat, lon = _pair(parts[0], where)
    try:
        radius = float(parts[1])
    except ValueError:
        raise InvalidGeometry(f"{where}: radius {parts[1]!r} is not a number.") from None
    if not math.isfinite(radius) or radius < 0:
        raise InvalidGeometry(f"{where}: radius {parts[1]!r} must be a non-negative number of kilometres.")
    if radius > math.pi * EARTH_RADIUS_KM / 2:
        raise InvalidGeometry(f"{where}: radius {radius} km is more than a quarter of the Earth's circumference.")
    return lat, lon, radius


def polygon_geometry(points: Iterable[tuple[float, float]]) -> Polygon | MultiPolygon:
    """A shapely polygon from CAP (lat, lon) pairs. A self-crossing ring (a bow tie) is repaired, not refused:
    senders draw them by hand, and the repaired shape covers the same ground."""
    polygon = Polygon([(lon, lat) for lat, lon in points])
    if polygon.is_valid:
        return polygon
    repaired = make_valid(polygon)
    areas = [g for g in getattr(repaired, "geoms", [repaired]) if isinstance(g, (Polygon, MultiPolygon)) and not g.is_empty]
    if not areas:
        raise InvalidGeometry(f"polygon encloses no area ({explain_validity(polygon)}).")
    return shapely.union_all(areas)


def circle_polygon(circle: CircleLike, segments: int = CIRCLE_SEGMENTS) -> Polygon | Point:
    """The circle as a polygon on the ground (see the module docstring); a zero radius is its centre point."""
    if circle.radius_km == 0:
        return Point(circle.lon, circle.lat)
    # Push vertices out so that the chords lie outside the true circle (circumscribed polygon).
    delta = (circle.radius_km / EARTH_RADIUS_KM) / math.cos(math.pi / segments)
    lat1, lon1 = math.radians(circle.lat), math.radians(circle.lon)
    ring = []
    for i in range(segments):
        bearing = 2 * math.pi * i / segments
        lat2 = math.asin(
            max(-1.0, min(1.0, math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(bearing)))
        )
        lon2 = lon1 + math.atan2(
            math.sin(bearing) * math.sin(delta) * math.cos(lat1), math.cos(delta) - math.sin(lat1) * math.sin(lat2)
        )
        ring.append((math.degrees(lon2), math.degrees(lat2)))
    return Polygon(ring)


def area_geometry(polygons: Iterable[Iterable[tuple[float, float]]], circles: Iterable[CircleLike]):
    """Union of an area's polygons and circles, or None when it has only geocodes."""
    parts = [polygon_geometry(points) for points in polygons]
    parts += [circle_polygon(circle) for circle in circles]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)
