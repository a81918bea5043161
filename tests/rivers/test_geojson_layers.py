"""The layers' lists as FeatureCollections written by PostgreSQL (rivers.geojson, issue 10 item 4).

Each list must answer what DRF-gis answered before (rivers.serializers, still used by the detail
endpoints): the same envelope, the same features and properties in the same order, the same filters and
pages; only the coordinates are rounded to 6 decimals.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from rivers.crossing import network_recompute_all
from rivers.filters import BboxFilter, DistrictFilter
from rivers.models import District, Reach, WaterBody
from rivers.serializers import DistrictSerializer, ReachSerializer, WaterBodySerializer
from tests.factories import at, box, line, reach, water_body

LAYERS = {
    "reaches": (Reach.objects.select_related("river").prefetch_related("districts"), ReachSerializer),
    "waterbodies": (WaterBody.objects.prefetch_related("districts"), WaterBodySerializer),
    "districts": (District.objects.select_related("parent"), DistrictSerializer),
}


@pytest.fixture
def network(world):
    reach("CROSS", line((5_000, 5_000), (15_000, 5_000)), level="district", river="綦江")
    reach("INSIDE", line((2_000, 1_000), (8_000, 1_000)))
    reach("POKE", line((8_000, 3_000), (10_040, 3_000)))
    for i in range(12):
        reach(f"SMALL{i:02d}", line((1_000, 2_000 + i * 20), (2_000.123456789, 2_000 + i * 20)))
    water_body("LAKE", box(12_000, 2_000, 12_500, 2_500))
    water_body("POND", box(1_000, 6_000, 1_200, 6_300))
    network_recompute_all()


def rounded(value, places: int = 6):  # noqa: ANN001, ANN201 - decoded JSON
    """Return decoded JSON with every float rounded (coordinates) to `places` decimals."""
    if isinstance(value, float):
        return round(value, places)
    if isinstance(value, list):
        return [rounded(item, places) for item in value]
    if isinstance(value, dict):
        return {key: rounded(item, places) for key, item in value.items()}
    return value


def drf_gis_answer(layer: str, params: dict) -> dict:
    """Return the list as the DRF-gis viewset answered it before issue 10 (its serializer, filters, pages)."""
    queryset, serializer_class = LAYERS[layer]
    request = APIRequestFactory().get(f"/api/v1/{layer}/", params)
    request = Request(request)
    for backend in (BboxFilter, DistrictFilter) if layer != "districts" else (BboxFilter,):
        queryset = backend().filter_queryset(request, queryset, None)
    if layer == "districts" and params.get("level"):
        queryset = queryset.filter(level=params["level"])
    paginator = LimitOffsetPagination()
    paginator.default_limit = 500
    paginator.max_limit = 1000
    page = paginator.paginate_queryset(queryset, request)
    body = paginator.get_paginated_response(serializer_class(page, many=True).data).data
    return json.loads(json.dumps(body))


CASES = [
    ("reaches", {}),
    ("reaches", {"district": "990002"}),
    ("reaches", {"district": "990000"}),
    ("reaches", {"limit": "5", "offset": "3"}),
    ("reaches", {"limit": "5", "offset": "100"}),
    ("waterbodies", {}),
    ("waterbodies", {"district": "990002"}),
    ("districts", {}),
    ("districts", {"level": "district", "limit": "1"}),
]


@pytest.mark.parametrize(("layer", "params"), CASES)
def test_the_list_answers_what_drf_gis_answered(api, network, layer, params):
    response = api.get(f"/api/v1/{layer}/", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    old = drf_gis_answer(layer, params)
    # The same keys in the same order, everywhere (json keeps the order PostgreSQL wrote).
    assert list(body) == ["count", "next", "previous", "results"]
    assert [list(feature) for feature in body["results"]["features"]] == [
        list(feature) for feature in old["results"]["features"]
    ]
    assert [list(f["properties"]) for f in body["results"]["features"]] == [
        list(f["properties"]) for f in old["results"]["features"]
    ]
    assert (body["next"], body["previous"]) == (old["next"], old["previous"])
    assert rounded(body) == rounded(old)


def test_the_list_with_a_bbox_answers_what_drf_gis_answered(api, network):
    # A box around 甲区's south-west corner (1–3 km east, 0.5–2.5 km north): INSIDE and the SMALL reaches.
    west_lon, south_lat = at(1_000, 500)
    east_lon, north_lat = at(3_000, 2_500)
    params = {"bbox": f"{west_lon},{south_lat},{east_lon},{north_lat}", "limit": "10"}
    body = api.get("/api/v1/reaches/", params).json()
    assert body["count"] == 13 and len(body["results"]["features"]) == 10
    assert rounded(body) == rounded(drf_gis_answer("reaches", params))


def test_coordinates_have_six_decimals(api, network):
    body = api.get("/api/v1/reaches/", {"limit": "100"}).json()
    coordinates = [
        c for f in body["results"]["features"] for part in f["geometry"]["coordinates"] for point in part for c in point
    ]
    assert coordinates and all(round(c, 6) == c for c in coordinates)
    assert any(round(c, 5) != c for c in coordinates)


def test_an_empty_page_is_an_empty_collection(api, network):
    west_lon, south_lat = at(-9_000, -9_000)
    east_lon, north_lat = at(-8_000, -8_000)
    body = api.get("/api/v1/reaches/", {"bbox": f"{west_lon},{south_lat},{east_lon},{north_lat}"}).json()
    empty = {"type": "FeatureCollection", "features": []}
    assert body == {"count": 0, "next": None, "previous": None, "results": empty}


@pytest.mark.parametrize("layer", ["reaches", "waterbodies", "districts"])
def test_the_list_is_one_statement_whatever_the_page(api, network, layer):
    counts = {}
    for size in (1, 100):
        with CaptureQueriesContext(connection) as captured:
            assert api.get(f"/api/v1/{layer}/", {"limit": str(size)}).status_code == 200
        layer_queries = [q["sql"] for q in captured.captured_queries if "FeatureCollection" in q["sql"]]
        assert len(layer_queries) == 1
        counts[size] = len(captured.captured_queries)
    assert counts[1] == counts[100]


def test_the_schema_still_documents_the_list_as_paged_geojson(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    for path in ("/api/v1/reaches/", "/api/v1/waterbodies/", "/api/v1/districts/"):
        get = schema["paths"][path]["get"]
        assert "6 decimals" in get["description"]
        ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        paginated = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert {"count", "next", "previous", "results"} <= set(paginated["properties"])
