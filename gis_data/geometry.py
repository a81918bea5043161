"""Geometry checks shared by every loader: type, validity (repaired when possible), range, multi form.

Pure helpers: no models are imported here.
"""

from __future__ import annotations

from django.contrib.gis.geos import (
    GeometryCollection,
    GEOSGeometry,
    LineString,
    MultiLineString,
    MultiPolygon,
    Polygon,
    WKBWriter,
)

WGS84 = 4326


class GeometryProblem(ValueError):
    """A geometry that cannot be used, with the reason in words a GIS administrator understands."""


# What each kind of layer accepts, and the multi type it is stored as.
KINDS = {
    "polygon": ((Polygon, MultiPolygon), MultiPolygon, "Polygon/MultiPolygon"),
    "line": ((LineString, MultiLineString), MultiLineString, "LineString/MultiLineString"),
}


def flatten(geom: GEOSGeometry) -> GEOSGeometry:
    """Return `geom` without Z (or M) coordinates."""
    writer = WKBWriter()
    writer.outdim = 2
    return GEOSGeometry(writer.write(geom), srid=geom.srid)


def _parts(geom: GEOSGeometry, part_type: type) -> list[GEOSGeometry]:
    if isinstance(geom, part_type):
        return [geom]
    if isinstance(geom, GeometryCollection):  # Multi* types are collections too
        return [p for member in geom for p in _parts(member, part_type)]
    return []


def to_storable(geom: GEOSGeometry, kind: str) -> GEOSGeometry:
    """Return `geom` (already in lon/lat) as a valid Multi* geometry of `kind`, or raise GeometryProblem.

    An invalid polygon is repaired with ST_MakeValid's algorithm (a self-touching ring becomes two
    polygons); what cannot be repaired into an area (a ring collapsed to a line) is refused.
    """
    accepted, multi_type, label = KINDS[kind]
    if geom.hasz:  # heights from GPS or KML: the layers are 2D
        geom = flatten(geom)
    if not isinstance(geom, accepted):
        raise GeometryProblem(
            f"几何类型为 {geom.geom_type}，应为 {label} / geometry is {geom.geom_type}, expected {label}"
        )
    if geom.empty:
        raise GeometryProblem("几何为空 / empty geometry")
    min_x, min_y, max_x, max_y = geom.extent
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        raise GeometryProblem(f"坐标超出经纬度范围 / coordinates out of lon/lat range: extent {geom.extent}")
    part_type = accepted[0]
    if not geom.valid:
        reason = geom.valid_reason
        repaired = [p for p in _parts(geom.make_valid(), part_type) if not p.empty]
        if not repaired:
            raise GeometryProblem(f"几何无效且无法修复 / invalid geometry that cannot be repaired: {reason}")
        geom = multi_type(*repaired, srid=geom.srid)
        if not geom.valid:  # repaired parts may overlap each other; merge them
            geom = geom.unary_union
            geom = multi_type(*_parts(geom, part_type), srid=geom.srid)
    if not isinstance(geom, multi_type):
        geom = multi_type(*_parts(geom, part_type), srid=geom.srid)
    if not geom.valid:
        raise GeometryProblem(f"几何无效且无法修复 / invalid geometry that cannot be repaired: {geom.valid_reason}")
    return geom
