"""The set-based recompute (rivers.crossing) gives what the former row-by-row rule gave, in statements
that do not grow with the number of reaches.

OLD_SHARES_SQL and old_recompute are the rule as it stood before the recompute was made set-based
(a correlated sub-select per row, the significant districts chosen in Python): the reference.
"""

from __future__ import annotations

import math

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from rivers.crossing import (
    PIECE_SQL,
    _buffer_params,
    network_recompute_all,
    reaches_recompute,
    significant_districts,
    water_bodies_recompute,
)
from rivers.models import Reach, ReachDistrict, WaterBody, WaterBodyDistrict
from tests.factories import box, district, line, reach, water_body

OLD_SHARES_SQL = """
WITH item AS (
    SELECT t.id, %(course)s AS course
    FROM %(table)s t
    WHERE t.id = ANY(%%(ids)s)
),
candidate AS (
    SELECT item.id AS item_id, d.id AS district_id,
           ST_Intersection(d.geom, ST_Expand(item.course, %%(margin)s)) AS piece
    FROM item
    JOIN rivers_district d
      ON d.level = 'district'
     AND d.geom && ST_Expand(item.course, %%(margin)s)
     AND ST_DWithin(d.geom::geography, item.course::geography, %%(buffer_m)s)
),
buffered AS (
    SELECT item_id, district_id, piece,
           ST_Buffer(piece::geography, %%(buffer_m)s)::geometry AS zone
    FROM candidate
),
held AS (
    SELECT a.item_id, a.district_id,
           ST_Union(
               a.piece,
               COALESCE(
                   ST_Intersection(a.zone, (SELECT ST_Union(o.zone) FROM buffered o
                                            WHERE o.item_id = a.item_id
                                              AND o.district_id <> a.district_id)),
                   'SRID=4326;GEOMETRYCOLLECTION EMPTY'::geometry
               )
           ) AS area
    FROM buffered a
)
SELECT held.item_id, held.district_id,
       ST_Length(ST_CollectionExtract(ST_Intersection(item.course, held.area), 2)::geography) AS held_m
FROM held JOIN item ON item.id = held.item_id
"""

OLD_COURSES = {
    "reach": ({"table": "rivers_reach", "course": "t.geom"}, "ST_Length(geom::geography)"),
    "water_body": ({"table": "rivers_waterbody", "course": "ST_Boundary(t.geom)"}, "ST_Area(geom::geography)"),
}


def old_recompute(kind: str, ids: list[int]) -> dict[int, tuple[float, bool, dict[int, float]]]:
    """Return {id: (length or area, is_cross_district, {district id: metres held})} by the former rule."""
    course, size_sql = OLD_COURSES[kind]
    shares: dict[int, dict[int, float]] = {item_id: {} for item_id in ids}
    with connection.cursor() as cursor:
        cursor.execute(OLD_SHARES_SQL % course, {"ids": ids, **_buffer_params()})
        for item_id, district_id, held_m in cursor.fetchall():
            if held_m and held_m > 0:
                shares[item_id][district_id] = held_m
        cursor.execute(f"SELECT id, {size_sql} FROM {course['table']} WHERE id = ANY(%s)", [ids])  # noqa: S608
        sizes = dict(cursor.fetchall())
    result = {}
    for item_id, held in shares.items():
        kept = significant_districts(held)
        result[item_id] = (sizes[item_id], len(kept) >= 2, kept)
    return result


def stored(kind: str, ids: list[int]) -> dict[int, tuple[float, bool, dict[int, float]]]:
    if kind == "reach":
        items = Reach.objects.filter(pk__in=ids).values_list("pk", "length_m", "is_cross_district")
        rows = ReachDistrict.objects.filter(reach_id__in=ids).values_list("reach_id", "district_id", "length_m")
    else:
        items = WaterBody.objects.filter(pk__in=ids).values_list("pk", "area_m2", "is_cross_district")
        rows = WaterBodyDistrict.objects.filter(water_body_id__in=ids).values_list(
            "water_body_id", "district_id", "length_m"
        )
    result = {pk: (size, cross, {}) for pk, size, cross in items}
    for item_id, district_id, metres in rows:
        result[item_id][2][district_id] = metres
    return result


def assert_same(new: dict, old: dict) -> None:
    assert set(new) == set(old)
    for pk in old:
        (new_size, new_cross, new_held), (old_size, old_cross, old_held) = new[pk], old[pk]
        assert new_cross == old_cross, pk
        assert set(new_held) == set(old_held), pk
        assert new_size == pytest.approx(old_size, abs=1e-6)
        for district_id in old_held:
            assert math.isclose(new_held[district_id], old_held[district_id], abs_tol=1e-6), (pk, district_id)


@pytest.fixture
def varied(world):
    """The two-district world, a third district north of 甲区 (so a corner joins three), and reaches
    inside one district, crossing, along a boundary within the buffer, in a gap, short, outside every
    district, and water bodies inside and across."""
    north = district("990003", "丙区", box(0, 10_000, 10_000, 20_000), parent=world["city"])
    courses = {
        "inside": [(2_000, 2_000), (8_000, 8_000)],
        "crossing": [(5_000, 5_000), (15_000, 5_000)],
        "along": [(9_995, 2_000), (9_995, 8_000)],
        "along-other-side": [(10_020, 1_000), (10_020, 4_000)],
        "touching": [(5_000, 5_000), (10_000, 5_000)],
        "overshoot-30": [(5_000, 5_000), (10_030, 5_000)],
        "overshoot-150": [(5_000, 5_000), (10_150, 5_000)],
        "corner": [(9_000, 11_000), (11_000, 9_000)],
        "corner-along": [(9_990, 9_000), (9_990, 10_990), (8_000, 10_990)],
        "short-near-boundary": [(9_960, 5_000), (10_040, 5_000)],
        "outside": [(25_000, 25_000), (30_000, 26_000)],
        "edge-of-map": [(15_000, 9_990), (18_000, 9_990)],
        "29-m-north-of-the-districts": [(12_000, 10_029), (16_000, 10_029)],
        "31-m-north-of-the-districts": [(12_000, 10_031), (16_000, 10_031)],
        "wiggly": [(3_000, 9_000), (4_000, 11_000), (5_000, 9_000), (6_000, 11_000), (7_000, 9_980)],
        "multi": [(1_000, 1_000), (3_000, 1_000)],
        # Inside 甲区, at distances from 乙区 or 丙区 that each path of the candidate stage decides
        # (rivers.crossing): 25 m (the planar test within), 27 m and 33 m (the geography test), 45 m
        # (the planar test beyond).
        "25-m-south-of-丙区": [(2_000, 9_975), (8_000, 9_975)],
        "27-m-west-of-乙区": [(9_973, 2_000), (9_973, 8_000)],
        "33-m-west-of-乙区": [(9_967, 2_000), (9_967, 8_000)],
        "45-m-west-of-乙区": [(9_955, 2_000), (9_955, 8_000)],
    }
    reaches = [reach(code, line(*points)) for code, points in courses.items()]
    far = reach("multi-part", line((12_000, 1_000), (14_000, 1_000)))
    far.geom = far.geom.union(line((1_000, 3_000), (3_000, 3_000)))
    far.save()
    reaches.append(far)
    bodies = [
        water_body("W-inside", box(1_000, 1_000, 3_000, 3_000)),
        water_body("W-across", box(9_000, 1_000, 11_000, 3_000)),
        water_body("W-outside", box(30_000, 30_000, 31_000, 31_000)),
    ]
    return {"north": north, "reaches": [r.pk for r in reaches], "bodies": [b.pk for b in bodies]}


def test_set_based_recompute_equals_the_former_rule(varied):
    old_reaches = old_recompute("reach", varied["reaches"])
    old_bodies = old_recompute("water_body", varied["bodies"])
    network_recompute_all()
    assert_same(stored("reach", varied["reaches"]), old_reaches)
    assert_same(stored("water_body", varied["bodies"]), old_bodies)
    # The network is varied: some reaches cross, some lie in one district, one in none.
    flags = {r.code: r.is_cross_district for r in Reach.objects.all()}
    assert flags["crossing"] and flags["along"] and flags["corner"] and not flags["inside"]
    assert flags["25-m-south-of-丙区"] and flags["27-m-west-of-乙区"]
    assert not flags["33-m-west-of-乙区"] and not flags["45-m-west-of-乙区"]
    assert not Reach.objects.get(code="outside").districts.exists()
    assert set(Reach.objects.get(code="corner").districts.values_list("code", flat=True)) == {"990002", "990003"}


def test_recomputing_a_subset_leaves_the_others_and_repeats_identically(varied):
    network_recompute_all()
    before = stored("reach", varied["reaches"])
    some = varied["reaches"][:3]
    reaches_recompute(some)
    reaches_recompute(some)
    assert stored("reach", varied["reaches"]) == before


def statements(call) -> list[str]:  # noqa: ANN001 - a function of no arguments
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        call()
        transaction.set_rollback(True)
    # The ids travel as one array parameter: strip the interpolated values, keep the text.
    return [
        query["sql"].split("ARRAY[")[0]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_statements_do_not_grow_with_the_number_of_reaches(varied):
    few, many = varied["reaches"][:2], varied["reaches"]
    for recompute, small, large in (
        (reaches_recompute, few, many),
        (water_bodies_recompute, varied["bodies"][:1], varied["bodies"]),
    ):
        first, second = statements(lambda: recompute(small)), statements(lambda: recompute(large))  # noqa: B023
        assert len(first) == len(second) == 2
        assert first == second


def test_a_district_piece_clipped_invalid_is_cut_exactly(db):
    """ST_ClipByBox2D may return an invalid polygon (PostGIS says so): the rule's piece is then cut again
    by ST_Intersection. The star and the box are one found by search (in degrees, anywhere), where the
    fast clip comes out self-intersecting: the box's edges run through the star's vertices."""
    star = "POLYGON((9 5,7 6,8 8,6 6,5 9,4 8,2 8,4 6,1 5,3 4,2 2,4 2,5 1,6 3,8 2,6 4,9 5))"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (ST_IsValidDetail(fast)).valid, ST_IsValid(piece), ST_Equals(piece, ST_Intersection(geom, box))
            FROM (SELECT *, {PIECE_SQL} AS piece
                  FROM (SELECT geom, box, ST_ClipByBox2D(geom, box) AS fast
                        FROM (SELECT ST_SetSRID(%s::geometry, 4326) AS geom,
                                     ST_MakeEnvelope(2, 0, 3, 5, 4326) AS box) given) pair) cut
            """,  # noqa: S608 - the rule's own SQL
            [star],
        )
        fast_valid, piece_valid, exact = cursor.fetchone()
    assert (fast_valid, piece_valid, exact) == (False, True, True)
