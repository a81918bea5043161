"""Which districts a reach lies in, and whether it is cross-district (DESIGN §4).

A reach is cross-district when two or more districts each hold more than CROSS_MIN_LENGTH_M of it.
Length lying within BOUNDARY_BUFFER_M of a boundary between two districts counts for both: a river
that forms the boundary (界河, seed 002 §三(二) "涉跨区划河流") is cross-district, while a reach that
only touches a boundary at its end, or overshoots it by a few tens of metres, is not.

District d holds the part of the reach inside d, plus the part outside d that lies within the
buffer of d *and* within the buffer of another district (so near a shared boundary, not near the
edge of the mapped area). Everything is measured in metres: buffers on geography, lengths on the
spheroid. Water bodies follow the same rule with their shoreline standing for the course.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction

from .models import Reach, WaterBody

# Degrees by which the reach's box is widened to clip the districts around it before buffering. It
# must exceed the buffer in degrees of longitude (30 m is 0.0003° at 29°N, 0.0006° at 60°N), so it
# is taken as buffer / 40 km: 0.00075° for 30 m.
CLIP_MARGIN_DEGREES_PER_M = 1 / 40_000

# Metres in a degree on the WGS84 ellipsoid, for the planar pre-tests of the candidate stage. In any
# direction a degree spans at least min(110,574 m (of latitude, at the equator), 111,319 m ×
# cos(latitude) (of longitude)) and at most 111,694 m (of latitude, at the poles).
DEGREE_OF_LATITUDE_MIN_M = 110_574.0
DEGREE_OF_LONGITUDE_AT_EQUATOR_M = 111_319.0
DEGREE_MAX_M = 111_700.0
# How far the pre-tests stay from the buffer, as a fraction of it. PostGIS measures geography between
# great-circle edges (the closest points found on the sphere, their distance on the spheroid: within
# 1 %), while a straight edge in degrees strays from its great circle by at most L² tan(lat) / 8R: 0.3 m
# for a 5 km edge at 30°N, and the 3 m of the slack (at 30 m) only for edges of ~15 km without a
# vertex (~9 km at 60°N). Between the two bounds the geography test decides, as it always did.
PLANAR_SLACK = 0.1

# The rule over a set of items, set-based and linear in their number. %(course)s is the SQL expression
# of the line measured (the reach, or a water body's shoreline); only the literal templates of COURSES
# are ever formatted in, every value is a query parameter, and the text does not depend on the items.
#
# clipped: each district whose box meets the item's widened box, clipped to that box. ST_ClipByBox2D
#   gives the same piece as ST_Intersection with the box (the same points: the shares agree to 1e-10
#   over the 10^5 bench reaches) at a fifth of the cost, since it needs no general overlay. Its output
#   may be invalid (PostGIS says so: a polygon may come out self-intersecting), which the overlays
#   below could refuse and fail a whole load on: such a piece is cut again by ST_Intersection.
#   (ST_IsValidDetail, not ST_IsValid: that one writes a NOTICE for every invalid piece.)
# candidate: the districts within the buffer of each item. The distance is measured to the clipped
#   piece, not to the whole boundary: the margin exceeds the buffer, so the points of the district
#   within the buffer all lie in the piece and the distance is the same, at a tenth of the cost (a
#   piece has ~20 vertices, a boundary hundreds). The geography test (~0.4 ms for a piece that does
#   not meet the course) is only run where two planar ones, in degrees, cannot decide: a piece within
#   sure_deg (the buffer less the slack, in the most metres a degree can span; a piece the course
#   crosses is at 0) is within the buffer, and one beyond far_deg (the buffer plus the slack, in the
#   fewest metres a degree spans at the latitude of the box) is not.
# buffered: each piece's zone (the piece widened by the buffer), only for items near two or more
#   districts: with a single candidate the zone meets no other zone and is never used, and the piece
#   is measured as it is (as the rule's union of it with an empty collection measured, to the last bit).
# split, measured: the rule has always measured ST_Union(piece, ST_Intersection(zone, others)) along
#   the course, others being the union of the zones of the item's other districts. Along the course
#   that is the part inside the piece, plus the part outside it that lies in the zone and in others:
#   the same points, measured as two disjoint lengths (they agree to 1e-10) from overlays of the
#   course with one polygon at a time (~20 µs each), instead of overlays of polygons with each other.
#   The part outside the piece and within its zone lies within the buffer of the boundary (empty when
#   the course stays inside the piece), so others is only built and cut where that part is not empty.
#   The other zones travel with each row as an array (a window over the item), not as a sub-select
#   rescanning the whole set per row.
# kept: significant_districts in SQL.
# A district's piece within a box (of `geom` and `box`: see the clipped stage below).
PIECE_SQL = "CASE WHEN (ST_IsValidDetail(fast)).valid THEN fast ELSE ST_Intersection(geom, box) END"

SHARES_CTE = f"""
WITH item AS MATERIALIZED (
    SELECT t.id, %(course)s AS course
    FROM %(table)s t
    WHERE t.id = ANY(%%(ids)s::integer[])
),
box AS (
    SELECT id, course, ST_Expand(course, %%(margin)s) AS box
    FROM item
),
clipped AS MATERIALIZED (
    SELECT item_id, course, district_id, far_deg,
           {PIECE_SQL} AS piece
    FROM (
        SELECT box.id AS item_id, box.course, box.box, d.id AS district_id, d.geom,
               ST_ClipByBox2D(d.geom, box.box) AS fast,
               %%(far_m)s / least(%%(degree_min_m)s, %%(degree_at_equator_m)s * cos(radians(
                   least(89.0, greatest(abs(ST_YMin(box.box)), abs(ST_YMax(box.box))))))) AS far_deg
        FROM box
        JOIN rivers_district d ON d.level = 'district' AND d.geom && box.box
    ) pair
),
candidate AS MATERIALIZED (
    SELECT item_id, course, district_id, piece, count(*) OVER (PARTITION BY item_id) AS near
    FROM clipped
    WHERE ST_DWithin(piece, course, %%(sure_deg)s)
       OR (ST_DWithin(piece, course, far_deg)
           AND ST_DWithin(piece::geography, course::geography, %%(buffer_m)s))
),
buffered AS MATERIALIZED (
    SELECT item_id, course, district_id, piece,
           CASE WHEN near > 1 THEN ST_Buffer(piece::geography, %%(buffer_m)s)::geometry END AS zone
    FROM candidate
),
zoned AS (
    SELECT buffered.*,
           array_agg(zone) OVER item_window AS zones,
           array_agg(district_id) OVER item_window AS zone_districts
    FROM buffered
    WINDOW item_window AS (PARTITION BY item_id ORDER BY district_id
                           ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
split AS MATERIALIZED (
    SELECT item_id, district_id, zones, zone_districts,
           ST_Length(ST_CollectionExtract(ST_Intersection(course, piece), 2)::geography) AS inside_m,
           CASE WHEN zone IS NOT NULL THEN ST_Intersection(ST_Difference(course, piece), zone) END AS near_rest
    FROM zoned
),
measured AS MATERIALIZED (
    SELECT item_id, district_id,
           inside_m + CASE WHEN near_rest IS NULL OR ST_IsEmpty(near_rest) THEN 0 ELSE ST_Length(ST_CollectionExtract(
               ST_Intersection(near_rest, (SELECT ST_Union(o.zone ORDER BY o.district_id)
                                           FROM unnest(zones, zone_districts) AS o(zone, district_id)
                                           WHERE o.district_id <> split.district_id)), 2)::geography) END AS held_m
    FROM split
),
ranked AS (
    SELECT item_id, district_id, held_m,
           count(*) FILTER (WHERE held_m > %%(minimum_m)s) OVER (PARTITION BY item_id) AS significant,
           row_number() OVER (PARTITION BY item_id ORDER BY held_m DESC, district_id) AS rank
    FROM measured
    WHERE held_m > 0
),
kept AS (
    -- significant_districts: those holding more than the minimum, else the one holding most.
    SELECT item_id, district_id, held_m, significant
    FROM ranked
    WHERE held_m > %%(minimum_m)s OR (significant = 0 AND rank = 1)
)
"""  # noqa: S608 - PIECE_SQL, a constant

SHARES_SQL = "".join((SHARES_CTE, "SELECT item_id, district_id, held_m FROM kept"))

# Replace the shares of the items and set their derived fields, in two statements whatever their number.
SHARES_DELETE_SQL = "DELETE FROM %(shares)s WHERE %(item_fk)s = ANY(%%(ids)s::integer[])"
STORE_TAIL = """,
stored AS (
    INSERT INTO %(shares)s (%(item_fk)s, district_id, length_m)
    SELECT item_id, district_id, held_m FROM kept
),
cross_district AS (SELECT item_id FROM kept GROUP BY item_id HAVING count(*) >= 2)
UPDATE %(table)s t
SET %(size)s = %(size_sql)s, is_cross_district = t.id IN (SELECT item_id FROM cross_district)
WHERE t.id = ANY(%%(ids)s::integer[])
  AND (t.%(size)s IS DISTINCT FROM %(size_sql)s
       OR t.is_cross_district IS DISTINCT FROM (t.id IN (SELECT item_id FROM cross_district)))
"""
SHARES_STORE_SQL = "".join((SHARES_CTE, STORE_TAIL))


# Only district-level areas count in the rule: a city's area (the whole map) is near everything.
NEAR_DISTRICTS_SQL = """
SELECT t.id FROM %(table)s t JOIN rivers_district d
  ON d.id = ANY(%%(ids)s::integer[]) AND d.level = 'district'
 AND t.geom && ST_Expand(d.geom, %%(margin)s)
 AND ST_DWithin(t.geom::geography, d.geom::geography, %%(buffer_m)s)
"""

# The only things the SQL above is formatted with: the tables and the course measured in them.
COURSES = {
    "reach": {
        "table": "rivers_reach",
        "course": "t.geom",
        "shares": "rivers_reachdistrict",
        "item_fk": "reach_id",
        "size": "length_m",
        "size_sql": "ST_Length(t.geom::geography)",
    },
    "water_body": {
        "table": "rivers_waterbody",
        "course": "ST_Boundary(t.geom)",
        "shares": "rivers_waterbodydistrict",
        "item_fk": "water_body_id",
        "size": "area_m2",
        "size_sql": "ST_Area(t.geom::geography)",
    },
}


def _buffer_params() -> dict[str, float]:
    buffer_m = settings.BOUNDARY_BUFFER_M
    return {
        "buffer_m": buffer_m,
        "margin": buffer_m * CLIP_MARGIN_DEGREES_PER_M * 2,
        "sure_deg": buffer_m * (1 - PLANAR_SLACK) / DEGREE_MAX_M,
        "far_m": buffer_m * (1 + PLANAR_SLACK),
        "degree_min_m": DEGREE_OF_LATITUDE_MIN_M,
        "degree_at_equator_m": DEGREE_OF_LONGITUDE_AT_EQUATOR_M,
    }


def _rule_params(ids: list[int]) -> dict:
    return {"ids": ids, "minimum_m": settings.CROSS_MIN_LENGTH_M, **_buffer_params()}


def _shares(kind: str, ids: list[int]) -> dict[int, dict[int, float]]:
    """Return {item id: {district id: metres held}} for the districts the given items lie in."""
    shares: dict[int, dict[int, float]] = {item_id: {} for item_id in ids}
    with connection.cursor() as cursor:
        cursor.execute(SHARES_SQL % COURSES[kind], _rule_params(ids))
        for item_id, district_id, held_m in cursor.fetchall():
            shares[item_id][district_id] = held_m
    return shares


def _recompute(kind: str, item_ids: Iterable[int]) -> None:
    ids = sorted(set(item_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(SHARES_DELETE_SQL % COURSES[kind], {"ids": ids})
        cursor.execute(SHARES_STORE_SQL % COURSES[kind], _rule_params(ids))


def significant_districts(shares: dict[int, float]) -> dict[int, float]:
    """Return the districts a reach lies in: those holding more than the minimum length.

    A reach shorter than the minimum lies in the district holding most of it.
    """
    minimum = settings.CROSS_MIN_LENGTH_M
    kept = {d: m for d, m in shares.items() if m > minimum}
    if not kept and shares:
        best = max(shares, key=shares.__getitem__)
        kept = {best: shares[best]}
    return kept


@transaction.atomic
def reaches_recompute(reach_ids: Iterable[int]) -> None:
    """Recompute length_m, the districts and is_cross_district of the given reaches.

    Three statements whatever the number of reaches, each linear in it.
    """
    _recompute("reach", reach_ids)


@transaction.atomic
def water_bodies_recompute(water_body_ids: Iterable[int]) -> None:
    """Recompute area_m2, the districts and is_cross_district of the given water bodies."""
    _recompute("water_body", water_body_ids)


# The items stored as lying in the districts, and those within the buffer of their boundaries.
STORED_IN_DISTRICTS_SQL = "SELECT %(item_fk)s FROM %(shares)s WHERE district_id = ANY(%%(ids)s::integer[])"


def network_near(district_ids: Iterable[int]) -> tuple[set[int], set[int]]:
    """Return the reaches and water bodies a change of these districts' boundaries (or level) may
    affect, by the boundaries stored now: those stored as lying in these districts, and those within
    the boundary buffer of them. Two statements per kind, whatever the number of districts."""
    ids = sorted(set(district_ids))
    found: dict[str, set[int]] = {"reach": set(), "water_body": set()}
    if not ids:
        return found["reach"], found["water_body"]
    with connection.cursor() as cursor:
        for kind, items in found.items():
            cursor.execute(STORED_IN_DISTRICTS_SQL % COURSES[kind], {"ids": ids})
            items.update(row[0] for row in cursor.fetchall())
            cursor.execute(NEAR_DISTRICTS_SQL % COURSES[kind], {"ids": ids, **_buffer_params()})
            items.update(row[0] for row in cursor.fetchall())
    return found["reach"], found["water_body"]


def network_recompute_around(
    district_ids: Iterable[int], *, also: tuple[Iterable[int], Iterable[int]] = ((), ())
) -> None:
    """Recompute the reaches and water bodies a change of these districts' boundaries may affect.

    Those are the ones within the boundary buffer of the new boundaries, and the ones stored as
    lying in these districts (found by their old boundaries); `also` adds reaches and water bodies
    found before the change (network_near on the old boundaries, by a loader).
    """
    reach_ids, body_ids = network_near(district_ids)
    reaches_recompute(reach_ids | set(also[0]))
    water_bodies_recompute(body_ids | set(also[1]))


def network_recompute_all() -> None:
    """Recompute every reach and water body (after a bulk load of districts)."""
    reaches_recompute(Reach.objects.values_list("pk", flat=True))
    water_bodies_recompute(WaterBody.objects.values_list("pk", flat=True))
