"""Figures for the joint meeting (联席会议, seed 000 §二(四)): counts over the clues a user may see.

Every section counts the clues registered in the period (created_at, dates in Asia/Shanghai, both
ends included) and the transfers and suggestions made on those clues. Nothing here lists a clue:
confidential clues add to the counts and are never named.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from config.database import embedded_sql
from rivers.models import Agency

from .models import Category, Clue, Source, Status
from .querysets import ClueQuerySet

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


def figures_scope(user) -> ClueQuerySet:  # noqa: ANN001 - a user
    """Return the clues whose figures `user` may see: the visible ones, and for a member of a
    municipal procuratorate every clue of its city (DESIGN §5: it sees "the statistics of all")."""
    visible = Clue.objects.visible_to(user).values("pk")
    cities = Agency.objects.municipal_procuratorates_of(user).values("district")
    return Clue.objects.filter(Q(pk__in=visible) | Q(city__in=cities))


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


# Every figure in one statement over the clues of the scope and period, read once (`scope`, the caller's
# queryset: the visibility rule) rather than once per section: each section re-ran the rule over every
# clue of the city (issue 10: 13 × 50–100 ms at municipal scale). Dates are Asia/Shanghai's (%(tz)s).
FIGURES_SQL = """
WITH scope AS MATERIALIZED ({scope}),
transfer AS MATERIALIZED (
    SELECT t.first_answer_at, t.first_answer_due, t.feedback_at, t.feedback_due
    FROM scope JOIN clues_transfer AS t ON t.clue_id = scope.id
),
suggestion AS MATERIALIZED (
    SELECT s.reply_at, s.reply_due, s.escalated_at FROM scope JOIN clues_suggestion AS s ON s.clue_id = scope.id
)
SELECT json_build_object(
    'clues', (SELECT count(*) FROM scope),
    'confidential', (SELECT count(*) FILTER (WHERE confidential) FROM scope),
    'open', (SELECT count(*) FILTER (WHERE status <> ALL(%(done)s)) FROM scope),
    'transfers', (SELECT count(*) FROM transfer),
    'suggestions', (SELECT count(*) FROM suggestion),
    'suggestions_escalated', (SELECT count(*) FILTER (WHERE escalated_at IS NOT NULL) FROM suggestion),
    'category', (SELECT json_object_agg(category, n) FROM (SELECT category, count(*) AS n FROM scope GROUP BY 1) AS c),
    'status', (SELECT json_object_agg(status, n) FROM (SELECT status, count(*) AS n FROM scope GROUP BY 1) AS c),
    'source', (SELECT json_object_agg(source, n) FROM (SELECT source, count(*) AS n FROM scope GROUP BY 1) AS c),
    'district', (SELECT json_agg(json_build_array(d.code, d.name, c.n))
                 FROM (SELECT district_id, count(*) AS n FROM scope GROUP BY 1) AS c
                 LEFT JOIN rivers_district AS d ON d.id = c.district_id),
    'month', (SELECT json_object_agg(month, n) FROM (
                SELECT to_char(created_at AT TIME ZONE %(tz)s, 'YYYY-MM') AS month, count(*) AS n
                FROM scope GROUP BY 1) AS c),
    'first_answers', (SELECT {first_answers} FROM transfer),
    'feedback', (SELECT {feedback} FROM transfer WHERE feedback_due IS NOT NULL),
    'suggestion_replies', (SELECT {replies} FROM suggestion)
)
"""

# How a deadline was met (Timeliness): `done` a timestamp, `due` a date, judged on %(today)s.
TIMELINESS_SQL = """json_build_array(
    count(*) FILTER (WHERE {done} IS NOT NULL AND ({due} IS NULL OR ({done} AT TIME ZONE %(tz)s)::date <= {due})),
    count(*) FILTER (WHERE {done} IS NOT NULL AND ({done} AT TIME ZONE %(tz)s)::date > {due}),
    count(*) FILTER (WHERE {done} IS NULL AND {due} < %(today)s),
    count(*) FILTER (WHERE {done} IS NULL AND ({due} IS NULL OR {due} >= %(today)s)))"""


def _choice_rows(counts: dict | None, choices: type) -> list[Row]:
    counts = counts or {}
    return [Row(code, str(label), counts.get(code, 0)) for code, label in choices.choices]


def _district_rows(grouped: list | None) -> list[Row]:
    rows = [Row(code, name or OUTSIDE_DISTRICTS_LABEL, n) for code, name, n in grouped or []]
    # Districts by code, the clues in no district last.
    return sorted(rows, key=lambda row: (row.code is None, row.code or ""))


def _month_rows(counts: dict | None, period: Period) -> list[Row]:
    counts = counts or {}
    return [Row(f"{m:%Y-%m}", f"{m.year}年{m.month}月", counts.get(f"{m:%Y-%m}", 0)) for m in period.months()]


def figures_compute(*, user, period: Period, today: datetime.date | None = None) -> Figures:  # noqa: ANN001
    """Return the joint-meeting figures of the clues `user` may count, registered in `period`."""
    today = today or local_today()
    start, end = period.bounds()
    clues = figures_scope(user).filter(created_at__gte=start, created_at__lt=end)
    scope_sql, params = embedded_sql(
        clues.order_by().values("id", "category", "status", "source", "district_id", "created_at", "confidential")
    )
    statement = FIGURES_SQL.format(
        scope=scope_sql,
        first_answers=TIMELINESS_SQL.format(done="first_answer_at", due="first_answer_due"),
        feedback=TIMELINESS_SQL.format(done="feedback_at", due="feedback_due"),
        replies=TIMELINESS_SQL.format(done="reply_at", due="reply_due"),
    )
    params.update(tz=str(LOCAL_TZ), today=today, done=[Status.CLOSED, Status.FEEDBACK_GIVEN, Status.MERGED])
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        (found,) = cursor.fetchone()
    if isinstance(found, str):  # json, not jsonb: psycopg2 may hand back the text
        found = json.loads(found)
    return Figures(
        period=period,
        today=today,
        clues=found["clues"],
        confidential=found["confidential"],
        open=found["open"],
        transfers=found["transfers"],
        suggestions=found["suggestions"],
        by_category=_choice_rows(found["category"], Category),
        by_district=_district_rows(found["district"]),
        by_status=_choice_rows(found["status"], Status),
        by_source=_choice_rows(found["source"], Source),
        by_month=_month_rows(found["month"], period),
        first_answers=Timeliness(*found["first_answers"]),
        feedback=Timeliness(*found["feedback"]),
        suggestion_replies=Timeliness(*found["suggestion_replies"]),
        suggestions_escalated=found["suggestions_escalated"],
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
