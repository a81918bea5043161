"""Faults in the queue (issue 7 §1, §8): a broker that is down when a step commits, and a task
delivered twice. The work is in the database first (a photo pending, a patrol's coverage not done);
the message only says "now", so a message that cannot be sent is logged and left to the sweeps, and
a task claims its row so that two deliveries do the work once.

Transactional tests: the steps really commit inside the request, as they do on a server, so the
message is sent (or not) before the response is made.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from config.celery import app as celery_app
from patrols import tasks
from patrols.coverage import patrols_requeue_coverage
from patrols.models import Patrol, PatrolStatus, Photo, PhotoStatus
from patrols.photos import photos_requeue_stale
from patrols.tracks import patrol_finish, track_points_add
from tests.patrols import test_photos
from tests.patrols.conftest import client_for
from tests.patrols.test_photos import make_finding, phone_jpeg, post_photo
from tests.patrols.test_tracks import START, started, walk

media, own_queue = test_photos.media, test_photos.own_queue  # fixtures

DEAD_BROKER = "redis+socket:///nonexistent/rivers-test/redis.sock"


def reset_broker_connections() -> None:
    """Drop the Celery app's pooled broker connections, so the next message uses the current broker_url."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def dead_broker():
    """Point the Celery app at a broker socket that does not exist (as when Redis is down); yield a
    function that brings the real broker back."""
    real = celery_app.conf.broker_url

    def back() -> None:
        celery_app.conf.broker_url = real
        reset_broker_connections()

    celery_app.conf.broker_url = DEAD_BROKER
    reset_broker_connections()
    try:
        yield back
    finally:
        back()


def finished_without_coverage(patrol: Patrol) -> bool:
    return Patrol.objects.filter(pk=patrol.pk, status=PatrolStatus.FINISHED, coverage_done_at__isnull=True).exists()


def test_finishing_with_the_broker_down_succeeds_and_leaves_coverage_to_the_sweep(
    transactional_db, people, dead_broker, caplog
):
    patrol = started(people)
    track_points_add(patrol=patrol, batch_id="b1", fixes=walk(2_000, 5_000))  # 3 km along INSIDE, in 甲区
    caplog.set_level(logging.ERROR, logger="config.queueing")
    began = time.monotonic()
    response = client_for(people["west_ro"]).post(
        f"/api/v1/patrols/{patrol.pk}/finish/", {"ended_at": (START + datetime.timedelta(minutes=31)).isoformat()}
    )
    elapsed_s = time.monotonic() - began
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "finished" and response.json()["coverage_done_at"] is None
    assert elapsed_s < 20, f"finishing waited {elapsed_s:.1f} s for a dead broker"  # bounded retries, no hang
    assert finished_without_coverage(patrol)  # committed: finished, its coverage still to do
    assert "could not queue patrols.tasks.compute_coverage" in caplog.text
    # The sweep that runs with the broker down queues nothing, and says so without raising.
    assert patrols_requeue_coverage(stale_after_min=0) == []
    # With the broker back, the sweep (as a worker that starts runs it) queues it; the task computes it.
    dead_broker()
    with mock.patch.object(tasks.compute_coverage, "delay") as sent:
        assert patrols_requeue_coverage(stale_after_min=0) == [patrol.pk]
    sent.assert_called_once_with(patrol.pk)
    assert tasks.compute_coverage(patrol.pk)["reaches"] >= 1


def test_a_photo_uploaded_with_the_broker_down_is_kept_for_the_sweep(
    transactional_db, people, media, own_queue, dead_broker, caplog
):
    queue, redis = own_queue
    finding = make_finding(people["west_patrol"], "990001-RCO")
    caplog.set_level(logging.ERROR, logger="config.queueing")
    response = post_photo(client_for(people["west_patrol"]), finding, phone_jpeg())
    assert response.status_code == 201, response.content
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.status == PhotoStatus.PENDING and photo.original.storage.exists(photo.original.name)
    assert "could not queue patrols.tasks.process_photo" in caplog.text
    # A sweep while the broker is still down queues nothing and keeps no marker that would delay it.
    assert photos_requeue_stale(all_pending=True) == []
    dead_broker()
    assert photos_requeue_stale(all_pending=True) == [photo.pk]
    messages = [json.loads(raw) for raw in redis.lrange(queue, 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in messages] == [
        ("patrols.tasks.process_photo", f"({photo.pk},)")
    ]
    cache.delete(f"patrols:photo-requeued:{photo.client_id}")


def hold_row_lock(sql: str, params: list, *, seconds: float) -> tuple[threading.Thread, threading.Event]:
    """Lock rows from another connection (another worker's run) for `seconds`; return (thread, locked)."""
    locked = threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                locked.set()
                time.sleep(seconds)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10), "the lock was not taken"
    return thread, locked


def test_a_photo_is_processed_once_when_its_task_comes_twice(transactional_db, people, media, own_queue):
    finding = make_finding(people["west_patrol"], "990001-RCO")
    response = post_photo(client_for(people["west_patrol"]), finding, phone_jpeg())
    photo = Photo.objects.get(pk=response.json()["id"])
    # A run under way holds the photo: a second delivery leaves it to that run at once.
    thread, _ = hold_row_lock("SELECT id FROM patrols_photo WHERE id = %s FOR UPDATE", [photo.pk], seconds=3)
    try:
        began = time.monotonic()
        tasks.process_photo(photo.pk)
        elapsed_s = time.monotonic() - began
    finally:
        thread.join()
    photo.refresh_from_db()
    assert elapsed_s < 1.5, f"the second delivery waited {elapsed_s:.1f} s for the first"
    assert photo.status == PhotoStatus.PENDING and photo.attempts == 0  # neither processed nor counted
    # Processed once; a message that comes after that changes nothing.
    assert tasks.process_photo(photo.pk)["status"] == PhotoStatus.DONE
    done = Photo.objects.get(pk=photo.pk)
    display_path = Path(done.display.storage.path(done.display.name))
    written_ns = display_path.stat().st_mtime_ns
    assert tasks.process_photo(photo.pk)["status"] == PhotoStatus.DONE
    again = Photo.objects.get(pk=photo.pk)
    assert (again.processed_at, again.attempts) == (done.processed_at, 1)
    assert display_path.stat().st_mtime_ns == written_ns


def test_coverage_is_computed_once_when_its_task_comes_twice(transactional_db, people):
    patrol = started(people)
    track_points_add(patrol=patrol, batch_id="b1", fixes=walk(2_000, 5_000))
    with mock.patch.object(tasks.compute_coverage, "delay"):  # the first message: delivered below, twice
        patrol_finish(patrol=patrol, ended_at=START + datetime.timedelta(minutes=31))
    # A run under way holds the patrol: a second delivery leaves it to that run at once.
    thread, _ = hold_row_lock("SELECT id FROM patrols_patrol WHERE id = %s FOR UPDATE", [patrol.pk], seconds=3)
    try:
        began = time.monotonic()
        skipped = tasks.compute_coverage(patrol.pk)
        elapsed_s = time.monotonic() - began
    finally:
        thread.join()
    assert elapsed_s < 1.5 and "skipped" in skipped, skipped
    assert Patrol.objects.get(pk=patrol.pk).coverage_done_at is None
    # Computed once; a message that comes after that changes nothing.
    assert tasks.compute_coverage(patrol.pk)["reaches"] >= 1
    done_at = Patrol.objects.get(pk=patrol.pk).coverage_done_at
    assert done_at is not None
    assert "skipped" in tasks.compute_coverage(patrol.pk)
    assert Patrol.objects.get(pk=patrol.pk).coverage_done_at == done_at
