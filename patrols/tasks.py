"""Background work of patrols. Tasks take primary keys, re-read the row, call a domain function and
can run twice with one effect; they are queued with delay_on_commit (after the transaction commits).
Settings make every task acks_late with task_reject_on_worker_lost: a killed worker loses nothing."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task
def compute_coverage(patrol_id: int) -> dict:
    """Compute which reaches a finished patrol covered (patrols.coverage)."""
    from .coverage import patrol_coverage_compute
    from .models import Patrol

    patrol = Patrol.objects.filter(pk=patrol_id).first()
    if patrol is None:
        return {"patrol": patrol_id, "missing": True}
    rows = patrol_coverage_compute(patrol)
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
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from .models import Patrol, PatrolStatus

    before = timezone.now() - datetime.timedelta(minutes=settings.COVERAGE_STALE_AFTER_MIN)
    stale = list(
        Patrol.objects.filter(status=PatrolStatus.FINISHED, coverage_done_at__isnull=True, ended_at__lt=before)
        .order_by("ended_at")
        .values_list("pk", flat=True)[:500]
    )
    for patrol_id in stale:
        compute_coverage.delay(patrol_id)
    return {"requeued": stale}
