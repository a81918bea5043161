"""Compliance of a year's patrolling, for the liaison dashboard (seed 002 §三(三)).

For each district-level area in scope:
- joint patrols (联合巡查): "区河长办与区检察院每年应至少开展一次联合巡查", JOINT_PATROLS_PER_YEAR (1);
- each reach against the patrol frequency of its chief's level (PATROL_FREQUENCY_DAYS): a reach was
  patrolled on a day when a valid patrol started that day covered at least PATROL_COVERED_MIN_FRACTION
  of its length (patrols.coverage stores the fractions);
- how the year's focus items (the current FocusPlan) were met by findings of those categories.

Only patrols that meet the validity minimums count (`Patrol.is_valid`, set by patrols.tracks when a
patrol finishes): a five-minute walk does not make a reach patrolled nor a district's joint patrol.

The period is the year, up to `today` when the year is under way (dates in Asia/Shanghai). Expected
patrols = days in the period // the level's frequency, so a reach is never behind before its first
interval is over. The figure compared with it is the number of distinct days with a patrol, so that
three patrols on one afternoon do not stand for three weeks; the longest run of days without a patrol
is shown beside it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Q, QuerySet

from rivers.categories import Category
from rivers.models import Agency, ChiefLevel, District, DistrictLevel, ReachDistrict

from .models import FocusPlan, Patrol, PatrolKind
from .plans import LOCAL_TZ, PlansStatus, local_today, plans_status_many

# Per reach, over the valid patrols of the period that covered enough of it: the distinct days it was
# patrolled, the first and last of them, the longest run of days between two of them, and the patrols.
REACH_PATROL_DAYS_SQL = """
WITH hits AS (
    SELECT coverage.reach_id, coverage.patrol_id, (patrol.started_at AT TIME ZONE %(tz)s)::date AS day
    FROM patrols_patrolcoverage AS coverage
    JOIN patrols_patrol AS patrol ON patrol.id = coverage.patrol_id
    WHERE coverage.reach_id = ANY(%(reaches)s::bigint[])
      AND patrol.is_valid
      AND coverage.fraction >= %(min_fraction)s
      AND patrol.started_at >= %(start)s
      AND patrol.started_at < %(end)s
),
days AS (
    SELECT reach_id, day, day - lag(day) OVER (PARTITION BY reach_id ORDER BY day) - 1 AS gap_before
    FROM (SELECT DISTINCT reach_id, day FROM hits) AS distinct_days
),
patrols AS (
    SELECT reach_id, count(DISTINCT patrol_id) AS patrols FROM hits GROUP BY reach_id
)
SELECT days.reach_id, patrols.patrols, count(*), min(days.day), max(days.day), coalesce(max(days.gap_before), 0)
FROM days JOIN patrols ON patrols.reach_id = days.reach_id
GROUP BY days.reach_id, patrols.patrols
"""


# Per district of `districts` and category, the findings of the period in the district: by their point, else
# their patrol's district, else (no point, no patrol) the district of the agency that reported them. The
# three cases exclude each other; one statement for every district (it was one query per district).
FINDINGS_BY_DISTRICT_SQL = """
WITH found AS (
    SELECT id, category, geom, patrol_id, agency_id FROM patrols_finding
    WHERE found_at >= %(start)s AND found_at < %(end)s
)
SELECT district_id, category, count(*) FROM (
    SELECT d.id AS district_id, found.category
    FROM found JOIN rivers_district AS d ON ST_Intersects(found.geom, d.geom)
    WHERE found.geom IS NOT NULL AND d.id = ANY(%(districts)s::bigint[])
    UNION ALL
    SELECT patrol.district_id, found.category
    FROM found JOIN patrols_patrol AS patrol ON patrol.id = found.patrol_id
    WHERE found.geom IS NULL AND patrol.district_id = ANY(%(districts)s::bigint[])
    UNION ALL
    SELECT agency.district_id, found.category
    FROM found JOIN rivers_agency AS agency ON agency.id = found.agency_id
    WHERE found.geom IS NULL AND found.patrol_id IS NULL AND agency.district_id = ANY(%(districts)s::bigint[])
) AS placed
GROUP BY district_id, category
"""


@dataclass(frozen=True)
class Period:
    """The days of `year` that count: 1 January to `end` (31 December, or today in the current year)."""

    year: int
    start: datetime.date
    end: datetime.date  # included; the day before `start` when the year has not begun

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Return the aware instants [start, end) covering the period's days in Asia/Shanghai."""
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=LOCAL_TZ)
        end = datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=LOCAL_TZ)
        return start, end


def period_of(year: int, today: datetime.date) -> Period:
    start = datetime.date(year, 1, 1)
    end = min(datetime.date(year, 12, 31), today)
    return Period(year, start, max(end, start - datetime.timedelta(days=1)))


class ReachRef(NamedTuple):
    """What the figures show of a reach: a model instance each would cost more than the figures themselves."""

    pk: int
    code: str
    name: str
    level: str


@dataclass(frozen=True)
class ReachCompliance:
    reach: ReachRef
    frequency_days: int | None  # None: the policy names no frequency for this level
    expected: int | None
    patrols: int = 0  # valid patrols that covered the reach
    patrol_days: int = 0  # distinct days with such a patrol: the figure held against `expected`
    first_patrolled_on: datetime.date | None = None
    last_patrolled_on: datetime.date | None = None
    longest_gap_days: int = 0  # the longest run of days in the period without a patrol of the reach

    @property
    def never_patrolled(self) -> bool:
        return self.patrols == 0

    @property
    def compliant(self) -> bool | None:
        return None if self.expected is None else self.patrol_days >= self.expected


@dataclass(frozen=True)
class LevelSummary:
    level: str
    label: str
    frequency_days: int | None
    reaches: int
    compliant: int
    never_patrolled: int


@dataclass(frozen=True)
class FocusItemCoverage:
    category: str
    label: str
    note: str
    findings: int


@dataclass(frozen=True)
class FocusCoverage:
    """The current focus of the year and the findings made in each of its categories."""

    plan: FocusPlan
    items: list[FocusItemCoverage]
    findings_total: int  # findings of any category in the district in the period

    @property
    def without_findings(self) -> list[str]:
        return [item.category for item in self.items if item.findings == 0]


@dataclass(frozen=True)
class DistrictCompliance:
    district: District
    joint_patrols: int
    joint_patrols_required: int
    reaches: list[ReachCompliance]
    plans: PlansStatus
    focus: FocusCoverage | None  # None: no focus set for the year

    @property
    def joint_compliant(self) -> bool:
        return self.joint_patrols >= self.joint_patrols_required

    @property
    def reaches_never_patrolled(self) -> list[ReachRef]:
        return [row.reach for row in self.reaches if row.never_patrolled]

    @property
    def reaches_below_policy(self) -> list[ReachRef]:
        return [row.reach for row in self.reaches if row.compliant is False]

    @property
    def reaches_total(self) -> int:
        return len(self.reaches)

    @property
    def reaches_compliant(self) -> int:
        return sum(1 for row in self.reaches if row.compliant)

    @property
    def by_level(self) -> list[LevelSummary]:
        frequencies = frequency_policy()
        rows_of = defaultdict(list)
        for row in self.reaches:
            rows_of[row.reach.level].append(row)
        return [
            LevelSummary(
                level=level,
                label=str(label),
                frequency_days=frequencies.get(level),
                reaches=len(rows_of[level]),
                compliant=sum(1 for row in rows_of[level] if row.compliant),
                never_patrolled=sum(1 for row in rows_of[level] if row.never_patrolled),
            )
            for level, label in ChiefLevel.choices
        ]


@dataclass(frozen=True)
class Compliance:
    period: Period
    today: datetime.date
    districts: list[DistrictCompliance] = field(default_factory=list)  # the page asked for (all by default)
    count: int = 0  # districts in scope, on every page
    districts_lacking_joint_patrol: list[District] = field(default_factory=list)  # of all in scope, by code

    @property
    def year(self) -> int:
        return self.period.year

    @property
    def policy(self) -> dict:
        return {
            "frequency_days": frequency_policy(),
            "covered_min_fraction": settings.PATROL_COVERED_MIN_FRACTION,
            "joint_patrols_per_year": settings.JOINT_PATROLS_PER_YEAR,
        }


def frequency_policy() -> dict[str, int]:
    """Return {chief level: days between patrols} (PATROL_FREQUENCY_DAYS)."""
    return {level: int(days) for level, days in settings.PATROL_FREQUENCY_DAYS.items()}


def compliance_districts(user) -> QuerySet[District]:  # noqa: ANN001 - a user
    """Return the district-level areas whose compliance `user` may see.

    A member of an agency (any role) sees its district; a member of a city-level agency (the municipal
    procuratorate, the city river office…) sees every district of that city, as it sees their patrols
    (patrols.querysets.PatrolQuerySet.visible_to). Someone in no agency is refused.
    """
    agencies = Agency.objects.of_user(user)
    if not agencies.exists():
        raise PermissionDenied("您不属于任何单位 / you belong to no agency")
    own = Q(pk__in=agencies.values("district"))
    of_cities = Q(parent__in=agencies.filter(district__level=DistrictLevel.CITY).values("district"))
    return District.objects.districts().filter(own | of_cities)


def _reach_rows(reaches: Iterable[ReachRef], period: Period) -> dict[int, ReachCompliance]:
    reaches = list(reaches)
    frequencies = frequency_policy()
    figures: dict[int, tuple] = {}
    if reaches and period.days > 0:
        start, end = period.bounds()
        params = {
            "tz": str(LOCAL_TZ),
            "reaches": [reach.pk for reach in reaches],
            "min_fraction": float(settings.PATROL_COVERED_MIN_FRACTION),
            "start": start,
            "end": end,
        }
        with connection.cursor() as cursor:
            cursor.execute(REACH_PATROL_DAYS_SQL, params)
            figures = {row[0]: row[1:] for row in cursor.fetchall()}
    rows = {}
    for reach in reaches:
        frequency = frequencies.get(reach.level)
        expected = period.days // frequency if frequency else None
        if reach.pk not in figures:
            rows[reach.pk] = ReachCompliance(reach, frequency, expected, longest_gap_days=period.days)
            continue
        patrols, days, first, last, inner_gap = figures[reach.pk]
        gap = max((first - period.start).days, inner_gap, (period.end - last).days)
        rows[reach.pk] = ReachCompliance(reach, frequency, expected, patrols, days, first, last, gap)
    return rows


def _findings_by_district(districts: list[District], period: Period) -> dict[int, dict[str, int]]:
    """Return {district pk: {category: findings of the period in the district}}."""
    start, end = period.bounds()
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(FINDINGS_BY_DISTRICT_SQL, {"start": start, "end": end, "districts": [d.pk for d in districts]})
        for district_id, category, n in cursor.fetchall():
            counts[district_id][category] = n
    return counts


def _focus_coverage(plans: PlansStatus, counts: dict[str, int]) -> FocusCoverage | None:
    plan = plans.focus.current
    if plan is None:
        return None
    labels = dict(Category.choices)
    items = [
        FocusItemCoverage(
            item.category, str(labels.get(item.category, item.category)), item.note, counts.get(item.category, 0)
        )
        for item in plan.items.all()
    ]
    return FocusCoverage(plan=plan, items=items, findings_total=sum(counts.values()))


def compliance_compute(
    *,
    districts: Iterable[District],
    year: int,
    today: datetime.date | None = None,
    page: slice | None = None,
) -> Compliance:
    """Return the year's compliance figures of `districts` (no visibility check: see compliance_for).

    `page` (a slice of the districts by code) limits the detailed rows to those districts; the count and the
    districts lacking a joint patrol cover them all. A fixed number of statements, whatever the number of
    districts, reaches and patrols.
    """
    today = today or local_today()
    period = period_of(year, today)
    if isinstance(districts, QuerySet):
        # Their boundaries are never drawn here (1,000 of them weigh megabytes).
        districts = districts.defer("geom")
    districts = sorted(districts, key=lambda district: district.code)
    start, end = period.bounds()
    joint = dict(
        Patrol.objects.filter(
            district__in=[d.pk for d in districts],
            kind=PatrolKind.JOINT,
            is_valid=True,
            started_at__gte=start,
            started_at__lt=end,
        )
        .order_by()
        .values_list("district")
        .annotate(n=Count("pk"))
    )
    required = settings.JOINT_PATROLS_PER_YEAR
    lacking = [district for district in districts if joint.get(district.pk, 0) < required]
    shown = districts[page] if page is not None else districts
    shares = (
        ReachDistrict.objects.filter(district__in=[d.pk for d in shown])
        .order_by("reach__code")
        .values_list("district_id", "reach_id", "reach__code", "reach__name", "reach__level")
    )
    reaches_of: dict[int, list[ReachRef]] = defaultdict(list)
    for district_id, *reach in shares:
        reaches_of[district_id].append(ReachRef(*reach))
    reach_rows = _reach_rows({reach.pk: reach for rs in reaches_of.values() for reach in rs}.values(), period)
    plans = plans_status_many(shown, year, today)
    focused = [district for district in shown if plans[district.pk].focus.current is not None]
    findings = _findings_by_district(focused, period) if focused else {}
    return Compliance(
        period=period,
        today=today,
        count=len(districts),
        districts_lacking_joint_patrol=lacking,
        districts=[
            DistrictCompliance(
                district=district,
                joint_patrols=joint.get(district.pk, 0),
                joint_patrols_required=required,
                reaches=[reach_rows[reach.pk] for reach in reaches_of[district.pk]],
                plans=plans[district.pk],
                focus=_focus_coverage(plans[district.pk], findings.get(district.pk, {})),
            )
            for district in shown
        ],
    )


def compliance_for(
    *,
    user,
    year: int,
    scope: District | None = None,
    today: datetime.date | None = None,  # noqa: ANN001
    page: slice | None = None,
) -> Compliance:
    """Return the year's compliance of the districts `user` may see, within `scope` (a district, or a
    city for all its districts) when given; `page` as compliance_compute takes it."""
    districts = compliance_districts(user)
    if scope is not None:
        districts = (
            districts.filter(parent=scope) if scope.level == DistrictLevel.CITY else districts.filter(pk=scope.pk)
        )
    return compliance_compute(districts=districts, year=year, today=today, page=page)
