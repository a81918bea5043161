"""Photo processing end to end through a real Celery worker on the real Redis broker (issue 4 §5, §7).

The worker is a subprocess (`celery -A config worker`) pointed at this test's database and media
folder, consuming a queue of its own so that it takes no one else's tasks. Rows must be committed
for it to see them, hence a transactional test.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from PIL import Image

from patrols.models import Photo, PhotoStatus
from patrols.photos import photos_requeue_stale
from tests.factories import point
from tests.patrols.conftest import client_for
from tests.patrols.test_photos import (
    TAKEN_UTC,
    forget_queue,
    make_finding,
    metres_between,
    phone_jpeg,
    plain_png,
    post_photo,
)

WAIT_S = 60


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>), for the worker."""
    db = connection.settings_dict
    options = {key: str(value) for key, value in (db.get("OPTIONS") or {}).items()}
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    auth += "@" if auth else ""
    host = db["HOST"] or ""
    if host.startswith("/"):  # a unix socket directory (django-environ keeps it in OPTIONS["host"])
        options["host"], host = host, ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    query = f"?{urlencode(options)}" if options else ""
    return f"postgis://{auth}{host}{port}/{quote(db['NAME'])}{query}"


def start_worker(queue: str, media_root: Path, log_path: Path) -> subprocess.Popen:
    """Start a Celery worker (solo pool) on `queue`, sharing this test's database and MEDIA_ROOT."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media_root),
        "PHOTO_TASK_QUEUE": queue,  # where the worker's own sweeps send photos
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queue, "--pool", "solo",
        "--concurrency", "1", "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--loglevel", "INFO",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log_path
    return process


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()  # warm shutdown: the task under way finishes, nothing is lost
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker_queue(transactional_db, settings, tmp_path):
    """A queue of this test's own for photo processing, and its MEDIA_ROOT; forgotten afterwards."""
    queue = f"test-photos-{uuid.uuid4().hex[:12]}"
    settings.PHOTO_TASK_QUEUE = queue
    settings.MEDIA_ROOT = tmp_path / "media"
    yield queue
    forget_queue(queue)


@pytest.fixture
def worker(worker_queue, settings, tmp_path):
    """A Celery worker (solo pool) on a queue of its own, sharing this test's database and MEDIA_ROOT."""
    process = start_worker(worker_queue, settings.MEDIA_ROOT, tmp_path / "worker.log")
    try:
        yield process
    finally:
        stop_worker(process)


def log_tail(process) -> str:
    return Path(process.log_path).read_text(errors="replace")[-4000:]


def wait_processed(photo_id: int, process, wait_s: float = WAIT_S) -> Photo:
    """Poll (bounded) until the worker has processed the photo."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        photo = Photo.objects.get(pk=photo_id)
        if photo.status != PhotoStatus.PENDING:
            return photo
        assert process.poll() is None, f"the worker stopped:\n{log_tail(process)}"
        time.sleep(0.25)
    pytest.fail(f"photo {photo_id} still pending after {wait_s} s; worker log:\n{log_tail(process)}")


def test_photo_processed_by_a_real_worker(people, worker):
    finding = make_finding(people["west_patrol"], "990001-RCO")  # the phone had no fix
    data = phone_jpeg((800, 600))  # orientation 6, GPS 4 km east 1.05 km north, 2026-05-12 09:30:15 +08:00
    response = post_photo(client_for(people["west_patrol"]), finding, data)
    assert response.status_code == 201, response.content

    photo = wait_processed(response.json()["id"], worker)
    assert photo.status == PhotoStatus.DONE, photo.error
    media = Path(django_settings.MEDIA_ROOT)
    # The original: the very bytes sent, and the SHA-256 kept for them.
    original = (media / photo.original.name).read_bytes()
    assert original == data and hashlib.sha256(original).hexdigest() == photo.sha256
    # The display copy: upright (800×600 stored sideways → 600×800), no EXIF, no GPS, no XMP.
    display = Image.open(io.BytesIO((media / photo.display.name).read_bytes()))
    assert display.size == (600, 800)
    assert display.getpixel((display.width - 5, 5))[0] > 200  # the sensor's top-left block, now top-right
    assert not display.getexif() and "exif" not in display.info and "xmp" not in display.info
    thumbnail = Image.open(io.BytesIO((media / photo.thumbnail.name).read_bytes()))
    assert max(thumbnail.size) == 320 and not thumbnail.getexif()
    # EXIF read into fields; the finding had no position, so it takes the photo's.
    assert photo.taken_at == TAKEN_UTC
    assert metres_between(photo.geom, point(4_000, 1_050)) < 1.0
    finding.refresh_from_db()
    assert metres_between(finding.geom, point(4_000, 1_050)) < 1.0
    served = client_for(people["west_ro"]).get(f"/api/v1/photos/{photo.pk}/display/")
    assert served.status_code == 200 and b"".join(served.streaming_content) == (media / photo.display.name).read_bytes()


def test_the_sweep_requeues_a_photo_whose_message_was_lost(people, worker, settings):
    """The upload's message went where no worker listens (a broker fault); the sweep queues it again."""
    finding = make_finding(people["west_patrol"], "990001-RCO")
    lost_queue = f"{settings.PHOTO_TASK_QUEUE}-lost"
    settings.PHOTO_TASK_QUEUE, worker_queue = lost_queue, settings.PHOTO_TASK_QUEUE
    try:
        response = post_photo(client_for(people["west_patrol"]), finding, plain_png())
    finally:
        settings.PHOTO_TASK_QUEUE = worker_queue
        forget_queue(lost_queue)
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.status == PhotoStatus.PENDING
    Photo.objects.filter(pk=photo.pk).update(uploaded_at=timezone.now() - datetime.timedelta(hours=1))
    try:
        assert photos_requeue_stale() == [photo.pk]
        assert wait_processed(photo.pk, worker).status == PhotoStatus.DONE
    finally:
        cache.delete(f"patrols:photo-requeued:{photo.client_id}")


def test_a_worker_that_starts_queues_the_pending_photos_at_once(people, worker_queue, settings, tmp_path):
    """A killed worker's message stays unacknowledged in Redis for an hour: the next worker to start
    queues every pending photo again at once, however recent (worker_ready), and processes it once."""
    finding = make_finding(people["west_patrol"], "990001-RCO")
    lost_queue = f"{worker_queue}-lost"
    settings.PHOTO_TASK_QUEUE = lost_queue  # the upload's message goes where no worker listens
    try:
        response = post_photo(client_for(people["west_patrol"]), finding, plain_png())
    finally:
        settings.PHOTO_TASK_QUEUE = worker_queue
        forget_queue(lost_queue)
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.status == PhotoStatus.PENDING  # uploaded a moment ago: not stale for the periodic sweep
    process = start_worker(worker_queue, settings.MEDIA_ROOT, tmp_path / "worker.log")
    try:
        assert wait_processed(photo.pk, process, wait_s=45).status == PhotoStatus.DONE
        assert Photo.objects.get(pk=photo.pk).attempts == 1
    finally:
        stop_worker(process)
        cache.delete(f"patrols:photo-requeued:{photo.client_id}")
