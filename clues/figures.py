"""Figures for the joint meeting (联席会议, seed 000 §二(四)): counts over the clues a user may see.

Every section counts the clues registered in the period (created_at, dates in Asia/Shanghai, both
ends included) and the transfers and suggestions made on those clues. Nothing here lists a clue:
confidential clues add to the counts and are never named.
"""

from __future__ import annotations

import collections
import datetime
import itertools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from config.database import embedded_sql

from . import tallies
from .models import Category, Clue, Source, Status
from .querysets import ClueQuerySet, VisibleTo, agencies_of

# The figures are dated as the agencies date them; the deployment's TIME_ZONE may differ.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# The mechanism dates from 2021; the bounds keep date arithmetic and the month table finite.
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2099, 12, 31)
OUTSIDE_DISTRICTS_LABEL = "区外 Outside districts"


class PeriodInvalid(Exception):
    """The period cannot be used (HTTP 400); `errors` maps field to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """Return the aware instants [start, end) covering the period's days in Asia/Shanghai."""
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=LOCAL_TZ)
        end = datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=LOCAL_TZ)
        return start, end

    def months(self) -> list[datetime.date]:
        """Return the first day of every month the period touches."""
        first, months = self.start.replace(day=1), []
        while first <= self.end:
            months.append(first)
            first = (first + datetime.timedelta(days=32)).replace(day=1)
        return months


def local_today() -> datetime.date:
    return timezone.localdate(timezone=LOCAL_TZ)


def period_make(start: datetime.date | None, end: datetime.date | None, *, default: Period) -> Period:
    """Return the period from `start` to `end`, both included; `default` when neither is given.

    Without `start` the period begins on 1 January of the end's year; without `end` it ends on
    31 December of the start's year.
    """
    errors = {}
    for name, day in (("from", start), ("to", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            errors[name] = f"日期须在{EARLIEST}至{LATEST}之间 / must lie between {EARLIEST} and {LATEST}"
    if errors:
        raise PeriodInvalid(errors)
    if start is None and end is None:
        return default
    if start is None:
        start = end.replace(month=1, day=1)
    if end is None:
        end = start.replace(month=12, day=31)
    if start > end:
        raise PeriodInvalid({"to": f"结束日期{end}早于开始日期{start} / the period ends before it starts"})
    return Period(start, end)


def current_year(today: datetime.date | None = None) -> Period:
    today = today or local_today()
    return Period(datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31))


def figures_parts(user) -> tuple[ClueQuerySet, ClueQuerySet]:  # noqa: ANN001 - a user
    """Return the clues whose figures `user` may see as two disjoint sets: for a member of a municipal
    procuratorate every clue of its city (DESIGN §5: it sees "the statistics of all"), and the visible
    clues outside those cities. figures_compute() counts the first from its tallies (clues.tallies), the
    second from the tables.

    Two sets, not one OR: the rule in an OR is a subplan that PostgreSQL cannot hash once the visible set
    outgrows work_mem (a city's 900,000), and searched linearly for each clue it ran past the web's
    timeout (issue 10).
    """
    if not user.is_authenticated:
        return Clue.objects.none(), Clue.objects.none()
    agencies, members_of, cities = agencies_of(user)
    in_cities = Clue.objects.filter(city__in=cities) if cities else Clue.objects.none()
    return in_cities, visible_elsewhere(agencies, members_of, cities)


def visible_elsewhere(agencies: list[int], members_of: list[int], cities: list[int]) -> ClueQuerySet:
    """Return the clues visible to a user with these sets (clues.querysets.agencies_of) outside `cities`."""
    visible = Clue.objects.filter(VisibleTo(agencies, members_of, cities))
    return visible.filter(outside_cities(cities)) if cities else visible


def outside_cities(cities: list[int]) -> Q:
    """Return the condition "the clue is in none of `cities`" as ranges of the city index, so that the rule
    is tried on the few clues outside them: written NOT IN, it can use no index, and every clue of the
    city was read to find them (issue 10)."""
    bounds = sorted(set(cities))
    outside = Q(city__isnull=True) | Q(city__lt=bounds[0]) | Q(city__gt=bounds[-1])
    for low, high in itertools.pairwise(bounds):
        outside |= Q(city__gt=low, city__lt=high)
    return outside


def figures_scope(user) -> ClueQuerySet:  # noqa: ANN001 - a user
    """Return the clues whose figures `user` may see (figures_parts(), as one queryset)."""
    in_cities, elsewhere = figures_parts(user)
    return Clue.objects.filter(pk__in=in_cities.values("pk").union(elsewhere.values("pk"), all=True))


@dataclass(frozen=True)
class Row:
    """One line of a count table: a code (None for "no district"), its label, the count."""

    code: str | None
    label: str
    count: int


@dataclass(frozen=True)
class Timeliness:
    """How a deadline was met: done by the due date, done after it, not done and past it, not yet due."""

    in_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.in_time + self.late + self.overdue + self.pending


@dataclass(frozen=True)
class Figures:
    period: Period
    today: datetime.date
    clues: int = 0
    confidential: int = 0
    open: int = 0
    transfers: int = 0
    suggestions: int = 0
    by_category: list[Row] = field(default_factory=list)
    by_district: list[Row] = field(default_factory=list)
    by_status: list[Row] = field(default_factory=list)
    by_source: list[Row] = field(default_factory=list)
    by_month: list[Row] = field(default_factory=list)
    first_answers: Timeliness = Timeliness()  # 首次答复 (seed 000 §二(三): within a month)
    feedback: Timeliness = Timeliness()  # 办结后反馈 (seed 002 §三(二): within 10 days), closed clues only
    suggestion_replies: Timeliness = Timeliness()  # 检察建议书面回复
    suggestions_escalated: int = 0


# Every figure in one statement: the parts (clues.tallies) of the user's cities from their tallies, and
# those of the visible clues elsewhere counted from the tables with the same templates, summed by section.
# A city's 10^6 clues counted again on each request took 4 s (issue 10); their tallies are a few thousand
# rows a day. A district's district is named here; the month is the clue's (its category part stands for it).
FIGURES_SQL = """
WITH elsewhere AS MATERIALIZED ({elsewhere}),
stored AS (
    SELECT {key}, n, confidential FROM clues_figuretally
    WHERE city_id = ANY(%(cities)s::bigint[]) AND day BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT {key}, n, confidential FROM clues_figuredelta
    WHERE city_id = ANY(%(cities)s::bigint[]) AND day BETWEEN %(start)s AND %(end)s
),
counted AS (
    {clue_parts}
    UNION ALL
    {transfer_parts}
    UNION ALL
    {suggestion_parts}
),
-- each source summed apart: one hash table each (in one, the planner sorted 350,000 rows on disk)
summed AS (
    SELECT dim, value, due, CASE WHEN dim = 'category' THEN date_trunc('month', day) END AS month,
           sum(n) AS n, sum(confidential) AS confidential
    FROM stored GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT dim, value, due, CASE WHEN dim = 'category' THEN date_trunc('month', day) END AS month,
           sum(n) AS n, sum(confidential) AS confidential
    FROM counted GROUP BY 1, 2, 3, 4
),
total AS (
    SELECT dim, value, due, month, sum(n)::bigint AS n, sum(confidential)::bigint AS confidential
    FROM summed GROUP BY 1, 2, 3, 4
)
SELECT s.dim, s.value, s.due, to_char(s.month, 'YYYY-MM'), s.n, s.confidential, d.code, d.name
FROM total s LEFT JOIN rivers_district d ON s.dim = 'district' AND d.id::text = s.value
WHERE s.n <> 0
"""


def _choice_rows(counts: dict | None, choices: type) -> list[Row]:
    counts = counts or {}
    return [Row(code, str(label), counts.get(code, 0)) for code, label in choices.choices]


def _month_rows(counts: dict | None, period: Period) -> list[Row]:
    counts = counts or {}
    return [Row(f"{m:%Y-%m}", f"{m.year}年{m.month}月", counts.get(f"{m:%Y-%m}", 0)) for m in period.months()]


def figures_compute(*, user, period: Period, today: datetime.date | None = None) -> Figures:  # noqa: ANN001
    """Return the joint-meeting figures of the clues `user` may count, registered in `period`."""
    today = today or local_today()
    start, end = period.bounds()
    agencies, members_of, cities = agencies_of(user) if user.is_authenticated else ([], [], [])
    elsewhere = visible_elsewhere(agencies, members_of, cities)
    elsewhere = elsewhere.filter(created_at__gte=start, created_at__lt=end).order_by()
    columns = ["id", "city_id", "category", "status", "source", "district_id", "created_at", "confidential"]
    if elsewhere.query.is_empty():  # Django will not write SQL for a set known to be empty
        elsewhere_sql, params = f"SELECT {', '.join(columns)} FROM clues_clue WHERE false", {}  # noqa: S608
    else:
        elsewhere_sql, params = embedded_sql(elsewhere.values(*columns), "seen")
    statement = FIGURES_SQL.format(
        elsewhere=elsewhere_sql,
        key=tallies.KEY,
        clue_parts=tallies.clue_parts("elsewhere"),
        transfer_parts=tallies.transfer_parts("clues_transfer", "elsewhere"),
        suggestion_parts=tallies.suggestion_parts("clues_suggestion", "elsewhere"),
    )
    params.update(cities=cities, start=period.start, end=period.end)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    return _figures_of(found, period=period, today=today)


def _figures_of(parts: list[tuple], *, period: Period, today: datetime.date) -> Figures:
    """Return the figures from the summed parts: (dim, value, due, month, n, confidential, code, name)."""
    counts: dict[str, dict] = collections.defaultdict(lambda: collections.defaultdict(int))
    districts, months, confidential = [], collections.Counter(), 0
    deadlines = {"first_answer": [0, 0, 0, 0], "feedback": [0, 0, 0, 0], "reply": [0, 0, 0, 0]}
    for dim, value, due, month, n, secret, code, name in parts:
        if dim in deadlines:
            # in time, late, overdue (not met, due before `today`), pending (not met, not yet due)
            met = {"in_time": 0, "late": 1}.get(value)
            deadlines[dim][met if met is not None else 2 if due is not None and due < today else 3] += n
        elif dim == "district":
            districts.append(Row(code, name or OUTSIDE_DISTRICTS_LABEL, n))
        else:
            counts[dim][value] += n
            if dim == "category":
                months[month] += n
                confidential += secret
    done = {Status.CLOSED, Status.FEEDBACK_GIVEN, Status.MERGED}
    return Figures(
        period=period,
        today=today,
        clues=sum(counts["category"].values()),
        confidential=confidential,
        open=sum(n for status, n in counts["status"].items() if status not in done),
        transfers=counts["transfers"][""],
        suggestions=counts["suggestions"][""],
        by_category=_choice_rows(counts["category"], Category),
        # Districts by code, the clues in no district last.
        by_district=sorted(districts, key=lambda row: (row.code is None, row.code or "")),
        by_status=_choice_rows(counts["status"], Status),
        by_source=_choice_rows(counts["source"], Source),
        by_month=_month_rows(months, period),
        first_answers=Timeliness(*deadlines["first_answer"]),
        feedback=Timeliness(*deadlines["feedback"]),
        suggestion_replies=Timeliness(*deadlines["reply"]),
        suggestions_escalated=counts["escalated"][""],
    )


@dataclass(frozen=True)
class Table:
    """One section of the figures as a table (a CSV block, an XLSX sheet)."""

    key: str
    title: str
    headers: list[str]
    rows: list[list]


COUNT_HEADERS = ["代码 code", "名称 name", "数量 count"]
TIMELINESS_HEADERS = ["事项 item", "按期 in time", "逾期办理 late", "逾期未办 overdue", "未到期 pending", "合计 total"]


def _timeliness_row(label: str, timeliness: Timeliness) -> list:
    t = timeliness
    return [label, t.in_time, t.late, t.overdue, t.pending, t.total]


def figures_tables(figures: Figures) -> list[Table]:
    """Return the figures as titled tables, in the order a meeting paper shows them."""
    f = figures

    def counts(key: str, title: str, rows: list[Row]) -> Table:
        return Table(key, title, COUNT_HEADERS, [[row.code or "", row.label, row.count] for row in rows])

    return [
        Table(
            "summary",
            "概况 Summary",
            ["项目 item", "数值 value"],
            [
                ["统计期间起 from", f.period.start.isoformat()],
                ["统计期间止 to", f.period.end.isoformat()],
                ["统计日 as of", f.today.isoformat()],
                ["线索总数 clues", f.clues],
                ["其中涉密 confidential", f.confidential],
                ["未办结 open", f.open],
                ["移送次数 transfers", f.transfers],
                ["诉前检察建议 suggestions", f.suggestions],
                ["建议已催办 suggestions escalated", f.suggestions_escalated],
            ],
        ),
        counts("by_category", "按类别 By category", f.by_category),
        counts("by_district", "按区县 By district", f.by_district),
        counts("by_status", "按状态 By status", f.by_status),
        counts("by_source", "按来源 By source", f.by_source),
        counts("by_month", "按月份 By month", f.by_month),
        Table(
            "transfers",
            "移送答复 Transfers answered",
            TIMELINESS_HEADERS,
            [
                _timeliness_row("首次答复 first answer", f.first_answers),
                _timeliness_row("办结反馈 feedback", f.feedback),
            ],
        ),
        Table(
            "suggestions",
            "检察建议回复 Suggestion replies",
            TIMELINESS_HEADERS,
            [_timeliness_row("书面回复 written reply", f.suggestion_replies)],
        ),
    ]
