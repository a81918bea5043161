"""The network API: routing (DESIGN §6 fixed shape), GeoJSON layers with bbox, schema, tiles, auth."""

import math

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from rivers.crossing import network_recompute_all
from tests.factories import at, box, line, reach, water_body

FIXED_ROUTING_KEYS = ["district", "reach", "procuratorate", "reason", "copies"]


@pytest.fixture
def network(world):
    reach("CROSS", line((5_000, 5_000), (15_000, 5_000)), level="district")
    reach("INSIDE", line((2_000, 1_000), (8_000, 1_000)))
    network_recompute_all()


def test_routing_answer_has_the_fixed_shape(api, network):
    lon, lat = at(7_000, 5_020)
    response = api.get("/api/v1/routing/", {"lon": lon, "lat": lat})
    assert response.status_code == 200
    body = response.json()
    # The fixed interface, exactly; the preview's additions (issue 8) follow it.
    assert {key: body[key] for key in FIXED_ROUTING_KEYS} == {
        "district": {"code": "990001", "name": "甲区"},
        "reach": {"code": "CROSS", "name": "测试河CROSS", "is_cross_district": True, "districts": ["990001", "990002"]},
        "procuratorate": {"code": "990000-PROC", "name": "测试市人民检察院"},
        "reason": "cross_district",
        "copies": ["990001-PROC", "990002-PROC"],
    }
    assert set(body) == {*FIXED_ROUTING_KEYS, "reach_distance_m", "warnings"}
    # 20 m north of CROSS, 3 km from the 甲区/乙区 boundary: nothing to warn about. PostGIS measures
    # 19.3 m: between its ends CROSS is a geodesic, which bows ~0.7 m poleward of the parallel here.
    assert body["reach_distance_m"] == pytest.approx(20, abs=1)
    assert body["warnings"] == []


def test_routing_with_no_reach_nearby(api, network):
    lon, lat = at(15_000, 9_000)
    body = api.get("/api/v1/routing/", {"lon": lon, "lat": lat}).json()
    assert body["reach"] is None
    assert body["reason"] == "district"
    assert body["procuratorate"]["code"] == "990002-PROC"
    assert body["copies"] == []
    assert body["reach_distance_m"] is None
    assert body["warnings"] == [
        {
            "code": "no_reach",
            "message": "200 米内没有河段或水体 / no reach or water body within 200 m",
            "snap_tolerance_m": 200.0,
        }
    ]


def test_routing_warns_near_another_districts_boundary(api, network, settings):
    # 12 m west of the 甲区/乙区 boundary (10 km east), 1 km south of CROSS: inside 甲区, within the
    # 30 m boundary buffer of 乙区. The distance is the 12 m set here (metres_east at 29°N).
    lon, lat = at(10_000 - 12, 4_000)
    body = api.get("/api/v1/routing/", {"lon": lon, "lat": lat}).json()
    assert body["district"]["code"] == "990001"
    near = [warning for warning in body["warnings"] if warning["code"] == "near_boundary"]
    assert len(near) == 1
    assert near[0]["district"] == {"code": "990002", "name": "乙区"}
    assert near[0]["buffer_m"] == 30.0
    assert near[0]["distance_m"] == pytest.approx(12, abs=0.5)
    assert "乙区" in near[0]["message"] and "30 m" in near[0]["message"]
    # No reach within 200 m of that point either.
    assert [warning["code"] for warning in body["warnings"]] == ["near_boundary", "no_reach"]

    # 60 m from the boundary is outside the buffer; the setting moves the line.
    lon, lat = at(10_000 - 60, 4_000)
    assert api.get("/api/v1/routing/", {"lon": lon, "lat": lat}).json()["warnings"][0]["code"] == "no_reach"
    settings.BOUNDARY_BUFFER_M = 100.0
    body = api.get("/api/v1/routing/", {"lon": lon, "lat": lat}).json()
    assert body["warnings"][0]["code"] == "near_boundary"
    assert body["warnings"][0]["buffer_m"] == 100.0


def test_routing_warns_of_the_nearest_district_from_outside_every_district(api, network):
    # 10 m north of 乙区's northern edge (10 km north): in the city, in no district.
    lon, lat = at(15_000, 10_010)
    body = api.get("/api/v1/routing/", {"lon": lon, "lat": lat}).json()
    assert body["district"] is None
    assert [w["district"]["code"] for w in body["warnings"] if w["code"] == "near_boundary"] == ["990002"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "29.1"}, "lon"),
        ({"lon": "106.1"}, "lat"),
        ({"lon": "181", "lat": "29"}, "lon"),
        ({"lon": "106", "lat": "-91"}, "lat"),
        ({"lon": "NaN", "lat": "29"}, "lon"),
        ({"lon": "106", "lat": "inf"}, "lat"),
        ({"lon": "东经106", "lat": "29"}, "lon"),
    ],
)
def test_routing_refuses_bad_coordinates_with_400(api, network, params, field):
    response = api.get("/api/v1/routing/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_routing_when_no_agency_serves_the_point(api, world):
    world["west"].agencies.all().delete()
    lon, lat = at(1_000, 1_000)
    response = api.get("/api/v1/routing/", {"lon": lon, "lat": lat})
    assert response.status_code == 404
    assert "procuratorate" in response.json()["detail"]


@pytest.mark.parametrize(
    "url", ["/api/v1/routing/?lon=106&lat=29", "/api/v1/reaches/", "/api/v1/districts/", "/tiles/reaches/0/0/0.pbf"]
)
def test_anonymous_requests_are_refused(network, url):
    assert APIClient().get(url).status_code == 401


def test_token_authentication(network, member):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=member("tok", "990002-RCO", "river_office"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/reaches/").status_code == 200


def test_reaches_geojson_with_bbox(api, network):
    everything = api.get("/api/v1/reaches/").json()
    assert everything["count"] == 2
    west_lon, south_lat = at(1_000, 500)
    east_lon, north_lat = at(3_000, 1_500)
    body = api.get("/api/v1/reaches/", {"bbox": f"{west_lon},{south_lat},{east_lon},{north_lat}"}).json()
    collection = body["results"]
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in collection["features"]] == ["INSIDE"]
    feature = collection["features"][0]
    assert feature["geometry"]["type"] == "MultiLineString"
    assert feature["properties"]["districts"] == ["990001"]
    assert feature["properties"]["length_m"] == pytest.approx(6_000, rel=0.005)


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "106,29,105,30", "106,29,181,30", "nan,29,106,30"])
def test_bad_bbox_is_400(api, network, bbox):
    response = api.get("/api/v1/reaches/", {"bbox": bbox})
    assert response.status_code == 400
    assert "bbox" in response.json()


def test_reaches_and_water_bodies_of_a_district_for_the_offline_cache(api, network):
    # POKE runs 8 km → 10.04 km east at 3 km north: 40 m into 乙区, too little to lie in it
    # (40 m + the 30 m boundary zone < CROSS_MIN_LENGTH_M), but it crosses 乙区's outline.
    reach("POKE", line((8_000, 3_000), (10_040, 3_000)))
    water_body("LAKE", box(12_000, 2_000, 12_500, 2_500))
    network_recompute_all()

    def codes(layer: str, district: str) -> list[str]:
        response = api.get(f"/api/v1/{layer}/", {"district": district})
        assert response.status_code == 200, response.content
        return sorted(f["properties"]["code"] for f in response.json()["results"]["features"])

    assert api.get("/api/v1/reaches/POKE/").json()["properties"]["districts"] == ["990001"]
    assert codes("reaches", "990001") == ["CROSS", "INSIDE", "POKE"]
    assert codes("reaches", "990002") == ["CROSS", "POKE"]
    assert codes("reaches", "990000") == ["CROSS", "INSIDE", "POKE"]
    assert codes("waterbodies", "990001") == []
    assert codes("waterbodies", "990002") == ["LAKE"]
    unknown = api.get("/api/v1/reaches/", {"district": "999999"})
    assert unknown.status_code == 400 and "district" in unknown.json()


def test_the_district_filter_takes_a_fixed_number_of_queries(api, network):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/reaches/", {"district": "990001"}).status_code == 200
        return len(captured)

    few = queries()
    for i in range(20):
        reach(f"MORE{i:02d}", line((1_000, 2_000 + i * 20), (2_000, 2_000 + i * 20)))
    network_recompute_all()
    assert queries() == few


def test_categories_with_their_labels(api):
    body = api.get("/api/v1/categories/").json()
    assert len(body) == 17
    assert body[0] == {"code": "water_resources", "label": "水资源保护"}
    assert body[-1] == {"code": "other", "label": "其他"}


def test_districts_and_water_bodies(api, network):
    districts = api.get("/api/v1/districts/", {"level": "district"}).json()["results"]["features"]
    assert sorted(f["properties"]["code"] for f in districts) == ["990001", "990002"]
    assert districts[0]["properties"]["parent"] == "990000"
    assert api.get("/api/v1/waterbodies/").status_code == 200
    assert api.get("/api/v1/reaches/CROSS/").json()["properties"]["is_cross_district"] is True


def test_openapi_schema(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/routing/" in paths and "/api/v1/reaches/" in paths


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the XYZ (slippy-map) tile containing lon/lat, by the Web Mercator formula."""
    n = 2**z
    phi = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n)


def test_vector_tiles(network, member):
    client = APIClient()
    client.force_login(member("viewer", "990001-RCO", "river_office"))
    x, y = tile_of(*at(7_000, 5_000), z=10)  # a tile on CROSS
    response = client.get(f"/tiles/reaches/10/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert b"reaches" in response.content and b"CROSS" in response.content
    empty = client.get("/tiles/reaches/10/0/0.pbf")
    assert empty.status_code == 200 and empty.content == b""
    assert client.get(f"/tiles/nothing/10/{x}/{y}.pbf").status_code == 404
    assert client.get("/tiles/reaches/3/8/0.pbf").status_code == 404


def test_add_member_command(world):
    from django.contrib.auth import get_user_model

    call_command("add_member", "lin", "--agency", "990001-PROC", "--role", "prosecutor", "--password", "s3cret-pass")
    call_command("add_member", "lin", "--agency", "990001-LIAISON", "--role", "liaison")
    call_command("add_member", "lin", "--agency", "990001-PROC", "--role", "prosecutor")
    user = get_user_model().objects.get(username="lin")
    assert user.check_password("s3cret-pass")
    assert sorted(user.memberships.values_list("agency__code", "role")) == [
        ("990001-LIAISON", "liaison"),
        ("990001-PROC", "prosecutor"),
    ]
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="unknown agency"):
        call_command("add_member", "lin", "--agency", "NOPE", "--role", "prosecutor")
