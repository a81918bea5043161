"""Writing a layer out as GeoJSON (EPSG:4326, the API's properties) or as a Shapefile (through ogr2ogr).

Django's GDAL bindings only read, so a Shapefile is written by `ogr2ogr` from an intermediate
GeoJSON file, with a .prj (WGS84) and a .cpg saying UTF-8. The .dbf limits field names to ten
characters and a text field to 254 bytes (about 84 Chinese characters): longer values are cut by
GDAL, which says so in a warning that the export hands back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from config.api_input import serializers
from patrols.models import PatrolRoute
from rivers.models import District, Reach, WaterBody
from rivers.serializers import DistrictSerializer, ReachSerializer, WaterBodySerializer

FORMATS = ("geojson", "shapefile")

# Shapefile (.dbf) names for our properties longer than ten characters.
SHAPEFILE_NAMES = {"is_cross_district": "cross_dist"}

# The .dbf columns of each layer. Text is cast to the .dbf maximum (ogr2ogr would otherwise give
# text read from GeoJSON 80 bytes) and RESIZE=YES shrinks each column to its longest value. These
# are OGR SQL run by ogr2ogr on our own intermediate file ("features"), not database SQL.
SHAPEFILE_SQL = {
    "districts": (
        'SELECT CAST("code" AS character(254)) AS "code", CAST("name" AS character(254)) AS "name", '
        '"level", CAST("parent" AS character(254)) AS "parent" FROM "features"'
    ),
    "reaches": (
        'SELECT CAST("code" AS character(254)) AS "code", CAST("name" AS character(254)) AS "name", '
        'CAST("river" AS character(254)) AS "river", "level", "length_m", '
        'CAST("districts" AS character(254)) AS "districts", "cross_dist" FROM "features"'
    ),
    "waterbodies": (
        'SELECT CAST("code" AS character(254)) AS "code", CAST("name" AS character(254)) AS "name", '
        '"kind", "level", "area_m2", CAST("districts" AS character(254)) AS "districts", "cross_dist" '
        'FROM "features"'
    ),
    "routes": (
        'SELECT CAST("code" AS character(254)) AS "code", CAST("name" AS character(254)) AS "name", '
        'CAST("district" AS character(254)) AS "district" FROM "features"'
    ),
}

# Spatial index files GDAL or ArcGIS may have left beside an older export; stale once it is replaced.
STALE_SIDECARS = (".qix", ".sbn", ".sbx")


class ExportError(Exception):
    """A layer that cannot be written; the message says why."""


class PatrolRouteSerializer(serializers.GeoFeatureModelSerializer):
    """A patrol route as a GeoJSON feature, in the style of the API's layers (routes have no endpoint yet)."""

    district = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = PatrolRoute
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "district"]


@dataclass(frozen=True)
class ExportTarget:
    queryset: Callable[[], QuerySet]
    serializer: type[serializers.GeoFeatureModelSerializer]
    geometry_type: str  # ogr2ogr -nlt: a Shapefile holds one geometry type


EXPORTS = {
    "districts": ExportTarget(lambda: District.objects.select_related("parent"), DistrictSerializer, "MULTIPOLYGON"),
    "reaches": ExportTarget(
        lambda: Reach.objects.select_related("river").prefetch_related("districts"), ReachSerializer, "MULTILINESTRING"
    ),
    "waterbodies": ExportTarget(
        lambda: WaterBody.objects.prefetch_related("districts"), WaterBodySerializer, "MULTIPOLYGON"
    ),
    "routes": ExportTarget(lambda: PatrolRoute.objects.select_related("district"), PatrolRouteSerializer, "LINESTRING"),
}


@dataclass
class ExportReport:
    path: Path
    count: int
    warnings: list[str] = field(default_factory=list)


def layer_features(target: str) -> Iterator[dict[str, Any]]:
    """Yield the GeoJSON features of a layer, in 4326 with the properties the API gives, by code."""
    spec = EXPORTS[target]
    for item in spec.queryset().iterator(chunk_size=2000):
        yield spec.serializer(item).data


def _write_feature_collection(path: Path, features: Iterator[dict[str, Any]]) -> int:
    """Write a FeatureCollection feature by feature; return how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [')
        for feature in features:
            out.write(",\n" if count else "\n")
            out.write(json.dumps(feature, ensure_ascii=False))
            count += 1
        out.write("\n]}\n")
    return count


def _shapefile_properties(feature: dict[str, Any]) -> dict[str, Any]:
    """Return the feature with properties a .dbf can hold: short names, lists as comma-joined text."""
    properties = {
        SHAPEFILE_NAMES.get(name, name): ",".join(map(str, value)) if isinstance(value, list) else value
        for name, value in feature["properties"].items()
    }
    return {"type": "Feature", "properties": properties, "geometry": feature["geometry"]}


def _export_geojson(target: str, path: Path) -> ExportReport:
    partial = path.with_name(path.name + ".part")
    try:
        count = _write_feature_collection(partial, layer_features(target))
        os.replace(partial, path)  # readers never see half a file
    finally:
        partial.unlink(missing_ok=True)
    return ExportReport(path, count)


def _export_shapefile(target: str, path: Path) -> ExportReport:
    if path.suffix.lower() != ".shp":
        raise ExportError(f"Shapefile 输出须以 .shp 结尾 / a Shapefile output must end in .shp: {path}")
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        raise ExportError("找不到 ogr2ogr，请安装 gdal-bin / ogr2ogr not found: install gdal-bin")
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        source = Path(tmp) / "features.geojson"
        count = _write_feature_collection(source, (_shapefile_properties(f) for f in layer_features(target)))
        if count == 0:
            raise ExportError(
                f"{target}: 没有要素可导出 / nothing to export (a Shapefile needs features to know its fields)"
            )
        written = Path(tmp) / "out" / path.name
        written.parent.mkdir()
        command = [
            ogr2ogr,
            "-f",
            "ESRI Shapefile",
            "-lco",
            "ENCODING=UTF-8",
            "-lco",
            "RESIZE=YES",
            "-nlt",
            EXPORTS[target].geometry_type,
            "-sql",
            SHAPEFILE_SQL[target],
            str(written),
            str(source),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ExportError(f"ogr2ogr 失败 / ogr2ogr failed: {result.stderr.strip()}")
        for suffix in STALE_SIDECARS:
            path.with_suffix(suffix).unlink(missing_ok=True)
        for part in written.parent.iterdir():
            shutil.move(part, path.parent / part.name)
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    return ExportReport(path, count, warnings)


def layer_export(*, target: str, path: Path, file_format: str | None = None) -> ExportReport:
    """Write a layer to `path` as GeoJSON or a Shapefile (the format follows the suffix when not given)."""
    if target not in EXPORTS:
        raise ExportError(f"未知的图层 / unknown target {target!r}: one of {', '.join(EXPORTS)}")
    path = Path(path)
    file_format = file_format or ("shapefile" if path.suffix.lower() == ".shp" else "geojson")
    if file_format not in FORMATS:
        raise ExportError(f"未知的格式 / unknown format {file_format!r}: one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if file_format == "shapefile":
        return _export_shapefile(target, path)
    return _export_geojson(target, path)
