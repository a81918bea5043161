"""Background work of patrols. Tasks take primary keys, re-read the row, call a domain function and
can run twice with one effect (each claims its row); they are queued through config.queueing once the
transaction commits. Settings make every task acks_late with task_reject_on_worker_lost.

A message can still be lost (a worker killed mid-task holds it until Redis' visibility timeout; a
broker down at commit time never got it), so the work itself is kept in the database and swept: when
a worker becomes ready, everything pending is queued again at once; then every minute (beat) what
stays pending a short while."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError, close_old_connections, connections

logger = logging.getLogger(__name__)


@shared_task
def compute_coverage(patrol_id: int) -> dict:
    """Compute which reaches a finished patrol covered (patrols.coverage); done or claimed elsewhere: nothing."""
    from .coverage import patrol_coverage_compute_pending

    rows = patrol_coverage_compute_pending(patrol_id=patrol_id)
    if rows is None:
        return {"patrol": patrol_id, "skipped": "done, gone or being computed"}
    return {"patrol": patrol_id, "reaches": len(rows)}


# --- photos (patrols.photos) ----------------------------------------------------------------------
# A database that went away is worth retrying soon; anything else leaves the photo pending, and
# requeue_stale_photos queues it again. An image that cannot be decoded is marked failed, not retried.
@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=5)
def process_photo(photo_id: int) -> dict:
    """Make a photo's display copy and thumbnail and read its EXIF (patrols.photos.photo_process)."""
    from .models import Photo
    from .photos import photo_process

    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is None:
        return {"photo": photo_id, "missing": True}
    photo = photo_process(photo=photo)
    return {"photo": photo_id, "status": photo.status}


@shared_task
def requeue_stale_photos() -> dict:
    """Queue again the photos still pending PHOTO_STALE_AFTER_MIN after upload (CELERY_BEAT_SCHEDULE)."""
    from .photos import photos_requeue_stale

    return {"requeued": photos_requeue_stale()}


@shared_task
def requeue_stale_coverage() -> dict:
    """Queue again the coverage of finished patrols whose computation never finished (CELERY_BEAT_SCHEDULE)."""
    from django.conf import settings

    from .coverage import patrols_requeue_coverage

    return {"requeued": patrols_requeue_coverage(stale_after_min=settings.COVERAGE_STALE_AFTER_MIN)}


@worker_ready.connect
def requeue_all_pending(**kwargs) -> None:
    """Queue every pending photo and coverage when a worker is ready: a killed worker's tasks come back now.

    Runs in the worker's main process before it takes tasks; the tasks claim their rows, so what
    is also still queued is done once. A database that is down only leaves it to the periodic sweeps.
    """
    from .coverage import patrols_requeue_coverage
    from .photos import photos_requeue_stale

    try:
        close_old_connections()
        photos = photos_requeue_stale(all_pending=True)
        coverage = patrols_requeue_coverage(stale_after_min=0)
        logger.info("worker ready: queued again %d photos and %d coverages", len(photos), len(coverage))
    except Exception:  # noqa: BLE001 - a sweep that fails must not stop the worker
        logger.exception("worker ready: the sweep of pending work failed; the periodic sweeps will retry")
    finally:
        connections.close_all()  # the pool's processes open their own
