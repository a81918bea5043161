"""Builders of small, exactly known networks for tests.

The synthetic world sits at 29°N, 106°E (the latitude of 綦江), where one degree of latitude is
~110.8 km and one degree of longitude ~97.4 km (111.32 km × cos 29°): metres are converted with
`metres_east` / `metres_north` so that tests can state distances on the ground.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.contrib.gis.geos import LineString, MultiLineString, MultiPolygon, Point, Polygon

from rivers.crossing import network_recompute_all
from rivers.models import District, Reach, River, WaterBody
from rivers.network import agencies_derive

ORIGIN_LON, ORIGIN_LAT = 106.0, 29.0
M_PER_DEG_LAT = 110_800.0  # at 29°N (WGS84 meridian arc), good to ~0.1 %
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(ORIGIN_LAT))


def metres_east(m: float) -> float:
    return m / M_PER_DEG_LON


def metres_north(m: float) -> float:
    return m / M_PER_DEG_LAT


def at(east_m: float, north_m: float) -> tuple[float, float]:
    """Return the lon/lat `east_m` east and `north_m` north of the origin (106°E, 29°N)."""
    return ORIGIN_LON + metres_east(east_m), ORIGIN_LAT + metres_north(north_m)


def point(east_m: float, north_m: float) -> Point:
    return Point(*at(east_m, north_m), srid=4326)


def box(west_m: float, south_m: float, east_m: float, north_m: float) -> MultiPolygon:
    """A rectangle given by its edges in metres from the origin."""
    (x0, y0), (x1, y1) = at(west_m, south_m), at(east_m, north_m)
    return MultiPolygon(Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))), srid=4326)


def line(*points_m: Sequence[float]) -> MultiLineString:
    """A line through points given in metres from the origin."""
    return MultiLineString(LineString([at(*p) for p in points_m]), srid=4326)


def district(code: str, name: str, geom: MultiPolygon, level: str = "district", parent: District | None = None):
    return District.objects.create(code=code, name=name, level=level, parent=parent, geom=geom)


def reach(code: str, geom: MultiLineString, *, level: str = "town", river: str = "测试河") -> Reach:
    river_obj, _ = River.objects.get_or_create(code=river, defaults={"name": river})
    return Reach.objects.create(code=code, name=f"{river}{code}", river=river_obj, level=level, geom=geom)


def water_body(code: str, geom: MultiPolygon, kind: str = "reservoir") -> WaterBody:
    return WaterBody.objects.create(code=code, name=f"水库{code}", kind=kind, geom=geom)


def two_district_world() -> dict[str, District]:
    """A city 990000 (20 km × 20 km from the origin) split at 10 km east into two districts.

    West: 990001 甲区 (0–10 km east), east: 990002 乙区 (10–20 km east), both 0–10 km north;
    the city's northern half (10–20 km north) lies in no district. Agencies are derived for all.
    """
    city = district("990000", "测试市", box(0, 0, 20_000, 20_000), level="city")
    west = district("990001", "甲区", box(0, 0, 10_000, 10_000), parent=city)
    east = district("990002", "乙区", box(10_000, 0, 20_000, 10_000), parent=city)
    agencies_derive([city, west, east])
    return {"city": city, "west": west, "east": east}


def recompute() -> None:
    network_recompute_all()
