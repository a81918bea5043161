"""The network in the admin: GIS administrators edit layers on Leaflet maps; saving recomputes."""

import json

import pytest
from django.test import Client

from rivers.crossing import reaches_recompute
from rivers.models import ChiefAssignment, Reach
from tests.factories import at, line, reach


@pytest.fixture
def gis_admin(world, member):
    client = Client()
    client.force_login(member("gis", "990001-RCO", "gis_admin"))
    return client


def reach_form(r: Reach, geom: dict) -> dict:
    return {
        "river": r.river_id,
        "code": r.code,
        "name": r.name,
        "level": r.level,
        "geom": json.dumps(geom),
        "chiefs-TOTAL_FORMS": "0",
        "chiefs-INITIAL_FORMS": "0",
        "chiefs-MIN_NUM_FORMS": "0",
        "chiefs-MAX_NUM_FORMS": "1000",
    }


def test_gis_admin_edits_a_reach_on_a_map_and_it_is_recomputed(gis_admin):
    r = reach("A1", line((2_000, 5_000), (8_000, 5_000)))
    reaches_recompute([r.pk])
    page = gis_admin.get(f"/admin/rivers/reach/{r.pk}/change/")
    assert page.status_code == 200
    assert b"leaflet" in page.content.lower()
    # Drag the reach's east end 3 km into 乙区.
    moved = {"type": "MultiLineString", "coordinates": [[list(at(2_000, 5_000)), list(at(13_000, 5_000))]]}
    response = gis_admin.post(f"/admin/rivers/reach/{r.pk}/change/", reach_form(r, moved))
    assert response.status_code == 302, response.content.decode()[:2000]
    r.refresh_from_db()
    assert r.is_cross_district
    assert r.length_m == pytest.approx(11_000, rel=0.005)


def test_gis_admin_moves_a_district_boundary_and_reaches_follow(gis_admin, world):
    r = reach("A2", line((6_000, 5_000), (9_500, 5_000)))
    reaches_recompute([r.pk])
    west = world["west"]
    (x0, y0), (x1, y1) = at(0, 0), at(8_000, 10_000)
    form = {
        "code": west.code,
        "name": west.name,
        "level": west.level,
        "parent": world["city"].pk,
        "geom": json.dumps(
            {"type": "MultiPolygon", "coordinates": [[[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]]}
        ),
    }
    response = gis_admin.post(f"/admin/rivers/district/{west.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    r.refresh_from_db()
    # 乙区 still starts at 10 km, so 8–9.5 km lies in no district and far from any shared boundary:
    # 甲区 holds the 2 km from 6 to 8 km, and nothing else holds anything.
    assert not r.is_cross_district
    assert list(r.districts.values_list("code", flat=True)) == ["990001"]
    assert r.district_shares.get().length_m == pytest.approx(2_000, rel=0.005)


def test_new_chief_assignment_in_the_admin_keeps_history(gis_admin):
    r = reach("A3", line((2_000, 5_000), (8_000, 5_000)))
    ChiefAssignment.objects.create(reach=r, person_name="旧河长", level="town", start_date="2024-01-01")
    form = {"reach": r.pk, "person_name": "新河长", "role": "chief", "level": "town", "start_date": "2025-03-01"}
    response = gis_admin.post("/admin/rivers/chiefassignment/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    history = list(
        ChiefAssignment.objects.filter(reach=r).order_by("start_date").values_list("person_name", "end_date")
    )
    assert [name for name, _ in history] == ["旧河长", "新河长"]
    assert str(history[0][1]) == "2025-02-28" and history[1][1] is None


def test_patrol_members_cannot_enter_the_admin(world, member):
    client = Client()
    client.force_login(member("walker", "990001-RCO", "patrol"))
    assert client.get("/admin/rivers/reach/").status_code == 302
