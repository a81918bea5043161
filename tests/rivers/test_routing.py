"""Routing a clue (DESIGN §4) on the synthetic two-district city of tests.factories.

Points are metres east/north of 106°E 29°N; 甲区 990001 is 0–10 km east, 乙区 990002 10–20 km,
both 0–10 km north; the city 990000 also covers 10–20 km north, which lies in no district.
"""

import json
import re

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rivers.crossing import network_recompute_all
from rivers.models import Reach
from rivers.routing import route, route_params
from tests.factories import box, district, line, point, reach, water_body


@pytest.fixture
def network(world):
    crossing = reach("CROSS", line((5_000, 5_000), (15_000, 5_000)))
    inside = reach("INSIDE", line((2_000, 1_000), (8_000, 1_000)))
    north = reach("NORTH", line((2_000, 15_000), (8_000, 15_000)))
    lake = water_body("LAKE", box(3_000, 7_000, 4_000, 8_000))
    network_recompute_all()
    return {"crossing": crossing, "inside": inside, "north": north, "lake": lake}


def test_point_in_a_district_goes_to_its_procuratorate(network):
    routing = route(point(4_000, 1_050))  # 50 m north of INSIDE, in 甲区
    assert routing.reason == "district"
    assert routing.procuratorate.code == "990001-PROC"
    assert routing.district.code == "990001"
    assert routing.reach.code == "INSIDE"
    assert routing.reach_distance_m == pytest.approx(50, abs=0.5)
    assert routing.copies == []


def test_cross_district_reach_goes_to_the_city_with_copies_to_each_district(network):
    routing = route(point(7_000, 5_020))  # 20 m from CROSS, in 甲区
    assert routing.reason == "cross_district"
    assert routing.procuratorate.code == "990000-PROC"
    assert routing.district.code == "990001"
    assert [agency.code for agency in routing.copies] == ["990001-PROC", "990002-PROC"]


def test_point_outside_every_district_goes_to_the_city_containing_it(network):
    routing = route(point(5_000, 15_100))  # in the city's northern half, 100 m from NORTH
    assert routing.reason == "outside_districts"
    assert routing.procuratorate.code == "990000-PROC"
    assert routing.district is None
    assert routing.reach.code == "NORTH"


def test_point_outside_every_city_goes_to_the_nearest_city(network):
    far = district("980000", "远市", box(100_000, 0, 120_000, 20_000), level="city")
    from rivers.network import agencies_derive

    agencies_derive([far])
    routing = route(point(30_000, 5_000))  # 10 km east of 990000, 70 km west of 980000
    assert routing.reason == "outside_districts"
    assert routing.procuratorate.code == "990000-PROC"


def test_point_beyond_the_snap_tolerance_has_no_reach(network):
    routing = route(point(4_000, 1_250))  # 250 m from INSIDE, tolerance 200 m
    assert routing.reach is None
    assert routing.reason == "district"
    assert route(point(4_000, 1_190)).reach.code == "INSIDE"


def test_point_in_a_water_body_snaps_to_it(network):
    routing = route(point(3_500, 7_500))
    assert routing.reach.code == "LAKE"
    assert routing.reach_distance_m == 0


def test_snap_ranks_by_metres_not_degrees(world):
    # At 29°N a degree of longitude is 97.4 km and of latitude 110.8 km. NS lies 160 m north
    # (0.00144°), EW lies 150 m east (0.00154°): nearer in degrees is NS, nearer on the ground EW.
    reach("NS", line((1_000, 3_160), (3_000, 3_160)))
    reach("EW", line((3_150, 1_000), (3_150, 5_000)))
    routing = route(point(3_000, 3_000))
    assert routing.reach.code == "EW"
    assert routing.reach_distance_m == pytest.approx(150, abs=1)


@pytest.mark.django_db
def test_nearest_is_ordered_by_the_gist_index(world):
    # Enough reaches that a sequential scan would be the planner's choice if the index could not order.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO rivers_reach (river_id, code, name, level, geom, length_m, is_cross_district)
            SELECT %s, 'G' || i, 'grid ' || i, 'village',
                   ST_SetSRID(ST_Multi(ST_MakeLine(
                       ST_MakePoint(106 + (i %% 100) * 0.001, 29 + (i / 100) * 0.001),
                       ST_MakePoint(106.0005 + (i %% 100) * 0.001, 29 + (i / 100) * 0.001))), 4326),
                   0, false
            FROM generate_series(1, 5000) AS i
            """,
            [reach("SEED", line((0, 0), (10, 0))).river_id],
        )
        cursor.execute("ANALYZE rivers_reach")
    plan = Reach.objects.nearest(point(1_000, 1_000), within_m=200).explain()
    # Django names the GiST index of Reach.geom rivers_reach_geom_<hash>_id.
    assert re.search(r"Index Scan using rivers_reach_geom_\w+ on rivers_reach", plan), plan
    assert "Order By: (geom <->" in plan, plan
    assert "Seq Scan on rivers_reach" not in plan, plan
    # Routing's own statement snaps the same way, in the plan PostgreSQL keeps for it once it stops
    # planning it for each point (after five executions).
    for _ in range(6):
        route(point(1_000, 1_000))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN EXECUTE rivers_route (%s, %s, %s)", route_params(point(1_000, 1_000)))
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert re.search(r"Index Scan using rivers_reach_geom_\w+ on rivers_reach", plan), plan
    assert "Seq Scan on rivers_reach " not in plan, plan


def test_routing_is_one_statement_and_reads_no_boundary(network):
    # Issue 10: routing a point in a handful of statements; a district's boundary is thousands of
    # vertices that routing never needs. The connection prepares the statement once (PREPARE).
    route(point(4_000, 1_050))
    with CaptureQueriesContext(connection) as queries:
        routing = route(point(7_000, 5_020))
    assert len(queries) == 1, [query["sql"][:80] for query in queries]
    assert routing.reason == "cross_district"
    assert "geom" in routing.district.get_deferred_fields()
    assert all("geom" in area.get_deferred_fields() for area in routing.reach_districts)
    assert "geom" in routing.reach.get_deferred_fields()
    assert routing.city.code == "990000"


def test_multipolygon_district_parts_both_route(world):
    world["west"].geom = MultiPolygon(
        Polygon.from_bbox((106.0, 29.0, 106.05, 29.05)), Polygon.from_bbox((106.3, 29.3, 106.31, 29.31)), srid=4326
    )
    world["west"].save()
    assert route(point(29_700, 33_800)).district.code == "990001"


def test_cross_district_without_parent_codes_uses_the_containing_city(network, world):
    # Data loaded without `parent`: the city is found by area.
    for key in ("west", "east"):
        world[key].parent = None
        world[key].save()
    routing = route(point(7_000, 5_020))
    assert routing.reason == "cross_district"
    assert routing.procuratorate.code == "990000-PROC"


def test_nearest_city_is_found_past_many_nearer_districts(world):
    # Twelve small towns lie 2.85–4 km west of the point, between it and the city 5 km away: the index's
    # candidates must be cities alone, or the towns crowd the city out.
    from rivers.models import District

    for i in range(12):
        district(f"99000{i:02d}9", f"镇{i}", box(21_000 + i * 100, 4_950, 21_050 + i * 100, 5_050), level="town")
    found = District.objects.cities().nearest(point(25_000, 5_000), within_m=float("inf"))
    assert [d.code for d in found] == ["990000"]


def districts_near_by_the_orm(at_point, routing) -> list[tuple[str, str, float]]:
    """The preview's boundary warning as the ORM computed it before it joined the routing statement."""
    from django.conf import settings

    from rivers.models import District
    from rivers.querysets import MetresBetween, geometry_value

    near = District.objects.districts().within_metres(at_point, metres=settings.BOUNDARY_BUFFER_M)
    if routing.district is not None:
        near = near.exclude(pk=routing.district.pk)
    near = near.annotate(distance_m=MetresBetween("geom", geometry_value(at_point))).order_by("distance_m", "code")
    return [(d.code, d.name, d.distance_m) for d in near]


@pytest.mark.parametrize(
    ("east_north", "warned"),
    [
        ((9_990, 5_000), ["990002"]),  # 10 m inside 甲区
        ((10_010, 5_000), ["990001"]),
        ((9_975, 9_980), ["990002"]),  # near the corner: 乙区, and the city's no-district north is no district
        ((10_000, 10_020), ["990001", "990002"]),  # in no district, 20 m from both
        ((5_000, 5_000), []),
        ((10_000, 15_000), []),
        ((30_000, 5_000), []),  # outside every district and city
    ],
)
def test_the_boundary_warning_comes_with_the_routing_statement(network, east_north, warned):
    at_point = point(*east_north)
    route(at_point, near_boundary=True)  # the connection prepares the statement first
    with CaptureQueriesContext(connection) as queries:
        routing = route(at_point, near_boundary=True)
    assert len(queries) == 1
    expected = districts_near_by_the_orm(at_point, routing)
    assert [(code, name) for code, name, _ in routing.near_districts] == [(code, name) for code, name, _ in expected]
    assert [round(m, 3) for *_, m in routing.near_districts] == [round(m, 3) for *_, m in expected]
    assert sorted(code for code, *_ in routing.near_districts) == warned
    assert route(at_point).near_districts is None  # a registration does not ask for it


@pytest.mark.parametrize(
    "east_north",
    [(4_000, 1_050), (7_000, 5_020), (5_000, 15_100), (4_000, 1_250), (3_500, 7_500), (10_000 - 12, 4_000)],
)
def test_the_routing_answer_is_what_its_serializer_documents(network, east_north):
    # The view builds the answer directly (routing_data, issue 10); RoutingSerializer is its schema.
    from rivers.routing import routing_warnings
    from rivers.serializers import RoutingSerializer, routing_data

    routing = route(point(*east_north), near_boundary=True)
    warnings = routing_warnings(routing)
    documented = RoutingSerializer(routing, context={"warnings": warnings}).data
    built = routing_data(routing, warnings)
    assert json.dumps(built, ensure_ascii=False) == json.dumps(documented, ensure_ascii=False)
