"""Reading features from files into GEOS geometries in lon/lat (EPSG:4326).

Pure helpers: no models are imported here. GeoJSON is parsed directly so that every problem can be
named by the feature's index; other formats go through GDAL/OGR (see read_ogr).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry

from .geometry import WGS84, GeometryProblem

EPSG_NAME = re.compile(r"EPSG:{1,2}(\d+)$", re.IGNORECASE)


class ReadError(ValueError):
    """A file that cannot be read at all (missing, not JSON, not a FeatureCollection)."""


@dataclass
class RawFeature:
    index: int
    properties: dict[str, Any]
    geometry: GEOSGeometry | None  # in EPSG:4326; None with `problem` set when unusable
    problem: str = ""
    # A GeoJSON geometry not parsed yet (read_geojson_lazy): its text and the SRID of its file. The
    # bulk loader parses it in the database; geometry_parse parses it here when a message is needed.
    source: str = ""
    srid: int = WGS84

    @property
    def code(self) -> str:
        return str(self.properties.get("code") or "").strip()


def srid_from_crs_name(name: str) -> int:
    """Return the EPSG code of a GeoJSON `crs` name ("EPSG:4490", "urn:ogc:def:crs:EPSG::4545", CRS84)."""
    if name.upper().endswith("CRS84"):
        return WGS84
    match = EPSG_NAME.search(name.strip())
    if not match:
        raise ReadError(f"无法识别的坐标系 / unrecognised crs {name!r}: use an EPSG code such as EPSG:4490")
    return int(match.group(1))


def geojson_srid(document: dict[str, Any]) -> int:
    """Return the SRID a GeoJSON document declares; without a `crs` member it is WGS84 lon/lat."""
    crs = document.get("crs")
    if not crs:
        return WGS84
    try:
        return srid_from_crs_name(crs["properties"]["name"])
    except (KeyError, TypeError) as exc:
        raise ReadError(f"crs 成员格式错误 / malformed crs member: {crs!r}") from exc


def to_wgs84(geom: GEOSGeometry, srid: int) -> GEOSGeometry:
    """Return `geom`, given in `srid`, in EPSG:4326 (lon/lat order whatever the CRS's axis order)."""
    geom.srid = srid
    if srid != WGS84:
        try:
            geom.transform(WGS84)
        except (GDALException, GEOSException) as exc:
            raise GeometryProblem(f"无法从 EPSG:{srid} 转换 / cannot transform from EPSG:{srid}: {exc}") from exc
    return geom


def _geojson_features(path: Path) -> tuple[list[Any], int]:
    """Return the raw features of a GeoJSON FeatureCollection file and the SRID it declares."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReadError("文件不存在 / file not found") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"不是有效的 UTF-8 GeoJSON / not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ReadError("不是 GeoJSON FeatureCollection / not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ReadError("缺少 features 数组 / missing features array")
    return features, geojson_srid(document)


# WKB type codes of the geometries a loader stores, by GeoJSON type: (code, depth of the coordinates
# below the parts: 1 a list of positions, 2 a list of rings).
_WKB_TYPES = {"LineString": (2, 1), "Polygon": (3, 2), "MultiLineString": (5, 1), "MultiPolygon": (6, 2)}
_WKB_FEWEST = {1: 2, 2: 4}  # positions a line, a ring needs


def _wkb_positions(positions: list, fewest: int) -> bytes:
    """Return a WKB point list (count, then x y pairs); raise ValueError when not plain 2D positions."""
    if len(positions) < fewest or any(len(p) != 2 for p in positions):
        raise ValueError
    flat = list(chain.from_iterable(positions))
    if bool in map(type, flat) or not math.isfinite(sum(flat)):  # a JSON true is an int in Python
        raise ValueError
    return struct.pack(f"<I{len(flat)}d", len(positions), *flat)


def _wkb_part(code: int, coordinates: list, depth: int) -> bytes:
    if not coordinates:
        raise ValueError
    if depth == 1:
        return struct.pack("<BI", 1, code) + _wkb_positions(coordinates, _WKB_FEWEST[1])
    rings = b"".join(_wkb_positions(ring, _WKB_FEWEST[2]) for ring in coordinates)
    return struct.pack("<BII", 1, code, len(coordinates)) + rings


def geojson_wkb(geometry: Any) -> str:
    """Return a GeoJSON line or polygon geometry as hex WKB, or "" when it is anything else.

    The plain case only: 2D positions of finite numbers, enough of them for each line and ring. Those
    read the same from WKB as from GeoJSON, and their doubles go over unformatted (formatting them as
    text again cost as much as reading the file); anything else stays GeoJSON, read as it always was.
    """
    try:
        code, depth = _WKB_TYPES[geometry["type"]]
        coordinates = geometry["coordinates"]
        if not coordinates:
            return ""
        if code in (2, 3):
            return _wkb_part(code, coordinates, depth).hex()
        parts = b"".join(_wkb_part(code - 3, part, depth) for part in coordinates)
        return (struct.pack("<BII", 1, code, len(coordinates)) + parts).hex()
    except (KeyError, TypeError, ValueError, OverflowError, struct.error):
        return ""


def _lazy_feature(index: int, feature: Any, srid: int) -> RawFeature:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return RawFeature(index, {}, None, "不是 GeoJSON Feature / not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        return RawFeature(index, {}, None, "properties 不是对象 / properties is not an object")
    geometry = feature.get("geometry")
    if not geometry:
        return RawFeature(index, properties, None, "缺少几何 / missing geometry")
    return RawFeature(index, properties, None, source=geojson_wkb(geometry) or json.dumps(geometry), srid=srid)


def geometry_parse(raw: RawFeature) -> RawFeature:
    """Return `raw` with its GeoJSON source parsed into a GEOS geometry in 4326 (or its problem set)."""
    if not raw.source or raw.problem:
        return raw
    try:
        geom = to_wgs84(GEOSGeometry(raw.source), raw.srid)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        return RawFeature(raw.index, raw.properties, None, f"几何格式错误 / malformed geometry: {exc}")
    return RawFeature(raw.index, raw.properties, geom)


def read_geojson_lazy(path: Path) -> list[RawFeature]:
    """Return the features of a GeoJSON FeatureCollection, each geometry kept as GeoJSON text.

    The same features and problems as read_geojson, but without parsing the geometries here: the bulk
    loader parses them in the database (ST_GeomFromGeoJSON), which is many times faster.
    """
    features, srid = _geojson_features(path)
    return [_lazy_feature(index, feature, srid) for index, feature in enumerate(features)]


def read_geojson(path: Path) -> Iterator[RawFeature]:
    """Yield the features of a GeoJSON FeatureCollection, geometries transformed to 4326."""
    features, srid = _geojson_features(path)
    for index, feature in enumerate(features):
        yield geometry_parse(_lazy_feature(index, feature, srid))
