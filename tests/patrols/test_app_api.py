"""What the patrol app reads (issue 8): who I am, whom I can take on a patrol, my tracks, planned routes.

The synthetic city of tests.factories with the people of tests.clues.conftest: 甲区 990001 has a river
office (west_patrol, west_ro), a procuratorate (west_proc), a liaison office (west_liaison) and a
responsible unit with no members; 乙区 990002 has east_ro and east_proc; the city 990000 city_ro, city_proc.
"""

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import LineString
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from patrols.models import Patrol, PatrolParticipant, PatrolRoute
from rivers.members import member_add
from rivers.models import Agency
from tests.factories import at, metres_east, metres_north
from tests.patrols.conftest import client_for


def query_count(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
        assert response.status_code == 200, response.content
    return len(captured)


# --- me --------------------------------------------------------------------------------------------


def test_me_names_my_agencies_abilities_and_home_district(people):
    user = people["west_liaison"]
    user.first_name, user.last_name = "联络", "员"
    user.save()
    body = client_for(user).get("/api/v1/me/").json()
    assert body["id"] == user.pk and body["username"] == "west_liaison"
    assert body["name"] == "联络 员"
    assert body["agencies"] == [
        {
            "code": "990001-LIAISON",
            "name": "甲区人民检察院派驻甲区河长办公室检察联络室",
            "kind": "liaison_office",
            "kind_label": "派驻检察联络室 Liaison office",
            "role": "liaison",
            "role_label": "联络员 Liaison officer",
            "side": "procuratorate",
            "district": {"code": "990001", "name": "甲区", "level": "district"},
        }
    ]
    # 甲区 is the box 0–10 km east, 0–10 km north of 106°E 29°N (tests.factories.two_district_world).
    home = body["home_district"]
    assert home["code"] == "990001"
    assert home["bbox"] == pytest.approx([106.0, 29.0, 106.0 + metres_east(10_000), 29.0 + metres_north(10_000)])
    assert body["may"] == {
        "start_patrol": True,
        "record_finding": True,
        "register_clue": True,
        "make_clue_from_finding": True,
        "set_focus": True,
    }
    assert client_for(people["west_ro"]).get("/api/v1/me/").json()["may"]["set_focus"] is False


def test_me_without_an_agency_may_do_nothing(people):
    nobody = get_user_model().objects.create_user("nobody")
    body = client_for(nobody).get("/api/v1/me/").json()
    assert body["agencies"] == [] and body["home_district"] is None
    assert not any(body["may"].values())
    assert APIClient().get("/api/v1/me/").status_code == 401


# --- colleagues ------------------------------------------------------------------------------------


def colleagues(user, **params) -> list[tuple[str, str, str | None, bool]]:
    response = client_for(user).get("/api/v1/patrols/colleagues/", params)
    assert response.status_code == 200, response.content
    return [(c["username"], c["agency"]["code"], c["side"], c["me"]) for c in response.json()]


def test_a_prosecutor_picks_from_the_procuratorate_and_the_river_side_of_the_district(people):
    assert colleagues(people["west_proc"]) == [
        ("west_proc", "990001-PROC", "procuratorate", True),
        ("west_patrol", "990001-RCO", "river", False),
        ("west_ro", "990001-RCO", "river", False),
    ]


def test_a_river_office_picks_from_its_office_and_the_procuratorate_side(people):
    assert colleagues(people["west_ro"]) == [
        ("west_liaison", "990001-LIAISON", "procuratorate", False),
        ("west_proc", "990001-PROC", "procuratorate", False),
        ("west_patrol", "990001-RCO", "river", False),
        ("west_ro", "990001-RCO", "river", True),
    ]
    # Another district's people are never offered.
    assert colleagues(people["east_ro"]) == [
        ("east_proc", "990002-PROC", "procuratorate", False),
        ("east_ro", "990002-RCO", "river", True),
    ]


def test_colleagues_shape_and_what_they_leave_out(people):
    inactive, _ = member_add(username="gone", agency=Agency.objects.get(code="990001-PROC"), role="prosecutor")
    inactive.user.is_active = False
    inactive.user.save()
    people["west_proc"].email = "proc@example.com"
    people["west_proc"].save()
    response = client_for(people["west_ro"]).get("/api/v1/patrols/colleagues/")
    entry = next(c for c in response.json() if c["username"] == "west_proc")
    assert entry == {
        "id": people["west_proc"].pk,
        "username": "west_proc",
        "name": "west_proc",
        "me": False,
        "agency": {"code": "990001-PROC", "name": "甲区人民检察院", "kind": "procuratorate"},
        "role": "prosecutor",
        "role_label": "检察官 Prosecutor",
        "side": "procuratorate",
    }
    assert "gone" not in response.content.decode() and "example.com" not in response.content.decode()
    # ?district= keeps that district's agencies; an agency of no side (police) offers its own people only.
    assert colleagues(people["west_ro"], district="990002") == []
    police = Agency.objects.create(
        code="990001-POL", name="甲区公安", kind="police", district=people["inside"].districts.get()
    )
    member_add(username="cop", agency=police, role="patrol")
    assert colleagues(get_user_model().objects.get(username="cop")) == [("cop", "990001-POL", None, True)]


def test_a_joint_patrol_started_with_the_offered_partner_is_accepted(people):
    client = client_for(people["west_proc"])
    partner = next(c for c in client.get("/api/v1/patrols/colleagues/").json() if c["side"] == "river")
    body = {
        "client_uuid": str(uuid.uuid4()),
        "kind": "joint",
        "district": "990001",
        "participants": [{"username": partner["username"], "agency": partner["agency"]["code"]}],
    }
    started = client.post("/api/v1/patrols/", body, format="json")
    assert started.status_code == 201, started.json()
    assert started.json()["validity"] == {"min_duration_s": 600, "min_length_m": 1000.0}


def test_colleagues_take_a_fixed_number_of_queries(people):
    client = client_for(people["west_ro"])
    few = query_count(client, "/api/v1/patrols/colleagues/")
    for i in range(15):
        member_add(username=f"ro{i}", agency=Agency.objects.get(code="990001-RCO"), role="river_office")
        member_add(username=f"pr{i}", agency=Agency.objects.get(code="990001-PROC"), role="prosecutor")
    assert query_count(client, "/api/v1/patrols/colleagues/") == few


# --- my finished patrols as GeoJSON ---------------------------------------------------------------


def patrol(people, *, by: str, district: str = "990001", started: datetime.datetime, status: str = "finished"):
    user = people[by]
    track = LineString([at(2_000, 1_000), at(3_000, 1_000)], srid=4326)
    made = Patrol.objects.create(
        client_uuid=uuid.uuid4(),
        kind="routine",
        status=status,
        district=Agency.objects.get(code=f"{district}-RCO").district,
        started_by=user,
        started_at=started,
        ended_at=started + datetime.timedelta(hours=1) if status == "finished" else None,
        track=track if status == "finished" else None,
        track_display=track if status == "finished" else None,
        length_m=1_000,
        duration_s=3_600,
        is_valid=True,
    )
    agency = user.memberships.first().agency
    PatrolParticipant.objects.create(patrol=made, user=user, agency=agency)
    return made


THIS_YEAR = datetime.datetime(2026, 6, 1, 1, 0, tzinfo=datetime.UTC)


def track_ids(user, **params) -> list[int]:
    response = client_for(user).get("/api/v1/patrols/tracks/", {"year": 2026, **params})
    assert response.status_code == 200, response.content
    collection = response.json()["results"]
    assert collection["type"] == "FeatureCollection"
    return [feature["id"] for feature in collection["features"]]


def test_my_finished_patrols_as_geojson(people):
    mine = patrol(people, by="west_ro", started=THIS_YEAR)
    colleague = patrol(people, by="west_patrol", started=THIS_YEAR + datetime.timedelta(days=1))
    east = patrol(people, by="east_ro", district="990002", started=THIS_YEAR)
    patrol(people, by="west_ro", started=THIS_YEAR, status="active")
    last_year = patrol(people, by="west_ro", started=datetime.datetime(2025, 12, 31, 15, 0, tzinfo=datetime.UTC))
    # 2025-12-31 15:00 UTC is 2025-12-31 23:00 in 重庆: last year's, whatever the UTC calendar says.

    assert track_ids(people["west_ro"]) == [mine.pk]
    assert track_ids(people["west_ro"], mine="false") == [colleague.pk, mine.pk]  # 甲区's, not 乙区's
    assert track_ids(people["west_ro"], year=2025) == [last_year.pk]
    assert track_ids(people["east_ro"], mine="false") == [east.pk]
    assert track_ids(people["west_ro"], mine="false", district="990002") == []

    feature = (
        client_for(people["west_ro"]).get("/api/v1/patrols/tracks/", {"year": 2026}).json()["results"]["features"][0]
    )
    assert feature["geometry"]["type"] == "LineString"
    assert feature["properties"] == {
        "kind": "routine",
        "title": "",
        "district": "990001",
        "started_at": "2026-06-01T09:00:00+08:00",
        "ended_at": "2026-06-01T10:00:00+08:00",
        "length_m": 1000.0,
        "duration_s": 3600,
        "is_valid": True,
    }
    assert client_for(people["west_ro"]).get("/api/v1/patrols/tracks/", {"year": "x"}).status_code == 400


def test_tracks_take_a_fixed_number_of_queries(people):
    client = client_for(people["west_ro"])
    patrol(people, by="west_ro", started=THIS_YEAR)
    few = query_count(client, "/api/v1/patrols/tracks/", {"year": 2026})
    for day in range(1, 20):
        patrol(people, by="west_ro", started=THIS_YEAR + datetime.timedelta(days=day))
    assert query_count(client, "/api/v1/patrols/tracks/", {"year": 2026}) == few


def test_the_patrol_detail_shows_coverage_and_validity(people, settings):
    settings.PATROL_MIN_LENGTH_M = 1500.0
    made = patrol(people, by="west_ro", started=THIS_YEAR)
    body = client_for(people["west_ro"]).get(f"/api/v1/patrols/{made.pk}/").json()
    assert body["validity"] == {"min_duration_s": 600, "min_length_m": 1500.0}
    assert body["coverage"] == [] and body["coverage_done_at"] is None
    assert client_for(people["east_ro"]).get(f"/api/v1/patrols/{made.pk}/").status_code == 404


# --- planned routes ----------------------------------------------------------------------------------


def route(code: str, district: str | None, *points_m) -> PatrolRoute:
    area = Agency.objects.get(code=f"{district}-RCO").district if district else None
    return PatrolRoute.objects.create(
        code=code, name=f"路线{code}", district=area, geom=LineString([at(*p) for p in points_m], srid=4326)
    )


def test_planned_routes_as_geojson_by_district(people):
    route("RT-W", "990001", (2_000, 1_000), (5_000, 1_000))
    route("RT-E", "990002", (12_000, 1_000), (15_000, 1_000))
    route("RT-X", None, (9_000, 3_000), (11_000, 3_000))  # no district named, crosses the 甲/乙 boundary
    client = client_for(people["west_patrol"])

    def codes(**params) -> list[str]:
        response = client.get("/api/v1/routes/", params)
        assert response.status_code == 200, response.content
        return [f["properties"]["code"] for f in response.json()["results"]["features"]]

    assert codes() == ["RT-E", "RT-W", "RT-X"]
    assert codes(district="990001") == ["RT-W", "RT-X"]
    assert codes(district="990002") == ["RT-E", "RT-X"]
    assert codes(district="990000") == ["RT-E", "RT-W", "RT-X"]
    detail = client.get("/api/v1/routes/RT-W/").json()
    assert detail["properties"] == {"code": "RT-W", "name": "路线RT-W", "district": "990001"}
    assert detail["geometry"]["type"] == "LineString"
    assert client.get("/api/v1/routes/", {"district": "nope"}).status_code == 400
    few = query_count(client, "/api/v1/routes/")
    for i in range(20):
        route(f"RT-{i:02d}", "990001", (2_000, 100 + i * 10), (3_000, 100 + i * 10))
    assert query_count(client, "/api/v1/routes/") == few


def test_the_app_endpoints_are_in_the_openapi_schema(people):
    response = client_for(people["west_ro"]).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = response.json()["paths"]
    for path in [
        "/api/v1/me/",
        "/api/v1/patrols/colleagues/",
        "/api/v1/patrols/tracks/",
        "/api/v1/routes/",
        "/api/v1/routes/{code}/",
        "/api/v1/reaches/{code}/board/",
        "/api/v1/waterbodies/{code}/board/",
        "/api/v1/boards/",
    ]:
        assert "get" in paths[path], path
    routing = paths["/api/v1/routing/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert routing["$ref"].endswith("/Routing")
    properties = response.json()["components"]["schemas"]["Routing"]["properties"]
    assert {"district", "reach", "procuratorate", "reason", "copies", "reach_distance_m", "warnings"} <= set(properties)
