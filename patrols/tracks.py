"""Patrols and their GPS tracks: start, points arriving in batches from a phone, finish.

A phone may be offline for an hour and retry: a batch id makes a batch count once, a point is keyed
by its device time, and points are ordered by that time whatever order they arrive in. Points with
poor accuracy or an impossible speed are kept but left out of the track.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, LineString, Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.queueing import enqueue_on_commit
from gis_data.gpx import Fix
from rivers.models import Agency, AgencyKind, District, Membership

from .models import Patrol, PatrolKind, PatrolParticipant, PatrolRoute, PatrolStatus, TrackBatch, TrackPoint
from .tasks import compute_coverage

# Seed 002 §三(三): a joint patrol (联合巡查) is the river office's and the procuratorate's together.
RIVER_SIDE = (AgencyKind.RIVER_OFFICE, AgencyKind.RESPONSIBLE_UNIT)
PROCURATORATE_SIDE = (AgencyKind.PROCURATORATE, AgencyKind.LIAISON_OFFICE)
EARTH_RADIUS_M = 6_371_008.8


class PatrolRefused(Exception):
    """A patrol that cannot be started or changed so (HTTP 400/409); `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def metres_between(a: Fix | TrackPoint, b: Fix | TrackPoint) -> float:
    """Return the great-circle distance between two fixes (haversine, mean Earth radius)."""
    (lon1, lat1), (lon2, lat2) = _lonlat(a), _lonlat(b)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _lonlat(fix: Fix | TrackPoint) -> tuple[float, float]:
    return (fix.geom.x, fix.geom.y) if isinstance(fix, TrackPoint) else (fix.lon, fix.lat)


def joint_sides_missing(agencies: Iterable[Agency]) -> list[str]:
    """Return which side a joint patrol lacks: "river" and/or "procuratorate"."""
    kinds = {agency.kind for agency in agencies}
    missing = []
    if not kinds.intersection(RIVER_SIDE):
        missing.append("river")
    if not kinds.intersection(PROCURATORATE_SIDE):
        missing.append("procuratorate")
    return missing


@transaction.atomic
def patrol_start(
    *,
    user,  # noqa: ANN001 - a user
    client_uuid: uuid.UUID,
    kind: str,
    district: District,
    participants: list[tuple],  # (user, agency) pairs; the starting user is one of them
    route: PatrolRoute | None = None,
    title: str = "",
    started_at: datetime.datetime | None = None,
) -> tuple[Patrol, bool]:
    """Start a patrol; the same client_uuid again returns it. Return (patrol, created)."""
    existing = Patrol.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return existing, False
    errors = {}
    for person, agency in participants:
        if not Membership.objects.filter(user=person, agency=agency).exists():
            errors["participants"] = (
                f"{person.get_username()} 不是 {agency.code} 的成员 / is not a member of {agency.code}"
            )
    if kind == PatrolKind.JOINT:
        missing = joint_sides_missing(agency for _, agency in participants)
        if missing:
            sides = {"river": "河长办方 river side", "procuratorate": "检察院方 procuratorate side"}
            errors["participants"] = (
                "联合巡查须河长办和检察院双方人员参加，缺少：" + "、".join(sides[m] for m in missing)
                + " / a joint patrol needs participants from both sides"
            )  # fmt: skip
    if errors:
        raise PatrolRefused(errors)
    try:
        with transaction.atomic():
            patrol = Patrol.objects.create(
                client_uuid=client_uuid,
                kind=kind,
                district=district,
                route=route,
                title=title,
                started_by=user,
                started_at=started_at or timezone.now(),
            )
    except IntegrityError:
        return Patrol.objects.get(client_uuid=client_uuid), False
    PatrolParticipant.objects.bulk_create(
        [PatrolParticipant(patrol=patrol, user=person, agency=agency) for person, agency in participants],
        ignore_conflicts=True,
    )
    return patrol, True


def track_points_add(*, patrol: Patrol, batch_id: str, fixes: list[Fix]) -> tuple[TrackBatch, bool]:
    """Store a batch of fixes; the same batch again changes nothing. Return (batch, created).

    Points reaching a finished patrol (a phone that was offline) rebuild its track.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                batch = TrackBatch.objects.create(patrol=patrol, batch_id=batch_id, point_count=len(fixes))
        except IntegrityError:
            return TrackBatch.objects.get(patrol=patrol, batch_id=batch_id), False
        TrackPoint.objects.bulk_create(
            [
                TrackPoint(
                    patrol=patrol,
                    geom=Point(fix.lon, fix.lat, srid=4326),
                    recorded_at=fix.recorded_at,
                    accuracy_m=fix.accuracy_m,
                )
                for fix in fixes
            ],
            ignore_conflicts=True,  # the same device time twice is the same fix (unique constraint)
        )
        if patrol.status == PatrolStatus.FINISHED:
            track_build(patrol)
    return batch, True


def track_filter(points: list[TrackPoint]) -> None:
    """Mark each point (ordered by device time) kept or dropped for poor accuracy or impossible speed."""
    max_accuracy_m = settings.TRACK_MAX_ACCURACY_M
    max_speed_mps = settings.TRACK_MAX_SPEED_MPS
    last_kept: TrackPoint | None = None
    for point in points:
        point.kept, point.dropped_because = True, ""
        if point.accuracy_m is not None and point.accuracy_m > max_accuracy_m:
            point.kept, point.dropped_because = False, "accuracy"
            continue
        if last_kept is not None:
            seconds = (point.recorded_at - last_kept.recorded_at).total_seconds()
            if seconds <= 0 or metres_between(last_kept, point) / seconds > max_speed_mps:
                point.kept, point.dropped_because = False, "speed"
                continue
        last_kept = point


SIMPLIFY_SQL = """
SELECT ST_Length(%(track)s::geography),
       ST_SimplifyPreserveTopology(%(track)s::geometry, %(tolerance_deg)s)
"""


def track_build(patrol: Patrol) -> Patrol:
    """Rebuild the patrol's track, its simplified copy, length, duration and validity from its points."""
    points = list(patrol.points.order_by("recorded_at"))
    track_filter(points)
    TrackPoint.objects.bulk_update(points, ["kept", "dropped_because"])
    kept = [p for p in points if p.kept]
    patrol.track = LineString([p.geom.coords for p in kept], srid=4326) if len(kept) >= 2 else None
    patrol.track_display, patrol.length_m = None, 0.0
    if patrol.track is not None:
        # Display copy: a tolerance in metres turned into degrees of latitude (display only).
        tolerance_deg = settings.TRACK_SIMPLIFY_M / 111_320
        with connection.cursor() as cursor:
            cursor.execute(SIMPLIFY_SQL, {"track": patrol.track.hexewkb.decode(), "tolerance_deg": tolerance_deg})
            length_m, simplified = cursor.fetchone()
        patrol.length_m = length_m
        patrol.track_display = GEOSGeometry(simplified)
    # A phone that was offline when it started or finished the patrol reports those moments late (or
    # early): the track's own times widen the span.
    times = [patrol.started_at, *(t for t in (patrol.ended_at,) if t), *(p.recorded_at for p in kept[:1] + kept[-1:])]
    patrol.duration_s = int((max(times) - min(times)).total_seconds())
    patrol.is_valid = (
        patrol.duration_s >= settings.PATROL_MIN_DURATION_S and patrol.length_m >= settings.PATROL_MIN_LENGTH_M
    )
    patrol.coverage_done_at = None
    patrol.save()
    enqueue_on_commit(compute_coverage, patrol.pk)  # a broker fault is logged; the sweep catches up
    return patrol


@transaction.atomic
def patrol_finish(*, patrol: Patrol, ended_at: datetime.datetime | None = None) -> Patrol:
    """Finish a patrol: build its track and queue the coverage computation. Finishing twice is harmless."""
    locked = Patrol.objects.select_for_update().get(pk=patrol.pk)
    if locked.status == PatrolStatus.FINISHED:
        return locked
    locked.status = PatrolStatus.FINISHED
    locked.ended_at = max(ended_at or timezone.now(), locked.started_at)
    return track_build(locked)


@transaction.atomic
def patrol_import_gpx(*, patrol: Patrol, fixes: list[Fix], batch_id: str) -> Patrol:
    """Add a track recorded elsewhere (a GPX file) to a patrol, as one batch, and rebuild it."""
    patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
    track_points_add(patrol=patrol, batch_id=batch_id, fixes=fixes)
    if patrol.status == PatrolStatus.FINISHED:  # track_points_add has rebuilt a finished patrol already
        return Patrol.objects.get(pk=patrol.pk)
    return track_build(patrol)


def patrol_fixes(patrol: Patrol) -> list[Fix]:
    """Return the fixes of the patrol's track (the kept points), for GPX export."""
    return [
        Fix(p.geom.x, p.geom.y, p.recorded_at, p.accuracy_m)
        for p in patrol.points.filter(kept=True).order_by("recorded_at")
    ]
