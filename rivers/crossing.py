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
from django.db.models import FloatField, Func

from .models import Reach, ReachDistrict, WaterBody, WaterBodyDistrict

GEOGRAPHY_LENGTH = Func(template="ST_Length(geom::geography)", output_field=FloatField())
GEOGRAPHY_AREA = Func(template="ST_Area(geom::geography)", output_field=FloatField())

# Degrees by which the reach's box is widened to clip the districts around it before buffering. It
# must exceed the buffer in degrees of longitude (30 m is 0.0003° at 29°N, 0.0006° at 60°N), so it
# is taken as buffer / 40 km: 0.00075° for 30 m.
CLIP_MARGIN_DEGREES_PER_M = 1 / 40_000

# %(course)s is the SQL expression of the line measured (the reach, or a water body's shoreline).
# Only these two literal templates are ever formatted in; every value is a query parameter.
SHARES_SQL = """
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


NEAR_DISTRICTS_SQL = """
SELECT t.id FROM %(table)s t JOIN rivers_district d
  ON d.id = ANY(%%(ids)s)
 AND t.geom && ST_Expand(d.geom, %%(margin)s)
 AND ST_DWithin(t.geom::geography, d.geom::geography, %%(buffer_m)s)
"""

# The only two things SHARES_SQL and NEAR_DISTRICTS_SQL is formatted with: a table and the course measured in it.
COURSES = {
    "reach": {"table": "rivers_reach", "course": "t.geom"},
    "water_body": {"table": "rivers_waterbody", "course": "ST_Boundary(t.geom)"},
}


def _buffer_params() -> dict[str, float]:
    buffer_m = settings.BOUNDARY_BUFFER_M
    return {"buffer_m": buffer_m, "margin": buffer_m * CLIP_MARGIN_DEGREES_PER_M * 2}


def _shares(kind: str, ids: list[int]) -> dict[int, dict[int, float]]:
    """Return {item id: {district id: metres held}} for the given reaches or water bodies."""
    shares: dict[int, dict[int, float]] = {item_id: {} for item_id in ids}
    with connection.cursor() as cursor:
        cursor.execute(SHARES_SQL % COURSES[kind], {"ids": ids, **_buffer_params()})
        for item_id, district_id, held_m in cursor.fetchall():
            if held_m and held_m > 0:
                shares[item_id][district_id] = held_m
    return shares


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
    """Recompute length_m, the districts and is_cross_district of the given reaches."""
    ids = list(reach_ids)
    if not ids:
        return
    Reach.objects.filter(pk__in=ids).update(length_m=GEOGRAPHY_LENGTH)
    shares = _shares("reach", ids)
    ReachDistrict.objects.filter(reach_id__in=ids).delete()
    rows, cross = [], []
    for reach_id, held in shares.items():
        kept = significant_districts(held)
        rows += [ReachDistrict(reach_id=reach_id, district_id=d, length_m=m) for d, m in kept.items()]
        if len(kept) >= 2:
            cross.append(reach_id)
    ReachDistrict.objects.bulk_create(rows)
    Reach.objects.filter(pk__in=ids).update(is_cross_district=False)
    Reach.objects.filter(pk__in=cross).update(is_cross_district=True)


@transaction.atomic
def water_bodies_recompute(water_body_ids: Iterable[int]) -> None:
    """Recompute area_m2, the districts and is_cross_district of the given water bodies."""
    ids = list(water_body_ids)
    if not ids:
        return
    WaterBody.objects.filter(pk__in=ids).update(area_m2=GEOGRAPHY_AREA)
    shares = _shares("water_body", ids)
    WaterBodyDistrict.objects.filter(water_body_id__in=ids).delete()
    rows, cross = [], []
    for body_id, held in shares.items():
        kept = significant_districts(held)
        rows += [WaterBodyDistrict(water_body_id=body_id, district_id=d, length_m=m) for d, m in kept.items()]
        if len(kept) >= 2:
            cross.append(body_id)
    WaterBodyDistrict.objects.bulk_create(rows)
    WaterBody.objects.filter(pk__in=ids).update(is_cross_district=False)
    WaterBody.objects.filter(pk__in=cross).update(is_cross_district=True)


def network_recompute_around(district_ids: Iterable[int]) -> None:
    """Recompute the reaches and water bodies a change of these districts' boundaries may affect.

    Those are the ones within the boundary buffer of the new boundaries, and the ones stored as
    lying in these districts (found by their old boundaries).
    """
    ids = list(district_ids)
    if not ids:
        return
    reach_ids = set(ReachDistrict.objects.filter(district_id__in=ids).values_list("reach_id", flat=True))
    body_ids = set(WaterBodyDistrict.objects.filter(district_id__in=ids).values_list("water_body_id", flat=True))
    with connection.cursor() as cursor:
        for kind, found in (("reach", reach_ids), ("water_body", body_ids)):
            cursor.execute(NEAR_DISTRICTS_SQL % COURSES[kind], {"ids": ids, **_buffer_params()})
            found.update(row[0] for row in cursor.fetchall())
    reaches_recompute(reach_ids)
    water_bodies_recompute(body_ids)


def network_recompute_all() -> None:
    """Recompute every reach and water body (after a bulk load of districts)."""
    reaches_recompute(Reach.objects.values_list("pk", flat=True))
    water_bodies_recompute(WaterBody.objects.values_list("pk", flat=True))
