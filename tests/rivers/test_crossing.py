"""The cross-district rule (DESIGN §4) on a synthetic city at 29°N split at 10 km east.

Coordinates are metres east/north of 106°E 29°N (tests.factories.at); 甲区 990001 spans 0–10 km
east, 乙区 990002 spans 10–20 km east, both 0–10 km north. Expected lengths are the segment lengths
in metres; PostGIS measures them on the spheroid, hence the 0.5 % tolerances.
"""

import pytest
from django.test import override_settings

from rivers.crossing import network_recompute_around, reaches_recompute
from rivers.models import District, Reach
from tests.factories import box, line, reach


def shares(r: Reach) -> dict[str, float]:
    r.refresh_from_db()
    return {s.district.code: s.length_m for s in r.district_shares.select_related("district")}


def make(code: str, *points) -> Reach:
    r = reach(code, line(*points))
    reaches_recompute([r.pk])
    r.refresh_from_db()
    return r


def test_reach_across_two_districts_is_cross_district(world):
    r = make("R1", (5_000, 5_000), (15_000, 5_000))
    assert r.is_cross_district
    assert r.length_m == pytest.approx(10_000, rel=0.005)
    held = shares(r)
    # 5 km on each side, plus the 30 m beyond the boundary that counts for both.
    assert held["990001"] == pytest.approx(5_030, rel=0.005)
    assert held["990002"] == pytest.approx(5_030, rel=0.005)


def test_boundary_river_a_few_metres_inside_one_district_is_cross_district(world):
    # 6 km along the boundary, 5 m inside 甲区: it lies wholly in 甲区 but within the 30 m zone.
    r = make("R2", (9_995, 2_000), (9_995, 8_000))
    assert r.is_cross_district
    held = shares(r)
    assert held["990001"] == pytest.approx(6_000, rel=0.005)
    assert held["990002"] == pytest.approx(6_000, rel=0.005)


def test_boundary_river_in_a_digitising_gap_between_districts_is_cross_district(world):
    # Move 乙区 10 m east so that a 10 m gap opens along the boundary; the river runs in the gap.
    world["east"].geom = box(10_010, 0, 20_000, 10_000)
    world["east"].save()
    r = make("R2b", (10_005, 2_000), (10_005, 8_000))
    assert r.is_cross_district
    assert set(shares(r)) == {"990001", "990002"}


def test_reach_whose_end_touches_the_boundary_is_not_cross_district(world):
    r = make("R3", (5_000, 5_000), (10_000, 5_000))
    assert not r.is_cross_district
    assert list(shares(r)) == ["990001"]


def test_reach_overshooting_the_boundary_by_30_m_is_not_cross_district(world):
    # 30 m into 乙区 plus the 30 m zone on 甲区's side: 乙区 holds ~60 m, under the 100 m minimum.
    r = make("R4", (5_000, 5_000), (10_030, 5_000))
    assert not r.is_cross_district
    assert list(shares(r)) == ["990001"]


def test_reach_overshooting_by_more_than_the_minimum_is_cross_district(world):
    # 150 m into 乙区 is no digitising slip: 乙区 holds 180 m.
    r = make("R4b", (5_000, 5_000), (10_150, 5_000))
    assert r.is_cross_district


def test_reach_wholly_inside_one_district(world):
    r = make("R5", (2_000, 2_000), (8_000, 8_000))
    assert not r.is_cross_district
    assert r.length_m == pytest.approx(8_485, rel=0.005)  # 6 km × √2
    assert list(r.districts.values_list("code", flat=True)) == ["990001"]


def test_recomputed_after_a_district_boundary_changes(world):
    r = make("R6", (6_000, 5_000), (9_500, 5_000))
    assert not r.is_cross_district
    # The boundary moves 2 km west: 甲区 now ends at 8 km, so the reach runs 1.5 km into 乙区.
    west, east = world["west"], world["east"]
    west.geom = box(0, 0, 8_000, 10_000)
    east.geom = box(8_000, 0, 20_000, 10_000)
    west.save()
    east.save()
    network_recompute_around([west.pk, east.pk])
    r.refresh_from_db()
    assert r.is_cross_district
    assert shares(r)["990002"] == pytest.approx(1_530, rel=0.005)


def test_recomputed_when_a_district_leaves_a_reach(world):
    r = make("R7", (5_000, 5_000), (15_000, 5_000))
    assert r.is_cross_district
    world["east"].geom = box(16_000, 0, 20_000, 10_000)
    world["east"].save()
    network_recompute_around([world["east"].pk])
    r.refresh_from_db()
    assert not r.is_cross_district
    assert list(shares(r)) == ["990001"]


@override_settings(CROSS_MIN_LENGTH_M=200, BOUNDARY_BUFFER_M=10)
def test_tolerances_are_settings(world):
    # With a 10 m zone and a 200 m minimum, a 150 m overshoot (160 m held) is not cross-district.
    r = make("R8", (5_000, 5_000), (10_150, 5_000))
    assert not r.is_cross_district


def test_town_level_areas_do_not_count_as_districts(world):
    District.objects.create(
        code="990001001", name="某镇", level="town", parent=world["west"], geom=box(0, 0, 5_000, 5_000)
    )
    r = make("R9", (1_000, 1_000), (9_000, 1_000))
    assert not r.is_cross_district
