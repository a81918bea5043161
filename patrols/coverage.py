"""Which reaches a patrol covered, and how much of each (issue 4 §3).

A reach's covered length is the length of the reach lying within COVERAGE_DISTANCE_M of the track,
measured on the spheroid; its fraction is that over the reach's length.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Patrol, PatrolCoverage, PatrolStatus

COVERAGE_SQL = """
WITH track AS (
    SELECT p.track AS line, ST_Buffer(p.track::geography, %(distance_m)s)::geometry AS zone
    FROM patrols_patrol p WHERE p.id = %(patrol)s AND p.track IS NOT NULL
)
SELECT r.id, r.length_m,
       ST_Length(ST_CollectionExtract(ST_Intersection(r.geom, track.zone), 2)::geography) AS covered_m
FROM rivers_reach r, track
WHERE r.geom && track.zone
  AND ST_DWithin(r.geom::geography, track.line::geography, %(distance_m)s)
"""


@transaction.atomic
def patrol_coverage_compute(patrol: Patrol) -> list[PatrolCoverage]:
    """Replace the patrol's coverage rows by a fresh computation (so it can run twice)."""
    with connection.cursor() as cursor:
        cursor.execute(COVERAGE_SQL, {"patrol": patrol.pk, "distance_m": settings.COVERAGE_DISTANCE_M})
        found = cursor.fetchall()
    rows = [
        PatrolCoverage(patrol=patrol, reach_id=reach_id, covered_m=covered_m, fraction=min(1.0, covered_m / length_m))
        for reach_id, length_m, covered_m in found
        if covered_m and length_m
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
