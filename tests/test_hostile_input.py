"""Hostile input (issue 7 §5): every attack gets a 400 or 404 with a message, and nothing is written.

The small city of tests.clues.conftest: 甲区 990001 (0–10 km east of 106°E 29°N), INSIDE a reach
2→8 km east at 1 km north.
"""

from __future__ import annotations

import math
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.urls import URLPattern, URLResolver, get_resolver

from clues.models import Clue, ClueEvent
from patrols.models import Finding
from tests.clues import conftest as clue_world
from tests.clues.conftest import client_for, location
from tests.clues.test_registration import body as clue_body
from tests.factories import at

people = clue_world.people  # the fixture: the small city's users of each role and its reaches

# --- helpers ----------------------------------------------------------------------------------------


def finding_body(**overrides) -> dict:
    values = {
        "client_uuid": str(uuid.uuid4()),
        "category": "illegal_fishing",
        "description": "电鱼",
        "location": location(4_000, 1_050),
    }
    return {**values, **overrides}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_nothing_written() -> None:
    assert not Clue.objects.exists() and not ClueEvent.objects.exists() and not Finding.objects.exists()


def message_of(response) -> str:  # noqa: ANN001
    return str(response.json())


# --- JSON nested thousands deep --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/clues/", "/api/v1/findings/"])
@pytest.mark.parametrize(
    "raw",
    [
        nested(5_000),
        '{"description": ' + nested(5_000) + "}",
        '{"client_uuid": "'
        + str(uuid.UUID(int=1))
        + '", "location": {"type": "Point", "coordinates": '
        + nested(100_000)
        + "}}",
    ],
    ids=["bare", "in-a-field", "in-the-location"],
)
def test_json_nested_too_deep_is_400(people, url, raw):
    response = client_for(people["west_patrol"]).post(url, raw, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "JSON" in message_of(response)
    assert_nothing_written()


def test_json_depth_limit_is_a_setting_and_brackets_in_strings_do_not_count(people, settings):
    settings.API_JSON_MAX_DEPTH = 3
    client = client_for(people["west_patrol"])
    deep = client.post("/api/v1/clues/", '{"location": {"coordinates": [[[1]]]}}', content_type="application/json")
    assert deep.status_code == 400 and "3" in message_of(deep)
    # A description full of brackets is text, not nesting: registered as usual.
    text = '[[[[{{{{ 河道 ]]]] \\" [[[['
    registered = client.post("/api/v1/clues/", clue_body(description=text), format="json")
    assert registered.status_code == 201, registered.json()
    assert Clue.objects.get().description == text


def test_json_body_over_the_size_cap_is_400(people, settings):
    settings.API_JSON_MAX_BYTES = 1_000
    response = client_for(people["west_patrol"]).post(
        "/api/v1/clues/", clue_body(description="长" * 2_000), format="json"
    )
    assert response.status_code == 400 and "1000" in message_of(response)
    assert_nothing_written()


def test_gpx_endpoint_json_body_is_bounded_too(people):
    from patrols.models import Patrol

    client = client_for(people["west_patrol"])
    started = client.post(
        "/api/v1/patrols/", {"client_uuid": str(uuid.uuid4()), "kind": "routine", "district": "990001"}, format="json"
    )
    assert started.status_code == 201, started.json()
    patrol = Patrol.objects.get()
    response = client.post(f"/api/v1/patrols/{patrol.pk}/gpx/", nested(5_000), content_type="application/json")
    assert response.status_code == 400


# --- control characters in query strings and paths ------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/clues/?q=%00",
        "/api/v1/clues/?district=%00",
        "/api/v1/clues/?reach=ab%00cd",
        "/api/v1/clues/geojson/?q=%00",
        "/api/v1/districts/?level=%00",
        "/api/v1/reaches/?bbox=%00",
        "/api/v1/findings/?anything=%01",
        "/api/v1/figures/?from=%00",
        "/api/v1/compliance/?district=%00",
        "/api/v1/routing/?lon=%00&lat=29",
        "/api/v1/clues/?%00=1",
        "/api/v1/reaches/%00/",
        "/api/v1/districts/99%00/",
    ],
)
def test_control_characters_in_query_or_path_are_400(people, url):
    response = client_for(people["west_ro"]).get(url)
    assert response.status_code == 400, (url, response.content[:200])
    assert "NUL" in response.json()["detail"]


def test_control_characters_are_refused_before_any_write(people):
    response = client_for(people["west_ro"]).post("/api/v1/clues/?q=%00", clue_body(), format="json")
    assert response.status_code == 400
    assert_nothing_written()


def test_text_with_nul_in_the_body_is_400(people):
    response = client_for(people["west_ro"]).post("/api/v1/clues/", clue_body(description="a\x00b"), format="json")
    assert response.status_code == 400 and "description" in response.json()
    assert_nothing_written()


# --- pagination -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/districts/", "/api/v1/clues/", "/api/v1/clues/geojson/", "/api/v1/reaches/"])
@pytest.mark.parametrize(
    "query",
    [
        "limit=99999999999999999999",
        "offset=99999999999999999999",
        "limit=99999999999999999999&offset=99999999999999999999",
        "limit=-5&offset=-1",
        "limit=" + "9" * 5_000,
        "limit=1e400",
    ],
)
def test_any_limit_and_offset_answer_a_page(people, url, query):
    response = client_for(people["west_ro"]).get(f"{url}?{query}")
    assert response.status_code == 200, (query, response.content[:300])


def test_limit_is_clamped_to_the_maximum_page_size(people, settings):
    settings.API_MAX_PAGE_SIZE = 2
    response = client_for(people["west_ro"]).get("/api/v1/districts/?limit=99999999999999999999")
    body = response.json()
    assert body["count"] == 3 and len(body["results"]["features"]) == 2  # 测试市, 甲区, 乙区; two per page


# --- ids in URLs ------------------------------------------------------------------------------------


ID_KWARGS = ("(?P<pk>[0-9]+)", "(?P<pk>[^/.]+)", "<int:pk>", "<int:finding_id>")


def detail_routes() -> list[str]:
    """Return every API route that takes a row's id, with `{id}` in its place (format suffixes left out)."""
    routes = set()

    def walk(patterns, prefix: str) -> None:  # noqa: ANN001
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text)
                continue
            if not isinstance(pattern, URLPattern) or not text.startswith("api/v1/") or "(?P<format>" in text:
                continue
            for kwarg in ID_KWARGS:
                if kwarg in text:
                    route = text.replace(kwarg, "{id}").replace("(?P<step>[a-z_]+)", "send")
                    routes.add("/" + route.replace("^", "").replace("$", ""))

    walk(get_resolver().url_patterns, "")
    return sorted(routes)


def test_every_id_route_is_found():
    routes = detail_routes()
    for expected in ("/api/v1/suggestions/{id}/reply/", "/api/v1/clues/{id}/", "/api/v1/findings/{id}/photos/"):
        assert expected in routes, routes


@pytest.mark.parametrize("bad_id", ["abc", "99999999999999999999", "1.5", "-1", "%00"])
def test_non_numeric_or_huge_ids_are_404(people, bad_id):
    client = client_for(people["west_ro"])
    for route in detail_routes():
        url = route.replace("{id}", bad_id)
        for method in (client.get, client.post):
            response = method(url, {}, format="json")
            assert response.status_code in (400, 404, 405), (url, method.__name__, response.status_code)
    assert_nothing_written()


def test_suggestion_reply_with_a_word_for_an_id_is_404(people):
    assert client_for(people["west_ro"]).post("/api/v1/suggestions/abc/reply/", {"text": "x"}).status_code == 404


# --- GeoJSON crs -------------------------------------------------------------------------------------


def named_crs(name: str) -> dict:
    return {"type": "name", "properties": {"name": name}}


def web_mercator(lon: float, lat: float) -> tuple[float, float]:
    """EPSG:3857 x/y of a WGS84 lon/lat, by the spherical Mercator formula (R = 6378137 m)."""
    radius = 6_378_137.0
    return radius * math.radians(lon), radius * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


@pytest.mark.parametrize("url", ["/api/v1/clues/", "/api/v1/findings/"])
@pytest.mark.parametrize("crs_name", ["EPSG:3857", "urn:ogc:def:crs:EPSG::3857", "EPSG:4545", "EPSG:4490"])
def test_a_supported_crs_is_transformed_to_wgs84(people, url, crs_name):
    lon, lat = at(4_000, 1_050)  # in 甲区, 50 m from INSIDE
    if "3857" in crs_name:
        x, y = web_mercator(lon, lat)
    elif "4545" in crs_name:  # CGCS2000 / 3-degree Gauss-Krüger CM 108E, computed by GDAL
        projected = Point(lon, lat, srid=4326)
        projected.transform(4545)
        x, y = projected.x, projected.y
        assert 200_000 < x < 500_000 and 3_000_000 < y < 3_400_000  # west of 108°E, ~3,200 km north
    else:  # CGCS2000 lon/lat: the same numbers as WGS84 to within centimetres
        x, y = lon, lat
    body = (clue_body if "clues" in url else finding_body)(
        location={"type": "Point", "coordinates": [x, y], "crs": named_crs(crs_name)}
    )
    response = client_for(people["west_patrol"]).post(url, body, format="json")
    assert response.status_code == 201, response.json()
    stored = (Clue if "clues" in url else Finding).objects.get().geom
    assert stored.srid == 4326
    assert stored.x == pytest.approx(lon, abs=1e-7) and stored.y == pytest.approx(lat, abs=1e-7)
    assert response.json()["location"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)


@pytest.mark.parametrize("url", ["/api/v1/clues/", "/api/v1/findings/"])
@pytest.mark.parametrize(
    "crs, coordinates, named",
    [
        (named_crs("EPSG:2000"), [106.1, 29.0], "EPSG:2000"),  # a real CRS, but not one the API takes
        (named_crs("EPSG:99999999999999999999"), [106.1, 29.0], "EPSG:99999999999999999999"),
        (named_crs("WGS 84 please"), [106.1, 29.0], "WGS 84 please"),
        ({"type": "link", "properties": {"href": "http://example.com/crs"}}, [106.1, 29.0], "crs"),
        ("EPSG:3857", [106.1, 29.0], "crs"),
        (5, [106.1, 29.0], "crs"),
        (named_crs("EPSG:3857"), [1e20, 1e20], "EPSG:3857"),  # PROJ spins on this: refused before
        (named_crs("EPSG:3857"), [1e8, 3_376_000], "EPSG:3857"),  # outside the projection: would wrap round
        (named_crs("EPSG:4490"), [200.0, 29.0], "经度"),  # transformed, then range-checked
        (named_crs("EPSG:4545"), [1e9, 3_200_000], "EPSG:4545"),
    ],
)
def test_an_unsupported_or_out_of_range_crs_point_is_400(people, url, crs, coordinates, named):
    body = (clue_body if "clues" in url else finding_body)(
        location={"type": "Point", "coordinates": coordinates, "crs": crs}
    )
    response = client_for(people["west_patrol"]).post(url, body, format="json")
    assert response.status_code == 400, response.json()
    assert named in str(response.json()["location"])
    assert_nothing_written()


def test_coordinates_too_large_for_a_float_are_400(people):
    raw = clue_body()
    raw["location"] = {"type": "Point", "coordinates": [10**400, 29]}
    import json

    response = client_for(people["west_patrol"]).post(
        "/api/v1/clues/", json.dumps(raw), content_type="application/json"
    )
    assert response.status_code == 400 and "location" in response.json()
    assert_nothing_written()


# --- declared types only -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("description", 12345),
        ("description", ["a"]),
        ("client_uuid", 5),
        ("client_uuid", "5"),
        ("client_uuid", 2**100),
        ("client_uuid", "12345678123456781234567812345678"),  # hex digits without the dashes
        ("confidential", "yes"),
        ("confidential", 1),
        ("confidential", "true"),
        ("category", 5),
        ("source", 12345),
        ("agency", 990001),
    ],
)
def test_clue_fields_accept_only_their_declared_json_type(people, field, value):
    response = client_for(people["west_ro"]).post("/api/v1/clues/", clue_body(**{field: value}), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert_nothing_written()


@pytest.mark.parametrize(
    "field, value",
    [("description", 12345), ("client_uuid", 5), ("patrol", True), ("agency", 1), ("found_at", 1_700_000_000)],
)
def test_finding_fields_accept_only_their_declared_json_type(people, field, value):
    response = client_for(people["west_patrol"]).post(
        "/api/v1/findings/", finding_body(**{field: value}), format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert_nothing_written()


def test_forms_and_query_strings_keep_their_text_spellings(people):
    """Text-only input (a multipart form, a query string) still reads "true" and "29.0"."""
    client = client_for(people["west_ro"])
    form = clue_body(confidential="true")
    form["location"] = None  # a form cannot carry a GeoJSON object: refused for that, not for the boolean
    response = client.post("/api/v1/clues/", {k: v for k, v in form.items() if v is not None})
    assert "confidential" not in response.json()
    lon, lat = at(4_000, 1_050)
    assert client.get("/api/v1/routing/", {"lon": str(lon), "lat": str(lat)}).status_code == 200


def test_every_writable_field_of_the_projects_serializers_is_strict():
    """The strict base is applied project-wide: no serializer of ours reads input through DRF's lenient fields."""
    import importlib

    from rest_framework import fields as drf_fields
    from rest_framework import relations as drf_relations
    from rest_framework import serializers as drf_serializers

    from config.api_input import serializers as strict

    importlib.import_module("config.api")  # every viewset, so every serializer class is defined
    importlib.import_module("gis_data.export")
    lenient = tuple(strict.STRICT_MAPPING)
    project = ("clues.", "patrols.", "rivers.", "gis_data.", "config.", "frontend.")

    def subclasses(cls):  # noqa: ANN001, ANN202
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    def writable(field, path: str):  # noqa: ANN001, ANN202
        if field.read_only:
            return
        if isinstance(field, drf_serializers.ListSerializer):
            yield from writable(field.child, path + "[]")
        elif isinstance(field, drf_serializers.Serializer):
            for name, child in field.fields.items():
                yield from writable(child, f"{path}.{name}")
        elif isinstance(field, drf_fields.ListField | drf_relations.ManyRelatedField):
            yield from writable(getattr(field, "child", None) or field.child_relation, path + "[]")
        else:
            yield path, field

    offenders = []
    checked = 0
    for cls in set(subclasses(drf_serializers.Serializer)):
        if not cls.__module__.startswith(project) or cls.__module__ == strict.__name__:
            continue
        for path, field in writable(cls(), cls.__qualname__):
            checked += 1
            if isinstance(field, lenient) and not isinstance(field, strict_types()):
                offenders.append(f"{cls.__module__}.{path}: {type(field).__name__} from {type(field).__module__}")
    assert checked > 30
    assert not offenders, "\n".join(offenders)


def strict_types() -> tuple[type, ...]:
    from config.api_input import serializers as strict

    return tuple(strict.STRICT_MAPPING.values())


# --- registration lists the nearest few duplicates ------------------------------------------------------


def test_registration_answers_the_nearest_duplicates_and_their_count(people, settings):
    settings.DUPLICATES_SHOWN = 3
    client = client_for(people["west_ro"])
    # Eight earlier clues on INSIDE, 20 m, 40 m … 160 m east of the new one (INSIDE runs east-west at 1 km north).
    earlier = {}
    for step in range(8, 0, -1):
        body = client.post("/api/v1/clues/", clue_body(location=location(4_000 + 20 * step, 1_000)), format="json")
        earlier[20 * step] = body.json()["code"]
    response = client.post("/api/v1/clues/", clue_body(location=location(4_000, 1_000)), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["possible_duplicates_count"] == 8
    assert [d["code"] for d in body["possible_duplicates"]] == [earlier[20], earlier[40], earlier[60]]
    assert [round(d["distance_m"]) for d in body["possible_duplicates"]] == [20, 40, 60]  # within 1 m
    # The full list stays one GET away, nearest first.
    everything = client.get(f"/api/v1/clues/{body['id']}/duplicates/").json()
    assert [d["code"] for d in everything] == [earlier[20 * step] for step in range(1, 9)]


def test_duplicates_are_ranked_by_metres_not_degrees(people):
    """At 29°N a degree of longitude is ~12 % shorter than one of latitude: the ranking uses metres."""
    client = client_for(people["west_ro"])
    # 100 m east is 0.001027° of longitude, 105 m north 0.000948° of latitude (tests.factories'
    # metres per degree): in degrees the northern clue looks nearer, on the ground the eastern one is.
    east = client.post("/api/v1/clues/", clue_body(location=location(4_100, 1_000)), format="json").json()
    north = client.post("/api/v1/clues/", clue_body(location=location(4_000, 1_105)), format="json").json()
    new = client.post("/api/v1/clues/", clue_body(location=location(4_000, 1_000)), format="json").json()
    assert [d["code"] for d in new["possible_duplicates"]] == [east["code"], north["code"]]
    assert new["possible_duplicates_count"] == 2


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/focus/", {"district": "\x00", "year": 2026, "items": [{"category": "obstruction"}]}),
        ("/api/v1/work-plans/", {"district": "9900\x0001", "year": 2026, "content": "要点"}),
        ("/api/v1/clues/", {**clue_body(), "agency": "990001-RCO\x00"}),
    ],
)
def test_nul_in_json_text_that_is_looked_up_is_400(people, url, body):
    response = client_for(people["west_liaison"]).post(url, body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "NUL" in str(response.json())
    assert_nothing_written()
