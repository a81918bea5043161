"""The 公示牌 of reaches and water bodies with the date each was last patrolled (rivers.boards + patrols)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from rivers.boards import Board, boards_build
from rivers.models import Reach, WaterBody

from .models import PatrolCoverage, PatrolStatus

# A water body has no coverage rows (coverage is per reach): it was patrolled when a finished patrol's
# track passed within COVERAGE_DISTANCE_M of it. The box test lets the track's GiST index find the
# candidates; its margin, in degrees, is at least the distance wherever a degree of longitude is
# 40 km or more (below 69°, as rivers.crossing assumes).
WATER_BODY_LAST_PATROL_SQL = """
SELECT w.id, max(p.ended_at)
FROM rivers_waterbody w
JOIN patrols_patrol p
  ON p.status = %(finished)s
 AND p.track IS NOT NULL
 AND p.track && ST_Expand(w.geom, %(margin)s)
 AND ST_DWithin(p.track::geography, w.geom::geography, %(distance_m)s)
WHERE w.id = ANY(%(ids)s)
GROUP BY w.id
"""
DEGREES_PER_M = 1 / 40_000


def boards_with_last_patrol(features: Sequence[Reach | WaterBody]) -> list[Board]:
    """Return the boards of `features` (all reaches or all water bodies), each with its last patrol date.

    The date is the local date of the latest finished patrol that covered the feature; one query more
    than rivers.boards.boards_build, whatever the number of features.
    """
    boards = boards_build(features)
    if not boards:
        return boards
    ids = [board.feature.pk for board in boards]
    if isinstance(features[0], Reach):
        last = dict(
            PatrolCoverage.objects.filter(reach_id__in=ids, patrol__status=PatrolStatus.FINISHED)
            .values("reach_id")
            .annotate(last=Max("patrol__ended_at"))
            .values_list("reach_id", "last")
        )
    else:
        distance_m = settings.COVERAGE_DISTANCE_M
        params = {
            "finished": PatrolStatus.FINISHED,
            "margin": distance_m * DEGREES_PER_M,
            "distance_m": distance_m,
            "ids": ids,
        }
        with connection.cursor() as cursor:
            cursor.execute(WATER_BODY_LAST_PATROL_SQL, params)
            last = dict(cursor.fetchall())
    for board in boards:
        board.last_patrol_date = _local_date(last.get(board.feature.pk))
    return boards


def _local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment is not None else None
