"""Which reaches a patrol covered, and how much of each (issue 4 §3).

A reach's covered length is the length of the reach lying within COVERAGE_DISTANCE_M of the track;
its fraction is that over the reach's length. patrol_coverage_compute is the one place that measures
it: the coverage task stores its rows, and compliance, the boards and the patrol's API answer (the
finish response included) read those rows.

How it is measured (issue 10): the track's buffer is never built. Buffering a 3-hour 1 Hz track takes
GEOS 1.5 s when the walk is smooth and up to a minute when the fixes jitter by a few metres (every
offset segment crosses dozens of others), simplified or not; buffering that track in pieces of 8 vertices
still took 0.4 s. Instead:

1. one statement turns the track into metres (the UTM zone of its middle), simplifies it by
   SIMPLIFY_M, cuts it into runs of CHUNK_VERTICES vertices, and finds the reaches whose boxes meet
   a run's box grown by the distance, in the storage SRID so that the reaches' GiST index answers;
   it returns the track and those reaches, both in metres;
2. in Python, only the (reach segment, track segment) pairs whose boxes meet within the distance are
   looked at (an STRtree), and for each the part of the reach segment within the distance of the
   track segment is solved exactly (a segment against a capsule: two discs and a rectangle); the
   union of those parts, per reach segment, is the covered length.

The answer is the exact one up to the simplification (where a reach crosses the zone's edge at an
angle, the crossing moves by at most SIMPLIFY_M / sin(angle)) and the projection's scale (the zone's
width is off by < 0.1 % within a UTM zone; lengths are taken as fractions of the reach, where the
scale cancels, times its stored length_m). tests/patrols/test_coverage.py holds it against the old
buffer-and-intersect SQL; the bench's coverage row does too at 10^5 reaches.
"""

from __future__ import annotations

import datetime

import numpy as np
import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Patrol, PatrolCoverage, PatrolStatus

# A vertex of the track may move this much (metres) when it is simplified: a GPS fix is good to ~5 m, and
# the zone's edge moves by no more than this (fractions within 0.0012 of the exact ones on the bench's
# 3-hour track; 1 m gave 0.009 where a reach runs along the zone's edge).
SIMPLIFY_M = 0.5
# Vertices of the simplified track per box sent to the reaches' index: 32 is ~40 m of a jittery walk
# and up to a few hundred metres of a smooth one.
CHUNK_VERTICES = 32
# Pairs of segments solved at once: bounds the memory of a track that goes back and forth along a
# long, densely digitised reach (about 250 bytes a pair).
PAIRS_PER_BLOCK = 100_000

# The track in metres and the reaches near it, in one statement whose text does not depend on the
# track (every parameter is a scalar). The boxes are grown by the distance plus a metre: a box in
# metres is not quite a box once in degrees.
COVERAGE_CANDIDATES_SQL = """
WITH track AS MATERIALIZED (
    SELECT z.srid, ST_Simplify(ST_Transform(p.track, z.srid), %(simplify_m)s, true) AS line
    FROM patrols_patrol AS p
    CROSS JOIN LATERAL (
        SELECT CASE WHEN ST_Y(middle) >= 0 THEN 32600 ELSE 32700 END
               + least(60, floor((ST_X(middle) + 180) / 6)::int + 1) AS srid
        FROM ST_Centroid(ST_Envelope(p.track)) AS middle
    ) AS z
    WHERE p.id = %(patrol)s AND p.track IS NOT NULL
),
vertex AS (
    SELECT (d).path[1] AS n, (d).geom, lead((d).geom) OVER (ORDER BY (d).path[1]) AS next
    FROM track, ST_DumpPoints(track.line) AS d
),
box AS (
    SELECT ST_Transform(
               ST_Expand(ST_SetSRID(ST_Extent(ST_MakeLine(geom, coalesce(next, geom)))::geometry, min(track.srid)),
                         %(margin_m)s),
               4326) AS geom
    FROM vertex, track
    GROUP BY (n - 1) / %(chunk)s
),
candidate AS (
    SELECT DISTINCT ON (r.id) r.id, r.length_m, r.geom
    FROM box JOIN rivers_reach AS r ON r.geom && box.geom
    ORDER BY r.id
)
SELECT ST_AsBinary(track.line), found.*
FROM track, LATERAL (
    SELECT array_agg(id ORDER BY id), array_agg(length_m ORDER BY id),
           array_agg(ST_AsBinary(ST_Transform(geom, track.srid)) ORDER BY id)
    FROM candidate
) AS found
"""


def patrol_coverage_measure(patrol: Patrol) -> list[tuple[int, float, float]]:
    """Return (reach id, covered metres, fraction) of each reach the patrol's track came within
    COVERAGE_DISTANCE_M of, in reach id order; a fixed number of statements whatever the track."""
    distance_m = float(settings.COVERAGE_DISTANCE_M)
    params = {"patrol": patrol.pk, "simplify_m": SIMPLIFY_M, "margin_m": distance_m + 1, "chunk": CHUNK_VERTICES}
    # (At 10^5 reaches the planner's estimate of this read passes jit_above_cost: compiling took 1 s of a
    # 10 ms read. The application's connections have JIT off: config/settings/base.py.)
    with connection.cursor() as cursor:
        cursor.execute(COVERAGE_CANDIDATES_SQL, params)
        found = cursor.fetchone()
    if found is None or not found[1]:  # no track, or no reach near it
        return []
    track_wkb, reach_ids, lengths_m, reach_wkbs = found
    track = shapely.get_coordinates(shapely.from_wkb(bytes(track_wkb)))
    reaches = shapely.from_wkb([bytes(wkb) for wkb in reach_wkbs])
    fractions = covered_fractions(track, reaches, distance_m)
    return [
        (reach_id, fraction * length_m, fraction)
        for reach_id, length_m, fraction in zip(reach_ids, lengths_m, fractions.tolist(), strict=True)
        if fraction > 0 and length_m
    ]


def covered_fractions(track: np.ndarray, reaches: np.ndarray, distance_m: float) -> np.ndarray:
    """Return, for each of `reaches` ((multi)linestrings in metres), the fraction of its length lying
    within `distance_m` of the polyline whose vertices are `track` (an n × 2 array in the same metres)."""
    starts, ends, owner = _segments(reaches)
    lengths = np.hypot(*(ends - starts).T)
    totals = np.bincount(owner, weights=lengths, minlength=len(reaches))
    covered = np.zeros(len(reaches))
    if len(track) == 0 or not len(starts):
        return covered
    keep = lengths > 0  # a repeated vertex of a reach covers nothing
    starts, ends, owner, lengths = starts[keep], ends[keep], owner[keep], lengths[keep]
    track_starts, track_ends = (track[:-1], track[1:]) if len(track) > 1 else (track, track)
    tree = shapely.STRtree(_boxes(track_starts, track_ends, 0.0))
    reach_segment, track_segment = tree.query(_boxes(starts, ends, distance_m))
    order = np.argsort(reach_segment, kind="stable")
    reach_segment, track_segment = reach_segment[order], track_segment[order]
    # Blocks of about PAIRS_PER_BLOCK pairs, cut between reach segments: a segment's intervals are
    # merged within one block.
    cuts = np.searchsorted(reach_segment, reach_segment[PAIRS_PER_BLOCK::PAIRS_PER_BLOCK])
    covered_share = np.zeros(len(starts))
    for i, j in zip(np.split(reach_segment, cuts), np.split(track_segment, cuts), strict=True):
        if len(i):
            begin, end = _capsule_intervals(starts[i], ends[i], track_starts[j], track_ends[j], distance_m)
            covered_share += _union_lengths(i, begin, end, len(starts))
    np.add.at(covered, owner, covered_share * lengths)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.minimum(1.0, covered / totals), 0.0)


def _segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the start and end points of every segment of `lines` and the index of the line it is of."""
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    inner = part[1:] == part[:-1]  # consecutive vertices of one part
    return coords[:-1][inner], coords[1:][inner], owner[part[:-1][inner]]


def _boxes(starts: np.ndarray, ends: np.ndarray, grow: float) -> np.ndarray:
    low, high = np.minimum(starts, ends) - grow, np.maximum(starts, ends) + grow
    return shapely.box(low[:, 0], low[:, 1], high[:, 0], high[:, 1])


def _capsule_intervals(a, b, c, e, distance: float) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - arrays
    """Return, for each pair of segments AB (a reach's) and CE (the track's), the interval [begin, end]
    of s in [0, 1] where A + s·(B − A) lies within `distance` of CE (end <= begin: nowhere).

    Within the distance of CE is a capsule: the discs around C and E and the rectangle between them.
    The capsule is convex, so its intersection with the line is one interval, the hull of the three.
    """
    u, v = b - a, e - c
    uu, vv = _dot(u, u), _dot(v, v)
    begin_c, end_c = _disc_interval(a - c, u, uu, distance)
    begin_e, end_e = _disc_interval(a - e, u, uu, distance)
    w = a - c
    # The rectangle: the projection on CE within [0, |CE|²] and the distance to its line within `distance`.
    begin_t, end_t = _linear_interval(_dot(w, v), _dot(u, v), 0.0, vv)
    reach = distance * np.sqrt(vv)
    begin_h, end_h = _linear_interval(_cross(v, w), _cross(v, u), -reach, reach)
    begin_r, end_r = np.maximum(begin_t, begin_h), np.minimum(end_t, end_h)
    empty = (vv == 0) | (begin_r > end_r)  # a repeated track vertex: its disc is all there is
    begin_r, end_r = np.where(empty, np.inf, begin_r), np.where(empty, -np.inf, end_r)
    begin = np.minimum(np.minimum(begin_c, begin_e), begin_r)
    end = np.maximum(np.maximum(end_c, end_e), end_r)
    return np.clip(begin, 0.0, 1.0), np.clip(end, 0.0, 1.0)


def _dot(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return p[:, 0] * q[:, 0] + p[:, 1] * q[:, 1]


def _cross(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]


def _disc_interval(w: np.ndarray, u: np.ndarray, uu: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Return where |w + s·u| <= radius: the roots of uu·s² + 2(w·u)s + |w|² − radius² (uu > 0)."""
    wu = _dot(w, u)
    discriminant = wu * wu - uu * (_dot(w, w) - radius * radius)
    root = np.sqrt(np.maximum(discriminant, 0.0))
    hit = discriminant >= 0
    return np.where(hit, (-wu - root) / uu, np.inf), np.where(hit, (-wu + root) / uu, -np.inf)


def _linear_interval(alpha, beta, low, high) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - arrays
    """Return where low <= alpha + beta·s <= high."""
    with np.errstate(divide="ignore", invalid="ignore"):
        first, second = (low - alpha) / beta, (high - alpha) / beta
    flat = beta == 0
    always = flat & (low <= alpha) & (alpha <= high)
    begin = np.where(flat, np.where(always, -np.inf, np.inf), np.minimum(first, second))
    end = np.where(flat, np.where(always, np.inf, -np.inf), np.maximum(first, second))
    return begin, end


def _union_lengths(group: np.ndarray, begin: np.ndarray, end: np.ndarray, groups: int) -> np.ndarray:
    """Return, per group, the length of the union of its intervals [begin, end] (all within [0, 1])."""
    some = end > begin
    group, begin, end = group[some], begin[some], end[some]
    order = np.lexsort((begin, group))
    group, begin, end = group[order], begin[order], end[order]
    # The furthest end reached by the earlier intervals of the same group: shifting each group by 2
    # keeps one running maximum from leaking into the next group.
    offset = 2.0 * group
    reached = np.concatenate(([-np.inf], np.maximum.accumulate(end + offset)[:-1])) - offset
    gained = np.maximum(0.0, end - np.maximum(begin, reached))
    return np.bincount(group, weights=gained, minlength=groups)


@transaction.atomic
def patrol_coverage_compute(patrol: Patrol) -> list[PatrolCoverage]:
    """Replace the patrol's coverage rows by a fresh computation (so it can run twice)."""
    rows = [
        PatrolCoverage(patrol=patrol, reach_id=reach_id, covered_m=covered_m, fraction=fraction)
        for reach_id, covered_m, fraction in patrol_coverage_measure(patrol)
    ]
    PatrolCoverage.objects.filter(patrol=patrol).delete()
    PatrolCoverage.objects.bulk_create(rows)
    Patrol.objects.filter(pk=patrol.pk).update(coverage_done_at=timezone.now())
    return rows


@transaction.atomic
def patrol_coverage_compute_pending(*, patrol_id: int) -> list[PatrolCoverage] | None:
    """Compute a patrol's coverage unless it is done or being computed; None when there was nothing to do.

    The patrol row is claimed (FOR UPDATE SKIP LOCKED): a message delivered twice, or beside the
    sweep's, computes it once. A rebuilt track clears coverage_done_at and queues it again.
    """
    patrol = (
        Patrol.objects.select_for_update(skip_locked=True).filter(pk=patrol_id, coverage_done_at__isnull=True).first()
    )
    if patrol is None:
        return None
    return patrol_coverage_compute(patrol)


def patrols_requeue_coverage(*, stale_after_min: int, limit: int = 500) -> list[int]:
    """Queue again the coverage of patrols not done `stale_after_min` after they ended (0: all of them)."""
    from config.queueing import enqueue

    from .tasks import compute_coverage  # the tasks module imports this one

    pending = Patrol.objects.filter(status=PatrolStatus.FINISHED, coverage_done_at__isnull=True)
    if stale_after_min:
        pending = pending.filter(ended_at__lt=timezone.now() - datetime.timedelta(minutes=stale_after_min))
    queued = []
    for patrol_id in pending.order_by("ended_at").values_list("pk", flat=True)[:limit]:
        if not enqueue(compute_coverage, patrol_id):
            break  # the broker is down: the next sweep tries again
        queued.append(patrol_id)
    return queued
