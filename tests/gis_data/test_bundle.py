"""load_bundle (DESIGN §6): idempotent by code, transactional, precise about the first bad feature."""

import json
from pathlib import Path

import pytest
from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.management import CommandError, call_command

from patrols.models import PatrolRoute
from rivers.models import Agency, ChiefAssignment, District, Reach, River, WaterBody
from tests.factories import at

QIJIANG = Path(__file__).resolve().parents[2] / "gis_data" / "samples" / "qijiang"


def feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def polygon(west_m, south_m, east_m, north_m) -> dict:
    (x0, y0), (x1, y1) = at(west_m, south_m), at(east_m, north_m)
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def linestring(*points_m) -> dict:
    return {"type": "LineString", "coordinates": [list(at(*p)) for p in points_m]}


def write_bundle(directory: Path, districts: list, reaches: list, crs: str | None = None, **extra) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, features in (("districts.geojson", districts), ("reaches.geojson", reaches)):
        document = {"type": "FeatureCollection", "features": features}
        if crs:
            document["crs"] = {"type": "name", "properties": {"name": crs}}
        (directory / name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    for name, content in extra.items():
        (directory / name.replace("_", ".")).write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return directory


def small_bundle(directory: Path, **overrides) -> Path:
    districts = [
        feature(polygon(0, 0, 20_000, 20_000), code="990000", name="测试市", level="city", parent=None),
        feature(polygon(0, 0, 10_000, 10_000), code="990001", name="甲区", level="district", parent="990000"),
        feature(polygon(10_000, 0, 20_000, 10_000), code="990002", name="乙区", level="district", parent="990000"),
    ]
    reaches = [
        feature(
            linestring((5_000, 5_000), (15_000, 5_000)),
            code="R1",
            name="跨界段",
            river="测试河",
            level="district",
            chief="张三",
        ),
        feature(linestring((2_000, 2_000), (8_000, 2_000)), code="R2", name="甲区段", river="测试河", level="town"),
    ]
    return write_bundle(directory, overrides.get("districts", districts), overrides.get("reaches", reaches))


def snapshot() -> dict:
    """Everything a load writes, as comparable values."""
    return {
        "districts": sorted(District.objects.values_list("code", "name", "level", "parent__code")),
        "district_geoms": sorted((d.code, d.geom.wkb.hex()) for d in District.objects.all()),
        "agencies": sorted(Agency.objects.values_list("code", "name", "kind", "district__code")),
        "rivers": sorted(River.objects.values_list("code", "name")),
        "reaches": sorted(
            (r.code, r.name, r.level, r.geom.wkb.hex(), round(r.length_m, 3), r.is_cross_district)
            for r in Reach.objects.all()
        ),
        "reach_districts": sorted(Reach.objects.values_list("code", "districts__code")),
        "water_bodies": sorted(WaterBody.objects.values_list("code", "name", "kind")),
        "chiefs": sorted(ChiefAssignment.objects.values_list("person_name", "role", "start_date", "end_date")),
        "routes": sorted(PatrolRoute.objects.values_list("code", "name")),
    }


@pytest.mark.django_db
def test_qijiang_demo_loads_twice_without_changes():
    call_command("load_bundle", str(QIJIANG))
    first = snapshot()
    assert len(first["districts"]) >= 5
    assert Agency.objects.filter(code="500110-PROC", name="綦江区人民检察院").exists()
    assert Agency.objects.filter(
        code="500110-LIAISON", name="綦江区人民检察院派驻綦江区河长办公室检察联络室", kind="liaison_office"
    ).exists()
    assert Agency.objects.filter(code="500000-PROC", name="重庆市人民检察院").exists()
    assert Reach.objects.filter(is_cross_district=True).count() >= 2
    call_command("load_bundle", str(QIJIANG))
    assert snapshot() == first


@pytest.mark.django_db
def test_bundle_is_keyed_by_code_and_updates(tmp_path):
    call_command("load_bundle", str(small_bundle(tmp_path / "a")))
    assert Reach.objects.get(code="R1").is_cross_district
    assert ChiefAssignment.objects.get(reach__code="R1").person_name == "张三"
    # The same codes again, 乙区 renamed and moved 2 km east: R1 then only overshoots by nothing.
    districts = [
        feature(polygon(0, 0, 20_000, 20_000), code="990000", name="测试市", level="city", parent=None),
        feature(polygon(0, 0, 16_000, 10_000), code="990001", name="甲区", level="district", parent="990000"),
        feature(polygon(16_000, 0, 20_000, 10_000), code="990002", name="乙区新", level="district", parent="990000"),
    ]
    call_command("load_bundle", str(small_bundle(tmp_path / "b", districts=districts)))
    assert District.objects.count() == 3
    assert District.objects.get(code="990002").name == "乙区新"
    assert not Reach.objects.get(code="R1").is_cross_district  # recomputed after the districts reload
    assert Reach.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("layer", "index", "bad", "reason"),
    [
        (
            "reaches",
            1,
            feature(linestring((1, 1), (5, 5)), name="无代码", river="测试河", level="town"),
            "missing property 'code'",
        ),
        (
            "reaches",
            1,
            feature(polygon(0, 0, 10, 10), code="RX", name="面", river="测试河", level="town"),
            "expected LineString",
        ),
        (
            "reaches",
            1,
            feature(linestring((1, 1), (5, 5)), code="RX", name="x", river="测试河", level="county"),
            "'level'",
        ),
        (
            "reaches",
            1,
            feature(linestring((1, 1), (5, 5)), code="R1", name="重复", river="测试河", level="town"),
            "duplicate code",
        ),
        (
            "districts",
            2,
            feature(polygon(0, 0, 10, 10), code="990003", name="丙区", parent="999999"),
            "unknown parent '999999'",
        ),
        (
            "districts",
            2,
            feature(
                {"type": "Polygon", "coordinates": [[[106, 29], [106.1, 29], [106.2, 29], [106, 29]]]},
                code="990003",
                name="塌缩区",
            ),
            "cannot be repaired",
        ),
        (
            "districts",
            2,
            feature({"type": "Polygon", "coordinates": [[[106, 29], [106.1]]]}, code="990003", name="坏"),
            "malformed geometry",
        ),
        (
            "districts",
            2,
            feature(polygon(0, 0, 10, 10), code="990003", name="坏", level="district", parent="990000")
            | {"geometry": {"type": "Polygon", "coordinates": [[[200, 95], [201, 95], [201, 96], [200, 95]]]}},
            "out of lon/lat range",
        ),
        ("districts", 2, feature(polygon(0, 0, 10, 10), code="9" * 25, name="长代码区"), "longer than 20"),
        (
            "reaches",
            1,
            feature(linestring((1, 1), (5, 5)), code="RX", name="名" * 201, river="测试河", level="town"),
            "longer than 200",
        ),
    ],
)
def test_a_bad_feature_stops_the_load_and_changes_nothing(tmp_path, layer, index, bad, reason):
    call_command("load_bundle", str(small_bundle(tmp_path / "good")))
    before = snapshot()
    bundle = small_bundle(tmp_path / "bad")
    path = bundle / f"{layer}.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["features"].insert(index, bad)
    # A change earlier in the same load must be rolled back too.
    district_doc = json.loads((bundle / "districts.geojson").read_text(encoding="utf-8"))
    district_doc["features"][1]["properties"]["name"] = "甲区（改）"
    (bundle / "districts.geojson").write_text(json.dumps(district_doc, ensure_ascii=False), encoding="utf-8")
    if layer == "districts":
        document["features"][1]["properties"]["name"] = "甲区（改）"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(CommandError) as failure:
        call_command("load_bundle", str(bundle))
    message = str(failure.value)
    assert f"{layer}.geojson" in message
    assert f"feature index {index}" in message
    assert reason in message
    code = bad["properties"].get("code")
    if code:
        assert f"code {code}" in message
    assert snapshot() == before


@pytest.mark.django_db
def test_repairable_self_touching_polygon_is_repaired(tmp_path):
    # A bow-tie ring (self-intersecting) becomes two valid triangles.
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[106.0, 29.0], [106.1, 29.1], [106.1, 29.0], [106.0, 29.1], [106.0, 29.0]]],
    }
    bundle = small_bundle(tmp_path)
    document = json.loads((bundle / "districts.geojson").read_text(encoding="utf-8"))
    document["features"].append(feature(bowtie, code="990009", name="蝴蝶区", level="town", parent="990001"))
    (bundle / "districts.geojson").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    call_command("load_bundle", str(bundle))
    repaired = District.objects.get(code="990009").geom
    assert repaired.valid and len(repaired) == 2


def projected(lon: float, lat: float, srid: int) -> list[float]:
    """Return lon/lat (WGS84) in `srid`, with GDAL, in the axis order GeoJSON files carry (x, y)."""
    geom = Point(lon, lat, srid=4326)
    geom.transform(CoordTransform(SpatialReference(4326), SpatialReference(srid)))
    return [geom.x, geom.y]


@pytest.mark.django_db
@pytest.mark.parametrize("srid", [4490, 4545])
def test_cgcs2000_and_projected_bundles_land_in_place(tmp_path, srid):
    # 綦江城区 (106.651E, 29.028N) and points around it, written in CGCS2000 (4490, lon/lat) or in
    # CGCS2000 / 3-degree Gauss-Kruger CM 108E (4545, metres); they must come back within 1 m.
    corners = [(106.60, 29.00), (106.70, 29.00), (106.70, 29.06), (106.60, 29.06), (106.60, 29.00)]
    course = [(106.62, 29.01), (106.651, 29.028), (106.68, 29.05)]
    crs = f"urn:ogc:def:crs:EPSG::{srid}"
    districts = [
        feature(
            {"type": "Polygon", "coordinates": [[projected(*c, srid) for c in corners]]},
            code="500110",
            name="綦江区",
            level="district",
        )
    ]
    reaches = [
        feature(
            {"type": "LineString", "coordinates": [projected(*c, srid) for c in course]},
            code="Q1",
            name="綦江城区段",
            river="綦江",
            level="district",
        )
    ]
    call_command("load_bundle", str(write_bundle(tmp_path, districts, reaches, crs=crs)))
    stored = Reach.objects.get(code="Q1").geom[0]
    for (lon, lat), got in zip(course, stored.coords, strict=True):
        expected = GEOSGeometry(f"SRID=4326;POINT({lon} {lat})")
        assert distance_m(expected, Point(*got, srid=4326)) < 1.0
    ring = District.objects.get(code="500110").geom[0][0]
    for (lon, lat), got in zip(corners, ring.coords, strict=True):
        assert distance_m(Point(lon, lat, srid=4326), Point(*got, srid=4326)) < 1.0


def distance_m(a: Point, b: Point) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Distance(%s::geography, %s::geography)", [a.ewkt, b.ewkt])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_agencies_and_chiefs_files(tmp_path):
    agencies = [
        {"code": "990000-PROC", "name": "测试市人民检察院", "kind": "procuratorate", "district": "990000"},
        {"code": "990001-PROC", "name": "甲区人民检察院", "kind": "procuratorate", "district": "990001"},
        {"code": "990001-ECO", "name": "甲区生态环境局", "kind": "ecology_bureau", "district": "990001"},
    ]
    chiefs = [
        {"reach": "R2", "name": "李四", "role": "chief", "level": "town", "start": "2023-01-01", "end": "2024-06-30"},
        {"reach": "R2", "name": "王五", "role": "chief", "level": "town", "start": "2024-07-01", "end": None},
        {"reach": "R1", "name": "赵检察官", "role": "eco_prosecutor", "level": "district", "start": "2024-01-01"},
    ]
    bundle = small_bundle(tmp_path)
    (bundle / "agencies.json").write_text(json.dumps(agencies, ensure_ascii=False), encoding="utf-8")
    (bundle / "chiefs.json").write_text(json.dumps(chiefs, ensure_ascii=False), encoding="utf-8")
    call_command("load_bundle", str(bundle))
    assert set(Agency.objects.values_list("code", flat=True)) == {a["code"] for a in agencies}
    history = list(
        ChiefAssignment.objects.filter(reach__code="R2").order_by("start_date").values_list("person_name", "end_date")
    )
    assert [name for name, _ in history] == ["李四", "王五"]
    assert history[1][1] is None
    assert ChiefAssignment.objects.get(reach__code="R1", role="eco_prosecutor").person_name == "赵检察官"


@pytest.mark.django_db
def test_unknown_reach_in_chiefs_stops_the_load(tmp_path):
    bundle = small_bundle(tmp_path)
    (bundle / "chiefs.json").write_text(
        json.dumps([{"reach": "NOPE", "name": "某", "level": "town", "start": "2024-01-01"}])
    )
    with pytest.raises(CommandError, match=r"chiefs.json: .*feature index 0"):
        call_command("load_bundle", str(bundle))
    assert not District.objects.exists()


@pytest.mark.django_db
def test_missing_files_and_folders_are_named(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("load_bundle", str(tmp_path / "nowhere"))
    (tmp_path / "districts.geojson").write_text("{not json")
    (tmp_path / "reaches.geojson").write_text("{}")
    with pytest.raises(CommandError, match=r"districts.geojson: .*not valid UTF-8 JSON"):
        call_command("load_bundle", str(tmp_path))


@pytest.mark.django_db
def test_heights_and_numbers_in_properties_are_accepted(tmp_path):
    # GPS- or KML-derived GeoJSON often carries heights; names may come as numbers.
    course = [[*at(2_000, 2_000), 312.5], [*at(8_000, 2_000), 298.0]]
    reaches = [feature({"type": "LineString", "coordinates": course}, code=7, name=12, river=3, level="town")]
    call_command("load_bundle", str(small_bundle(tmp_path, reaches=reaches)))
    stored = Reach.objects.get(code="7")
    assert stored.name == "12" and not stored.geom.hasz
    assert stored.length_m == pytest.approx(6_000, rel=0.005)
