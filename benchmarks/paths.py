"""One measurement per hot path of issue 10's table, each beside its baseline.

API paths go through Django's test client (in-process, signed in with a real API token): it runs the
whole product stack (middleware, authentication, throttles, views, serializers, the ORM), counts the
queries with CaptureQueriesContext, and keeps HTTP parsing and socket noise out of ratios whose
baselines are bare SQL. A gunicorn on a port would add the same constant to every request.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from config.database import web_connections_configure
from config.web import worker_ready

from . import data
from .runner import Cancelled, Measured, Row, interleaved, once_capped, queries_of

ROWS: list[Callable[[Context], list[Row]]] = []


def path(function: Callable) -> Callable:
    ROWS.append(function)
    return function


class Context:
    """What every measurement needs: the signed-in clients, the grid, the repetitions."""

    def __init__(self, *, reps: int, budget_s: float, scale: data.Scale, owner_dsn: str | None, quick: bool):
        self.reps, self.budget_s, self.scale, self.owner_dsn, self.quick = reps, budget_s, scale, owner_dsn, quick
        # The requests run on a connection opened as a web process (gunicorn, config.wsgi) opens its own:
        # under the web's statement timeout from the start (which the middleware then leaves alone) and
        # without parallel workers. Not inside a test's transaction (make test's quick bench): that
        # connection and the settings stay.
        if not connection.in_atomic_block:
            web_connections_configure()
            connection.close()
        self.params = data.params_of(scale)
        self.clients = {key: signed_in_client(f"bench-{key}") for key in ("city", "district")}
        worker_ready()  # as a gunicorn worker is before its first request

    @functools.cached_property
    def floor(self) -> Measured:
        """The floor of an API request: an authenticated no-op through the whole stack (benchmarks.floor_urls)."""
        with override_settings(ROOT_URLCONF="benchmarks.floor_urls"):
            return interleaved(self.get("district", "/bench/nothing/"), None, reps=self.reps, budget_s=self.budget_s)

    def beside_floor(self, ours: Callable[[], object], baseline: Callable[[], object]) -> Measured:
        """Measure ours against its baseline with the request floor timed in the same repetitions.

        benchmarks.floor_urls is the site's URLs with the no-op in front, so ours answers as it does
        under the site's own.
        """
        with override_settings(ROOT_URLCONF="benchmarks.floor_urls"):
            floor = self.get("district", "/bench/nothing/")
            return interleaved(ours, baseline, reps=self.reps, budget_s=self.budget_s, beside=floor)

    @staticmethod
    def floor_note(ours: Measured, baseline_name: str = "bare SQL") -> str:
        """How ours compares with its baseline once the floor measured beside it (beside_floor) is taken off."""
        floor, ours_ms, base_ms = (statistics.median(m) for m in (ours.beside, ours.ours, ours.baseline))
        return f"less the request floor beside it ({floor:.2f} ms): {(ours_ms - floor) / base_ms:.2f}× {baseline_name}"

    def centre(self) -> tuple[float, float]:
        """Return the middle of the grid (lon, lat), inside a district."""
        p = self.params
        rows = -(-p["n_districts"] // p["cols"])
        return (p["lon0"] + (p["cols"] // 2 + 0.37) * p["cell"], p["lat0"] + (rows // 2 + 0.41) * p["cell"])

    def get(self, who: str, url: str) -> Callable[[], object]:
        client = self.clients[who]

        def call() -> object:
            began = time.perf_counter()
            response = client.get(url)
            if response.status_code == 503:
                why = f"{url} answered 503 (the web statement_timeout, DB_STATEMENT_TIMEOUT_MS, cancelled it)"
                raise Cancelled((time.perf_counter() - began) * 1000, why)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            return response

        return call


def signed_in_client(username: str) -> Client:
    """Return a test client carrying an API token obtained from the token endpoint, as a phone does."""
    client = Client(HTTP_HOST="localhost")
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": data.BENCH_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {response.json()['token']}")


def sql_call(statement: str, params) -> Callable[[], object]:  # noqa: ANN001 - a dict or a list
    def call() -> object:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()

    return call


def rolled_back(function: Callable[[], object], *, as_committed: bool = False) -> Callable[[], object]:
    """Run `function` in a transaction rolled back after it; `as_committed` first runs the checks a commit
    would (the deferred foreign keys), so their cost is counted."""

    def call() -> object:
        with transaction.atomic():
            result = function()
            if as_committed:
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            transaction.set_rollback(True)
        return result

    return call


# --- coverage -----------------------------------------------------------------------------------

# Baseline: the track simplified in metres (UTM 48N), its zone (COVERAGE_DISTANCE_M) cut into small pieces
# whose boxes the reaches' GiST index filters, intersections only there; pieces do not overlap, so lengths
# add up.
COVERAGE_BASELINE_SQL = """
WITH track AS (SELECT ST_Simplify(ST_Transform(track, 32648), 2) AS line FROM patrols_patrol WHERE id = %(patrol)s),
piece AS (SELECT ST_Subdivide(ST_Transform(ST_Buffer(line, %(distance_m)s), 4326), 64) AS zone FROM track)
SELECT r.id, sum(ST_Length(ST_CollectionExtract(ST_Intersection(r.geom, piece.zone), 2)::geography)) AS covered_m
FROM piece JOIN rivers_reach r ON r.geom && piece.zone AND ST_Intersects(r.geom, piece.zone)
GROUP BY r.id
"""
# The exact answer, as patrols.coverage computed it before issue 10 (the buffer of the whole track on the
# spheroid, built once here), to hold the fractions against: "within 2 % of the exact answer"
# (tests/patrols/test_coverage.py holds them against it too). Per reach: id, length, covered metres.
COVERAGE_EXACT_SQL = """
WITH track AS MATERIALIZED (
    SELECT p.track AS line, ST_Buffer(p.track::geography, %(distance_m)s)::geometry AS zone
    FROM patrols_patrol p WHERE p.id = %(patrol)s AND p.track IS NOT NULL
)
SELECT r.id, r.length_m,
       ST_Length(ST_CollectionExtract(ST_Intersection(r.geom, track.zone), 2)::geography) AS covered_m
FROM rivers_reach r, track
WHERE r.geom && track.zone
  AND ST_DWithin(r.geom::geography, track.line::geography, %(distance_m)s)
"""


def coverage_error(patrol, params: dict, cap_s: float) -> float | None:  # noqa: ANN001 - a Patrol
    """Return the largest difference between a fraction patrols.coverage stores and the exact one
    (None: the exact computation ran past `cap_s`)."""
    from patrols.coverage import patrol_coverage_compute

    ours = {row.reach_id: row.fraction for row in patrol_coverage_compute(patrol)}
    rows = []
    found = once_capped(lambda: rows.extend(sql_call(COVERAGE_EXACT_SQL, params)()), cap_s)
    if found.cancelled:
        return None
    exact = {reach: min(1.0, covered_m / length_m) for reach, length_m, covered_m in rows}
    return max((abs(ours.get(reach, 0.0) - exact.get(reach, 0.0)) for reach in {*ours, *exact}), default=0.0)


@path
def coverage(ctx: Context) -> list[Row]:
    from patrols.coverage import patrol_coverage_compute
    from patrols.models import Patrol

    patrol = Patrol.objects.filter(title__startswith="基准长轨迹").order_by("pk").first()
    points = patrol.track.num_points
    name = f"coverage of a {ctx.scale.track_seconds // 60} min 1 Hz track ({points} points)"
    params = {"patrol": patrol.pk, "distance_m": settings.COVERAGE_DISTANCE_M}
    cap_s = float(os.environ.get("BENCH_COVERAGE_CAP_S", 60))
    measured = once_capped(lambda: patrol_coverage_compute(patrol), cap_s)
    if measured.cancelled:
        baseline = interleaved(None, sql_call(COVERAGE_BASELINE_SQL, params), reps=ctx.reps, budget_s=ctx.budget_s)
        measured.baseline = baseline.baseline
        error = None
    else:
        measured = interleaved(
            lambda: patrol_coverage_compute(patrol), sql_call(COVERAGE_BASELINE_SQL, params),
            reps=ctx.reps, budget_s=ctx.budget_s,
        )  # fmt: skip
        error = coverage_error(patrol, params, cap_s)
    accuracy = "exact answer past its cap" if error is None else f"fractions within {error:.4f} of the exact answer"
    measured.note = "; ".join(filter(None, [measured.note, accuracy]))
    return [
        measured.row(
            name, "ms", target="≤ 200 ms (fractions within 2 % of exact)", limit=200,
            extra_pass=error is not None and error <= 0.02,
        )
    ]  # fmt: skip


# --- cross-district recompute --------------------------------------------------------------------


@path
def recompute(ctx: Context) -> list[Row]:
    from rivers.crossing import network_recompute_all, reaches_recompute
    from rivers.models import Reach

    chunk = list(Reach.objects.order_by("?").values_list("pk", flat=True)[:100])
    per_chunk = interleaved(rolled_back(lambda: reaches_recompute(chunk)), None, reps=ctx.reps, budget_s=ctx.budget_s)
    per_reach = per_chunk.scaled(1 / len(chunk))
    rows = [
        per_reach.row(
            f"cross-district recompute, per reach (chunks of {len(chunk)})", "ms", target="linear", limit=None
        )
    ]
    total = Reach.objects.count()
    cap_s = float(os.environ.get("BENCH_RECOMPUTE_CAP_S", 60))
    everything = once_capped(rolled_back(network_recompute_all), cap_s)
    rows.append(everything.row(f"cross-district recompute of all {total} reaches", "ms", target="≤ 60 s for 10^5",
                               limit=60_000 * total / 100_000))  # fmt: skip
    return rows


# --- load_bundle ---------------------------------------------------------------------------------


def bundle_write(directory: Path, ctx: Context, count: int) -> None:
    """Write a bundle of the city, one district and `count` new reaches inside that district."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
                'type', 'Feature', 'geometry', ST_AsGeoJSON(geom)::json,
                'properties', json_build_object('code', code, 'name', name, 'level', level,
                                                'parent', CASE WHEN level = 'district' THEN %s END))))
            FROM rivers_district WHERE code IN (%s, '510000')
            """,
            [data.CITY_CODE, data.CITY_CODE],
        )
        (districts,) = cursor.fetchone()
        cursor.execute(
            """
            SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(json_build_object(
                'type', 'Feature',
                'geometry', ST_AsGeoJSON(ST_Translate(r.geom, 0.00001 * (n %% 7), 0.00001 * (n %% 5)))::json,
                'properties', json_build_object('code', 'LOAD' || n, 'name', '载入河段' || n, 'river', '载入河',
                                                'level', 'village', 'chief', '载入河长' || n))))
            FROM generate_series(1, %s) n
            JOIN LATERAL (SELECT geom FROM rivers_reach ORDER BY id LIMIT 1 OFFSET n %% 50) r ON true
            """,
            [count],
        )
        (reaches,) = cursor.fetchone()
    (directory / "districts.geojson").write_text(json.dumps(districts), encoding="utf-8")
    (directory / "reaches.geojson").write_text(json.dumps(reaches), encoding="utf-8")


@path
def load_bundle(ctx: Context) -> list[Row]:
    from gis_data.bundle import bundle_load

    count = int(os.environ.get("BENCH_BUNDLE_REACHES", 100 if ctx.quick else 10_000))
    cap_s = float(os.environ.get("BENCH_BUNDLE_CAP_S", 120))
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        bundle_write(directory, ctx, count)
        # Three loads (the first also warms up), each rolled back after the checks its commit would run.
        ours = Measured(note="3 loads, each rolled back after its commit-time checks")
        for _ in range(1 if ctx.quick else 3):
            once = once_capped(rolled_back(lambda: bundle_load(directory), as_committed=True), cap_s)
            ours.ours += once.ours
            if once.cancelled:
                ours.cancelled = True
                break
        baseline = ogr2ogr_load(directory / "reaches.geojson", ctx) if ctx.owner_dsn else None
    note = baseline.note if baseline else "no owner DSN: ogr2ogr not run"
    rate = ours.rate(count)
    rate.baseline = baseline.rate(count).ours if baseline and baseline.ours else []
    rate.note = "; ".join(filter(None, [ours.note, note]))
    return [rate.row(f"load_bundle of {count} reaches", "reaches/s", target="≥ 10^4/s and ≥ 0.4× ogr2ogr",
                     limit=10_000, higher_is_better=True, ratio_limit=0.4)]  # fmt: skip


def ogr2ogr_load(geojson: Path, ctx: Context) -> Measured:
    """Time ogr2ogr loading the same file into a scratch table with COPY (GDAL's PostgreSQL driver)."""
    command = ["ogr2ogr", "-f", "PostgreSQL", f"PG:{ctx.owner_dsn}", str(geojson), "-nln", "bench_ogr_reaches",
               "-overwrite", "-lco", "SPATIAL_INDEX=NONE", "--config", "PG_USE_COPY", "YES"]  # fmt: skip
    times = []
    for _ in range(3):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, timeout=600)
        times.append((time.perf_counter() - began) * 1000)
    subprocess.run(["psql", ctx.owner_dsn, "-qc", "DROP TABLE IF EXISTS bench_ogr_reaches"], check=False,
                   capture_output=True)  # fmt: skip
    return Measured(ours=times, note="baseline: ogr2ogr -f PostgreSQL with PG_USE_COPY=YES, 3 runs")


# --- reaches as GeoJSON --------------------------------------------------------------------------

REACHES_GEOJSON_SQL = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'geometry', ST_AsGeoJSON(r.geom, 6)::json,
    'properties', json_build_object('code', r.code, 'name', r.name, 'river', river.name, 'level', r.level,
                                    'length_m', r.length_m, 'is_cross_district', r.is_cross_district,
                                    'districts', (SELECT coalesce(json_agg(d.code ORDER BY d.code), '[]')
                                                  FROM rivers_reachdistrict rd
                                                  JOIN rivers_district d ON d.id = rd.district_id
                                                  WHERE rd.reach_id = r.id)))
    ORDER BY r.code), '[]'))::text
FROM rivers_reach r JOIN rivers_river river ON river.id = r.river_id
WHERE r.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)
"""


def drf_gis_view():  # noqa: ANN201 - a view
    """A plain DRF-gis endpoint over the same reaches: the serializer and nothing else (the yardstick)."""
    from django.db.models import Prefetch
    from rest_framework import generics
    from rest_framework.serializers import CharField, SlugRelatedField
    from rest_framework_gis.filters import InBBoxFilter
    from rest_framework_gis.serializers import GeoFeatureModelSerializer

    from rivers.models import District, Reach

    class PlainReachSerializer(GeoFeatureModelSerializer):
        river = CharField(source="river.name", read_only=True)
        districts = SlugRelatedField(slug_field="code", many=True, read_only=True)

        class Meta:
            model = Reach
            geo_field = "geom"
            id_field = False
            fields = ["code", "name", "river", "level", "length_m", "districts", "is_cross_district"]

    class PlainReaches(generics.ListAPIView):
        queryset = Reach.objects.select_related("river").prefetch_related(
            Prefetch("districts", queryset=District.objects.only("code"))
        )
        serializer_class = PlainReachSerializer
        filter_backends = [InBBoxFilter]
        bbox_filter_field = "geom"
        bbox_filter_include_overlapping = True
        pagination_class = None
        authentication_classes: list = []
        permission_classes: list = []
        throttle_classes: list = []

    return PlainReaches.as_view()


@path
def reaches_geojson(ctx: Context) -> list[Row]:
    from django.test import RequestFactory

    lon, lat = ctx.centre()
    half = ctx.params["cell"]
    box = (lon - half, lat - half, lon + half, lat + half)
    bbox = ",".join(f"{v:.5f}" for v in box)
    ours = ctx.get("district", f"/api/v1/reaches/?bbox={bbox}&limit=1000")
    bare = ctx.beside_floor(ours, sql_call(REACHES_GEOJSON_SQL, list(box)))
    view, factory = drf_gis_view(), RequestFactory()

    def drf_gis() -> object:
        response = view(factory.get("/", {"in_bbox": bbox}))
        response.render()
        return response

    bare.note = ctx.floor_note(bare)
    versus = interleaved(ours, drf_gis, reps=ctx.reps, budget_s=ctx.budget_s)
    body = json.loads(ours().content)
    count = len(body.get("results", body)["features"])
    return [
        bare.row(f"reaches GeoJSON ?bbox= ({count} reaches) vs json_agg SQL", "ms", target="≤ 1.5× bare SQL",
                 ratio_limit=1.5),
        versus.row(f"reaches GeoJSON ?bbox= ({count} reaches) vs DRF-gis", "ms", target="≥ 10× faster than DRF-gis",
                   ratio_limit=0.1),
    ]  # fmt: skip


# --- figures and compliance ------------------------------------------------------------------------


@path
def figures(ctx: Context) -> list[Row]:
    start, end = ctx.params["year_ago"].date(), ctx.params["now"].date()
    ours = ctx.get("city", f"/api/v1/figures/?start={start}&end={end}")

    def jit_off() -> object:
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        try:
            return ours()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")

    measured = interleaved(ours, jit_off, reps=ctx.reps, budget_s=ctx.budget_s)
    if measured.cancelled:
        jit_off_alone = interleaved(jit_off, None, reps=3, budget_s=ctx.budget_s)
        measured.baseline = [] if jit_off_alone.cancelled else jit_off_alone.ours
        return [measured.row("figures API (municipal procuratorate, a year)", "ms", target="≤ 300 ms", limit=300)]
    measured.note = f"{queries_of(ours)} queries; baseline: the same request with jit = off"
    return [measured.row("figures API (municipal procuratorate, a year)", "ms", target="≤ 300 ms", limit=300)]


@path
def compliance(ctx: Context) -> list[Row]:
    from rivers.models import District

    year = ctx.params["now"].year
    ours = ctx.get("city", f"/api/v1/compliance/?year={year}")
    measured = interleaved(ours, None, reps=ctx.reps, budget_s=ctx.budget_s)
    # The municipal procuratorate sees every district: a page of them (COMPLIANCE_PAGE_SIZE), each with all
    # of its reaches; the count and the districts lacking a joint patrol cover all of them.
    body = json.loads(ours().content)
    measured.note = (
        f"a page of {len(body['districts'])} districts of {body['count']}, {len(ours().content) // 1024} KB; "
        f"{queries_of(ours)} queries; peak memory not measured"
    )
    count = District.objects.filter(level="district").count()
    return [measured.row(f"compliance, all {count} districts", "ms", target="≤ 500 ms; large lists paged", limit=500)]


# --- clue list ------------------------------------------------------------------------------------


@path
def clue_list(ctx: Context) -> list[Row]:
    rows = []
    counts = {}
    for size in (10, 100):
        ours = ctx.get("district", f"/api/v1/clues/?limit={size}")
        counts[size] = queries_of(ours)
        measured = interleaved(ours, None, reps=ctx.reps, budget_s=ctx.budget_s)
        measured.note = f"{counts[size]} queries"
        rows.append(measured.row(f"clue list, {size} items", "ms", target="≤ 100 ms", limit=100))
    rows.append(Row(name="clue list, queries at 10 / at 100 items", ours=counts[100], baseline=counts[10],
                    unit="queries", ratio=round(counts[100] / counts[10], 2), target="the same at 10 and at 100",
                    passed=counts[100] == counts[10]))  # fmt: skip
    # A municipal procuratorate sees a third of the city's clues: its count tests the rule on every clue.
    ours = ctx.get("city", "/api/v1/clues/?limit=10")
    total, count = ours().json()["count"], queries_of(ours)
    measured = interleaved(ours, None, reps=ctx.reps, budget_s=ctx.budget_s)
    measured.note = f"{count} queries; {total} clues visible to the user (the rule tested on each clue)"
    rows.append(measured.row("clue list of a municipal procuratorate user, 10 items", "ms", target="≤ 100 ms",
                             limit=100))  # fmt: skip
    return rows


@path
def notifications(ctx: Context) -> list[Row]:
    """A user's inbox, where each notification about a clue is shown only while its clue is visible."""
    rows = []
    for who, whose in (("city", "a municipal procuratorate user"), ("district", "a district user")):
        ours = ctx.get(who, "/api/v1/notifications/?limit=50")
        total, count = ours().json()["count"], queries_of(ours)
        measured = interleaved(ours, None, reps=ctx.reps, budget_s=ctx.budget_s)
        measured.note = f"{count} queries; {total} notifications the user may see"
        rows.append(measured.row(f"notifications of {whose}, a page of 50", "ms", target="≤ 100 ms", limit=100))
    return rows


# --- routing and registration -----------------------------------------------------------------------

ROUTING_BASELINE_SQL = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g),
snap AS (
    SELECT r.id, r.code, r.is_cross_district, ST_Distance(r.geom::geography, p.g::geography) AS metres
    FROM (SELECT r.* FROM rivers_reach r
          ORDER BY r.geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) LIMIT 8) r, p
    WHERE ST_DWithin(r.geom::geography, p.g::geography, %(tolerance)s)
    ORDER BY metres LIMIT 1
),
area AS (SELECT d.id, d.code, d.parent_id FROM rivers_district d
         WHERE d.level = 'district' AND ST_Contains(d.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
         LIMIT 1)
SELECT snap.code, area.code, proc.code,
       (SELECT array_agg(a.code) FROM rivers_reachdistrict rd JOIN rivers_agency a
          ON a.district_id = rd.district_id AND a.kind = 'procuratorate'
        WHERE rd.reach_id = snap.id AND snap.is_cross_district)
FROM (SELECT 1) one LEFT JOIN snap ON true LEFT JOIN area ON true
LEFT JOIN rivers_agency proc ON proc.kind = 'procuratorate'
 AND proc.district_id = CASE WHEN snap.is_cross_district OR area.id IS NULL THEN area.parent_id ELSE area.id END
"""


def point_on_reach(cross: bool) -> tuple[float, float]:
    from rivers.models import Reach

    reach = Reach.objects.filter(is_cross_district=cross).order_by("pk").first()
    point = reach.geom[0].interpolate_normalized(0.3) if hasattr(reach.geom[0], "interpolate_normalized") else None
    if point is None:
        x, y = reach.geom[0].coords[len(reach.geom[0].coords) // 3]
        return x, y
    return point.x, point.y


@path
def request_floor(ctx: Context) -> list[Row]:
    """What every API request costs before its view's own work: the other rows' notes take it off."""
    row = ctx.floor.row("the floor of an API request (authenticated no-op, p50)", "ms", target="—")
    row.passed = None  # a yardstick, with no target of its own
    return [row]


@path
def routing(ctx: Context) -> list[Row]:
    rows = []
    for cross in (False, True):
        lon, lat = point_on_reach(cross)
        ours = ctx.get("district", f"/api/v1/routing/?lon={lon:.6f}&lat={lat:.6f}")
        params = {"lon": lon, "lat": lat, "tolerance": settings.SNAP_TOLERANCE_M}
        measured = ctx.beside_floor(ours, sql_call(ROUTING_BASELINE_SQL, params))
        count = queries_of(ours)
        measured.note = f"{count} queries (target ≤ 2); {ctx.floor_note(measured)}"
        kind = "a cross-district reach" if cross else "a reach of one district"
        rows.append(measured.row(f"routing a point on {kind} (p50)", "ms", target="≤ 2 ms, ≤ 2 queries", limit=2,
                                 extra_pass=count <= 2))  # fmt: skip
    return rows


REGISTER_BASELINE_SQL = """
INSERT INTO clues_clue (code, client_uuid, request_digest, source, category, description, geom, status, confidential,
                        routing_reason, case_number, outcome_note, judgement, created_at, updated_at, holder_id,
                        registered_by_id, registering_agency_id, routed_to_id, history_anchor, history_count)
SELECT 'BASE-' || replace(%(uuid)s, '-', ''), %(uuid)s::uuid, '', 'hotline', 'water_pollution', 'baseline',
       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), 'registered', false, 'district', '', '', '', now(), now(),
       a.id, %(user)s, a.id, a.id, '', 0
FROM rivers_agency a WHERE a.code = '510000-PROC'
"""


@path
def registration(ctx: Context) -> list[Row]:
    from django.contrib.auth import get_user_model

    lon, lat = point_on_reach(False)
    client = ctx.clients["district"]
    user_id = get_user_model().objects.get(username="bench-district").pk

    def ours() -> object:
        body = {"client_uuid": str(uuid.uuid4()), "category": "water_pollution", "description": "基准登记",
                "location": {"type": "Point", "coordinates": [lon, lat]}, "source": "hotline"}  # fmt: skip
        response = client.post("/api/v1/clues/", body, content_type="application/json")
        assert response.status_code == 201, response.content[:300]
        return response

    route_sql = sql_call(ROUTING_BASELINE_SQL, {"lon": lon, "lat": lat, "tolerance": settings.SNAP_TOLERANCE_M})

    def baseline() -> object:
        with transaction.atomic():
            route_sql()
            with connection.cursor() as cursor:
                cursor.execute(
                    REGISTER_BASELINE_SQL, {"uuid": str(uuid.uuid4()), "lon": lon, "lat": lat, "user": user_id}
                )

    measured = interleaved(ours, baseline, reps=ctx.reps, budget_s=ctx.budget_s)
    count = queries_of(ours)
    measured.note = f"{count} queries (target ≤ 10)"
    return [measured.row("registering a clue (API, p50)", "ms", target="p50 ≤ 15 ms, ≤ 10 queries", limit=15,
                         extra_pass=count <= 10)]  # fmt: skip


# --- tiles -----------------------------------------------------------------------------------------


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@path
def tiles(ctx: Context) -> list[Row]:
    from rivers.tiles import tile_statement

    lon, lat = ctx.centre()
    rows = []
    for z in (10, 12, 14):
        x, y = tile_of(lon, lat, z)
        ours = ctx.get("district", f"/tiles/reaches/{z}/{x}/{y}.pbf")
        bare = sql_call(*tile_statement("reaches", z, x, y))
        measured = ctx.beside_floor(ours, bare)
        size = len(ours().content)
        measured.note = f"{size} bytes; {ctx.floor_note(measured)}"
        limit = 20 if z == 10 else None
        rows.append(measured.row(f"reach tile z{z} ({size // 1024} KB)", "ms",
                                 target="≤ 1.3× bare SQL; ≤ 500 KB" + ("; ≤ 20 ms" if z == 10 else ""),
                                 limit=limit, ratio_limit=1.3, extra_pass=size <= 500 * 1024))  # fmt: skip
    return rows


# --- photos ----------------------------------------------------------------------------------------


def phone_jpeg(megapixels: float = 12.0) -> bytes:
    """Return a 4032×3024-like JPEG with camera-like detail and an EXIF orientation of 6 (rotated)."""
    from PIL import Image

    width, height = 4032, 3024
    if megapixels != 12.0:
        width, height = int(4032 * (megapixels / 12) ** 0.5), int(3024 * (megapixels / 12) ** 0.5)
    noise = Image.effect_noise((width, height), 40).convert("L")
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def naive_copies(raw: bytes) -> tuple[bytes, bytes]:
    """The naive way: open, transpose, resize, save (twice)."""
    from PIL import Image, ImageOps

    from patrols.photos.processing import DISPLAY_MAX_PX, DISPLAY_QUALITY, THUMBNAIL_MAX_PX, THUMBNAIL_QUALITY, fit

    with Image.open(io.BytesIO(raw)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    out = []
    for side, quality in ((DISPLAY_MAX_PX, DISPLAY_QUALITY), (THUMBNAIL_MAX_PX, THUMBNAIL_QUALITY)):
        buffer = io.BytesIO()
        upright.resize(fit(upright.size, side)).save(buffer, "JPEG", quality=quality)
        out.append(buffer.getvalue())
    return out[0], out[1]


PEAK_MEMORY_SCRIPT = """
import io, sys
import django
django.setup()
from patrols.photos.processing import render
def kib(field):
    return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith(field + ':'))
raw = open(sys.argv[1], 'rb').read()
open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (VmHWM) to the current resident size
before = kib('VmRSS')
render(io.BytesIO(raw))
print((kib('VmHWM') - before) / 1024)
"""


@path
def photo(ctx: Context) -> list[Row]:
    from patrols.photos.processing import render

    raw = phone_jpeg(12.0 if not ctx.quick else 1.0)
    measured = interleaved(lambda: render(io.BytesIO(raw)), lambda: naive_copies(raw), reps=ctx.reps,
                           budget_s=ctx.budget_s)  # fmt: skip
    peak_mb = None
    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(raw)
        file.flush()
        with contextlib.suppress(subprocess.SubprocessError, ValueError):
            done = subprocess.run([sys.executable, "-c", PEAK_MEMORY_SCRIPT, file.name], capture_output=True,
                                  text=True, timeout=120, check=True, env=os.environ.copy())  # fmt: skip
            peak_mb = round(float(done.stdout.strip().splitlines()[-1]), 1)
    decode = interleaved(lambda: half_scale_decode(raw), None, reps=ctx.reps, budget_s=ctx.budget_s)
    decode_ms, naive_ms = statistics.median(decode.ours), statistics.median(measured.baseline)
    measured.note = (
        f"peak memory growth while rendering: {peak_mb} MB (VmHWM over VmRSS, its own process); "
        f"the decode alone (draft at 1/2 scale, the least that covers the display copy): {decode_ms:.1f} ms "
        f"= {decode_ms / naive_ms:.3f} of naive"
    )
    megapixels = "12 MP" if not ctx.quick else "1 MP"
    return [measured.row(f"display copy + thumbnail of a {megapixels} JPEG", "ms",
                         target="≥ 4× faster than naive, ≤ 100 MB peak", ratio_limit=0.25,
                         extra_pass=peak_mb is not None and peak_mb <= 100)]  # fmt: skip


def half_scale_decode(raw: bytes) -> None:
    """What render cannot do without: decode the JPEG at the scale its display copy needs."""
    from PIL import Image

    from patrols.photos.processing import DISPLAY_MAX_PX, fit

    with Image.open(io.BytesIO(raw)) as image:
        image.draft("RGB", fit(image.size, DISPLAY_MAX_PX))
        image.load()


def count_queries(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)
