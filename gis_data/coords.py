"""Coordinate handling GDAL does not cover: GCJ-02, the obfuscated datum of Chinese web maps.

Pure helpers: no models are imported here. CGCS2000 (EPSG:4490) and projected CRSs such as EPSG:4545
(CGCS2000 / 3-degree Gauss-Kruger CM 108E) are real coordinate systems and go through GDAL
(`GEOSGeometry.transform`, which Django sets to lon/lat order for geographic CRSs). GCJ-02 has no
EPSG code: it is WGS84 shifted by a published, non-invertible formula, so it is converted here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection

import numpy as np
import shapely
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point

from .geometry import WGS84, GeometryProblem
from .readers import srid_from_crs_name, to_wgs84

# What `--srid gcj02` names: lon/lat in GCJ-02, as copied from Amap, Tencent or Google China maps.
GCJ02 = "gcj02"
Srid = int | str  # an EPSG code, or GCJ02

# Krasovsky 1940 semi-major axis and first eccentricity squared, as the GCJ-02 formula uses them.
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323

# The box every common implementation treats as China; outside it GCJ-02 equals WGS84.
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)

# Inverse iterations stop once a step is below this (1e-10° is about 0.01 mm on the ground).
INVERSE_STEP_DEG = 1e-10
INVERSE_MAX_STEPS = 30

# A coordinate beyond this (metres or degrees) lies outside every CRS on Earth; PROJ is not asked.
PROJECTED_LIMIT = 1e8
# A point inside its CRS's domain transforms back to itself, to well within this (metres or degrees).
ROUND_TRIP_TOLERANCE = 1e-3

EPSG_CODE = re.compile(r"^(?:EPSG:{1,2})?(\d+)$", re.IGNORECASE)


def srid_parse(value: str | int) -> Srid:
    """Return the EPSG code in "4490", "EPSG:4490" or 4490, or GCJ02 for "gcj02"/"gcj-02"."""
    text = str(value).strip()
    if text.lower().replace("-", "") == GCJ02:
        return GCJ02
    match = EPSG_CODE.match(text)
    if not match:
        raise ValueError(f"无法识别的坐标系 / unrecognised SRID {value!r}: use an EPSG code such as 4490, or gcj02")
    return int(match.group(1))


def in_china(lon, lat):
    """Return whether lon/lat (scalars or arrays) lie in the box where GCJ-02 differs from WGS84."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon > CHINA_LON[0]) & (lon < CHINA_LON[1]) & (lat > CHINA_LAT[0]) & (lat < CHINA_LAT[1])


def _gcj02_offset(lon, lat):
    """Return the GCJ-02 shift (dlon, dlat) in degrees at WGS84 lon/lat (arrays), zero outside China."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02_array(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return GCJ-02 lon/lat arrays for WGS84 lon/lat arrays (the standard forward formula)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84_array(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Return WGS84 lon/lat arrays for GCJ-02 ones, inverting the forward formula by fixed-point iteration.

    The shift changes by well under 1 % of itself per degree, so each step divides the error by
    more than a hundred: three or four steps reach the 1e-10° stop, far below the 0.5 m asked for.
    """
    gcj_lon, gcj_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wgs_lon, wgs_lat = gcj_lon.copy(), gcj_lat.copy()
    for _ in range(INVERSE_MAX_STEPS):
        fwd_lon, fwd_lat = wgs84_to_gcj02_array(wgs_lon, wgs_lat)
        step_lon, step_lat = fwd_lon - gcj_lon, fwd_lat - gcj_lat
        wgs_lon, wgs_lat = wgs_lon - step_lon, wgs_lat - step_lat
        if max(np.max(np.abs(step_lon), initial=0.0), np.max(np.abs(step_lat), initial=0.0)) < INVERSE_STEP_DEG:
            break
    # Outside the box the shift is zero by definition: return the input untouched, bit for bit.
    outside = ~in_china(gcj_lon, gcj_lat)
    return np.where(outside, gcj_lon, wgs_lon), np.where(outside, gcj_lat, wgs_lat)


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Return the GCJ-02 lon/lat of a WGS84 lon/lat."""
    gcj_lon, gcj_lat = wgs84_to_gcj02_array(lon, lat)
    return float(gcj_lon), float(gcj_lat)


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """Return the WGS84 lon/lat of a GCJ-02 lon/lat (within 1 mm of the exact inverse)."""
    wgs_lon, wgs_lat = gcj02_to_wgs84_array(lon, lat)
    return float(wgs_lon), float(wgs_lat)


def _geometry_map(geom: GEOSGeometry, convert) -> GEOSGeometry:
    def on_coords(xy: np.ndarray) -> np.ndarray:
        lon, lat = convert(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    mapped = shapely.transform(shapely.from_wkb(bytes(geom.wkb)), on_coords)
    return GEOSGeometry(memoryview(shapely.to_wkb(mapped)), srid=WGS84)


def geometry_gcj02_to_wgs84(geom: GEOSGeometry) -> GEOSGeometry:
    """Return a copy of `geom` (lon/lat in GCJ-02) in WGS84, SRID 4326; Z values are dropped."""
    return _geometry_map(geom, gcj02_to_wgs84_array)


def geometry_wgs84_to_gcj02(geom: GEOSGeometry) -> GEOSGeometry:
    """Return a copy of `geom` (WGS84 lon/lat) in GCJ-02 (SRID left at 4326: GCJ-02 has no code)."""
    return _geometry_map(geom, wgs84_to_gcj02_array)


def geojson_crs_srid(crs: object, supported: Collection[int]) -> int:
    """Return the EPSG code a GeoJSON `crs` member names, if it is one of `supported`; absent or null is WGS84.

    The member is the named form of GeoJSON 2008 (`{"type": "name", "properties": {"name": "EPSG:3857"}}`,
    URNs such as "urn:ogc:def:crs:EPSG::4545" and CRS84 included), as the bundle loader reads it.
    Anything else raises ValueError with a message naming the crs.
    """
    if crs is None:
        return WGS84
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(crs, dict) or not isinstance(crs.get("properties"), dict) or not isinstance(name, str):
        raise ValueError(
            'crs 须为 {"type": "name", "properties": {"name": "EPSG:代码"}} / '
            'crs must be {"type": "name", "properties": {"name": "EPSG:<code>"}}'
        )
    srid = srid_from_crs_name(name)  # ReadError, a ValueError, names what it cannot read
    if srid not in supported:
        codes = ", ".join(f"EPSG:{code}" for code in supported)
        raise ValueError(f"不支持的坐标系 {name!r}，可用：{codes} / unsupported crs {name!r}: use one of {codes}")
    return srid


def point_to_wgs84(x: float, y: float, srid: int) -> tuple[float, float]:
    """Return the WGS84 lon/lat of a point given in EPSG `srid` (x, y in that CRS's GIS order: east, north).

    A point outside the CRS's domain raises GeometryProblem (a ValueError): PROJ would wrap it round
    the globe (x = 10^8 in EPSG:3857 came out as 178°E), so the result must transform back to it.
    """
    if srid == WGS84:
        return x, y
    if not (abs(x) <= PROJECTED_LIMIT and abs(y) <= PROJECTED_LIMIT):  # PROJ spins for minutes on 1e20
        raise GeometryProblem(f"坐标超出 EPSG:{srid} 的范围 / coordinates outside EPSG:{srid}")
    lonlat = to_wgs84(Point(x, y), srid)
    back = GEOSGeometry(lonlat.wkb, srid=WGS84)
    try:
        back.transform(srid)
    except (GDALException, GEOSException) as exc:
        raise GeometryProblem(f"坐标超出 EPSG:{srid} 的范围 / coordinates outside EPSG:{srid}") from exc
    if not math.isclose(back.x, x, abs_tol=ROUND_TRIP_TOLERANCE) or not math.isclose(
        back.y, y, abs_tol=ROUND_TRIP_TOLERANCE
    ):
        raise GeometryProblem(f"坐标超出 EPSG:{srid} 的范围 / coordinates outside EPSG:{srid}")
    return lonlat.x, lonlat.y
