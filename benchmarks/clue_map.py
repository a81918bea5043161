"""Seeded clues for the review map at scale (issue 9 §1): `clues_generate(count=100_000, seed=7)`.

Unlike benchmarks.data (a whole synthetic city), this adds clues to the network already loaded (the
Qijiang demo, or any bundle), set-based in SQL: most lie along a reach (up to ~300 m off it), the rest
anywhere in the loaded area. Each gets what registration would give it (DESIGN §4): the district holding
the point, the routing (cross-district reach or no district → the city's procuratorate, else the
district's), the registering river office; clues past registration have their transfer (copies to the
districts' procuratorates for cross-district ones), accepted and first-answer dates (some overdue),
feedback for closed ones, a suggestion for those at that stage; one in fifty is confidential.

`python -m benchmarks clues --count 100000 --seed 7` runs it against DATABASE_URL (as the owner).
The history is not written (history_count 0): these clues are for reading and measuring, not for
verify_history.
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction

GENERATOR_USERNAME = "clue-generator"

STATUSES = [
    "registered", "transferred", "accepted", "investigating", "case_filed", "not_filed", "suggestion_issued",
    "rectified", "litigation", "closed", "feedback_given",
]  # fmt: skip
CATEGORIES = [
    "water_pollution", "illegal_discharge", "shoreline", "encroachment", "illegal_sand_mining", "illegal_fishing",
    "river_cleanliness", "obstruction", "water_ecology", "flood_safety", "other",
]  # fmt: skip
SOURCES = ["patrol", "river_office", "procuratorate", "hotline", "petition", "media", "other"]

STEPS = [
    (
        "points",
        """
        CREATE TEMP TABLE gen_clue ON COMMIT DROP AS
        WITH seeded AS (SELECT setseed(%(seed)s)),
        numbered AS (SELECT id, geom, is_cross_district, row_number() OVER (ORDER BY id) AS k FROM rivers_reach),
        area AS (SELECT ST_Extent(geom) AS box FROM rivers_district WHERE level = 'district'),
        pick AS (
            SELECT n, random() AS on_reach, 1 + floor(random() * (SELECT count(*) FROM numbered))::int AS k,
                   random() AS along, (random() - 0.5) * 0.006 AS dx, (random() - 0.5) * 0.006 AS dy,
                   random() AS fx, random() AS fy, random() AS r_time, random() AS r_status, random() AS r_kind,
                   random() AS r_late
            FROM seeded, generate_series(1, %(count)s) n
        )
        SELECT p.n, p.r_time, p.r_status, p.r_kind, p.r_late,
               CASE WHEN p.on_reach < 0.8 THEN r.id END AS reach_id,
               coalesce(p.on_reach < 0.8 AND r.is_cross_district, false) AS cross_district,
               CASE WHEN p.on_reach < 0.8
                    THEN ST_Translate(ST_LineInterpolatePoint(ST_GeometryN(r.geom, 1), p.along), p.dx, p.dy)
                    ELSE ST_SetSRID(ST_MakePoint(ST_XMin(a.box) + p.fx * (ST_XMax(a.box) - ST_XMin(a.box)),
                                                 ST_YMin(a.box) + p.fy * (ST_YMax(a.box) - ST_YMin(a.box))), 4326)
               END AS geom,
               NULL::bigint AS district_id, NULL::bigint AS city_id
        FROM pick p JOIN numbered r ON r.k = p.k CROSS JOIN area a
        """,
    ),
    ("index", "CREATE INDEX ON gen_clue USING gist (geom); ANALYZE gen_clue"),
    (
        # DESIGN §4 step 2: the district-level area that contains the point.
        "districts",
        """
        UPDATE gen_clue g SET district_id = d.id, city_id = d.parent_id
        FROM rivers_district d WHERE d.level = 'district' AND ST_Intersects(d.geom, g.geom)
        """,
    ),
    (
        # Outside every district: the city whose area is nearest (by the index's boxes: a few cities).
        "cities",
        """
        UPDATE gen_clue g SET city_id = (SELECT c.id FROM rivers_district c WHERE c.level = 'city'
                                         ORDER BY c.geom <-> g.geom LIMIT 1)
        WHERE g.city_id IS NULL
        """,
    ),
    (
        "clues",
        """
        INSERT INTO clues_clue (code, client_uuid, request_digest, source, category, description, geom, status,
                                confidential, snap_distance_m, routing_reason, case_number, outcome_note, judgement,
                                created_at, updated_at, closed_at, city_id, district_id, holder_id, reach_id,
                                registered_by_id, registering_agency_id, routed_to_id, history_anchor, history_count)
        SELECT coalesce(d.code, city.code) || '-' || extract(year FROM at.t) || '-G' || %(seed)s || '-'
                   || lpad(g.n::text, 6, '0'),
               md5('clue-generate-' || %(seed)s || '-' || g.n)::uuid, md5(g.n::text),
               (%(sources)s::text[])[1 + floor(g.r_kind * 7)::int],
               (%(categories)s::text[])[1 + (g.n %% 11)],
               '生成的线索 generated clue ' || g.n, g.geom, st.status, g.n %% 50 = 0, NULL, reason.r, '', '', '',
               at.t, at.t, CASE WHEN st.status IN ('closed', 'feedback_given') THEN at.t + interval '60 days' END,
               city.id, d.id,
               CASE WHEN st.status = 'registered' THEN registrar.id ELSE routed.id END,
               g.reach_id, coalesce(member.user_id, %(user)s), registrar.id, routed.id, '', 0
        FROM gen_clue g
        LEFT JOIN rivers_district d ON d.id = g.district_id
        JOIN rivers_district city ON city.id = g.city_id
        CROSS JOIN LATERAL (SELECT %(now)s::timestamptz - g.r_time * interval '365 days' AS t) at
        CROSS JOIN LATERAL (SELECT (%(statuses)s::text[])[1 + floor(g.r_status * 11)::int] AS status) st
        CROSS JOIN LATERAL (SELECT CASE WHEN d.id IS NULL THEN 'outside_districts'
                                        WHEN g.cross_district THEN 'cross_district' ELSE 'district' END AS r) reason
        JOIN rivers_agency registrar
             ON registrar.kind = 'river_office' AND registrar.district_id = coalesce(d.id, city.id)
        JOIN rivers_agency routed ON routed.kind = 'procuratorate'
             AND routed.district_id = CASE WHEN reason.r = 'district' THEN d.id ELSE city.id END
        LEFT JOIN (SELECT agency_id, min(user_id) AS user_id FROM rivers_membership GROUP BY agency_id) member
             ON member.agency_id = registrar.id
        """,
    ),
    (
        "routing copies",
        """
        INSERT INTO clues_clue_routing_copies (clue_id, agency_id)
        SELECT c.id, a.id FROM clues_clue c
        JOIN rivers_reachdistrict rd ON rd.reach_id = c.reach_id
        JOIN rivers_agency a ON a.kind = 'procuratorate' AND a.district_id = rd.district_id
        WHERE c.routing_reason = 'cross_district' AND c.code LIKE %(codes)s
        """,
    ),
    (
        # Every clue past registration was sent by its registrar to the routed procuratorate.
        "transfers",
        """
        INSERT INTO clues_transfer (clue_id, from_agency_id, to_agency_id, reason, override_reason, sent_by_id,
                                    sent_at, accepted_at, first_answer_due, first_answer_at, feedback_due, feedback_at)
        SELECT c.id, c.registering_agency_id, c.routed_to_id, c.routing_reason, '', c.registered_by_id,
               c.created_at + interval '1 day',
               CASE WHEN c.status <> 'transferred' THEN c.created_at + interval '3 days' END,
               (c.created_at + interval '1 month')::date,
               CASE WHEN c.status NOT IN ('transferred', 'accepted') OR c.id %% 3 = 0
                    THEN c.created_at + interval '20 days' END,
               CASE WHEN c.status IN ('closed', 'feedback_given') THEN (c.closed_at + interval '10 days')::date END,
               CASE WHEN c.status = 'feedback_given' THEN c.closed_at + interval '5 days' END
        FROM clues_clue c WHERE c.status <> 'registered' AND c.code LIKE %(codes)s
        """,
    ),
    (
        "transfer copies",
        """
        INSERT INTO clues_transfer_copies (transfer_id, agency_id)
        SELECT t.id, rc.agency_id FROM clues_transfer t
        JOIN clues_clue c ON c.id = t.clue_id
        JOIN clues_clue_routing_copies rc ON rc.clue_id = c.id
        WHERE c.code LIKE %(codes)s
        """,
    ),
    (
        "suggestions",
        """
        INSERT INTO clues_suggestion (number, content, urgent, issued_at, reply_due, reply_text, addressee_id, clue_id,
                                      issued_by_id)
        SELECT '', '生成的建议 generated suggestion', false, c.created_at + interval '10 days',
               (c.created_at + interval '70 days')::date, '', c.registering_agency_id, c.id, c.registered_by_id
        FROM clues_clue c WHERE c.status = 'suggestion_issued' AND c.code LIKE %(codes)s
        """,
    ),
]


def clues_generate(*, count: int, seed: int = 7, log=print) -> dict:  # noqa: ANN001 - a print-like function
    """Add `count` seeded clues to the loaded network in one transaction; return the seconds of each step.

    The same seed gives the same clues (places, categories, states, codes): a second run with it is
    refused by the codes' uniqueness, so pass another seed to add more.
    """
    from django.utils import timezone

    if not connection.vendor == "postgresql":
        raise RuntimeError("PostgreSQL only")
    user, _ = get_user_model().objects.get_or_create(username=GENERATOR_USERNAME, defaults={"is_active": False})
    params = {
        "count": count,
        "seed": seed,
        # setseed takes -1…1: the seed's digits, scaled.
        "fraction": (seed % 1_000_003) / 1_000_003,
        "now": timezone.now().replace(microsecond=0),
        "statuses": STATUSES,
        "categories": CATEGORIES,
        "sources": SOURCES,
        "user": user.pk,
        "codes": f"%-G{seed}-%",
    }
    timings = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        for name, sql in STEPS:
            began = time.perf_counter()
            cursor.execute(sql.replace("setseed(%(seed)s)", "setseed(%(fraction)s)"), params)
            timings[name] = round(time.perf_counter() - began, 2)
            log(f"  {name}: {timings[name]} s")
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clues_clue; ANALYZE clues_transfer; ANALYZE clues_transfer_copies")
    timings["analyze"] = round(time.perf_counter() - began, 2)
    log(f"  analyze: {timings['analyze']} s")
    return timings
