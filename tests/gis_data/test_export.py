"""export_layer: GeoJSON as the API gives it, and Shapefiles that load_layer reads back."""

import json
from io import StringIO

import pytest
from django.contrib.gis.gdal import DataSource
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from gis_data.export import ExportError, layer_export
from gis_data.layers import layer_load
from patrols.models import PatrolRoute
from rivers.crossing import network_recompute_all
from rivers.models import Reach, River
from tests import factories
from tests.gis_data.test_load_layer import assert_same_place, ground_distance_m, vertices


@pytest.fixture
def network(world):
    """The two-district world with a cross-district reach, a reach inside 甲区, a reservoir and a route."""
    factories.reach("R1", factories.line((5_000, 5_000), (15_000, 5_000)), level="district", river="綦江")
    factories.reach("R2", factories.line((2_000, 2_000), (8_000, 3_000), (9_000, 9_000)), river="綦江")
    factories.water_body("W1", factories.box(1_000, 6_000, 3_000, 8_000))
    PatrolRoute.objects.create(
        code="RT1", name="甲区巡河路线", district=world["west"], geom=factories.line((1_000, 1_000), (4_000, 1_500))[0]
    )
    network_recompute_all()
    return world


def test_geojson_has_the_api_properties(network, tmp_path, member):
    report = layer_export(target="reaches", path=tmp_path / "reaches.geojson")
    document = json.loads((tmp_path / "reaches.geojson").read_text("utf-8"))
    assert report.count == 2 and document["type"] == "FeatureCollection" and "crs" not in document  # RFC 7946: 4326
    exported = {f["properties"]["code"]: f for f in document["features"]}
    client = APIClient()
    client.force_authenticate(member("gis", "990000-RCO", "gis_admin"))
    for code in ("R1", "R2"):
        assert exported[code] == client.get(f"/api/v1/reaches/{code}/").json()
    assert exported["R1"]["properties"]["is_cross_district"] is True
    assert exported["R1"]["properties"]["districts"] == ["990001", "990002"]
    assert exported["R1"]["properties"]["river"] == "綦江"


@pytest.mark.parametrize("target", ["districts", "reaches", "waterbodies", "routes"])
def test_shapefile_has_prj_cpg_and_short_field_names(network, tmp_path, target):
    report = layer_export(target=target, path=tmp_path / f"{target}.shp")
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        assert (tmp_path / f"{target}{suffix}").is_file()
    assert (tmp_path / f"{target}.cpg").read_text().strip() == "UTF-8"
    layer = DataSource(tmp_path / f"{target}.shp")[0]
    assert layer.srs.srid == 4326
    assert all(len(name) <= 10 for name in layer.fields)
    assert len(layer) == report.count > 0


def test_shapefile_flattens_lists_and_booleans(network, tmp_path):
    layer_export(target="reaches", path=tmp_path / "reaches.shp")
    layer = DataSource(tmp_path / "reaches.shp")[0]
    rows = {f.get("code"): f for f in layer}
    assert rows["R1"].get("districts") == "990001,990002"
    assert rows["R1"].get("cross_dist") == 1 and rows["R2"].get("cross_dist") == 0
    assert rows["R1"].get("river") == "綦江"
    assert rows["R1"].get("length_m") == pytest.approx(Reach.objects.get(code="R1").length_m)


def test_long_chinese_names_survive_the_dbf(network, tmp_path):
    """GDAL gives text read from GeoJSON 80 bytes; a .dbf field holds 254 (84 Chinese characters)."""
    long_name = "綦江干流" * 20  # 80 characters, 240 bytes in UTF-8
    Reach.objects.filter(code="R2").update(name=long_name)
    layer_export(target="reaches", path=tmp_path / "reaches.shp")
    names = {f.get("code"): f.get("name") for f in DataSource(tmp_path / "reaches.shp")[0]}
    assert names["R2"] == long_name


def test_shapefile_round_trip_through_load_layer(network, tmp_path):
    originals = {
        r.code: (r.name, r.level, r.river.name, r.geom.clone(), r.is_cross_district) for r in Reach.objects.all()
    }
    layer_export(target="reaches", path=tmp_path / "out" / "reaches.shp")
    Reach.objects.all().delete()
    River.objects.all().delete()

    # The exported fields carry our own names: no --map is needed to read them back.
    report = layer_load(tmp_path / "out" / "reaches.shp", target="reaches")
    assert report.created["reaches"] == 2
    loaded = {r.code: r for r in Reach.objects.all()}
    assert loaded.keys() == originals.keys()
    for code, (name, level, river, geom, cross) in originals.items():
        reach = loaded[code]
        assert (reach.name, reach.level, reach.river.name, reach.is_cross_district) == (name, level, river, cross)
        points = vertices(reach.geom)
        assert len(points) == len(vertices(geom))
        for got, original in zip(points, vertices(geom), strict=True):
            assert ground_distance_m(got, original) < 1.0


def test_round_trip_of_a_route(network, tmp_path):
    layer_export(target="routes", path=tmp_path / "routes.shp")
    PatrolRoute.objects.all().delete()
    layer_load(tmp_path / "routes.shp", target="routes")
    route = PatrolRoute.objects.get(code="RT1")
    assert (route.name, route.district.code) == ("甲区巡河路线", "990001")
    assert_same_place(route.geom, [(1_000, 1_000), (4_000, 1_500)])


def test_export_overwrites_an_earlier_export(network, tmp_path):
    path = tmp_path / "reaches.shp"
    layer_export(target="reaches", path=path)
    Reach.objects.filter(code="R2").delete()
    path.with_suffix(".qix").write_bytes(b"stale spatial index")
    assert layer_export(target="reaches", path=path).count == 1
    assert len(DataSource(path)[0]) == 1
    assert not path.with_suffix(".qix").exists()


def test_empty_layer(db, tmp_path):
    assert layer_export(target="reaches", path=tmp_path / "none.geojson").count == 0
    assert json.loads((tmp_path / "none.geojson").read_text()) == {"type": "FeatureCollection", "features": []}
    with pytest.raises(ExportError, match="nothing to export"):
        layer_export(target="reaches", path=tmp_path / "none.shp")


def test_command_exports_both_formats(network, tmp_path):
    out = StringIO()
    call_command("export_layer", "--target", "waterbodies", "--format", "geojson", str(tmp_path / "w.json"), stdout=out)
    assert "已导出 exported 1 waterbodies" in out.getvalue()
    feature = json.loads((tmp_path / "w.json").read_text("utf-8"))["features"][0]
    assert feature["properties"]["code"] == "W1" and feature["geometry"]["type"] == "MultiPolygon"

    call_command("export_layer", "--target", "districts", str(tmp_path / "d.shp"), stdout=StringIO())
    assert sorted(f.get("code") for f in DataSource(tmp_path / "d.shp")[0]) == ["990000", "990001", "990002"]

    with pytest.raises(CommandError, match=r"must end in \.shp"):
        call_command("export_layer", "--target", "reaches", "--format", "shapefile", str(tmp_path / "r.zip"))
