"""Who receives a clue found at a point (DESIGN §4, seed 002 §三(二)).

1. Snap the point to the nearest reach or water body within SNAP_TOLERANCE_M, nearest in metres.
2. Its district is the district-level area containing the point.
3. A cross-district reach goes to the municipal procuratorate (the procuratorate of the districts'
   parent city), copied to the procuratorate of every district the reach lies in — seed 002:
   "涉跨区划河流管辖的公益诉讼案件线索，应及时将线索和有关材料报送市检察院".
4. A point in no district goes to the municipal procuratorate of the city containing it, else of
   the nearest city.
5. Anything else goes to the procuratorate of its district.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

from config.database import PreparedStatement

from .models import Agency, District, Reach, WaterBody


class RoutingError(Exception):
    """No agency can receive a clue at this point (the network has no city or no procuratorate)."""


class Reason:
    DISTRICT = "district"
    CROSS_DISTRICT = "cross_district"
    OUTSIDE_DISTRICTS = "outside_districts"


@dataclass(frozen=True)
class Routing:
    reason: str
    procuratorate: Agency
    district: District | None = None
    reach: Reach | WaterBody | None = None
    reach_distance_m: float | None = None
    reach_districts: list[District] = field(default_factory=list)
    copies: list[Agency] = field(default_factory=list)
    # The city the clue belongs to: above its district; for a clue in no district, the receiving city.
    city: District | None = None
    # Other districts within BOUNDARY_BUFFER_M of the point, nearest first, as (code, name, metres);
    # None unless route() was asked for them (the preview's warnings).
    near_districts: list[tuple[str, str, float]] | None = None


# The rules above, read in one statement: what the point snaps to, the district holding it, the
# feature's districts, the cities above them (or the city of a point in no district) and the
# procuratorate serving each of those areas. Python then applies the rules to what it returned.
# Candidates for the nearest come from the GiST index (`<->`, degrees); metres on the ground decide.
# $1 the point (EWKT), $2 the snap tolerance in metres, $3 the boundary buffer in metres for the preview's
# warnings (NULL when they are not asked for: a registration). The index gives 8 candidates, written in
# rather than a parameter: with `LIMIT $n` PostgreSQL costed the generic plan for a tenth of each table and
# planned the statement again on every EXECUTE (1.1-1.3 ms of planning for 1.5 ms of running, issue 10);
# with a constant, the generic plan costs what the custom ones did and is kept after the fifth execution.
ROUTE_SQL = """
WITH RECURSIVE
snapped AS (  -- the nearest reach or water body within the tolerance; a reach wins a tie
    SELECT kind, id, distance_m FROM (
        SELECT 'reach' AS kind, c.id, ST_Distance(c.geom::geography, $1::geometry::geography) AS distance_m
        FROM (SELECT id, geom FROM rivers_reach ORDER BY geom <-> $1::geometry LIMIT 8) c
        UNION ALL
        SELECT 'water_body', c.id, ST_Distance(c.geom::geography, $1::geometry::geography)
        FROM (SELECT id, geom FROM rivers_waterbody ORDER BY geom <-> $1::geometry LIMIT 8) c
    ) candidates
    WHERE distance_m <= $2
    ORDER BY distance_m, kind = 'water_body', id
    LIMIT 1
),
here AS (  -- the district-level area holding the point
    SELECT id FROM rivers_district
    WHERE level = 'district' AND ST_Intersects(geom, $1::geometry)
    ORDER BY code LIMIT 1
),
shares AS (  -- the feature's districts and how much of it each holds
    SELECT s.district_id, s.length_m FROM rivers_reachdistrict s
    JOIN snapped f ON f.kind = 'reach' AND s.reach_id = f.id
    UNION ALL
    SELECT s.district_id, s.length_m FROM rivers_waterbodydistrict s
    JOIN snapped f ON f.kind = 'water_body' AND s.water_body_id = f.id
),
anchor AS (  -- for a cross-district feature: the district holding the point, else the one holding most
    SELECT COALESCE(
        (SELECT id FROM here WHERE id IN (SELECT district_id FROM shares)),
        (SELECT district_id FROM shares ORDER BY length_m DESC, district_id LIMIT 1)
    ) AS id
),
starts AS (SELECT id FROM here UNION SELECT id FROM anchor WHERE id IS NOT NULL),
chain (start, id, level, parent_id, depth) AS (  -- each start area and its parents up to a city
    SELECT d.id, d.id, d.level, d.parent_id, 0 FROM rivers_district d WHERE d.id IN (SELECT id FROM starts)
    UNION ALL
    SELECT c.start, p.id, p.level, p.parent_id, c.depth + 1
    FROM chain c JOIN rivers_district p ON p.id = c.parent_id
    WHERE c.level <> 'city' AND c.depth < 10
),
city_of AS (  -- the parent chain decides; data without parents: the city containing the area
    SELECT s.id AS start, COALESCE(
        (SELECT c.id FROM chain c WHERE c.start = s.id AND c.level = 'city' ORDER BY c.depth LIMIT 1),
        (SELECT city.id FROM rivers_district city
         WHERE city.level = 'city' AND ST_Intersects(city.geom, ST_PointOnSurface(s.geom))
         ORDER BY city.code LIMIT 1)
    ) AS city_id
    FROM rivers_district s WHERE s.id IN (SELECT id FROM starts)
),
outside AS (  -- a point in no district: the city containing it, else the nearest city
    SELECT COALESCE(
        (SELECT id FROM rivers_district
         WHERE level = 'city' AND ST_Intersects(geom, $1::geometry)
         ORDER BY code LIMIT 1),
        (SELECT n.id FROM (
            SELECT id, geom FROM rivers_district WHERE level = 'city'
            ORDER BY geom <-> $1::geometry LIMIT 8
         ) n ORDER BY ST_Distance(n.geom::geography, $1::geometry::geography), n.id LIMIT 1)
    ) AS id
    WHERE NOT EXISTS (SELECT 1 FROM here)
),
near AS (  -- the preview's warning: other districts within $3 metres of the point (NULL: not asked)
    SELECT d.code, d.name, ST_Distance(d.geom::geography, $1::geometry::geography) AS distance_m
    FROM rivers_district d
    WHERE $3::float8 IS NOT NULL AND d.level = 'district'
      AND d.geom && ST_Expand($1::geometry, $3 / 40000.0)  -- the index's candidates: see routing_warnings
      AND ST_DWithin(d.geom::geography, $1::geometry::geography, $3)
      AND d.id IS DISTINCT FROM (SELECT id FROM here)
),
areas AS (
    SELECT id FROM starts UNION SELECT district_id FROM shares
    UNION SELECT city_id FROM city_of UNION SELECT id FROM outside
)
SELECT
    (SELECT row_to_json(f) FROM (
        SELECT s.kind, s.distance_m, r.id, r.river_id, r.code, r.name, r.level, r.length_m, r.is_cross_district,
               NULL AS water_kind, NULL::float AS area_m2
        FROM snapped s JOIN rivers_reach r ON s.kind = 'reach' AND r.id = s.id
        UNION ALL
        SELECT s.kind, s.distance_m, w.id, NULL, w.code, w.name, w.level, NULL, w.is_cross_district, w.kind, w.area_m2
        FROM snapped s JOIN rivers_waterbody w ON s.kind = 'water_body' AND w.id = s.id
    ) f),
    (SELECT id FROM here),
    (SELECT id FROM anchor),
    (SELECT id FROM outside),
    (SELECT json_agg(district_id) FROM shares),
    (SELECT json_object_agg(start, city_id) FROM city_of),
    (SELECT json_agg(json_build_array(d.id, d.code, d.name, d.level, d.parent_id))
     FROM rivers_district d WHERE d.id IN (SELECT id FROM areas)),
    (SELECT json_agg(json_build_array(a.id, a.code, a.name, a.kind, a.district_id)) FROM (
        SELECT DISTINCT ON (district_id) id, code, name, kind, district_id FROM rivers_agency
        WHERE kind = 'procuratorate' AND district_id IN (SELECT id FROM areas)
        ORDER BY district_id, code
    ) a),
    (SELECT json_agg(json_build_array(n.code, n.name, n.distance_m) ORDER BY n.distance_m, n.code) FROM near n)
"""

# Planned once per connection: planning this statement cost more than running it.
ROUTE = PreparedStatement("rivers_route", ("text", "float8", "float8"), ROUTE_SQL)

DISTRICT_FIELDS = ["id", "code", "name", "level", "parent_id"]
AGENCY_FIELDS = ["id", "code", "name", "kind", "district_id"]
REACH_FIELDS = ["id", "river_id", "code", "name", "level", "length_m", "is_cross_district"]
WATER_BODY_FIELDS = ["id", "code", "name", "kind", "level", "area_m2", "is_cross_district"]


def route(point: Point, *, near_boundary: bool = False) -> Routing:
    """Return who receives a clue at `point` (lon/lat, SRID 4326), and why; with `near_boundary`, also
    the other districts within BOUNDARY_BUFFER_M of it (what routing_warnings needs).

    One statement reads everything the rules need; the objects it returns carry no geometry (a
    district's boundary is deferred: reading it costs a query).
    """
    with connection.cursor() as cursor:
        ROUTE.execute(cursor, route_params(point, near_boundary=near_boundary))
        row = cursor.fetchone()
    routing = _routing(row[:-1])
    if not near_boundary:
        return routing
    near = [(code, name, distance_m) for code, name, distance_m in row[-1] or []]
    return dataclasses.replace(routing, near_districts=near)


def _routing(row: tuple) -> Routing:
    """Apply the rules to what ROUTE_SQL read (but its last column)."""
    feature_row, here_id, anchor_id, outside_id, share_ids, cities, district_rows, agency_rows = row
    areas = {row[0]: _loaded(District, DISTRICT_FIELDS, row) for row in district_rows or []}
    serving = {row[4]: _loaded(Agency, AGENCY_FIELDS, row) for row in agency_rows or []}
    city_ids = {int(start): city_id for start, city_id in (cities or {}).items()}

    def procuratorate_of(area: District) -> Agency:
        if area.pk not in serving:
            raise RoutingError(f"没有检察院负责 {area} / no procuratorate serves {area}")
        return serving[area.pk]

    feature, distance_m = _feature(feature_row)
    district = areas.get(here_id)
    feature_districts = sorted((areas[pk] for pk in share_ids or []), key=lambda area: area.code)
    city = areas.get(city_ids.get(here_id))  # the city of a clue in a district

    if feature is not None and feature.is_cross_district:
        anchor = areas.get(anchor_id)
        receiving_city = areas.get(city_ids.get(anchor_id))
        if receiving_city is None:
            raise RoutingError(f"{anchor} 没有上级市 / has no parent city")
        return Routing(
            reason=Reason.CROSS_DISTRICT,
            procuratorate=procuratorate_of(receiving_city),
            district=district,
            reach=feature,
            reach_distance_m=distance_m,
            reach_districts=feature_districts,
            copies=[procuratorate_of(area) for area in feature_districts],
            city=city if district is not None else receiving_city,
        )

    if district is None:
        city = areas.get(outside_id)
        if city is None:
            raise RoutingError("没有任何市级行政区 / the network has no city")
        reason, receiver = Reason.OUTSIDE_DISTRICTS, procuratorate_of(city)
    else:
        reason, receiver = Reason.DISTRICT, procuratorate_of(district)
    return Routing(
        reason=reason,
        procuratorate=receiver,
        district=district,
        reach=feature,
        reach_distance_m=distance_m,
        reach_districts=feature_districts,
        city=city,
    )


def route_params(point: Point, *, near_boundary: bool = False) -> list:
    buffer_m = settings.BOUNDARY_BUFFER_M if near_boundary else None
    return [f"SRID=4326;POINT({point.x!r} {point.y!r})", settings.SNAP_TOLERANCE_M, buffer_m]


def _loaded(model, fields: list[str], values):  # noqa: ANN001, ANN202 - a model class; its instance
    """Return an instance as the ORM would have read it with .only(fields): the rest deferred."""
    return model.from_db(connection.alias, fields, list(values))


def _feature(row: dict | None) -> tuple[Reach | WaterBody | None, float | None]:
    if row is None:
        return None, None
    if row["kind"] == "reach":
        feature = _loaded(Reach, REACH_FIELDS, [row[name] for name in REACH_FIELDS])
    else:
        values = {**row, "kind": row["water_kind"]}
        feature = _loaded(WaterBody, WATER_BODY_FIELDS, [values[name] for name in WATER_BODY_FIELDS])
    return feature, row["distance_m"]


class WarningCode:
    NEAR_BOUNDARY = "near_boundary"
    NO_REACH = "no_reach"


def routing_warnings(routing: Routing) -> list[dict]:
    """Return what the person sending a clue from the routed point should check before sending it;
    `routing` comes from route(point, near_boundary=True).

    `near_boundary`: the point lies within BOUNDARY_BUFFER_M (the buffer that makes a boundary river
    cross-district, rivers.crossing) of a district other than the one containing it: a few metres of
    GPS error would route it elsewhere. `no_reach`: no reach or water body within SNAP_TOLERANCE_M.
    """
    if routing.near_districts is None:
        raise ValueError("routing_warnings needs route(point, near_boundary=True)")
    # ROUTE_SQL finds the districts: a box around the point lets the GiST index pick the candidates
    # before distances on the ground are measured; its half-width in degrees (buffer / 40,000) is at
    # least the buffer wherever a degree of longitude is 40 km or more (below 69°, as rivers.crossing
    # assumes).
    buffer_m = settings.BOUNDARY_BUFFER_M
    warnings = [
        {
            "code": WarningCode.NEAR_BOUNDARY,
            "message": f"距{name}边界不足 {buffer_m:g} 米，请核实所在区县 / "
            f"within {buffer_m:g} m of the boundary of {name}: check the district",
            "district": {"code": code, "name": name},
            "buffer_m": buffer_m,
            "distance_m": round(distance_m, 1),
        }
        for code, name, distance_m in routing.near_districts
    ]
    if routing.reach is None:
        tolerance_m = settings.SNAP_TOLERANCE_M
        warnings.append(
            {
                "code": WarningCode.NO_REACH,
                "message": f"{tolerance_m:g} 米内没有河段或水体 / no reach or water body within {tolerance_m:g} m",
                "snap_tolerance_m": tolerance_m,
            }
        )
    return warnings
