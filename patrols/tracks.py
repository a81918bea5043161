"""Patrols and their GPS tracks: start, points arriving in batches from a phone, finish.

A phone may be offline for an hour and retry: a batch id makes a batch count once, a point is keyed
by its device time, and points are ordered by that time whatever order they arrive in. Points with
poor accuracy or an impossible speed are kept but left out of the track. The work is set-based: a
3-hour patrol at one fix a second or a 200,000-point GPX file takes a fixed number of statements.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
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
# A device time must lie between 2000-01-01 and a day after the server's clock. A phone whose clock was
# reset reports 1970 (or the year 349), a broken one the year 5659: such times would make a patrol last
# centuries. A batch or GPX file holding one is refused; points stored before this rule are left out
# of the track ("time") and the patrol's span.
FIX_EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
FIX_MAX_AHEAD = datetime.timedelta(days=1)


class PatrolRefused(Exception):
    """A patrol that cannot be started or changed so (HTTP 400/409); `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


class StoredFix(NamedTuple):
    """A stored track point as the filter reads it: plain numbers, no GEOS object per point."""

    id: int
    lon: float
    lat: float
    recorded_at_s: float  # seconds since the epoch
    accuracy_m: float | None
    kept: bool
    dropped_because: str


def metres_between(a: Fix | StoredFix | TrackPoint, b: Fix | StoredFix | TrackPoint) -> float:
    """Return the great-circle distance between two fixes (haversine, mean Earth radius)."""
    (lon1, lat1), (lon2, lat2) = _lonlat(a), _lonlat(b)
    return _haversine_m(lon1, lat1, lon2, lat2)


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _lonlat(fix: Fix | StoredFix | TrackPoint) -> tuple[float, float]:
    return (fix.geom.x, fix.geom.y) if isinstance(fix, TrackPoint) else (fix.lon, fix.lat)


def fix_time_window(now: datetime.datetime | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """Return the earliest and latest device time a fix may carry."""
    return FIX_EARLIEST, (now or timezone.now()) + FIX_MAX_AHEAD


def time_check(*, field: str, value: datetime.datetime) -> None:
    """Refuse (PatrolRefused on `field`) a patrol's start or end outside fix_time_window()."""
    earliest, latest = fix_time_window()
    if not earliest <= value <= latest:
        raise PatrolRefused(
            {
                field: f"时间 {value.isoformat()} 不在 {earliest:%Y-%m-%d} 至 {latest:%Y-%m-%d %H:%M} 之间 / "
                f"{field} {value.isoformat()} is outside {earliest:%Y-%m-%d} .. {latest:%Y-%m-%d %H:%M} UTC"
            }
        )


def fixes_check(fixes: Sequence[Fix]) -> None:
    """Refuse (PatrolRefused on "points") fixes whose device time lies outside fix_time_window()."""
    earliest, latest = fix_time_window()
    bad = [index for index, fix in enumerate(fixes) if not earliest <= fix.recorded_at <= latest]
    if bad:
        first = fixes[bad[0]].recorded_at.isoformat()
        raise PatrolRefused(
            {
                "points": f"{len(bad)} 个点的时间不在 {earliest:%Y-%m-%d} 至 {latest:%Y-%m-%d %H:%M} 之间，"
                f"第一个是第 {bad[0]} 个点（{first}）/ {len(bad)} points have a time outside "
                f"{earliest:%Y-%m-%d} .. {latest:%Y-%m-%d %H:%M} UTC, the first is point {bad[0]} ({first})"
            }
        )


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
    if started_at is not None:
        time_check(field="started_at", value=started_at)
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


# Points arrive as arrays, one statement whatever their number; the same device time twice is the
# same fix (the track_point_once constraint), so a resent point is skipped.
POINTS_INSERT_SQL = """
INSERT INTO patrols_trackpoint (patrol_id, geom, recorded_at, accuracy_m, kept, dropped_because)
SELECT %(patrol)s, ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326), f.recorded_at, f.accuracy_m, true, ''
FROM unnest(%(lon)s::float8[], %(lat)s::float8[], %(recorded_at)s::timestamptz[], %(accuracy_m)s::float8[])
     AS f(lon, lat, recorded_at, accuracy_m)
ON CONFLICT (patrol_id, recorded_at) DO NOTHING
"""
POINTS_COUNT_SQL = "SELECT count(*) FROM patrols_trackpoint WHERE patrol_id = %s"


def pg_array(values: Iterable[float | bool | str | None], *, quoted: bool = False) -> str:
    """Return a PostgreSQL array literal (None is NULL) to be cast in the SQL, e.g. %s::float8[].

    One text parameter, where a list would be adapted value by value into an ARRAY[...] expression
    (5 s to adapt and 2 s to plan at 200,000 points). str() of a float reads back exactly; `quoted`
    values are strings (ISO times, reason codes) that hold no quote or backslash.
    """
    if quoted:
        items = ("NULL" if value is None else f'"{value}"' for value in values)
    else:
        items = ("NULL" if value is None else str(value) for value in values)
    return "{" + ",".join(items) + "}"


def track_points_add(*, patrol: Patrol, batch_id: str, fixes: Sequence[Fix]) -> tuple[TrackBatch, bool]:
    """Store a batch of fixes; the same batch again changes nothing. Return (batch, created).

    A batch with a fix outside fix_time_window(), or one that would take the patrol past
    TRACK_MAX_POINTS_PER_PATROL, is refused whole (PatrolRefused) and nothing of it is stored.
    Points reaching a finished patrol (a phone that was offline) rebuild its track.
    """
    fixes_check(fixes)
    with transaction.atomic():
        # The lock makes the patrol's point limit exact under concurrent batches and orders them
        # after a finish that is building the track.
        patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
        try:
            with transaction.atomic():
                batch = TrackBatch.objects.create(patrol=patrol, batch_id=batch_id, point_count=len(fixes))
        except IntegrityError:
            return TrackBatch.objects.get(patrol=patrol, batch_id=batch_id), False
        limit = settings.TRACK_MAX_POINTS_PER_PATROL
        with connection.cursor() as cursor:
            cursor.execute(
                POINTS_INSERT_SQL,
                {
                    "patrol": patrol.pk,
                    "lon": pg_array(fix.lon for fix in fixes),
                    "lat": pg_array(fix.lat for fix in fixes),
                    "recorded_at": pg_array((fix.recorded_at.isoformat() for fix in fixes), quoted=True),
                    "accuracy_m": pg_array(fix.accuracy_m for fix in fixes),
                },
            )
            cursor.execute(POINTS_COUNT_SQL, [patrol.pk])
            (count,) = cursor.fetchone()
        if count > limit:  # raised inside the atomic block: the batch and its points are rolled back
            raise PatrolRefused(
                {
                    "points": f"巡查的轨迹点将达 {count} 个，超过 {limit} 个的上限，未保存 / the patrol would hold "
                    f"{count} points, over the limit of {limit} (TRACK_MAX_POINTS_PER_PATROL); nothing was stored"
                }
            )
        if patrol.status == PatrolStatus.FINISHED:
            track_build(patrol)
    return batch, True


def track_filter(points: Sequence[StoredFix], *, now: datetime.datetime | None = None) -> list[tuple[bool, str]]:
    """Return (kept, dropped_because) for each point, ordered by device time, in one pass.

    A point is dropped for a device time outside fix_time_window() ("time"), poor accuracy
    ("accuracy") or an impossible speed from the last kept point ("speed").
    """
    max_accuracy_m = settings.TRACK_MAX_ACCURACY_M
    max_speed_mps = settings.TRACK_MAX_SPEED_MPS
    earliest, latest = (moment.timestamp() for moment in fix_time_window(now))
    verdicts: list[tuple[bool, str]] = []
    last_kept: StoredFix | None = None
    for point in points:
        if not earliest <= point.recorded_at_s <= latest:
            verdicts.append((False, "time"))
            continue
        if point.accuracy_m is not None and point.accuracy_m > max_accuracy_m:
            verdicts.append((False, "accuracy"))
            continue
        if last_kept is not None:
            seconds = point.recorded_at_s - last_kept.recorded_at_s
            metres = _haversine_m(last_kept.lon, last_kept.lat, point.lon, point.lat)
            if seconds <= 0 or metres / seconds > max_speed_mps:
                verdicts.append((False, "speed"))
                continue
        verdicts.append((True, ""))
        last_kept = point
    return verdicts


POINTS_READ_SQL = """
SELECT id, ST_X(geom), ST_Y(geom), date_part('epoch', recorded_at), accuracy_m, kept, dropped_because
FROM patrols_trackpoint WHERE patrol_id = %s ORDER BY recorded_at
"""
# One statement for every changed point, however many (Django's bulk_update writes one CASE branch per
# row, quadratic in the planner: 120 s at 12,000 points).
POINTS_MARK_SQL = """
UPDATE patrols_trackpoint AS p SET kept = m.kept, dropped_because = m.dropped_because
FROM unnest(%(ids)s::bigint[], %(kept)s::boolean[], %(dropped_because)s::text[]) AS m(id, kept, dropped_because)
WHERE p.id = m.id AND p.patrol_id = %(patrol)s
"""
# The track is the kept points in device-time order; fewer than two distinct positions (a line standing
# on one spot is not a valid geometry) make none, which the line's bounding box tells. The
# display copy takes a tolerance in metres turned into degrees of latitude (display only).
TRACK_BUILD_SQL = """
WITH kept AS (
    SELECT ST_MakeLine(geom ORDER BY recorded_at) AS line, min(recorded_at) AS first_at, max(recorded_at) AS last_at
    FROM patrols_trackpoint WHERE patrol_id = %(patrol)s AND kept
), track AS (
    SELECT CASE WHEN ST_XMin(line) < ST_XMax(line) OR ST_YMin(line) < ST_YMax(line) THEN line END AS line,
           first_at, last_at
    FROM kept
)
UPDATE patrols_patrol AS p
SET track = track.line,
    track_display = ST_SimplifyPreserveTopology(track.line, %(tolerance_deg)s),
    length_m = COALESCE(ST_Length(track.line::geography), 0)
FROM track WHERE p.id = %(patrol)s
RETURNING p.track, p.track_display, p.length_m, track.first_at, track.last_at
"""


def track_build(patrol: Patrol) -> Patrol:
    """Rebuild the patrol's track, its simplified copy, length, duration and validity from its points.

    A fixed number of statements whatever the number of points: the filter is one pass in Python,
    the points it changed are marked in one UPDATE and the line is made in SQL.
    """
    with connection.cursor() as cursor:
        cursor.execute(POINTS_READ_SQL, [patrol.pk])
        points = [StoredFix(*row) for row in cursor.fetchall()]
        changed = [
            (point.id, kept, dropped_because)
            for point, (kept, dropped_because) in zip(points, track_filter(points), strict=True)
            if (kept, dropped_because) != (point.kept, point.dropped_because)
        ]
        cursor.execute(
            POINTS_MARK_SQL,
            {
                "patrol": patrol.pk,
                "ids": pg_array(point_id for point_id, _, _ in changed),
                "kept": pg_array(kept for _, kept, _ in changed),
                "dropped_because": pg_array((dropped_because for _, _, dropped_because in changed), quoted=True),
            },
        )
        cursor.execute(TRACK_BUILD_SQL, {"patrol": patrol.pk, "tolerance_deg": settings.TRACK_SIMPLIFY_M / 111_320})
        track, track_display, length_m, first_at, last_at = cursor.fetchone()
    patrol.track = GEOSGeometry(track) if track else None
    patrol.track_display = GEOSGeometry(track_display) if track_display else None
    patrol.length_m = length_m
    # A phone that was offline when it started or finished the patrol reports those moments late (or
    # early): the track's own times widen the span. A start stored before the time rule is left out.
    earliest, latest = fix_time_window()
    times = [t for t in (patrol.started_at, patrol.ended_at, first_at, last_at) if t and earliest <= t <= latest]
    patrol.duration_s = int((max(times) - min(times)).total_seconds()) if times else 0
    patrol.is_valid = (
        patrol.duration_s >= settings.PATROL_MIN_DURATION_S and patrol.length_m >= settings.PATROL_MIN_LENGTH_M
    )
    patrol.coverage_done_at = None
    # The geometry and length were written by TRACK_BUILD_SQL: the line is not sent back.
    patrol.save(update_fields=["status", "ended_at", "duration_s", "is_valid", "coverage_done_at"])
    enqueue_on_commit(compute_coverage, patrol.pk)  # a broker fault is logged; the sweep catches up
    return patrol


@transaction.atomic
def patrol_finish(*, patrol: Patrol, ended_at: datetime.datetime | None = None) -> Patrol:
    """Finish a patrol: build its track and queue the coverage computation. Finishing twice is harmless."""
    if ended_at is not None:
        time_check(field="ended_at", value=ended_at)
    locked = Patrol.objects.select_for_update().get(pk=patrol.pk)
    if locked.status == PatrolStatus.FINISHED:
        return locked
    locked.status = PatrolStatus.FINISHED
    locked.ended_at = max(ended_at or timezone.now(), locked.started_at)
    return track_build(locked)


@transaction.atomic
def patrol_import_gpx(*, patrol: Patrol, fixes: Sequence[Fix], batch_id: str) -> Patrol:
    """Add a track recorded elsewhere (a GPX file) to a patrol, as one batch, and rebuild it."""
    patrol = Patrol.objects.select_for_update().get(pk=patrol.pk)
    track_points_add(patrol=patrol, batch_id=batch_id, fixes=fixes)
    if patrol.status == PatrolStatus.FINISHED:  # track_points_add has rebuilt a finished patrol already
        return Patrol.objects.get(pk=patrol.pk)
    return track_build(patrol)


PATROL_FIXES_SQL = """
SELECT ST_X(geom), ST_Y(geom), recorded_at, accuracy_m
FROM patrols_trackpoint WHERE patrol_id = %s AND kept ORDER BY recorded_at
"""


def patrol_fixes(patrol: Patrol) -> list[Fix]:
    """Return the fixes of the patrol's track (the kept points), for GPX export."""
    with connection.cursor() as cursor:
        cursor.execute(PATROL_FIXES_SQL, [patrol.pk])
        return [Fix(*row) for row in cursor.fetchall()]
