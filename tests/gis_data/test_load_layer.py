"""load_layer: one layer of a Shapefile, GeoPackage, KML, GPX or GeoJSON file, mapped onto our fields.

Fixture files are built in tmp_path from WGS84 coordinates of the synthetic world (tests.factories:
29°N, 106°E) with ogr2ogr, the way GIS administrators' files are made: GBK attributes, CGCS2000
(EPSG:4490) or Gauss-Kruger metres (EPSG:4545), missing or wrong .prj files.
"""

import json
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.gdal import DataSource
from django.core.management import CommandError, call_command
from django.db import connection

from gis_data.bundle import BundleError
from gis_data.coords import GCJ02, wgs84_to_gcj02
from gis_data.layers import layer_load
from patrols.models import PatrolRoute
from rivers.crossing import network_recompute_all
from rivers.models import Agency, District, Reach, ReachDistrict, River, WaterBody
from tests import factories
from tests.factories import at

WGS84_PRJ = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)


# --- building fixture files -------------------------------------------------------------------


def feature(geometry: dict | None, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def polygon(west_m, south_m, east_m, north_m) -> dict:
    (x0, y0), (x1, y1) = at(west_m, south_m), at(east_m, north_m)
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def linestring(*points_m) -> dict:
    return {"type": "LineString", "coordinates": [list(at(*p)) for p in points_m]}


def write_geojson(path: Path, features: list[dict]) -> Path:
    """Write a UTF-8 GeoJSON FeatureCollection in WGS84 lon/lat."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


def ogr2ogr(*args: str) -> None:
    subprocess.run(["ogr2ogr", *args], check=True, capture_output=True)


def convert(tmp_path: Path, name: str, features: list[dict], *options: str) -> Path:
    """Write `features` (WGS84) to tmp_path/name with ogr2ogr, the driver chosen by the suffix."""
    source = write_geojson(tmp_path / f"{Path(name).stem}-source.geojson", features)
    target = tmp_path / name
    ogr2ogr(*options, str(target), str(source))
    return target


def shapefile(tmp_path: Path, name: str, features: list[dict], *options: str) -> Path:
    return convert(tmp_path, name, features, "-f", "ESRI Shapefile", *options)


# --- reading what was stored ------------------------------------------------------------------


def ground_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two lon/lat points on the WGS84 spheroid (PostGIS geography)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography,"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)",
            [*a, *b],
        )
        return cursor.fetchone()[0]


def vertices(geom) -> list[tuple[float, float]]:
    """Return the vertices of a (multi)line or polygon, in order."""
    if geom.geom_type.startswith("Multi") or geom.geom_type == "Polygon":
        return [v for part in geom for v in vertices(part)]
    return [tuple(c[:2]) for c in geom.coords]


def assert_same_place(stored, expected_m: list[tuple[float, float]], tolerance_m: float = 1.0) -> None:
    """Assert each stored vertex lies within tolerance of the WGS84 point given in metres from the origin."""
    points = vertices(stored)
    assert len(points) == len(expected_m)
    for point, (east_m, north_m) in zip(points, expected_m, strict=True):
        assert ground_distance_m(point, at(east_m, north_m)) < tolerance_m


def snapshot() -> dict:
    """Everything a layer load writes, as comparable values (primary keys included)."""
    return {
        "districts": sorted(District.objects.values_list("pk", "code", "name", "level", "parent__code")),
        "district_geoms": {d.code: bytes(d.geom.ewkb) for d in District.objects.all()},
        "agencies": sorted(Agency.objects.values_list("pk", "code", "name", "kind", "district__code")),
        "rivers": sorted(River.objects.values_list("pk", "code", "name")),
        "reaches": sorted(
            Reach.objects.values_list("pk", "code", "name", "river__code", "level", "length_m", "is_cross_district")
        ),
        "reach_geoms": {r.code: bytes(r.geom.ewkb) for r in Reach.objects.all()},
        "reach_districts": sorted(ReachDistrict.objects.values_list("reach__code", "district__code", "length_m")),
        "water_bodies": sorted(WaterBody.objects.values_list("pk", "code", "name", "kind", "area_m2")),
        "routes": sorted(PatrolRoute.objects.values_list("pk", "code", "name", "district__code")),
    }


# The course of a reach used below: 2–9 km east, 2–9 km north of the origin, inside 甲区 (990001).
COURSE_M = [(2_000, 2_000), (8_000, 3_000), (9_000, 9_000)]


def reach_features(**properties) -> list[dict]:
    return [feature(linestring(*COURSE_M), **properties)]


# --- encodings --------------------------------------------------------------------------------


def gbk_districts(tmp_path: Path) -> Path:
    """A GBK district Shapefile as Chinese GIS software writes it, with XZQDM/XZQMC/SJDM attributes.

    The new district 綦江区 (990003) covers the city's northern half, 0–10 km east, 10–20 km north.
    """
    features = [feature(polygon(0, 10_000, 10_000, 20_000), XZQDM="990003", XZQMC="綦江区", SJDM="990000")]
    path = shapefile(tmp_path, "xzq.shp", features, "-lco", "ENCODING=GBK")
    assert "綦江区".encode("gbk") in path.with_suffix(".dbf").read_bytes()  # really GBK on disk
    return path


GBK_MAPPING = {"code": "XZQDM", "name": "XZQMC", "parent": "SJDM"}


def test_gbk_shapefile_with_cpg_loads_chinese_names(world, tmp_path):
    path = gbk_districts(tmp_path)
    assert path.with_suffix(".cpg").read_text().strip() == "GBK"
    report = layer_load(path, target="districts", mapping=GBK_MAPPING, values={"level": "district"})
    district = District.objects.get(code="990003")
    assert (district.name, district.level, district.parent.code) == ("綦江区", "district", "990000")
    assert report.created["districts"] == 1
    # A new district gets the agencies routing needs (DESIGN §6 names).
    assert Agency.objects.get(code="990003-PROC").name == "綦江区人民检察院"


def test_gbk_shapefile_without_cpg_needs_the_encoding(world, tmp_path):
    path = gbk_districts(tmp_path)
    path.with_suffix(".cpg").unlink()  # nothing in the file says GBK now (the DBF code page byte is 0)
    before = snapshot()
    with pytest.raises(BundleError, match="--encoding gbk"):
        layer_load(path, target="districts", mapping=GBK_MAPPING, values={"level": "district"})
    assert snapshot() == before

    layer_load(path, target="districts", mapping=GBK_MAPPING, values={"level": "district"}, encoding="gbk")
    assert District.objects.get(code="990003").name == "綦江区"
    # The encoding was GDAL's for that read only (a thread-local SHAPE_ENCODING, restored after it).
    with pytest.raises(BundleError, match="--encoding gbk"):
        layer_load(path, target="districts", mapping=GBK_MAPPING, values={"level": "district"})


def test_encoding_overrides_a_wrong_cpg(world, tmp_path):
    path = gbk_districts(tmp_path)
    path.with_suffix(".cpg").write_text("UTF-8")
    layer_load(path, target="districts", mapping=GBK_MAPPING, values={"level": "district"}, encoding="gbk")
    assert District.objects.get(code="990003").name == "綦江区"


def test_numeric_codes_lose_the_decimal_point(world, tmp_path):
    # GB/T 2260 codes are often kept in numeric DBF fields: 990003.0 must become "990003".
    features = [feature(polygon(0, 10_000, 10_000, 20_000), XZQDM=990003.0, XZQMC="綦江区", SJDM=990000)]
    path = shapefile(tmp_path, "xzq.shp", features, "-lco", "ENCODING=UTF-8")
    assert DataSource(path)[0].field_types[0].__name__ == "OFTReal"
    layer_load(path, target="districts", mapping=GBK_MAPPING)
    assert District.objects.get(code="990003").parent.code == "990000"


# --- coordinate systems -----------------------------------------------------------------------


@pytest.mark.parametrize("srid", [4490, 4545])
def test_cgcs2000_and_gauss_kruger_files_land_within_a_metre(world, tmp_path, srid):
    path = shapefile(
        tmp_path,
        f"hd{srid}.shp",
        reach_features(HDBM="R-GK", HDMC="綦河段", HLMC="綦河"),
        "-lco",
        "ENCODING=UTF-8",
        "-s_srs",
        "EPSG:4326",
        "-t_srs",
        f"EPSG:{srid}",
    )
    first = DataSource(path)[0][0].geom.coords[0]
    if srid == 4545:  # metres east/north: 106.02°E is ~190 km west of the 108°E meridian (false easting 500 km)
        assert 300_000 < first[0] < 320_000 and 3_200_000 < first[1] < 3_230_000
    else:  # CGCS2000 lon/lat, in that order on disk
        assert first == pytest.approx(at(*COURSE_M[0]), abs=1e-6)
    layer_load(
        path, target="reaches", mapping={"code": "HDBM", "name": "HDMC", "river": "HLMC"}, values={"level": "town"}
    )
    reach = Reach.objects.get(code="R-GK")
    assert_same_place(reach.geom, COURSE_M)
    # Derived fields were computed: the whole course lies in 甲区. Its length, from the metre
    # offsets (6.08 km + 6.08 km), agrees with the spheroid to better than 0.5 %.
    assert list(reach.districts.values_list("code", flat=True)) == ["990001"]
    assert reach.length_m == pytest.approx(6_083 + 6_083, rel=0.005)


def test_srid_names_the_system_of_a_file_without_prj(world, tmp_path):
    path = shapefile(
        tmp_path,
        "noprj.shp",
        reach_features(code="R-NP", name="无坐标段", river="綦河"),
        "-lco",
        "ENCODING=UTF-8",
        "-s_srs",
        "EPSG:4326",
        "-t_srs",
        "EPSG:4545",
    )
    path.with_suffix(".prj").unlink()
    with pytest.raises(BundleError, match=r"noprj\.shp: .*--srid"):
        layer_load(path, target="reaches", values={"level": "town"})
    assert not Reach.objects.exists()

    layer_load(path, target="reaches", values={"level": "town"}, srid=4545)
    assert_same_place(Reach.objects.get(code="R-NP").geom, COURSE_M)


def test_srid_overrides_a_wrong_prj(world, tmp_path):
    path = shapefile(
        tmp_path,
        "wrongprj.shp",
        reach_features(code="R-WP", name="错坐标段", river="綦河"),
        "-lco",
        "ENCODING=UTF-8",
        "-s_srs",
        "EPSG:4326",
        "-t_srs",
        "EPSG:4545",
    )
    path.with_suffix(".prj").write_text(WGS84_PRJ)  # says degrees, holds metres
    with pytest.raises(BundleError, match=r"feature index 0 \(code R-WP\): 坐标超出经纬度范围"):
        layer_load(path, target="reaches", values={"level": "town"})

    layer_load(path, target="reaches", values={"level": "town"}, srid=4545)
    assert_same_place(Reach.objects.get(code="R-WP").geom, COURSE_M)


def test_gcj02_coordinates_are_converted(world, tmp_path):
    """Coordinates copied from a Chinese web map are GCJ-02: shifted a few hundred metres."""
    gcj = {"type": "LineString", "coordinates": [list(wgs84_to_gcj02(*at(*p))) for p in COURSE_M]}
    path = write_geojson(tmp_path / "amap.geojson", [feature(gcj, code="R-GCJ", name="高德段", river="綦河")])
    assert ground_distance_m(tuple(gcj["coordinates"][0]), at(*COURSE_M[0])) > 100

    layer_load(path, target="reaches", values={"level": "town"}, srid=GCJ02)
    assert_same_place(Reach.objects.get(code="R-GCJ").geom, COURSE_M, tolerance_m=0.5)


# --- formats ----------------------------------------------------------------------------------


def test_kml_layer_loads(world, tmp_path):
    # Heights, as KML from a GPS often has them: the tables are 2D, so they are dropped.
    course = {"type": "LineString", "coordinates": [[*at(*p), 300.0 + i] for i, p in enumerate(COURSE_M)]}
    path = convert(tmp_path, "hd.kml", [feature(course, name="綦江干流", HDBM="R-KML")], "-f", "KML")
    assert DataSource(path)[0][1].geom.coord_dim == 3  # LIBKML numbers features from 1
    # KML keeps the name in <name> (read back as "Name"): unmapped fields match attributes in any case.
    layer_load(path, target="reaches", mapping={"code": "HDBM"}, values={"river": "綦江", "level": "town"})
    reach = Reach.objects.get(code="R-KML")
    assert (reach.name, reach.river.name, reach.geom.hasz) == ("綦江干流", "綦江", False)
    assert_same_place(reach.geom, COURSE_M)


def test_geopackage_layer_is_chosen_by_name(world, tmp_path):
    path = convert(
        tmp_path,
        "network.gpkg",
        reach_features(code="R-GPKG", name="包段", river="綦河"),
        "-f",
        "GPKG",
        "-nln",
        "reaches",
    )
    ogr2ogr(
        "-update",
        "-nln",
        "boundaries",
        str(path),
        str(write_geojson(tmp_path / "b.geojson", [feature(polygon(0, 0, 1_000, 1_000), code="X", name="X")])),
    )
    with pytest.raises(BundleError, match="--layer: reaches, boundaries"):
        layer_load(path, target="reaches", values={"level": "village"})

    layer_load(path, target="reaches", values={"level": "village"}, layer="reaches")
    assert Reach.objects.get(code="R-GPKG").level == "village"


def test_gpx_route_loads(world, tmp_path):
    route = linestring((1_000, 1_000), (4_000, 1_500), (6_000, 4_000))
    path = convert(tmp_path, "patrol.gpx", [feature(route, name="RT-1", desc="甲区巡河路线")], "-f", "GPX")
    # A GPX file has five layers; a route fills two of them (routes, route_points).
    layer_load(
        path, target="routes", mapping={"code": "name", "name": "desc"}, values={"district": "990001"}, layer="routes"
    )
    stored = PatrolRoute.objects.get(code="RT-1")
    assert (stored.name, stored.district.code) == ("甲区巡河路线", "990001")
    assert_same_place(stored.geom, [(1_000, 1_000), (4_000, 1_500), (6_000, 4_000)])


def test_water_bodies_layer_loads_with_derived_fields(world, tmp_path):
    # A reservoir astride the 甲区/乙区 boundary (9–11 km east): its shoreline lies in both.
    path = shapefile(
        tmp_path,
        "sk.shp",
        [feature(polygon(9_000, 4_000, 11_000, 6_000), SKBM="W-1", SKMC="界水库")],
        "-lco",
        "ENCODING=UTF-8",
    )
    layer_load(path, target="waterbodies", mapping={"code": "SKBM", "name": "SKMC"}, values={"kind": "reservoir"})
    body = WaterBody.objects.get(code="W-1")
    assert body.is_cross_district
    assert body.area_m2 == pytest.approx(2_000 * 2_000, rel=0.005)  # 2 km × 2 km from the metre offsets


# --- bad input --------------------------------------------------------------------------------


def test_bad_feature_keeps_nothing_and_names_index_and_code(world, tmp_path):
    factories.reach("R-OLD", factories.line((1_000, 1_000), (3_000, 1_000)))
    network_recompute_all()
    collapsed = {
        "type": "Polygon",
        "coordinates": [[list(at(0, 0)), list(at(1_000, 0)), list(at(2_000, 0)), list(at(0, 0))]],
    }
    features = [
        feature(polygon(1_000, 1_000, 2_000, 2_000), code="W-OK", name="好水库"),
        feature(collapsed, code="W-FLAT", name="塌缩水库"),
    ]
    path = convert(tmp_path, "bad.gpkg", features, "-f", "GPKG")
    before = snapshot()
    with pytest.raises(BundleError) as caught:
        layer_load(path, target="waterbodies", values={"kind": "lake"})
    message = str(caught.value)
    assert message.startswith("bad.gpkg: ")
    assert (
        "feature index 1 (code W-FLAT)" in message and "无法修复 / invalid geometry that cannot be repaired" in message
    )
    assert snapshot() == before


def test_missing_code_keeps_nothing(world, tmp_path):
    factories.reach("R-OLD", factories.line((1_000, 1_000), (3_000, 1_000)))
    network_recompute_all()
    features = [
        feature(linestring((1_000, 1_000), (3_000, 1_000)), HDBM="R-OLD", HDMC="改名段"),  # an update
        feature(linestring((5_000, 1_000), (6_000, 1_000)), HDBM="R-NEW", HDMC="新段"),
        feature(linestring((7_000, 1_000), (8_000, 1_000)), HDBM=None, HDMC="无代码段"),
    ]
    path = shapefile(tmp_path, "hd.shp", features, "-lco", "ENCODING=UTF-8")
    before = snapshot()
    with pytest.raises(BundleError, match=r"hd\.shp: .*feature index 2 \(code ∅\): 缺少属性 / missing property 'code'"):
        layer_load(
            path,
            target="reaches",
            mapping={"code": "HDBM", "name": "HDMC"},
            values={"river": "测试河", "level": "town"},
        )
    assert snapshot() == before


def test_unreadable_file(db, tmp_path):
    junk = tmp_path / "junk.shp"
    junk.write_bytes(b"\x00\x01 not a shapefile")
    with pytest.raises(BundleError, match=r"junk\.shp: .*cannot read"):
        layer_load(junk, target="reaches")
    with pytest.raises(BundleError, match=r"missing\.gpkg: .*file not found"):
        layer_load(tmp_path / "missing.gpkg", target="reaches")


def test_mapping_names_are_checked(world, tmp_path):
    path = shapefile(tmp_path, "hd.shp", reach_features(HDBM="R1", HDMC="段"), "-lco", "ENCODING=UTF-8")
    with pytest.raises(BundleError, match=r"no attribute 'XZQDM' \(for code\); the file has: HDBM, HDMC"):
        layer_load(path, target="reaches", mapping={"code": "XZQDM"})
    with pytest.raises(BundleError, match="reaches has no field colour"):
        layer_load(path, target="reaches", mapping={"colour": "HDMC"})
    with pytest.raises(BundleError, match="unknown target"):
        layer_load(path, target="lakes")


# --- idempotence and derived fields -----------------------------------------------------------


def test_loading_twice_changes_nothing(world, tmp_path):
    features = [
        feature(linestring((5_000, 5_000), (15_000, 5_000)), HDBM="R1", HDMC="跨界段", HLMC="测试河"),
        feature(linestring((2_000, 2_000), (8_000, 2_000)), HDBM="R2", HDMC="甲区段", HLMC="测试河"),
    ]
    path = shapefile(tmp_path, "hd.shp", features, "-lco", "ENCODING=UTF-8")
    options = {
        "target": "reaches",
        "mapping": {"code": "HDBM", "name": "HDMC", "river": "HLMC"},
        "values": {"level": "town"},
    }
    first = layer_load(path, **options)
    assert (first.created["reaches"], first.updated["reaches"]) == (2, 0)
    after_first = snapshot()
    # The derived fields were computed for the loaded reaches: R1 crosses the 10 km boundary.
    crossing = Reach.objects.get(code="R1")
    assert crossing.is_cross_district
    assert sorted(crossing.districts.values_list("code", flat=True)) == ["990001", "990002"]

    second = layer_load(path, **options)
    assert (second.created["reaches"], second.updated["reaches"]) == (0, 2)
    assert snapshot() == after_first


def test_districts_layer_recomputes_the_reaches_around_them(world, tmp_path):
    factories.reach("R-W", factories.line((2_000, 5_000), (8_000, 5_000)))
    network_recompute_all()
    assert not Reach.objects.get(code="R-W").is_cross_district
    agencies = snapshot()["agencies"]
    # New boundary between 甲区 and 乙区 at 5 km east instead of 10 km: R-W now crosses it.
    features = [
        feature(polygon(0, 0, 5_000, 10_000), code="990001", name="甲区", parent="990000"),
        feature(polygon(5_000, 0, 20_000, 10_000), code="990002", name="乙区", parent="990000"),
    ]
    path = write_geojson(tmp_path / "districts.geojson", features)
    report = layer_load(path, target="districts", values={"level": "district"})
    assert (report.created["districts"], report.updated["districts"]) == (0, 2)
    reach = Reach.objects.get(code="R-W")
    assert reach.is_cross_district
    assert sorted(reach.districts.values_list("code", flat=True)) == ["990001", "990002"]
    assert snapshot()["agencies"] == agencies  # districts that had agencies keep exactly those


# --- the command ------------------------------------------------------------------------------


def test_command_loads_and_reports(world, tmp_path):
    path = gbk_districts(tmp_path)
    path.with_suffix(".cpg").unlink()
    out = StringIO()
    call_command(
        "load_layer",
        str(path),
        "--target",
        "districts",
        "--map",
        "code=XZQDM",
        "--map",
        "name=XZQMC",
        "--map",
        "parent=SJDM",
        "--set",
        "level=district",
        "--encoding",
        "gbk",
        stdout=out,
    )
    assert "districts: 1 新建 created, 0 更新 updated" in out.getvalue()
    assert District.objects.get(code="990003").name == "綦江区"


def test_command_srid_option(world, tmp_path):
    path = shapefile(
        tmp_path,
        "gk.shp",
        reach_features(code="R-CMD", name="命令段", river="綦河"),
        "-lco",
        "ENCODING=UTF-8",
        "-s_srs",
        "EPSG:4326",
        "-t_srs",
        "EPSG:4545",
    )
    path.with_suffix(".prj").unlink()
    call_command(
        "load_layer", str(path), "--target", "reaches", "--set", "level=town", "--srid", "EPSG:4545", stdout=StringIO()
    )
    assert_same_place(Reach.objects.get(code="R-CMD").geom, COURSE_M)


def test_command_failure_is_a_command_error(world, tmp_path):
    path = shapefile(tmp_path, "hd.shp", reach_features(HDBM="R1", HDMC="段"), "-lco", "ENCODING=UTF-8")
    common = ["load_layer", str(path), "--target", "reaches", "--map", "code=HDBM", "--map", "name=HDMC"]
    with pytest.raises(
        CommandError, match=r"nothing changed: hd\.shp: 第 0 个要素 feature index 0 \(code R1\): .*'level'"
    ):
        call_command(*common, "--set", "river=綦河", "--set", "level=province", stdout=StringIO())
    with pytest.raises(CommandError, match=r"hd\.shp: .*no attribute gives river, level: use --map .*has: HDBM, HDMC"):
        call_command(*common, stdout=StringIO())
    with pytest.raises(CommandError, match="FIELD=VALUE"):
        call_command("load_layer", str(path), "--target", "reaches", "--map", "HDBM")
    with pytest.raises(CommandError, match="unrecognised SRID"):
        call_command("load_layer", str(path), "--target", "reaches", "--srid", "北京54")
    assert not Reach.objects.exists()
