"""公示牌 boards of reaches and water bodies (issue 8 §2) on the synthetic city of tests.factories.

INSIDE runs 2→8 km east at 1 km north (甲区 990001, town level); CROSS 5→15 km east at 5 km north
(甲区 and 乙区, district level). The city 990000's agencies serve a city-level chief.
"""

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import LineString
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patrols.models import Patrol, PatrolCoverage
from rivers.chiefs import chief_assign
from rivers.crossing import network_recompute_all
from tests.factories import at, box, line, reach, water_body
from tests.patrols.conftest import client_for

SINCE = datetime.date(2020, 1, 1)


def finished_patrol(people, *, ended_at: datetime.datetime, covers=(), track=None, status="finished") -> Patrol:
    patrol = Patrol.objects.create(
        client_uuid=uuid.uuid4(),
        kind="routine",
        status=status,
        district=people["inside"].districts.get(),
        started_by=people["west_ro"],
        started_at=ended_at - datetime.timedelta(hours=1),
        ended_at=ended_at if status == "finished" else None,
        track=track,
        track_display=track,
    )
    for reach_obj, fraction in covers:
        PatrolCoverage.objects.create(patrol=patrol, reach=reach_obj, covered_m=100, fraction=fraction)
    return patrol


@pytest.fixture
def boards(people):
    chief_with_account = get_user_model().objects.create_user(
        "chief_zhang", email="zhang.chief@example.com", first_name="张", last_name="三"
    )
    chief_assign(reach=people["inside"], person_name="李四", level="town", start_date=datetime.date(2015, 1, 1))
    chief_assign(
        reach=people["inside"], person_name="张三", level="town", start_date=SINCE, user=chief_with_account
    )  # closes 李四's assignment: history, not shown
    chief_assign(
        reach=people["inside"], person_name="王检察", level="district", role="eco_prosecutor", start_date=SINCE
    )
    chief_assign(reach=people["cross"], person_name="赵市长", level="city", start_date=SINCE)
    return people


def test_the_board_of_a_reach(boards):
    response = client_for(boards["west_patrol"]).get("/api/v1/reaches/INSIDE/board/")
    assert response.status_code == 200
    assert response.json() == {
        "kind": "reach",
        "code": "INSIDE",
        "name": "测试河INSIDE",
        "river": {"code": "测试河", "name": "测试河"},
        "water_body_kind": None,
        "level": "town",
        "level_label": "镇级 Town",
        "is_cross_district": False,
        "districts": [{"code": "990001", "name": "甲区"}],
        "chiefs": [
            {
                "name": "张三",
                "level": "town",
                "level_label": "镇级 Town",
                "office": {"code": "990001-RCO", "name": "甲区河长办公室", "kind": "river_office"},
            }
        ],
        "eco_prosecutors": [
            {
                "name": "王检察",
                "level": "district",
                "level_label": "区级 District",
                "office": {"code": "990001-PROC", "name": "甲区人民检察院", "kind": "procuratorate"},
            }
        ],
        "last_patrol_date": None,
    }
    # People data stops at names, levels and offices (DESIGN §5): not the chief's account.
    assert "chief_zhang" not in response.content.decode() and "example.com" not in response.content.decode()


def test_a_cross_district_reach_and_a_city_level_chief(boards):
    body = client_for(boards["east_ro"]).get("/api/v1/reaches/CROSS/board/").json()
    assert body["is_cross_district"] is True
    assert body["districts"] == [{"code": "990001", "name": "甲区"}, {"code": "990002", "name": "乙区"}]
    # A city-level chief serves for the city's river office.
    assert body["chiefs"][0]["office"] == {"code": "990000-RCO", "name": "测试市河长办公室", "kind": "river_office"}
    assert body["eco_prosecutors"] == []


def test_the_last_patrol_date_is_the_latest_finished_patrol_covering_the_reach(boards):
    client = client_for(boards["west_patrol"])
    # 2026-11-30 20:00 UTC is 12-01 04:00 in 重庆 (UTC+8): the board shows the local date.
    finished_patrol(
        boards, ended_at=datetime.datetime(2026, 11, 30, 20, 0, tzinfo=datetime.UTC), covers=[(boards["inside"], 0.4)]
    )
    finished_patrol(
        boards, ended_at=datetime.datetime(2026, 10, 1, 2, 0, tzinfo=datetime.UTC), covers=[(boards["inside"], 1.0)]
    )
    finished_patrol(
        boards, ended_at=datetime.datetime(2026, 11, 1, 2, 0, tzinfo=datetime.UTC), covers=[(boards["cross"], 0.1)]
    )
    assert client.get("/api/v1/reaches/INSIDE/board/").json()["last_patrol_date"] == "2026-12-01"
    assert client.get("/api/v1/reaches/CROSS/board/").json()["last_patrol_date"] == "2026-11-01"


def test_the_board_of_a_water_body(boards):
    # A reservoir 500 m × 500 m, 3–3.5 km east, 2–2.5 km north (甲区), with a district-level chief.
    reservoir = water_body("RES", box(3_000, 2_000, 3_500, 2_500))
    network_recompute_all()
    chief_assign(water_body=reservoir, person_name="水库长", level="district", start_date=SINCE)
    client = client_for(boards["west_patrol"])
    body = client.get("/api/v1/waterbodies/RES/board/").json()
    assert body["kind"] == "water_body" and body["river"] is None and body["water_body_kind"] == "reservoir"
    assert body["chiefs"][0]["office"]["code"] == "990001-RCO"
    assert body["last_patrol_date"] is None
    # A track passing 30 m south of its shore (within COVERAGE_DISTANCE_M, 50 m) patrolled it; one 200 m south did not.
    near = LineString([at(2_800, 1_970), at(3_700, 1_970)], srid=4326)
    far = LineString([at(2_800, 1_800), at(3_700, 1_800)], srid=4326)
    finished_patrol(boards, ended_at=datetime.datetime(2026, 9, 1, 2, 0, tzinfo=datetime.UTC), track=near)
    finished_patrol(boards, ended_at=datetime.datetime(2026, 10, 1, 2, 0, tzinfo=datetime.UTC), track=far)
    assert client.get("/api/v1/waterbodies/RES/board/").json()["last_patrol_date"] == "2026-09-01"


def test_unknown_reach_is_404_and_anonymous_is_401(boards):
    from rest_framework.test import APIClient

    assert client_for(boards["west_patrol"]).get("/api/v1/reaches/NOPE/board/").status_code == 404
    assert APIClient().get("/api/v1/reaches/INSIDE/board/").status_code == 401
    assert APIClient().get("/api/v1/boards/", {"district": "990001"}).status_code == 401


def test_every_board_of_a_district_for_the_offline_cache(boards):
    client = client_for(boards["west_patrol"])
    body = client.get("/api/v1/boards/", {"district": "990001"}).json()
    assert body["district"] == {"code": "990001", "name": "甲区"}
    assert [board["code"] for board in body["reaches"]] == ["CROSS", "INSIDE"]
    assert body["water_bodies"] == []
    east = client.get("/api/v1/boards/", {"district": "990002"}).json()
    assert [board["code"] for board in east["reaches"]] == ["CROSS"]
    city = client.get("/api/v1/boards/", {"district": "990000"}).json()
    assert [board["code"] for board in city["reaches"]] == ["CROSS", "INSIDE"]
    assert client.get("/api/v1/boards/").status_code == 400
    unknown = client.get("/api/v1/boards/", {"district": "123456"})
    assert unknown.status_code == 400 and "district" in unknown.json()


def test_boards_take_a_fixed_number_of_queries(boards):
    client = client_for(boards["west_patrol"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/boards/", {"district": "990001"}).status_code == 200
        return len(captured)

    def add_reaches(start: int, count: int) -> None:
        for i in range(start, start + count):
            new = reach(f"R{i:03d}", line((1_000, 2_000 + i * 10), (3_000, 2_000 + i * 10)), river=f"河{i}")
            chief_assign(reach=new, person_name=f"河长{i}", level="district", start_date=SINCE)
            chief_assign(reach=new, person_name=f"检察官{i}", level="city", role="eco_prosecutor", start_date=SINCE)
        for i in range(start, start + count):
            water_body(f"W{i:03d}", box(6_000 + i * 20, 8_000, 6_010 + i * 20, 8_010))
        network_recompute_all()

    add_reaches(0, 1)
    few = queries()
    add_reaches(1, 20)
    finished_patrol(boards, ended_at=timezone.now(), covers=[(boards["inside"], 0.5)])
    many = queries()
    assert many == few, (few, many)


def test_the_demo_boards_and_boundary_warning(db, member):
    """On the Qijiang demo: the boards of 綦江区 and the warning on the 綦江/南川 boundary river."""
    from gis_data.bundle import bundle_load
    from tests.rivers.test_qijiang import QIJIANG

    bundle_load(QIJIANG)
    client = client_for(member("demo_proc", "500110-PROC"))
    body = client.get("/api/v1/boards/", {"district": "500110"}).json()
    boards = {board["code"]: board for board in body["reaches"]}
    # 綦江干流綦江城区段: a city-level chief (周建华) and 綦江区's eco-prosecutor (刘思远), from chiefs.json.
    city_reach = boards["R500110-005"]
    assert [(c["name"], c["office"]["code"]) for c in city_reach["chiefs"]] == [("周建华", "500000-RCO")]
    assert [(p["name"], p["office"]["code"]) for p in city_reach["eco_prosecutors"]] == [("刘思远", "500110-PROC")]
    # The cross-district reach into 江津区 is on 綦江区's boards too.
    assert boards["R500110-006"]["is_cross_district"] is True
    # A vertex of 溱溪河, the 綦江区/南川区 boundary river (gis_data/samples/qijiang/README.md).
    preview = client.get("/api/v1/routing/", {"lon": 107.008213, "lat": 29.011643}).json()
    near = [w for w in preview["warnings"] if w["code"] == "near_boundary"]
    # The vertex lies a few centimetres inside 南川区 (the boundary as drawn): 綦江区 is the other side.
    assert preview["reach"]["code"] == "R500110-019"
    assert preview["district"]["code"] == "500119"
    assert [w["district"] for w in near] == [{"code": "500110", "name": "綦江区"}]
    assert near[0]["distance_m"] < 1
