"""Long patrols (issue 7 §2): set-based track work, explicit point limits, the web statement timeout.

No wall-clock assertion here: a statement per point (Django's bulk_update writes one CASE branch per
row; bulk_create one VALUES group per row) shows as a statement list that changes with the number of
points, so the tests compare the statements at 100 and at 10,800 points (a 3-hour patrol at one fix a
second). Points walk east along INSIDE (1 km north, 甲区) at 1.5 m a second from 2 km east.
"""

import datetime
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gis_data.gpx import Fix, GpxError, gpx_read, gpx_write
from patrols.models import Patrol, PatrolStatus, TrackBatch, TrackPoint
from patrols.tracks import patrol_finish, track_points_add
from tests.factories import at
from tests.patrols.conftest import client_for
from tests.patrols.test_tracks import START, started

THREE_HOURS_AT_1_HZ = 10_800


def every_second(count: int, *, start=START, step_m: float = 1.5) -> list[Fix]:
    """Return `count` fixes one a second, `step_m` apart eastwards; every 50th is a poor fix (80 m)."""
    return [
        Fix(*at(2_000 + i * step_m, 1_000), start + datetime.timedelta(seconds=i), 80.0 if i % 50 == 25 else 5.0)
        for i in range(count)
    ]


class Statements:
    """Record the SQL templates run (parameters apart), savepoint names made uniform."""

    def __init__(self):
        self.templates: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.templates.append(re.sub(r'"s\d+_x\d+"', '"sp"', sql))
        return execute(sql, params, many, context)


def run_counted(action):
    """Run `action`; return (the statements' templates, the number of statements Django captured)."""
    statements = Statements()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(statements):
        action()
    return statements.templates, len(captured)


def test_points_and_finish_run_the_same_statements_at_100_and_10800_points(people):
    shapes = {}
    for count in (100, THREE_HOURS_AT_1_HZ):
        patrol = started(people)
        fixes = every_second(count)
        add = run_counted(lambda: track_points_add(patrol=patrol, batch_id="all", fixes=fixes))  # noqa: B023
        ended_at = START + datetime.timedelta(seconds=count)
        finish = run_counted(lambda: patrol_finish(patrol=patrol, ended_at=ended_at))  # noqa: B023
        shapes[count] = (add, finish)
        assert TrackPoint.objects.filter(patrol=patrol).count() == count
        dropped = TrackPoint.objects.filter(patrol=patrol, kept=False)
        assert dropped.count() == count // 50 and set(dropped.values_list("dropped_because", flat=True)) == {"accuracy"}
        patrol.refresh_from_db()
        assert len(patrol.track.coords) == count - count // 50
        # 1.5 m a second for count − 1 seconds, along a parallel (great-circle length within 0.1 %).
        assert patrol.length_m == pytest.approx(1.5 * (count - 1), rel=0.002)
    (small_add, small_finish), (large_add, large_finish) = shapes[100], shapes[THREE_HOURS_AT_1_HZ]
    # The same statements, one for one: their number and their text do not grow with the points.
    assert small_add[1] == large_add[1] and small_finish[1] == large_finish[1]
    assert small_add[0] == large_add[0]
    assert small_finish[0] == large_finish[0]
    assert max(len(sql) for sql in large_add[0] + large_finish[0]) < 2_000


def test_a_late_batch_into_a_finished_patrol_rebuilds_it_in_the_same_statements(people):
    shapes = []
    for count in (100, THREE_HOURS_AT_1_HZ):
        patrol = started(people)
        fixes = every_second(count)
        track_points_add(patrol=patrol, batch_id="first-half", fixes=fixes[: count // 2])
        patrol = patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(seconds=count))
        shapes.append(run_counted(lambda: track_points_add(patrol=patrol, batch_id="late", fixes=fixes[count // 2 :])))  # noqa: B023
        patrol.refresh_from_db()
        assert patrol.length_m == pytest.approx(1.5 * (count - 1), rel=0.002)
    assert shapes[0] == shapes[1]


# --- limits -------------------------------------------------------------------------------------


def points_body(fixes: list[Fix], batch_id: str = "phone-1") -> dict:
    points = [{"lon": f.lon, "lat": f.lat, "recorded_at": f.recorded_at.isoformat()} for f in fixes]
    return {"batch_id": batch_id, "points": points}


def gpx_file(fixes: list[Fix], name: str = "track.gpx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, gpx_write("imported", fixes), "application/gpx+xml")


def file_error(response) -> str:
    """Return the message on the uploaded file (the GPX endpoint answers {"file": message})."""
    return response.json()["file"]


def nothing_stored(patrol: Patrol) -> bool:
    return (
        not TrackPoint.objects.filter(patrol=patrol).exists() and not TrackBatch.objects.filter(patrol=patrol).exists()
    )


def test_a_batch_over_the_batch_limit_is_refused_whole(people, settings):
    settings.TRACK_MAX_POINTS_PER_BATCH = 10
    client, patrol = client_for(people["west_ro"]), started(people)
    refused = client.post(f"/api/v1/patrols/{patrol.pk}/points/", points_body(every_second(11)), format="json")
    assert refused.status_code == 400
    assert "TRACK_MAX_POINTS_PER_BATCH" in refused.json()["points"][0] and "10" in refused.json()["points"][0]
    assert nothing_stored(patrol)
    accepted = client.post(f"/api/v1/patrols/{patrol.pk}/points/", points_body(every_second(10)), format="json")
    assert accepted.status_code == 201


def test_a_gpx_over_the_file_limits_is_refused_whole(people, settings):
    settings.TRACK_MAX_POINTS_PER_GPX = 10
    client, patrol = client_for(people["west_ro"]), started(people)
    url = f"/api/v1/patrols/{patrol.pk}/gpx/"
    refused = client.post(url, {"file": gpx_file(every_second(11))}, format="multipart")
    assert refused.status_code == 400 and "10" in file_error(refused)
    assert nothing_stored(patrol)
    settings.TRACK_MAX_GPX_BYTES = 1_000
    too_big = client.post(url, {"file": gpx_file(every_second(10))}, format="multipart")  # ~1.4 kB
    assert too_big.status_code == 400 and "TRACK_MAX_GPX_BYTES" in file_error(too_big)
    assert nothing_stored(patrol)


def test_points_past_the_patrol_limit_are_refused_and_nothing_of_them_is_kept(people, settings):
    settings.TRACK_MAX_POINTS_PER_PATROL = 30
    client, patrol = client_for(people["west_ro"]), started(people)
    fixes = every_second(45)
    url = f"/api/v1/patrols/{patrol.pk}/points/"
    assert client.post(url, points_body(fixes[:20], "b1"), format="json").status_code == 201
    # 5 of these 20 are already stored (a resent overlap): 35 distinct points, over 30.
    refused = client.post(url, points_body(fixes[15:35], "b2"), format="json")
    assert refused.status_code == 400
    assert "TRACK_MAX_POINTS_PER_PATROL" in refused.json()["points"][0] and "30" in refused.json()["points"][0]
    assert TrackPoint.objects.filter(patrol=patrol).count() == 20
    assert list(TrackBatch.objects.filter(patrol=patrol).values_list("batch_id", flat=True)) == ["b1"]
    # Up to the limit exactly is accepted (the overlap counts once).
    assert client.post(url, points_body(fixes[15:30], "b2"), format="json").status_code == 201
    assert TrackPoint.objects.filter(patrol=patrol).count() == 30
    gpx = client.post(f"/api/v1/patrols/{patrol.pk}/gpx/", {"file": gpx_file(fixes[30:])}, format="multipart")
    assert gpx.status_code == 400 and "TRACK_MAX_POINTS_PER_PATROL" in file_error(gpx)
    assert TrackPoint.objects.filter(patrol=patrol).count() == 30


# --- device times -------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [349, 1970, 5659])
def test_points_dated_outside_the_window_are_refused(people, year):
    client, patrol = client_for(people["west_ro"]), started(people)
    fixes = every_second(5)
    fixes[3] = Fix(fixes[3].lon, fixes[3].lat, fixes[3].recorded_at.replace(year=year))
    refused = client.post(f"/api/v1/patrols/{patrol.pk}/points/", points_body(fixes), format="json")
    assert refused.status_code == 400 and "point 3" in refused.json()["points"][0]
    gpx = client.post(f"/api/v1/patrols/{patrol.pk}/gpx/", {"file": gpx_file(fixes)}, format="multipart")
    assert gpx.status_code == 400 and "point 3" in file_error(gpx)
    assert nothing_stored(patrol)
    late = client.post(
        f"/api/v1/patrols/{patrol.pk}/finish/", {"ended_at": f"{year:04d}-05-10T10:00:00Z"}, format="json"
    )
    assert late.status_code == 400 and "ended_at" in late.json()
    body = {
        "client_uuid": str(uuid.uuid4()),
        "kind": "routine",
        "district": "990001",
        "started_at": f"{year:04d}-05-10T10:00:00Z",
    }
    start = client.post("/api/v1/patrols/", body, format="json")
    assert start.status_code == 400 and "started_at" in start.json()
    patrol.refresh_from_db()
    assert patrol.status == PatrolStatus.ACTIVE


def test_a_patrol_holding_points_of_year_349_and_5659_still_finishes(people):
    # Stored before device times were checked (the phone's clock was reset, then broken).
    client, patrol = client_for(people["west_ro"]), started(people)
    fixes = every_second(1_000)
    track_points_add(patrol=patrol, batch_id="good", fixes=fixes)
    TrackPoint.objects.bulk_create(
        TrackPoint(patrol=patrol, geom=f"SRID=4326;POINT({lon} {lat})", recorded_at=START.replace(year=year))
        for (lon, lat), year in ((at(9_000, 1_000), 349), (at(2_000, 5_000), 5659))
    )
    finished = client.post(f"/api/v1/patrols/{patrol.pk}/finish/", {"ended_at": fixes[-1].recorded_at.isoformat()})
    assert finished.status_code == 200, finished.json()
    assert finished.json()["status"] == "finished"
    assert finished.json()["duration_s"] == 999  # the good points' span, not sixteen centuries
    assert finished.json()["length_m"] == pytest.approx(1.5 * 999, rel=0.002)
    dropped = TrackPoint.objects.filter(patrol=patrol, kept=False).values_list("dropped_because", flat=True)
    assert sorted(dropped) == ["accuracy"] * 20 + ["time", "time"]


def test_gpx_reading_is_bounded_and_refuses_bad_values():
    document = gpx_write("t", every_second(50))
    assert len(gpx_read(document)) == 50
    with pytest.raises(GpxError, match="more than 49 points"):
        gpx_read(document, max_points=49)
    bad_hdop = document.replace(b"</time>", b"</time><hdop>abc</hdop>", 1)
    with pytest.raises(GpxError, match="point 0: bad hdop"):
        gpx_read(bad_hdop)


# --- the web statement timeout --------------------------------------------------------------------


def sleeping_before(prefix: str, seconds: float):
    """Return an execute wrapper that makes PostgreSQL sleep before each statement starting with `prefix`."""

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().replace('"', "").startswith(prefix):
            execute("SELECT pg_sleep(%s)", [seconds], False, context)
        return execute(sql, params, many, context)

    return wrapper


def statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_a_request_cancelled_by_the_statement_timeout_answers_503_and_keeps_nothing(people, settings):
    settings.DB_STATEMENT_TIMEOUT_MS = 300
    client, patrol = client_for(people["west_ro"]), started(people)
    track_points_add(patrol=patrol, batch_id="all", fixes=every_second(100))
    with connection.execute_wrapper(sleeping_before("UPDATE patrols_patrol", 1.0)):
        response = client.post(f"/api/v1/patrols/{patrol.pk}/finish/", {}, format="json")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json" and response["Retry-After"]
    assert "DB_STATEMENT_TIMEOUT_MS" in response.json()["detail"]
    patrol.refresh_from_db()
    assert patrol.status == PatrolStatus.ACTIVE and patrol.track is None
    # The request gives the connection back without its timeout.
    assert statement_timeout() == "0"
    assert client.post(f"/api/v1/patrols/{patrol.pk}/finish/", {}, format="json").status_code == 200


def test_workers_and_commands_run_without_the_web_timeout(people, settings):
    from django.core.management import call_command

    from patrols import tasks

    settings.DB_STATEMENT_TIMEOUT_MS = 300
    patrol = started(people)
    track_points_add(patrol=patrol, batch_id="all", fixes=every_second(100))
    client_for(people["west_ro"]).get("/api/v1/patrols/")  # a web request came and went
    # The same slow statements that cost the web request its answer complete in a task and a command.
    with connection.execute_wrapper(sleeping_before("UPDATE patrols_patrol", 0.6)):
        patrol_finish(patrol=patrol)
        tasks.compute_coverage(patrol.pk)
    patrol.refresh_from_db()
    assert patrol.status == PatrolStatus.FINISHED and patrol.coverage_done_at is not None
    with connection.execute_wrapper(sleeping_before("INSERT", 0.4)):
        call_command("add_member", "slow_member", "--agency", "990001-RCO", "--role", "patrol")
    assert statement_timeout() == "0"


@pytest.mark.django_db(transaction=True)
def test_a_web_process_opens_its_connections_under_the_timeout_and_sets_none_per_request(people, settings, monkeypatch):
    from config import database

    settings.DB_STATEMENT_TIMEOUT_MS = 300
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("options", "")
    # What config.wsgi does, on a connection opened after it (a gunicorn thread's).
    connection.close()
    database.web_connections_start_with_timeout()
    # The middleware must not set the timeout per request: a SET would now fail the request.
    monkeypatch.setattr(database, "SET_TIMEOUT_SQL", "SELECT no_such_function(%s)")
    try:
        assert statement_timeout() == "300ms"
        client = client_for(people["west_ro"])
        assert client.get("/api/v1/patrols/").status_code == 200
        with connection.execute_wrapper(sleeping_before("SELECT", 1.0)):
            response = client.get("/api/v1/patrols/")
        assert response.status_code == 503 and response["Retry-After"]
        # Neither a RESET nor a rolled-back transaction takes it away: it is the connection's own default.
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
        assert statement_timeout() == "300ms"
    finally:
        options["options"] = saved
        connection.close()
    assert statement_timeout() == "0"


def test_a_phone_left_on_one_spot_finishes_with_no_track(people):
    # Twenty fixes at one place (the phone lay on a desk): a line of one position is not a geometry.
    patrol = started(people)
    spot = every_second(1)[0]
    fixes = [Fix(spot.lon, spot.lat, START + datetime.timedelta(seconds=i), 5.0) for i in range(20)]
    track_points_add(patrol=patrol, batch_id="desk", fixes=fixes)
    patrol = patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(minutes=30))
    assert patrol.status == PatrolStatus.FINISHED and patrol.track is None and patrol.length_m == 0
    assert patrol.duration_s == 30 * 60 and not patrol.is_valid
