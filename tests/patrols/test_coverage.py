"""Coverage of reaches by a patrol's track (patrols.coverage, issue 4 §3 and issue 10).

The synthetic city of tests.factories (29°N, 106°E); positions are metres east and north of its origin.
The exact answer is the computation coverage used before issue 10, kept here as SQL: the track's
geography buffer intersected with each reach, measured on the spheroid.
"""

import datetime
import math
import random
import re
import uuid

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import LineString
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.paths import COVERAGE_EXACT_SQL  # before issue 10: the whole track's buffer
from patrols.coverage import covered_fractions, patrol_coverage_compute
from patrols.models import Patrol
from patrols.tracks import patrol_start
from rivers.crossing import network_recompute_all
from rivers.models import Agency, Reach
from tests.factories import at, line, reach

START = datetime.datetime(2026, 5, 10, 9, 0, tzinfo=datetime.UTC)


def exact_coverage(patrol: Patrol, distance_m: float) -> dict[int, tuple[float, float]]:
    """Return {reach id: (covered metres, fraction)} as the old computation gave them."""
    with connection.cursor() as cursor:
        cursor.execute(COVERAGE_EXACT_SQL, {"patrol": patrol.pk, "distance_m": distance_m})
        return {
            reach_id: (covered_m, min(1.0, covered_m / length_m))
            for reach_id, length_m, covered_m in cursor.fetchall()
            if covered_m
        }


def patrol_with_track(people, positions_m) -> Patrol:
    """Return a finished patrol whose track goes through `positions_m` (metres east, north)."""
    patrol, _ = patrol_start(
        user=people["west_ro"], client_uuid=uuid.uuid4(), kind="routine", district=people["inside"].districts.get(),
        participants=[(people["west_ro"], Agency.objects.get(code="990001-RCO"))], started_at=START,
    )  # fmt: skip
    Patrol.objects.filter(pk=patrol.pk).update(
        status="finished", ended_at=START, track=LineString([at(*p) for p in positions_m], srid=4326)
    )
    return Patrol.objects.get(pk=patrol.pk)


def noisy_walk(rng: random.Random, start_m, heading: float, seconds: int, *, noise_m: float, follow=None):
    """Return a fix a second of a walk at 1.2 m/s whose heading drifts, each fix off by GPS noise
    (Gaussian, `noise_m` per axis). `follow` = (seconds, heading): walk straight first."""
    x, y = start_m
    fixes = []
    for second in range(seconds):
        if follow and second < follow[0]:
            heading = follow[1]
        else:
            heading += rng.gauss(0, 0.08)
        x, y = x + 1.2 * math.cos(heading), y + 1.2 * math.sin(heading)
        fixes.append((x + rng.gauss(0, noise_m), y + rng.gauss(0, noise_m)))
    return fixes


@pytest.fixture
def reach_field(people):
    """Forty wiggly reaches of 300–1,500 m with random headings in 2–5 km × 2–5 km of 甲区 (seeded),
    and ALONG, 2.5–3.5 km east at 3 km north, which the noisy walk follows for its first 10 minutes."""
    rng = random.Random(10)
    for n in range(40):
        x, y = rng.uniform(2_000, 5_000), rng.uniform(2_000, 5_000)
        heading, length = rng.uniform(0, 2 * math.pi), rng.uniform(300, 1_500)
        vertices = [
            (
                x + k * length / 7 * math.cos(heading) - rng.uniform(-15, 15) * math.sin(heading),
                y + k * length / 7 * math.sin(heading) + rng.uniform(-15, 15) * math.cos(heading),
            )
            for k in range(8)
        ]
        reach(f"FIELD{n:02}", line(*vertices))
    reach("ALONG", line((2_500, 3_000), (3_500, 3_000)))
    network_recompute_all()
    return people


def test_coverage_of_a_long_noisy_track_is_the_exact_answer_within_2_percent(reach_field, settings):
    # 30 minutes at 1 Hz (1,800 fixes) with 4 m of GPS noise: 10 minutes 20 m north of ALONG, then a
    # wandering walk through the field. The old computation needs seconds for it (it buffers a jittery
    # line); the new one, which never builds the buffer, agreed within 0.003 when this was written.
    rng = random.Random(7)
    fixes = noisy_walk(rng, (2_520, 3_020), 0.0, 1_800, noise_m=4, follow=(600, 0.0))
    patrol = patrol_with_track(reach_field, fixes)
    exact = exact_coverage(patrol, settings.COVERAGE_DISTANCE_M)
    rows = {row.reach_id: row for row in patrol_coverage_compute(patrol)}
    assert len(exact) >= 8  # the walk meets a good part of the field, ALONG and INSIDE aside
    assert set(rows) == set(exact)
    for reach_id, (covered_m, fraction) in exact.items():
        assert rows[reach_id].fraction == pytest.approx(fraction, abs=0.02)
        assert rows[reach_id].covered_m == pytest.approx(covered_m, rel=0.02, abs=2.0)
    along = Reach.objects.get(code="ALONG").pk
    assert rows[along].fraction == pytest.approx(exact[along][1], abs=0.005) and rows[along].fraction > 0.7


def normalised(sql: str) -> str:
    return re.sub(r"-?\d+(\.\d+)?(e-?\d+)?", "?", sql)


def test_the_statements_do_not_grow_with_the_number_of_points(people):
    # Along INSIDE (2–8 km east at 1 km north), 20 m north of it: a fix every 100 m (41 points), then
    # 3 hours at 1 Hz with 4 m of noise over the same 4 km (10,800 points). Both cover INSIDE only.
    sparse = [(2_000 + 100 * k, 1_020) for k in range(41)]
    rng = random.Random(3)
    dense = [(2_000 + 4_000 * k / 10_799 + rng.gauss(0, 4), 1_020 + rng.gauss(0, 4)) for k in range(10_800)]
    statements = []
    for positions in (sparse, dense):
        patrol = patrol_with_track(people, positions)
        with CaptureQueriesContext(connection) as captured:
            rows = patrol_coverage_compute(patrol)
        assert [row.reach.code for row in rows] == ["INSIDE"]
        statements.append([normalised(query["sql"]) for query in captured.captured_queries])
    assert statements[0] == statements[1]
    assert len([sql for sql in statements[0] if not sql.startswith(("SAVEPOINT", "RELEASE", "SET"))]) == 4


def test_covered_fractions_solve_segments_against_the_track_exactly():
    # In metres (no projection): a track along y = 0 from x = 0 to 100, distance 10.
    track = np.array([[0.0, 0.0], [50.0, 0.0], [50.0, 0.0], [100.0, 0.0]])  # a repeated vertex on the way
    reaches = shapely.from_wkt(
        [
            "LINESTRING (20 -40, 20 40)",  # crosses it square: 20 m of 80
            "LINESTRING (-50 6, 150 6)",  # parallel 6 m off: 100 m + 8 m past each end (√(10² − 6²)), of 200
            "LINESTRING (30 -40, 70 40)",  # crosses at an angle: within 10 m over 2·10/sin(atan2(80, 40))
            "MULTILINESTRING ((0 20, 100 20), (200 0, 300 0), (0 -5, 10 -5))",  # only the last part: 10 of 210
            "LINESTRING (120 0, 130 0)",  # beyond the end: nothing
            "LINESTRING (105 0, 115 0, 105 0)",  # from the end outwards and back: 5 + 5 of 20
        ]
    )
    fractions = covered_fractions(track, reaches, 10.0)
    slant = 2 * 10 / math.sin(math.atan2(80, 40))
    expected = [20 / 80, 116 / 200, slant / math.hypot(40, 80), 10 / 210, 0.0, 10 / 20]
    assert fractions.tolist() == pytest.approx(expected, abs=1e-9)
    # A track of a single fix covers the disc around it: 20 m from the first reach, 30 m off.
    lone = covered_fractions(np.array([[0.0, 0.0]]), reaches[:1], 30.0)
    assert lone.tolist() == pytest.approx([2 * math.sqrt(30**2 - 20**2) / 80])
