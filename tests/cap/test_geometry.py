"""CAP circles as geodesic polygons (not degree-space buffers) and polygon repair."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import Point

from govsocial_app.services.cap.errors import InvalidGeometry
from govsocial_app.services.cap.geometry import EARTH_RADIUS_KM, circle_polygon, polygon_geometry
from govsocial_app.services.cap.model import Circle


def _haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@pytest.mark.parametrize("lat", [0.0, 38.5, 60.0, -75.0])
def test_circle_vertices_lie_just_outside_the_true_circle(lat):
    circle = Circle(lat, 10.0, 25.0)
    polygon = circle_polygon(circle)
    distances = [_haversine_km(lat, 10.0, y, x) for x, y in polygon.exterior.coords]
    # every vertex is 25 km / cos(pi/64) away: the polygon circumscribes the circle
    assert all(25.0 <= d <= 25.0 / math.cos(math.pi / 64) + 1e-6 for d in distances), (min(distances), max(distances))


def test_circle_is_as_wide_as_it_is_tall_on_the_ground_at_60_degrees():
    polygon = circle_polygon(Circle(60.0, 10.0, 50.0))
    minx, miny, maxx, maxy = polygon.bounds
    east_west = _haversine_km(60.0, minx, 60.0, maxx)
    north_south = _haversine_km(miny, 10.0, maxy, 10.0)
    assert abs(east_west - north_south) / north_south < 0.01
    # a naive buffer in degrees would be half as wide on the ground at 60°N
    naive = Point(10.0, 60.0).buffer(50.0 / 111.2)
    nminx, _, nmaxx, _ = naive.bounds
    assert _haversine_km(60.0, nminx, 60.0, nmaxx) < 0.6 * east_west


def test_zero_radius_is_a_point():
    assert circle_polygon(Circle(32.9, -115.5, 0.0)).equals(Point(-115.5, 32.9))


def test_a_bow_tie_polygon_is_repaired_not_refused():
    bow_tie = ((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0))
    geometry = polygon_geometry(bow_tie)
    assert geometry.is_valid and geometry.area > 0
    assert geometry.contains(Point(0.5, 0.1)) is False or geometry.area == pytest.approx(0.5)


def test_a_degenerate_polygon_is_refused():
    with pytest.raises(InvalidGeometry):
        polygon_geometry(((0.0, 0.0), (0.0, 1.0), (0.0, 2.0), (0.0, 0.0)))
