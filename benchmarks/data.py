"""Seeded data at municipal scale, generated set-based in SQL (generate_series, INSERT ... SELECT).

One city holds a grid of square districts (each side segmentised, ~370 boundary vertices), whose agencies
are derived with the loader's codes and names; reaches are wiggly lines of about REACH_LENGTH_M with a
few boundary rivers (界河) along the grid lines; a year of patrols, findings and clues; long tracks of
3 h at 1 Hz. Derived fields (length, districts, shares, is_cross_district) are the product's own:
rivers.crossing's SQL and rule, checked on a sample against rivers.crossing.reaches_recompute.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from clues.tallies import tallies_fold
from rivers import crossing
from rivers.members import member_add
from rivers.models import Agency, Reach, ReachDistrict, WaterBody

# The south-west corner of the grid (near 綦江, 29°N) and the side of a district, in degrees.
ORIGIN_LON, ORIGIN_LAT = 105.8, 28.4
CELL_DEG = 0.04
SIDE_VERTICES = 92  # segments per side: 4 × 92 + 1 = 369 boundary vertices
REACH_LENGTH_M = 1050.0  # tuned so that about 26 % of the reaches are cross-district
REACH_VERTICES = 16
BOUNDARY_RIVER_EVERY = 40  # one reach in 40 runs along a grid line (a 界河)
CITY_CODE = "500000"
BENCH_PASSWORD = "bench-Password-1"  # noqa: S105 - a generated account of the bench database only


@dataclasses.dataclass(frozen=True)
class Scale:
    districts: int
    reaches: int
    clues: int
    long_tracks: int
    track_seconds: int = 3 * 3600
    patrols_per_district: int = 5
    findings_per_patrol: int = 2
    track_points: bool = True  # store every fix of the long tracks as patrols_trackpoint rows
    seed: float = 0.42

    water_body_count: int | None = None

    @property
    def water_bodies(self) -> int:
        return self.water_body_count or max(2, self.reaches // 200)

    @property
    def rivers(self) -> int:
        return max(1, self.reaches // 100)


FULL = Scale(districts=1000, reaches=100_000, clues=1_000_000, long_tracks=500)
QUICK = Scale(districts=9, reaches=300, clues=400, long_tracks=2, track_seconds=600)
# Enough rows that every list of the API has more than 100 items for one of the bench users.
# (findings: those of district 510000's patrols are its patrol member's, bench-patrol-510000.)
LISTS = Scale(
    districts=100,
    reaches=150,
    clues=1000,
    long_tracks=0,
    track_seconds=60,
    patrols_per_district=2,
    findings_per_patrol=60,
    water_body_count=120,
    track_points=False,
)


def scale_from_env(default: Scale = FULL) -> Scale:
    """Return `default` with any of BENCH_DISTRICTS, BENCH_REACHES, BENCH_CLUES, BENCH_TRACKS set."""
    return dataclasses.replace(
        default,
        districts=int(os.environ.get("BENCH_DISTRICTS", default.districts)),
        reaches=int(os.environ.get("BENCH_REACHES", default.reaches)),
        clues=int(os.environ.get("BENCH_CLUES", default.clues)),
        long_tracks=int(os.environ.get("BENCH_TRACKS", default.long_tracks)),
        track_points=os.environ.get("BENCH_TRACK_POINTS", "1" if default.track_points else "0") == "1",
    )


def grid_columns(scale: Scale) -> int:
    return math.ceil(math.sqrt(scale.districts))


def params_of(scale: Scale) -> dict:
    cols = grid_columns(scale)
    rows = math.ceil(scale.districts / cols)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return {
        "n_districts": scale.districts,
        "cols": cols,
        "rows": rows,
        "lon0": ORIGIN_LON,
        "lat0": ORIGIN_LAT,
        "cell": CELL_DEG,
        "seg": CELL_DEG / SIDE_VERTICES,
        "city": CITY_CODE,
        "n_reaches": scale.reaches,
        "n_rivers": scale.rivers,
        "reach_m": REACH_LENGTH_M,
        "reach_vertices": REACH_VERTICES,
        "boundary_every": BOUNDARY_RIVER_EVERY,
        "n_water_bodies": scale.water_bodies,
        "n_clues": scale.clues,
        "n_long_tracks": scale.long_tracks,
        "track_seconds": scale.track_seconds,
        "patrols_per_district": scale.patrols_per_district,
        "findings_per_patrol": scale.findings_per_patrol,
        "now": now,
        "year_ago": now - datetime.timedelta(days=365),
        "seed": scale.seed,
    }


# Each step is one statement; %(name)s are parameters (params_of). Coordinates: the grid's cell (i, j)
# is district number j * cols + i, lying in [lon0 + i·cell, lon0 + (i+1)·cell] × [lat0 + j·cell, ...].
STEPS: list[tuple[str, str]] = [
    (
        "city",
        """
        INSERT INTO rivers_district (code, name, level, parent_id, geom)
        SELECT %(city)s, '基准市', 'city', NULL,
               ST_Multi(ST_Segmentize(ST_MakeEnvelope(%(lon0)s, %(lat0)s, %(lon0)s + %(cols)s * %(cell)s,
                                                      %(lat0)s + %(rows)s * %(cell)s, 4326), %(seg)s))
        """,
    ),
    (
        "districts",
        """
        INSERT INTO rivers_district (code, name, level, parent_id, geom)
        SELECT (510000 + n)::text, '基准区' || n, 'district', (SELECT id FROM rivers_district WHERE code = %(city)s),
               ST_Multi(ST_Segmentize(ST_MakeEnvelope(
                   %(lon0)s + (n %% %(cols)s) * %(cell)s, %(lat0)s + (n / %(cols)s) * %(cell)s,
                   %(lon0)s + (n %% %(cols)s + 1) * %(cell)s, %(lat0)s + (n / %(cols)s + 1) * %(cell)s, 4326),
                   %(seg)s))
        FROM generate_series(0, %(n_districts)s - 1) n
        """,
    ),
    (
        # DESIGN §6 / rivers.network.DERIVED_AGENCIES: <code>-PROC, -RCO, -LIAISON with these names.
        "agencies",
        """
        INSERT INTO rivers_agency (code, name, kind, district_id)
        SELECT d.code || '-' || k.suffix, replace(k.template, '{name}', d.name), k.kind, d.id
        FROM rivers_district d
        CROSS JOIN (VALUES ('PROC', 'procuratorate', '{name}人民检察院'),
                           ('RCO', 'river_office', '{name}河长办公室'),
                           ('LIAISON', 'liaison_office', '{name}人民检察院派驻{name}河长办公室检察联络室'))
             AS k(suffix, kind, template)
        """,
    ),
    (
        "rivers",
        """
        INSERT INTO rivers_river (code, name)
        SELECT 'BR' || n, '基准河' || n FROM generate_series(1, %(n_rivers)s) n
        """,
    ),
    (
        # A reach: a start point, a heading and REACH_VERTICES vertices with sideways wiggle; one in
        # boundary_every runs north along a vertical grid line, 5 m off it (a boundary river).
        "reaches",
        """
        WITH seeded AS (SELECT setseed(%(seed)s)),
        start AS (
            SELECT n,
                   n %% %(boundary_every)s = 0 AS on_boundary,
                   %(lon0)s + random() * %(cols)s * %(cell)s AS x,
                   %(lat0)s + random() * (ceil(%(n_districts)s::float / %(cols)s) - 0.05) * %(cell)s AS y,
                   random() * 2 * pi() AS heading,
                   (1 + floor(random() * (%(cols)s - 1)))::int AS line_i
            FROM seeded, generate_series(1, %(n_reaches)s) n
        ),
        vertex AS (
            SELECT s.n, k,
                   CASE WHEN s.on_boundary
                        THEN %(lon0)s + s.line_i * %(cell)s + 0.00005 + (random() - 0.5) * 0.00002
                        ELSE s.x + k * %(reach_m)s / (%(reach_vertices)s - 1) * cos(s.heading)
                               / (111320 * cos(radians(s.y)))
                             + (random() - 0.5) * 0.0003 * sin(s.heading)
                   END AS lon,
                   CASE WHEN s.on_boundary
                        THEN s.y + k * %(reach_m)s / (%(reach_vertices)s - 1) / 110540
                        ELSE s.y + k * %(reach_m)s / (%(reach_vertices)s - 1) * sin(s.heading) / 110540
                             + (random() - 0.5) * 0.0003 * cos(s.heading)
                   END AS lat
            FROM start s, generate_series(0, %(reach_vertices)s - 1) k
        ),
        line AS (
            SELECT n, ST_MakeLine(ST_MakePoint(lon, lat) ORDER BY k) AS geom FROM vertex GROUP BY n
        )
        INSERT INTO rivers_reach (river_id, code, name, level, geom, length_m, is_cross_district)
        SELECT (SELECT min(id) FROM rivers_river) + (n %% %(n_rivers)s), 'RB' || lpad(n::text, 6, '0'),
               '基准河段' || n, (ARRAY['city', 'district', 'town', 'village'])[1 + n %% 4],
               ST_SetSRID(ST_Multi(geom), 4326), 0, false
        FROM line
        """,
    ),
    (
        "reach lengths",
        # rivers.crossing.GEOGRAPHY_LENGTH
        "UPDATE rivers_reach SET length_m = ST_Length(geom::geography)",
    ),
    (
        "water bodies",
        """
        INSERT INTO rivers_waterbody (code, name, kind, level, geom, area_m2, is_cross_district)
        SELECT 'WB' || n, '基准水库' || n, 'reservoir', 'district',
               ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(
                   %(lon0)s + ((n * 7919) %% 1000) / 1000.0 * %(cols)s * %(cell)s,
                   %(lat0)s + ((n * 104729) %% 997) / 997.0
                       * (ceil(%(n_districts)s::float / %(cols)s) - 0.05) * %(cell)s),
                   4326)::geography, 100 + (n %% 4) * 100, 8)::geometry), 0, false
        FROM generate_series(1, %(n_water_bodies)s) n
        """,
    ),
    (
        "chiefs",
        """
        INSERT INTO rivers_chiefassignment (person_name, role, level, start_date, end_date, reach_id)
        SELECT '河长' || r.id, 'chief', r.level, (%(year_ago)s)::date, NULL::date, r.id FROM rivers_reach r
        UNION ALL
        SELECT '检察官' || r.id, 'eco_prosecutor', r.level, (%(year_ago)s)::date, NULL::date, r.id
        FROM rivers_reach r WHERE r.id %% 10 = 0
        """,
    ),
    (
        # One patrol member per district, in its river office (unusable password: they only own rows).
        "users",
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                               date_joined)
        SELECT '!', false, 'bench-patrol-' || d.code, '', '', '', false, true, %(now)s
        FROM rivers_district d WHERE d.level = 'district'
        """,
    ),
    (
        "memberships",
        """
        INSERT INTO rivers_membership (user_id, agency_id, role)
        SELECT u.id, a.id, 'patrol' FROM auth_user u
        JOIN rivers_agency a ON a.code = substr(u.username, 14) || '-RCO'
        WHERE u.username LIKE 'bench-patrol-%%'
        """,
    ),
    (
        # A year of patrols: each district's patrols walk one of its reaches (the reach's line is the track).
        "patrols",
        """
        WITH seeded AS (SELECT setseed(%(seed)s)),
        home AS (
            SELECT DISTINCT ON (rd.district_id, k) rd.district_id, k, r.geom
            FROM rivers_reachdistrict rd JOIN rivers_reach r ON r.id = rd.reach_id,
                 generate_series(1, %(patrols_per_district)s) k
            ORDER BY rd.district_id, k, (r.id * k) %% 97
        )
        INSERT INTO patrols_patrol (client_uuid, kind, status, title, started_at, ended_at, track, track_display,
                                    length_m, duration_s, is_valid, coverage_done_at, district_id, started_by_id)
        SELECT gen_random_uuid(), CASE WHEN h.k = 1 THEN 'joint' ELSE 'routine' END, 'finished', '基准巡查',
               t.at, t.at + interval '1 hour', ST_GeometryN(h.geom, 1), ST_GeometryN(h.geom, 1),
               ST_Length(h.geom::geography), 3600, true, t.at + interval '1 hour', h.district_id, u.id
        FROM seeded, home h
        JOIN rivers_district d ON d.id = h.district_id
        JOIN auth_user u ON u.username = 'bench-patrol-' || d.code
        CROSS JOIN LATERAL (SELECT %(year_ago)s::timestamptz + random() * interval '360 days' AS at) t
        """,
    ),
    (
        "participants",
        """
        INSERT INTO patrols_patrolparticipant (patrol_id, user_id, agency_id)
        SELECT p.id, p.started_by_id, m.agency_id FROM patrols_patrol p
        JOIN rivers_membership m ON m.user_id = p.started_by_id
        """,
    ),
    (
        "coverage",
        """
        INSERT INTO patrols_patrolcoverage (patrol_id, reach_id, covered_m, fraction)
        SELECT DISTINCT ON (p.id) p.id, r.id, r.length_m, 1.0
        FROM patrols_patrol p JOIN rivers_reach r ON r.geom && p.track AND ST_Equals(ST_GeometryN(r.geom, 1), p.track)
        ORDER BY p.id, r.id
        """,
    ),
    (
        "findings",
        """
        INSERT INTO patrols_finding (client_uuid, request_digest, category, description, geom, found_at, created_at,
                                     agency_id, reported_by_id, patrol_id)
        SELECT gen_random_uuid(), md5(p.id || '-' || k), (ARRAY['water_pollution', 'illegal_fishing', 'shoreline',
               'river_cleanliness', 'illegal_sand_mining'])[1 + (p.id + k) %% 5], '基准发现',
               ST_LineInterpolatePoint(p.track, k / (%(findings_per_patrol)s + 1.0)),
               p.started_at + k * interval '10 min',
               p.started_at + k * interval '10 min', m.agency_id, p.started_by_id, p.id
        FROM patrols_patrol p JOIN rivers_membership m ON m.user_id = p.started_by_id,
             generate_series(1, %(findings_per_patrol)s) k
        """,
    ),
    (
        # Clues on reaches (a point on a random reach, 0-60 m off it); the district is the grid cell
        # holding the point (the districts are that grid), the routing that of DESIGN §4.
        "clues",
        """
        WITH seeded AS (SELECT setseed(%(seed)s)),
        bounds AS (SELECT min(id) AS lo, max(id) AS hi FROM rivers_reach),
        pick AS (
            SELECT n,
                   (SELECT lo FROM bounds) + floor(random() * ((SELECT hi - lo + 1 FROM bounds)))::bigint AS reach_id,
                   random() AS along, (random() - 0.5) * 0.0006 AS dx, random() AS r1, random() AS r2
            FROM seeded, generate_series(1, %(n_clues)s) n
        ),
        placed AS (
            SELECT p.*, r.is_cross_district,
                   ST_Translate(ST_LineInterpolatePoint(ST_GeometryN(r.geom, 1), p.along), p.dx, 0) AS geom
            FROM pick p JOIN rivers_reach r ON r.id = p.reach_id
        ),
        located AS (
            SELECT pl.*, (510000 + floor((ST_X(geom) - %(lon0)s) / %(cell)s)
                          + %(cols)s * floor((ST_Y(geom) - %(lat0)s) / %(cell)s))::bigint::text AS district_code,
                   %(year_ago)s::timestamptz + pl.r1 * interval '364 days' AS at
            FROM placed pl
        )
        INSERT INTO clues_clue (code, client_uuid, request_digest, source, category, description, geom, status,
                                confidential, snap_distance_m, routing_reason, case_number, outcome_note, judgement,
                                created_at, updated_at, city_id, district_id, holder_id, reach_id, registered_by_id,
                                registering_agency_id, routed_to_id, history_anchor, history_count)
        SELECT coalesce(d.code, %(city)s) || '-' || extract(year FROM l.at) || '-B' || l.n,
               gen_random_uuid(), md5(l.n::text),
               (ARRAY['patrol', 'river_office', 'hotline', 'petition', 'media'])[1 + l.n %% 5],
               (ARRAY['water_pollution', 'illegal_fishing', 'shoreline', 'river_cleanliness', 'illegal_sand_mining',
                      'encroachment'])[1 + l.n %% 6], '基准线索',
               l.geom,
               (ARRAY['registered', 'transferred', 'accepted', 'investigating', 'case_filed', 'closed',
                      'feedback_given', 'suggestion_issued'])[1 + floor(l.r2 * 8)::int],
               l.n %% 50 = 0, abs(l.dx) * 97000,
               CASE WHEN d.id IS NULL THEN 'outside_districts' WHEN l.is_cross_district THEN 'cross_district'
                    ELSE 'district' END,
               '', '', '', l.at, l.at, city.id, d.id,
               CASE WHEN d.id IS NULL OR l.is_cross_district THEN city_proc.id ELSE proc.id END,
               l.reach_id, coalesce(u.id, (SELECT min(id) FROM auth_user WHERE username LIKE 'bench-patrol-%%')),
               coalesce(rco.id, city_rco.id),
               CASE WHEN d.id IS NULL OR l.is_cross_district THEN city_proc.id ELSE proc.id END, '', 0
        FROM located l
        JOIN rivers_district city ON city.code = %(city)s
        JOIN rivers_agency city_proc ON city_proc.code = %(city)s || '-PROC'
        JOIN rivers_agency city_rco ON city_rco.code = %(city)s || '-RCO'
        LEFT JOIN rivers_district d ON d.code = l.district_code AND l.district_code::bigint < 510000 + %(n_districts)s
             AND ST_X(l.geom) >= %(lon0)s AND ST_Y(l.geom) >= %(lat0)s
        LEFT JOIN rivers_agency proc ON proc.code = d.code || '-PROC'
        LEFT JOIN rivers_agency rco ON rco.code = d.code || '-RCO'
        LEFT JOIN auth_user u ON u.username = 'bench-patrol-' || d.code
        """,
    ),
    (
        "routing copies",
        """
        INSERT INTO clues_clue_routing_copies (clue_id, agency_id)
        SELECT c.id, a.id FROM clues_clue c
        JOIN rivers_reachdistrict rd ON rd.reach_id = c.reach_id
        JOIN rivers_district d ON d.id = rd.district_id
        JOIN rivers_agency a ON a.code = d.code || '-PROC'
        WHERE c.routing_reason = 'cross_district'
        """,
    ),
    (
        # Every clue past registration was transferred from the registering agency to the routed one.
        "transfers",
        """
        INSERT INTO clues_transfer (clue_id, from_agency_id, to_agency_id, reason, override_reason, sent_by_id, sent_at,
                                    accepted_at, first_answer_due, feedback_due)
        SELECT c.id, c.registering_agency_id, c.routed_to_id, c.routing_reason, '', c.registered_by_id,
               c.created_at + interval '1 day',
               CASE WHEN c.status NOT IN ('transferred') THEN c.created_at + interval '3 days' END,
               (c.created_at + interval '1 month')::date,
               CASE WHEN c.status IN ('closed', 'feedback_given') THEN (c.created_at + interval '40 days')::date END
        FROM clues_clue c WHERE c.status <> 'registered'
        """,
    ),
    (
        "routes",
        """
        INSERT INTO patrols_patrolroute (code, name, district_id, geom)
        SELECT 'PR' || r.id, '基准路线' || r.id, rd.district_id, ST_GeometryN(r.geom, 1)
        FROM (SELECT * FROM rivers_reach ORDER BY id LIMIT greatest(150, %(n_reaches)s / 50)) r
        JOIN LATERAL (SELECT district_id FROM rivers_reachdistrict WHERE reach_id = r.id
                      ORDER BY district_id LIMIT 1) rd
          ON true
        """,
    ),
    (
        # Clues at the suggestion stage have their suggestion, addressed to the clue's river office.
        "suggestions",
        """
        INSERT INTO clues_suggestion (number, content, urgent, issued_at, reply_due, reply_text, addressee_id, clue_id,
                                      issued_by_id)
        SELECT '', '基准建议', false, c.created_at + interval '10 days', (c.created_at + interval '70 days')::date, '',
               c.registering_agency_id, c.id, c.registered_by_id
        FROM clues_clue c WHERE c.status = 'suggestion_issued'
        """,
    ),
    (
        "batches",
        """
        INSERT INTO clues_transferbatch (number, period_start, period_end, letter, created_at, created_by_id,
                                         from_agency_id, to_agency_id)
        SELECT '基准移送函' || area.code || '-' || n, (%(year_ago)s)::date, (%(now)s)::date, '', %(now)s,
               (SELECT min(id) FROM auth_user WHERE username LIKE 'bench-patrol-%%'), rco.id, proc.id
        FROM (VALUES (%(city)s), ('510000')) AS area(code)
        JOIN rivers_agency rco ON rco.code = area.code || '-RCO'
        JOIN rivers_agency proc ON proc.code = area.code || '-PROC',
        generate_series(1, 150) n
        """,
    ),
    (
        # Long tracks: 3 h at 1 Hz, a walk at ~1.2 m/s whose heading drifts, starting on a reach.
        "long tracks",
        """
        WITH seeded AS (SELECT setseed(%(seed)s)),
        bounds AS (SELECT min(id) AS lo, max(id) AS hi FROM rivers_reach),
        start AS (
            SELECT t, ST_StartPoint(ST_GeometryN(r.geom, 1)) AS origin, random() * 2 * pi() AS heading0
            FROM seeded, bounds, generate_series(1, %(n_long_tracks)s) t
            JOIN LATERAL (SELECT r.geom FROM rivers_reach r
                          WHERE r.id = (SELECT lo FROM bounds)
                                     + ((t * 7919) %% (SELECT hi - lo + 1 FROM bounds))) r ON true
        ),
        turned AS (
            SELECT s.t, k, s.origin,
                   s.heading0 + sum((random() - 0.5) * 0.2) OVER (PARTITION BY s.t ORDER BY k) AS heading
            FROM start s, generate_series(0, %(track_seconds)s - 1) k
        ),
        walked AS (
            SELECT t, k,
                   ST_X(origin) + sum(1.2 * cos(heading)) OVER w / (111320 * cos(radians(ST_Y(origin)))) AS lon,
                   ST_Y(origin) + sum(1.2 * sin(heading)) OVER w / 110540 AS lat
            FROM turned WINDOW w AS (PARTITION BY t ORDER BY k)
        )
        INSERT INTO bench_track_fix (t, k, geom)
        SELECT t, k, ST_SetSRID(ST_MakePoint(lon, lat), 4326) FROM walked
        """,
    ),
    (
        "long patrols",
        """
        INSERT INTO patrols_patrol (client_uuid, kind, status, title, started_at, ended_at, track, track_display,
                                    length_m, duration_s, is_valid, coverage_done_at, district_id, started_by_id)
        SELECT gen_random_uuid(), 'routine', 'finished', '基准长轨迹 ' || f.t, %(now)s - interval '3 hours',
               %(now)s, ST_MakeLine(f.geom ORDER BY f.k), NULL, 0, %(track_seconds)s, true, NULL,
               (SELECT min(id) FROM rivers_district WHERE level = 'district'),
               (SELECT min(id) FROM auth_user WHERE username LIKE 'bench-patrol-%%')
        FROM bench_track_fix f GROUP BY f.t ORDER BY f.t
        """,
    ),
]

NOTIFICATIONS_SQL = """
INSERT INTO clues_notification (user_id, key, clue_id, kind, message, due, created_at)
SELECT u.id, 'bench-' || c.id, c.id, 'overdue', '基准通知', (%(now)s)::date, %(now)s
FROM auth_user u, (SELECT id FROM clues_clue WHERE routing_reason <> 'district' ORDER BY id LIMIT 150) c
WHERE u.username IN ('bench-city', 'bench-district')
UNION ALL
SELECT u.id, 'bench-none-' || n, NULL, 'overdue', '基准通知', (%(now)s)::date, %(now)s
FROM auth_user u, generate_series(1, 150) n
WHERE u.username IN ('bench-city', 'bench-district')
"""

TRACK_POINTS_SQL = """
INSERT INTO patrols_trackpoint (patrol_id, geom, recorded_at, accuracy_m, kept, dropped_because)
SELECT p.id, f.geom, p.started_at + f.k * interval '1 second', 5, true, ''
FROM bench_track_fix f JOIN patrols_patrol p ON p.title = '基准长轨迹 ' || f.t
"""


# rivers.crossing.SHARES_SQL's rule over every reach at once, made linear: the buffered pieces are stored and
# indexed by reach, so "the zones of the other districts" is an index lookup, not a rescan of the whole set.
# A reach near one district only holds its length inside it (the same result with a single candidate).
SHARES_ALL_SQL = """
CREATE TEMP TABLE bench_buffered AS
SELECT r.id AS item_id, d.id AS district_id,
       ST_Intersection(d.geom, ST_Expand(r.geom, %(margin)s)) AS piece
FROM rivers_reach r JOIN rivers_district d
  ON d.level = 'district' AND d.geom && ST_Expand(r.geom, %(margin)s)
 AND ST_DWithin(d.geom::geography, r.geom::geography, %(buffer_m)s);
CREATE INDEX ON bench_buffered (item_id);
CREATE TEMP TABLE bench_several AS SELECT item_id FROM bench_buffered GROUP BY item_id HAVING count(*) > 1;
ALTER TABLE bench_buffered ADD COLUMN zone geometry;
UPDATE bench_buffered b SET zone = ST_Buffer(b.piece::geography, %(buffer_m)s)::geometry
FROM bench_several s WHERE s.item_id = b.item_id;
ANALYZE bench_buffered;
"""

SHARES_HELD_SQL = """
SELECT a.item_id, a.district_id,
       ST_Length(ST_CollectionExtract(ST_Intersection(r.geom, CASE WHEN a.zone IS NULL THEN a.piece ELSE ST_Union(
           a.piece,
           COALESCE(ST_Intersection(a.zone, (SELECT ST_Union(o.zone) FROM bench_buffered o
                                              WHERE o.item_id = a.item_id AND o.district_id <> a.district_id)),
                    'SRID=4326;GEOMETRYCOLLECTION EMPTY'::geometry)) END), 2)::geography) AS held_m
FROM bench_buffered a JOIN rivers_reach r ON r.id = a.item_id
"""


def shares_compute(*, log=print) -> None:  # noqa: ANN001 - a print-like function
    """Store the districts of every reach and water body by rivers.crossing's rule and SQL.

    Reaches: crossing's SQL made linear (SHARES_ALL_SQL), then crossing.significant_districts decides as
    reaches_recompute does; shares_check compares a sample with reaches_recompute itself. Water bodies
    (few): crossing.water_bodies_recompute.
    """
    with connection.cursor() as cursor:
        cursor.execute(SHARES_ALL_SQL, crossing._buffer_params())
        cursor.execute(SHARES_HELD_SQL)
        found = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM bench_several")
        log(f"    {cursor.fetchone()[0]} reaches lie near a boundary")
        cursor.execute("DROP TABLE bench_buffered, bench_several")
    shares: dict[int, dict[int, float]] = {}
    for reach_id, district_id, held_m in found:
        if held_m and held_m > 0:
            shares.setdefault(reach_id, {})[district_id] = held_m
    rows, cross = [], []
    for reach_id, held in shares.items():
        kept = crossing.significant_districts(held)
        rows += [ReachDistrict(reach_id=reach_id, district_id=d, length_m=m) for d, m in kept.items()]
        if len(kept) >= 2:
            cross.append(reach_id)
    ReachDistrict.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rivers_reach SET is_cross_district = true WHERE id = ANY(%s)", [cross])
    crossing.water_bodies_recompute(WaterBody.objects.values_list("pk", flat=True))


def shares_check(sample: int = 40) -> list[str]:
    """Recompute a sample of reaches with rivers.crossing.reaches_recompute; return the differences."""
    ids = list(Reach.objects.order_by("?").values_list("pk", flat=True)[:sample])
    ids += list(Reach.objects.filter(is_cross_district=True).order_by("?").values_list("pk", flat=True)[:sample])

    def state() -> dict:
        found: dict = {
            pk: [flag, {}] for pk, flag in Reach.objects.filter(pk__in=ids).values_list("pk", "is_cross_district")
        }
        for reach_id, district_id, metres in ReachDistrict.objects.filter(reach_id__in=ids).values_list(
            "reach_id", "district_id", "length_m"
        ):
            found[reach_id][1][district_id] = round(metres, 3)
        return found

    generated = state()
    problems = []
    with transaction.atomic():
        crossing.reaches_recompute(ids)
        recomputed = state()
        transaction.set_rollback(True)
    for pk in ids:
        if generated[pk] != recomputed[pk]:
            problems.append(f"reach {pk}: generated {generated[pk]} but the product computes {recomputed[pk]}")
    return problems


def agencies_check() -> list[str]:
    """Derive the agencies of a few districts with rivers.network.agencies_derive; return any difference."""
    from rivers.models import District
    from rivers.network import agencies_derive

    districts = list(District.objects.order_by("code")[:3])
    before = set(Agency.objects.values_list("code", "name", "kind", "district_id"))
    with transaction.atomic():
        agencies_derive(districts)
        after = set(Agency.objects.values_list("code", "name", "kind", "district_id"))
        transaction.set_rollback(True)
    return [f"agencies_derive would change {sorted(after ^ before)[:4]}"] if after != before else []


def bench_users() -> dict:
    """Create (with the product's member_add) the users the runner signs in as."""
    city, district = CITY_CODE, "510000"
    users = {}
    for key, code in (("city", city), ("district", district)):
        membership, _ = member_add(
            username=f"bench-{key}", agency=Agency.objects.get(code=f"{code}-PROC"), role="prosecutor"
        )
        user = membership.user
        user.set_password(BENCH_PASSWORD)
        user.save(update_fields=["password"])
        users[key] = user
    patrol = get_user_model().objects.get(username="bench-patrol-510000")
    patrol.set_password(BENCH_PASSWORD)
    patrol.save(update_fields=["password"])
    users["patrol"] = patrol
    return users


def generate(scale: Scale, *, log=print) -> dict:  # noqa: ANN001 - a print-like function
    """Fill an empty, migrated database with `scale`'s data; return the seconds each step took."""
    params = params_of(scale)
    timings: dict[str, float] = {}

    def step(name: str, run) -> None:  # noqa: ANN001 - a callable
        began = time.perf_counter()
        run()
        timings[name] = round(time.perf_counter() - began, 2)
        log(f"  {name}: {timings[name]} s")

    def sql(statement: str, values: dict | None = None):  # noqa: ANN202
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(statement, values if values is not None else params)

        return run

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM rivers_district")
        if cursor.fetchone()[0]:
            raise RuntimeError("the bench database already holds districts: generate into an empty one")
        # Session settings of this load only: bulk inserts.
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("CREATE TEMP TABLE bench_track_fix (t int, k int, geom geometry(Point, 4326))")
    ordered = dict(STEPS)
    for name in ("city", "districts", "agencies", "rivers", "reaches", "reach lengths", "water bodies"):
        step(name, sql(ordered[name]))
    step("shares (rivers.crossing)", lambda: shares_compute(log=log))
    later = ["chiefs", "users", "memberships", "patrols", "participants", "coverage", "findings", "clues"]
    later += ["routing copies", "transfers", "routes", "suggestions", "batches", "long tracks", "long patrols"]
    for name in later:
        step(name, sql(ordered[name]))
    if scale.track_points:
        step("track points", sql(TRACK_POINTS_SQL))
    step("bench users", bench_users)
    step("notifications", sql(NOTIFICATIONS_SQL))
    # The triggers appended what the bulk inserts added to the figures; beat folds them in production.
    step("figure tallies (clues.tallies)", tallies_fold)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_track_fix")
    return timings


def analyze(*, log=print) -> float:  # noqa: ANN001
    """VACUUM ANALYZE the database (outside any transaction); return the seconds it took."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    spent = round(time.perf_counter() - began, 2)
    log(f"  VACUUM ANALYZE: {spent} s")
    return spent


def summary() -> dict:
    """Return the counts of the generated data (for the results and the checks)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in ("rivers_district", "rivers_agency", "rivers_reach", "rivers_waterbody", "rivers_chiefassignment",
                      "patrols_patrol", "patrols_finding", "clues_clue", "patrols_trackpoint"):  # fmt: skip
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a constant table name
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT avg(is_cross_district::int) FROM rivers_reach")
        counts["cross_district_share"] = round(float(cursor.fetchone()[0] or 0), 3)
        cursor.execute("SELECT avg(ST_NPoints(geom)) FROM rivers_district WHERE level = 'district'")
        counts["district_boundary_vertices"] = round(float(cursor.fetchone()[0] or 0))
    return counts
