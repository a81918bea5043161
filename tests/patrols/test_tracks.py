"""Patrols and their tracks (issue 4 §2–3) on the synthetic city of tests.factories.

INSIDE runs from 2 km to 8 km east at 1 km north (6 km, in 甲区). Track points walk along it at
100 m a minute (1.7 m/s) unless a test says otherwise; metres are turned into lon/lat at 29°N.
"""

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gis_data.gpx import Fix, gpx_read
from patrols.coverage import patrol_coverage_compute
from patrols.models import Patrol, PatrolCoverage, TrackPoint
from patrols.tracks import patrol_finish, patrol_start, track_points_add
from rivers.models import Agency
from tests.factories import at
from tests.patrols.conftest import client_for

START = timezone.make_aware(datetime.datetime(2026, 5, 10, 9, 0))


def walk(east_from: float, east_to: float, *, north: float = 1_000, step_m: float = 100, start=START, **extra):
    """Return fixes every `step_m` metres east along a line, one a minute from `start`."""
    count = int(abs(east_to - east_from) / step_m) + 1
    direction = 1 if east_to >= east_from else -1
    return [
        Fix(*at(east_from + direction * i * step_m, north), start + datetime.timedelta(minutes=i), **extra)
        for i in range(count)
    ]


def started(people, kind="routine", **extra) -> Patrol:
    participants = [(people["west_ro"], Agency.objects.get(code="990001-RCO"))]
    patrol, _ = patrol_start(
        user=people["west_ro"], client_uuid=uuid.uuid4(), kind=kind, district=people["inside"].districts.get(),
        participants=participants, started_at=START, **extra,
    )  # fmt: skip
    return patrol


def test_a_joint_patrol_needs_both_sides(people):
    client = client_for(people["west_ro"])
    body = {"client_uuid": str(uuid.uuid4()), "kind": "joint", "district": "990001"}
    refused = client.post("/api/v1/patrols/", body, format="json")
    assert refused.status_code == 400
    assert "procuratorate side" in refused.json()["participants"][0]
    assert not Patrol.objects.exists()
    body["participants"] = [{"username": "west_proc", "agency": "990001-PROC"}]
    started = client.post("/api/v1/patrols/", body, format="json")
    assert started.status_code == 201, started.json()
    assert {p["agency"]["code"] for p in started.json()["participants"]} == {"990001-RCO", "990001-PROC"}
    again = client.post("/api/v1/patrols/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == started.json()["id"]
    # Someone who is not a member of the agency named cannot be put on the patrol.
    body = {
        **body,
        "client_uuid": str(uuid.uuid4()),
        "participants": [{"username": "east_proc", "agency": "990001-PROC"}],
    }
    assert client.post("/api/v1/patrols/", body, format="json").status_code == 400


def test_out_of_order_and_repeated_batches_give_one_clean_track(people, django_capture_on_commit_callbacks):
    patrol = started(people)
    fixes = walk(2_000, 8_000)  # 61 fixes, one hour
    first, second = fixes[:31], fixes[30:]  # overlapping by one fix
    assert track_points_add(patrol=patrol, batch_id="b2", fixes=second)[1]
    assert track_points_add(patrol=patrol, batch_id="b1", fixes=first)[1]
    assert not track_points_add(patrol=patrol, batch_id="b1", fixes=first)[1]  # a retry
    track_points_add(patrol=patrol, batch_id="b1-again", fixes=first[10:20])  # resent under a new id
    assert TrackPoint.objects.filter(patrol=patrol).count() == 61
    with django_capture_on_commit_callbacks() as queued:
        patrol = patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(minutes=62))
    assert len(queued) == 1  # the coverage task, queued once the transaction commits
    coords = patrol.track.coords
    assert len(coords) == 61
    assert [round(x, 7) for x, _ in coords] == sorted(round(x, 7) for x, _ in coords)  # west to east, in time order
    assert patrol.length_m == pytest.approx(6_000, rel=0.005)
    assert patrol.duration_s == 62 * 60
    assert patrol.is_valid
    assert len(patrol.track_display.coords) == 2  # a straight walk simplifies to its ends


def test_points_with_poor_accuracy_or_impossible_speed_are_kept_but_left_out(people):
    patrol = started(people)
    fixes = walk(2_000, 4_000)
    fixes[5] = Fix(fixes[5].lon, fixes[5].lat, fixes[5].recorded_at, accuracy_m=250)  # poor fix
    jump = fixes[10].recorded_at + datetime.timedelta(seconds=30)
    fixes.insert(11, Fix(*at(9_000, 6_000), jump))  # 8.6 km away 30 s later: 290 m/s
    track_points_add(patrol=patrol, batch_id="all", fixes=fixes)
    patrol = patrol_finish(patrol=patrol)
    dropped = dict(TrackPoint.objects.filter(patrol=patrol, kept=False).values_list("recorded_at", "dropped_because"))
    assert dropped == {fixes[5].recorded_at: "accuracy", jump: "speed"}
    assert TrackPoint.objects.filter(patrol=patrol).count() == len(fixes)
    assert len(patrol.track.coords) == len(fixes) - 2
    assert patrol.length_m == pytest.approx(2_000, rel=0.005)


def test_a_short_patrol_does_not_count(people):
    patrol = started(people)
    track_points_add(patrol=patrol, batch_id="short", fixes=walk(2_000, 2_300))  # 300 m in 3 minutes
    patrol = patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(minutes=5))
    assert not patrol.is_valid
    assert patrol.length_m == pytest.approx(300, rel=0.01)


def test_a_track_along_half_a_reach_covers_half_of_it(people):
    patrol = started(people)
    track_points_add(patrol=patrol, batch_id="half", fixes=walk(2_000, 5_000, north=1_020))  # 20 m north of INSIDE
    patrol = patrol_finish(patrol=patrol)
    rows = {row.reach.code: row for row in patrol_coverage_compute(patrol)}
    # Both start at 2 km; the reach stays within 50 m of the track until 46 m past its end
    # (√(50² − 20²) = 45.8): 3,046 m of 6,000 m.
    assert set(rows) == {"INSIDE"}
    assert rows["INSIDE"].covered_m == pytest.approx(3_046, rel=0.005)
    assert rows["INSIDE"].fraction == pytest.approx(0.508, abs=0.003)
    patrol_coverage_compute(patrol)  # twice: the same rows, not more
    assert PatrolCoverage.objects.filter(patrol=patrol).count() == 1


def test_a_track_100_m_away_covers_nothing(people):
    patrol = started(people)
    track_points_add(patrol=patrol, batch_id="far", fixes=walk(2_000, 5_000, north=1_100))
    assert patrol_coverage_compute(patrol_finish(patrol=patrol)) == []


def test_points_arriving_after_the_finish_rebuild_the_track(people):
    patrol = started(people)
    fixes = walk(2_000, 6_000)
    track_points_add(patrol=patrol, batch_id="early", fixes=fixes[:20])
    patrol = patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(minutes=45))
    assert patrol.length_m == pytest.approx(1_900, rel=0.01)
    track_points_add(patrol=patrol, batch_id="late", fixes=fixes[20:])  # the phone was offline
    patrol.refresh_from_db()
    assert patrol.length_m == pytest.approx(4_000, rel=0.005)


def test_points_api_and_gpx_round_trip(people):
    client = client_for(people["west_ro"])
    patrol = started(people)
    points = [
        {"lon": f.lon, "lat": f.lat, "recorded_at": f.recorded_at.isoformat(), "accuracy_m": 8}
        for f in walk(2_000, 4_000)
    ]
    batch = {"batch_id": "phone-1", "points": points}
    assert client.post(f"/api/v1/patrols/{patrol.pk}/points/", batch, format="json").status_code == 201
    assert client.post(f"/api/v1/patrols/{patrol.pk}/points/", batch, format="json").status_code == 200
    bad = {"batch_id": "phone-2", "points": [{"lon": 200, "lat": 29, "recorded_at": START.isoformat()}]}
    assert client.post(f"/api/v1/patrols/{patrol.pk}/points/", bad, format="json").status_code == 400
    outsider = client_for(people["east_ro"]).post(f"/api/v1/patrols/{patrol.pk}/points/", batch, format="json")
    assert outsider.status_code == 404
    finished = client.post(f"/api/v1/patrols/{patrol.pk}/finish/", {}, format="json").json()
    assert finished["status"] == "finished" and finished["track"]["type"] == "LineString"

    exported = client.get(f"/api/v1/patrols/{patrol.pk}/gpx/")
    assert exported["Content-Type"] == "application/gpx+xml"
    fixes = gpx_read(exported.content)
    assert len(fixes) == 21 and fixes[0].recorded_at == START

    other = started(people)
    gpx = SimpleUploadedFile("track.gpx", exported.content, "application/gpx+xml")
    imported = client.post(f"/api/v1/patrols/{other.pk}/gpx/", {"file": gpx}, format="multipart")
    assert imported.status_code == 200, imported.json()
    assert imported.json()["length_m"] == pytest.approx(finished["length_m"], rel=0.001)
    broken = client.post(
        f"/api/v1/patrols/{other.pk}/gpx/", {"file": SimpleUploadedFile("x.gpx", b"<gpx><trk>")}, format="multipart"
    )
    assert broken.status_code == 400 and "file" in broken.json()


def test_a_patrol_started_late_by_an_offline_phone_counts_its_track_time(people):
    # The phone recorded from 09:00 but could only start the patrol on the server at 10:30.
    patrol = started(people)
    Patrol.objects.filter(pk=patrol.pk).update(started_at=START + datetime.timedelta(minutes=90))
    patrol.refresh_from_db()
    track_points_add(patrol=patrol, batch_id="offline", fixes=walk(2_000, 4_000))  # 09:00–09:20
    patrol = patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(minutes=91))
    assert patrol.duration_s == 91 * 60
    assert patrol.is_valid


def test_a_lost_coverage_task_is_queued_again(people, django_capture_on_commit_callbacks, settings):
    from unittest import mock

    from patrols import tasks

    patrol = started(people)
    track_points_add(patrol=patrol, batch_id="lost", fixes=walk(2_000, 4_000))
    with django_capture_on_commit_callbacks(execute=False):  # the message is lost: never sent
        patrol = patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(minutes=30))
    done = started(people)
    Patrol.objects.filter(pk=done.pk).update(status="finished", ended_at=START, coverage_done_at=timezone.now())
    with mock.patch.object(tasks.compute_coverage, "delay") as sent:
        assert tasks.requeue_stale_coverage() == {"requeued": [patrol.pk]}
    sent.assert_called_once_with(patrol.pk)
    # Computing it marks it done, so the next sweep leaves it alone.
    tasks.compute_coverage(patrol.pk)
    with mock.patch.object(tasks.compute_coverage, "delay") as sent:
        assert tasks.requeue_stale_coverage() == {"requeued": []}
