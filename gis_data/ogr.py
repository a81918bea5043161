"""Reading features from any vector format GDAL/OGR knows (Shapefile, GeoPackage, KML, GeoJSON, GPX).

Pure helpers: no models are imported here. Geometries come out as GEOS in lon/lat (EPSG:4326),
2D, in the same RawFeature records the GeoJSON reader yields, so loaders treat every format alike.
"""

from __future__ import annotations

import codecs
import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from ctypes import c_char_p
from pathlib import Path
from typing import Any

from django.contrib.gis.gdal import (
    CoordTransform,
    DataSource,
    GDALException,
    OGRGeometry,
    SpatialReference,
)
from django.contrib.gis.gdal.error import SRSException
from django.contrib.gis.gdal.layer import Layer
from django.contrib.gis.gdal.libgdal import lgdal
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.encoding import DjangoUnicodeDecodeError

from .coords import GCJ02, Srid, geometry_gcj02_to_wgs84
from .geometry import WGS84
from .readers import RawFeature, ReadError

_set_thread_option = lgdal.CPLSetThreadLocalConfigOption
_set_thread_option.argtypes = [c_char_p, c_char_p]
_set_thread_option.restype = None
_get_thread_option = lgdal.CPLGetThreadLocalConfigOption
_get_thread_option.argtypes = [c_char_p, c_char_p]
_get_thread_option.restype = c_char_p


@contextmanager
def _shape_encoding(encoding: str | None):
    """Make GDAL's Shapefile driver read DBF strings as `encoding` (and hand them over as UTF-8).

    The driver recodes to UTF-8 when it knows the encoding (.cpg file or the DBF's code page byte);
    SHAPE_ENCODING overrides both. It is set for this thread only and kept for the whole read,
    because a folder of shapefiles opens its layers lazily, after the DataSource is created.
    """
    if not encoding:
        yield
        return
    previous = _get_thread_option(b"SHAPE_ENCODING", None)
    _set_thread_option(b"SHAPE_ENCODING", encoding.encode("ascii"))
    try:
        yield
    finally:
        _set_thread_option(b"SHAPE_ENCODING", previous)


def _check_encoding(encoding: str | None) -> None:
    if not encoding:
        return
    try:
        codecs.lookup(encoding)
        encoding.encode("ascii")
    except (LookupError, UnicodeEncodeError) as exc:
        raise ReadError(f"未知的字符编码 / unknown encoding {encoding!r}: use e.g. gbk, gb18030, utf-8") from exc


def _choose_layer(source: DataSource, name: str | None) -> Layer:
    names = [layer.name for layer in source]
    if name is not None:
        if name not in names:
            raise ReadError(f"没有图层 / no layer {name!r}; the file has: {', '.join(names) or '∅'}")
        return source[name]
    if len(names) == 1:
        return source[0]
    # A GPX file always has five layers (waypoints, routes, tracks, ...); often only one holds data.
    filled = [layer for layer in source if layer.num_feat]
    if len(filled) == 1:
        return filled[0]
    raise ReadError(f"文件有多个图层，请用 --layer 指定 / several layers, choose one with --layer: {', '.join(names)}")


def _source_srs(layer: Layer, srid: Srid | None) -> SpatialReference:
    if srid is not None:
        try:
            return SpatialReference(WGS84 if srid == GCJ02 else srid)
        except (GDALException, SRSException, TypeError) as exc:
            raise ReadError(f"未知的坐标系 / unknown SRID {srid!r}") from exc
    if layer.srs is None:
        raise ReadError("缺少坐标系（没有 .prj 文件）/ no coordinate system (no .prj file): give it, e.g. --srid 4490")
    return layer.srs


def _value(field) -> Any:
    """Return a field's value as Python, None when null (OGR returns 0 for a null integer)."""
    if not field.is_set:
        return None
    value = field.value
    return value.isoformat() if isinstance(value, datetime.date | datetime.time) else value


def _geometry(ogr_geom: OGRGeometry, transform: CoordTransform | None, gcj02: bool) -> GEOSGeometry:
    ogr_geom.set_3d(False)  # the tables are 2D; KML and GPX often carry heights
    ogr_geom.set_measured(False)
    if transform is not None:
        ogr_geom.transform(transform)
    geom = ogr_geom.geos
    geom.srid = WGS84
    return geometry_gcj02_to_wgs84(geom) if gcj02 else geom


def read_ogr(
    path: Path, *, layer: str | None = None, srid: Srid | None = None, encoding: str | None = None
) -> Iterator[RawFeature]:
    """Yield the features of one layer of a vector file, geometries transformed to 4326.

    `srid` overrides the file's coordinate system (a missing or wrong .prj; GCJ02 for web-map
    coordinates); `encoding` names the encoding of a Shapefile's attributes (e.g. gbk) when the
    file does not say it (.cpg) or says it wrongly. Raises ReadError when the file cannot be read.
    """
    path = Path(path)
    if not path.exists():
        raise ReadError("文件不存在 / file not found")
    _check_encoding(encoding)
    with _shape_encoding(encoding):
        try:
            source = DataSource(path, encoding="utf-8")  # GDAL hands strings over as UTF-8 (RFC 23)
        except GDALException as exc:
            raise ReadError(
                "无法读取，GDAL/OGR 不认识此文件或文件已损坏 / "
                f"cannot read: not a vector format GDAL/OGR knows, or damaged ({exc})"
            ) from exc
        try:
            chosen = _choose_layer(source, layer)
            fields = chosen.fields
            source_srs = _source_srs(chosen, srid)
            transform = None if source_srs.srid == WGS84 else CoordTransform(source_srs, SpatialReference(WGS84))
            for index, feature in enumerate(chosen):
                properties = {name: _value(feature[i]) for i, name in enumerate(fields)}
                try:
                    ogr_geom = feature.geom
                except GDALException:
                    yield RawFeature(index, properties, None, "缺少几何 / missing geometry")
                    continue
                try:
                    geom = _geometry(ogr_geom, transform, srid == GCJ02)
                except (GDALException, GEOSException, ValueError) as exc:
                    yield RawFeature(index, properties, None, f"几何无法转换 / cannot transform geometry: {exc}")
                    continue
                yield RawFeature(index, properties, geom)
        except DjangoUnicodeDecodeError as exc:
            raise ReadError(
                "属性不是 UTF-8 编码，请用 --encoding 指定（如 gbk）/ attributes are not UTF-8: "
                f"give their encoding, e.g. --encoding gbk ({exc.reason})"
            ) from exc
