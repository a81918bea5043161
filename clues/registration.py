"""Registering a clue: routed at once, coded, idempotent by the phone's client_uuid (DESIGN §6)."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config.database import PreparedStatement
from rivers.models import Agency, AgencyKind, DistrictLevel, Reach, WaterBody
from rivers.routing import Routing, RoutingError, route

from .history import event_record
from .models import Clue
from .querysets import AGENCIES_SQL, FINISHED_STATES, VisibleTo

NEXT_NUMBER_SQL = """
INSERT INTO clues_cluecounter (prefix, year, last) VALUES (%s, %s, 1)
ON CONFLICT (prefix, year) DO UPDATE SET last = clues_cluecounter.last + 1
RETURNING last
"""


class RegistrationConflict(Exception):
    """The client_uuid was used before for something else; the message reveals nothing of it."""


@dataclass(frozen=True)
class Registration:
    clue: Clue
    created: bool
    routing: Routing | None = None  # how a new clue was routed; None when a retry found it


def registered_as_read(registration: Registration) -> Clue | None:
    """Return a clue registered just now as a read with all its relations would give it; None for a retry.

    The registrant sees it (visible_to): their own agency, of which acting_agency made sure they are a member,
    registered and holds it. It has no transfers, suggestions or finding yet, its copies and its reach's
    districts are the routing's; reading it back with all the joins cost more than the registration (issue 7).
    """
    if not registration.created or registration.routing is None:
        return None
    clue, routing = registration.clue, registration.routing
    _related_known(clue, "routing_copies", routing.copies)
    _related_known(clue, "transfers", [])
    _related_known(clue, "suggestions", [])
    if clue.feature is not None:
        _related_known(clue.feature, "districts", routing.reach_districts)
    return clue


def _related_known(instance, name: str, objects: list) -> None:  # noqa: ANN001 - a model instance
    """Give `instance.<name>.all()` the `objects` as prefetch_related would, without a query."""
    manager = getattr(instance, name)
    key = getattr(manager, "prefetch_cache_name", None) or manager.field.remote_field.cache_name
    queryset = manager.get_queryset()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[key] = queryset


def request_digest(*, category: str, description: str, location: Point, source: str, confidential: bool) -> str:
    """Return a fingerprint of what a phone sent, to tell a retry from a different clue."""
    body = {
        "category": category,
        "description": description,
        "location": [round(location.x, 7), round(location.y, 7)],
        "source": source,
        "confidential": confidential,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def next_code(prefix: str, year: int) -> str:
    """Return the next clue code for a district and year, e.g. 500110-2026-0042 (gap-free per year)."""
    with connection.cursor() as cursor:
        cursor.execute(NEXT_NUMBER_SQL, [prefix, year])
        (number,) = cursor.fetchone()
    return f"{prefix}-{year}-{number:04d}"


def _replay(client_uuid: uuid.UUID, user, digest: str) -> Registration | None:  # noqa: ANN001 - a user
    """Return the registration made before with `client_uuid`, None if there is none."""
    existing = Clue.objects.filter(client_uuid=client_uuid).first()
    if existing is None:
        return None
    if existing.registered_by_id != user.pk or existing.request_digest != digest:
        raise RegistrationConflict("client_uuid 已被使用 / client_uuid already used for another clue")
    return Registration(existing, created=False)


def clue_register(
    *,
    user,  # noqa: ANN001 - a user
    agency: Agency,
    client_uuid: uuid.UUID,
    category: str,
    description: str,
    location: Point,
    source: str,
    confidential: bool = False,
) -> Registration:
    """Register a clue found at `location` and route it; the same client_uuid again returns it.

    A unique constraint on client_uuid is the guard: of concurrent retries one inserts and the
    others find its row, so a phone retrying never makes a second clue.
    """
    submitted = {
        "category": category, "description": description, "location": location, "source": source,
        "confidential": confidential,
    }  # fmt: skip
    digest = request_digest(**submitted)
    # No look before the insert: a retry is rare, and its insert fails on the constraint and is undone
    # (the code counter with it), so a new clue, the common case, costs one statement less.
    try:
        routing = route(location)
    except RoutingError:
        replay = _replay(client_uuid, user, digest)  # a retry of a clue registered before the network changed
        if replay is None:
            raise
        return replay
    try:
        with transaction.atomic():
            clue = _create(
                user=user, agency=agency, client_uuid=client_uuid, routing=routing, digest=digest, **submitted
            )
    except IntegrityError:
        replay = _replay(client_uuid, user, digest)
        if replay is None:
            raise
        return replay
    return Registration(clue, created=True, routing=routing)


def _create(*, user, agency: Agency, client_uuid, routing: Routing, digest: str, location: Point, **submitted) -> Clue:  # noqa: ANN001
    city = routing.city
    area = routing.district or city
    clue = Clue.objects.create(
        code=next_code(area.code, timezone.localdate().year),
        client_uuid=client_uuid,
        request_digest=digest,
        geom=location,
        **submitted,
        reach=routing.reach if isinstance(routing.reach, Reach) else None,
        water_body=routing.reach if isinstance(routing.reach, WaterBody) else None,
        snap_distance_m=routing.reach_distance_m,
        district=routing.district,
        city=city,
        routing_reason=routing.reason,
        routed_to=routing.procuratorate,
        registered_by=user,
        registering_agency=agency,
        holder=agency,
    )
    if routing.copies:  # a new clue has none yet: set() would read them first
        clue.routing_copies.add(*routing.copies)
    event_record(
        clue=clue,
        actor=user,
        agency=agency,
        action="register",
        to_status=clue.status,
        data={"routing": routing_summary(routing), "source": clue.source, "category": clue.category},
        first=True,
    )
    return clue


def routing_summary(routing: Routing) -> dict:
    return {
        "reason": routing.reason,
        "procuratorate": routing.procuratorate.code,
        "district": routing.district.code if routing.district else None,
        "reach": routing.reach.code if routing.reach else None,
        "copies": [agency.code for agency in routing.copies],
    }


# What a possible duplicate is shown with (DuplicateSerializer, with its distance_m).
DUPLICATE_FIELDS = ("id", "code", "status", "category", "created_at")

# Those fields in the model's order, the order Model.from_db() takes the values in.
DUPLICATE_COLUMNS = [field.attname for field in Clue._meta.concrete_fields if field.attname in DUPLICATE_FIELDS]

# A clue's possible duplicates as `user` sees them: open clues of the same category on the same reach
# or water body, registered within the window, within DUPLICATE_DISTANCE_M on the ground, nearest first,
# each with how many there are. One prepared statement (the ORM's form cost more to compile and plan
# than registering the clue, issue 7 §8); tests/clues/test_registration_cost.py holds it to the rule
# written with the ORM. The candidates are the few clues near the point: the rule tests each (VisibleTo).
# `{feature}`: the same reach or water body, as an equality on the one the clue is on, so the index on
# (reach_id, category, created_at) finds them: with `IS NOT DISTINCT FROM` on both, PostgreSQL AND-ed the
# GiST box with every clue of the 60-day window (80,000 rows, 5.6 ms at the bench's scale, for 0.5 ms
# through the index); `IS NOT DISTINCT FROM` keeps the other one's meaning. The rule's three sets of
# agencies are read in the same statement, from the user's id ($11), as agencies_of() reads them: one
# round trip less on every registration (issue 10).
DUPLICATES_SQL = f"""
WITH seen (id, member, kind, level, district_id) AS ({AGENCIES_SQL.replace("%s", "$11")}),
sets AS (
    SELECT coalesce(array_agg(id), '{{}}') AS agencies,
           coalesce(array_agg(id) FILTER (WHERE member), '{{}}') AS members_of,
           coalesce(array_agg(district_id) FILTER (
               WHERE member AND kind = '{AgencyKind.PROCURATORATE.value}' AND level = '{DistrictLevel.CITY.value}'
           ), '{{}}') AS cities
    FROM seen
)
SELECT {", ".join(f"clue.{name}" for name in DUPLICATE_COLUMNS)},
       ST_Distance(clue.geom::geography, $1::geography) AS distance_m, COUNT(*) OVER () AS all_of_them
FROM clues_clue clue
WHERE clue.category = $2
  AND {{feature}}
  AND clue.created_at BETWEEN $5 AND $6 AND clue.id IS DISTINCT FROM $7
  AND clue.status <> ALL ($8::text[])
  -- a box in degrees that surely holds the circle lets the GiST index find the candidates;
  -- the distance on the ground then decides
  AND ST_DWithin(clue.geom, $1, $9) AND ST_DWithin(clue.geom::geography, $1::geography, $10)
  AND {
    VisibleTo.rule_sql(
        {
            name: f"clue.{name}_id" if name in ("registering_agency", "holder", "city") else f"clue.{name}"
            for name in VisibleTo.columns
        }
        | {"pk": "clue.id"},
        "(SELECT agencies FROM sets)",
        "(SELECT members_of FROM sets)",
        "(SELECT cities FROM sets)",
        per_clue=True,
    )
}
ORDER BY distance_m, clue.id
LIMIT $12
"""  # noqa: S608 - constants, no input
DUPLICATES_TYPES = (
    "geometry", "text", "bigint", "bigint", "timestamptz", "timestamptz", "bigint", "text[]", "float8", "float8",
    "bigint", "bigint",
)  # fmt: skip
DUPLICATES_ON_REACH = PreparedStatement(
    "clues_duplicates_on_reach",
    DUPLICATES_TYPES,
    DUPLICATES_SQL.replace("{feature}", "clue.reach_id = $3 AND clue.water_body_id IS NOT DISTINCT FROM $4"),
)
DUPLICATES_ON_WATER_BODY = PreparedStatement(
    "clues_duplicates_on_water_body",
    DUPLICATES_TYPES,
    DUPLICATES_SQL.replace("{feature}", "clue.water_body_id = $4 AND clue.reach_id IS NOT DISTINCT FROM $3"),
)


@dataclass(frozen=True)
class Duplicates:
    nearest: list[Clue]  # by distance on the ground, each with `distance_m`
    count: int  # all of them


def possible_duplicates(clue: Clue, user, *, limit: int | None = None) -> Duplicates:  # noqa: ANN001 - a user
    """Return the nearest `limit` (all: None) possible duplicates of `clue` that `user` sees, and how many
    there are; none for a clue on no reach or water body."""
    if clue.reach_id is None and clue.water_body_id is None:
        return Duplicates(nearest=[], count=0)
    return _duplicates_around(
        user, category=clue.category, reach_id=clue.reach_id, water_body_id=clue.water_body_id, point=clue.geom,
        at=clue.created_at, other_than=clue.pk, limit=limit,
    )  # fmt: skip


def possible_duplicates_at(*, user, location: Point, category: str, limit: int | None = None) -> Duplicates:  # noqa: ANN001
    """Return the possible duplicates a clue of `category` registered at `location` now would have.

    Raises RoutingError where routing finds no recipient for the point (as registering would).
    """
    routing = route(location)
    reach_id = routing.reach.pk if isinstance(routing.reach, Reach) else None
    water_body_id = routing.reach.pk if isinstance(routing.reach, WaterBody) else None
    if reach_id is None and water_body_id is None:
        return Duplicates(nearest=[], count=0)
    return _duplicates_around(
        user, category=category, reach_id=reach_id, water_body_id=water_body_id, point=location,
        at=timezone.now(), other_than=None, limit=limit,
    )  # fmt: skip


def _duplicates_around(  # noqa: PLR0913 - the rule's terms
    user, *, category: str, reach_id: int | None, water_body_id: int | None, point: Point, at: datetime.datetime,
    other_than: int | None, limit: int | None,
) -> Duplicates:  # fmt: skip  # noqa: ANN001 - a user
    window = datetime.timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    metres = settings.DUPLICATE_DISTANCE_M
    params = [
        f"SRID=4326;POINT({point.x!r} {point.y!r})", category, reach_id, water_body_id,
        at - window, at + window, other_than, list(FINISHED_STATES),
        degrees_covering(metres, point.y), metres, user.pk, limit,
    ]  # fmt: skip
    statement = DUPLICATES_ON_REACH if reach_id is not None else DUPLICATES_ON_WATER_BODY
    with connection.cursor() as cursor:
        statement.execute(cursor, params)
        rows = cursor.fetchall()
    nearest = []
    for *values, distance_m, _ in rows:
        duplicate = Clue.from_db(connection.alias, DUPLICATE_COLUMNS, values)
        duplicate.distance_m = distance_m
        nearest.append(duplicate)
    return Duplicates(nearest=nearest, count=rows[0][-1] if rows else 0)


def duplicates_nearest(clue: Clue, user) -> Duplicates:  # noqa: ANN001 - a user
    """Return the nearest DUPLICATES_SHOWN possible duplicates of `clue` and how many there are."""
    return possible_duplicates(clue, user, limit=settings.DUPLICATES_SHOWN)


def degrees_covering(metres: float, lat: float) -> float:
    """Return a distance in degrees no shorter than `metres` in any direction around latitude `lat`."""
    # A degree of longitude is the shorter one: 111.32 km × cos(lat), taken a degree further poleward.
    shortest_degree_m = 110_000.0 * math.cos(math.radians(min(abs(lat) + 1.0, 89.0)))
    return metres / shortest_degree_m


# Clues made from findings get a client_uuid derived from the finding's: asking twice gives one clue.
FINDING_NAMESPACE = uuid.UUID("5d6c3f0e-7a43-4c9b-9d0e-2f1c5b7a9e11")


class FindingWithoutLocation(Exception):
    """A finding with no position yet (neither the phone nor a photo gave one) cannot be routed."""


def clue_from_finding(*, user, finding, agency: Agency | None = None, confidential: bool = False) -> Registration:  # noqa: ANN001
    """Turn a patrol finding into a clue (source `patrol`), keeping the link and so its photos."""
    existing = Clue.objects.filter(finding=finding).first()
    if existing is not None:
        return Registration(existing, created=False)
    if finding.geom is None:
        raise FindingWithoutLocation("巡查发现还没有位置 / the finding has no location yet (no GPS, no photo position)")
    with transaction.atomic():
        registration = clue_register(
            user=user,
            agency=agency or finding.agency,
            client_uuid=uuid.uuid5(FINDING_NAMESPACE, str(finding.client_uuid)),
            category=finding.category,
            description=finding.description,
            location=finding.geom,
            source="patrol",
            confidential=confidential,
        )
        if registration.clue.finding_id is None:
            Clue.objects.filter(pk=registration.clue.pk).update(finding=finding)
            registration.clue.finding = finding
    return registration
