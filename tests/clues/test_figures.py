"""Figures for the joint meeting: counts by section, period, visibility, timeliness, exports, 400s.

The world is tests.clues.conftest's: 甲区 990001 (0–10 km east), 乙区 990002 (10–20 km east), both
0–10 km north; the city 990000 also covers 10–20 km north (in no district). CROSS runs 5→15 km east at
5 km north (both districts), INSIDE 2→8 km east at 1 km north (甲区 only). Expected counts are computed
from the clues each test creates, not written down.
"""

import csv
import datetime
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from clues.figures import Period, current_year, figures_compute, figures_scope, local_today
from clues.models import Category, Clue, Source, Status, Suggestion, Transfer
from clues.workflow import clue_step, suggestion_reply
from rivers.models import Agency
from rivers.network import agencies_derive
from tests.clues.conftest import client_for, register
from tests.factories import box, district

SHANGHAI = ZoneInfo("Asia/Shanghai")
THIS_YEAR = current_year()

# Where clues are put (metres east, north of 106°E 29°N) and where routing sends them.
WEST = (4_000, 1_050)  # 50 m from INSIDE, in 甲区 → 990001-PROC
CROSS = (7_000, 5_020)  # 20 m from CROSS, in 甲区 → 990000-PROC, copies to both districts
EAST = (15_000, 1_000)  # 4 km from any reach, in 乙区 → 990002-PROC
OUTSIDE = (5_000, 15_100)  # in the city's northern half, in no district → 990000-PROC


@pytest.fixture
def clues(people):
    """A known mix of categories, sources, places and states, all registered today."""
    west_ro, east_ro = people["west_ro"], people["east_ro"]
    made = {
        "west_sand": register(west_ro, "990001-RCO", *WEST, category="illegal_sand_mining", source="patrol"),
        "west_sand_2": register(west_ro, "990001-RCO", 4_100, 1_050, category="illegal_sand_mining", source="hotline"),
        "west_discharge": register(west_ro, "990001-RCO", 4_200, 1_050, category="illegal_discharge"),
        "cross": register(west_ro, "990001-RCO", *CROSS, category="obstruction", source="media"),
        "east": register(east_ro, "990002-RCO", *EAST, category="illegal_discharge", source="petition"),
        "east_secret": register(east_ro, "990002-RCO", 15_100, 1_000, category="reclamation", confidential=True),
        "outside": register(west_ro, "990001-RCO", *OUTSIDE, category="other", source="other"),
    }
    clue_step(clue=made["west_sand"], user=west_ro, step="send")
    clue_step(clue=made["west_sand"], user=people["west_proc"], step="accept")
    clue_step(clue=made["cross"], user=west_ro, step="send")
    clue_step(clue=made["east"], user=east_ro, step="send")
    return {name: Clue.objects.get(pk=clue.pk) for name, clue in made.items()}


def rows(figures_rows) -> dict:
    return {row.code: row.count for row in figures_rows}


def nonzero(counts: dict) -> dict:
    return {code: n for code, n in counts.items() if n}


def test_each_section_counts_the_clues_of_the_period(people, clues):
    figures = figures_compute(user=people["city_proc"], period=THIS_YEAR)
    created = list(clues.values())
    assert figures.clues == len(created)
    assert figures.confidential == sum(clue.confidential for clue in created)
    assert nonzero(rows(figures.by_category)) == Counter(clue.category for clue in created)
    assert nonzero(rows(figures.by_status)) == Counter(clue.status for clue in created)
    assert nonzero(rows(figures.by_source)) == Counter(clue.source for clue in created)
    assert rows(figures.by_district) == Counter(clue.district.code if clue.district else None for clue in created)
    month = f"{local_today():%Y-%m}"
    assert rows(figures.by_month) == {f"{THIS_YEAR.start.year}-{m:02d}": 0 for m in range(1, 13)} | {
        month: len(created)
    }
    # Every choice is listed, with its Chinese label, zeros included.
    assert [(row.code, row.label) for row in figures.by_category] == [(c, str(label)) for c, label in Category.choices]
    assert len(figures.by_status) == len(Status.choices) and len(figures.by_source) == len(Source.choices)
    assert figures.by_district[-1].label == "区外 Outside districts"  # the clue in no district comes last
    assert figures.transfers == Transfer.objects.filter(clue__in=created).count() == 3


def test_the_period_is_inclusive_in_shanghai_time(people, clues):
    Clue.objects.update(created_at=datetime.datetime(2024, 5, 10, 9, tzinfo=SHANGHAI))
    # 2025-12-31 16:30 UTC is 2026-01-01 00:30 in Shanghai: it belongs to 2026, not to 2025.
    new_year = datetime.datetime(2025, 12, 31, 16, 30, tzinfo=datetime.UTC)
    Clue.objects.filter(pk=clues["west_sand_2"].pk).update(created_at=new_year)
    # 2025-06-30 23:59 in Shanghai: the last minute of the first half of 2025.
    Clue.objects.filter(pk=clues["east"].pk).update(created_at=datetime.datetime(2025, 6, 30, 23, 59, tzinfo=SHANGHAI))

    def figures(start: datetime.date, end: datetime.date):
        return figures_compute(user=people["city_proc"], period=Period(start, end))

    january = figures(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))
    assert (january.clues, rows(january.by_category)["illegal_sand_mining"]) == (1, 1)
    assert rows(january.by_month) == {"2026-01": 1}
    assert figures(datetime.date(2025, 12, 31), datetime.date(2025, 12, 31)).clues == 0
    first_half = figures(datetime.date(2025, 1, 1), datetime.date(2025, 6, 30))
    assert (first_half.clues, nonzero(rows(first_half.by_category))) == (1, {"illegal_discharge": 1})
    assert [row.code for row in first_half.by_month] == [f"2025-{m:02d}" for m in range(1, 7)]
    assert figures(datetime.date(2025, 7, 1), datetime.date(2025, 12, 31)).clues == 0
    may_2024 = figures(datetime.date(2024, 5, 10), datetime.date(2024, 5, 10))
    assert may_2024.clues == len(clues) - 2


def test_a_district_prosecutor_counts_only_what_it_may_see(people, clues):
    # 甲区's procuratorate received west_sand and was copied on cross; 乙区's received east and was
    # copied on cross. Neither sees the other's clue, the unsent ones, nor 乙区's confidential one.
    west = figures_compute(user=people["west_proc"], period=THIS_YEAR)
    assert west.clues == 2
    assert nonzero(rows(west.by_category)) == {"illegal_sand_mining": 1, "obstruction": 1}
    east = figures_compute(user=people["east_proc"], period=THIS_YEAR)
    assert east.clues == 2 and east.confidential == 0
    assert nonzero(rows(east.by_category)) == {"illegal_discharge": 1, "obstruction": 1}
    assert rows(east.by_district) == {"990001": 1, "990002": 1}


def test_the_municipal_procuratorate_counts_every_clue_of_its_city(people, clues, world):
    # Its plain visibility covers cross-district, outside and confidential clues only (DESIGN §5) ...
    visible = set(Clue.objects.visible_to(people["city_proc"]).values_list("code", flat=True))
    assert visible == {clues[name].code for name in ("cross", "outside", "east_secret")}
    # ... its figures count every clue of the city, unsent district clues included.
    assert set(figures_scope(people["city_proc"]).values_list("code", flat=True)) == {c.code for c in clues.values()}
    figures = figures_compute(user=people["city_proc"], period=THIS_YEAR)
    assert (figures.clues, figures.confidential) == (len(clues), 1)
    # A clue of another city is not counted.
    other = district("980000", "远市", box(100_000, 0, 120_000, 20_000), level="city")
    agencies_derive([other])
    Clue.objects.filter(pk=clues["outside"].pk).update(city=other)
    assert figures_compute(user=people["city_proc"], period=THIS_YEAR).clues == len(clues) - 1


def test_a_user_without_agency_counts_nothing(people, clues, django_user_model):
    nobody = django_user_model.objects.create(username="nobody")
    figures = figures_compute(user=nobody, period=THIS_YEAR)
    assert figures.clues == 0 and nonzero(rows(figures.by_category)) == {}


def sent_to_west_proc(people, n: int) -> list[Clue]:
    made = [register(people["west_ro"], "990001-RCO", 3_000 + 100 * i, 1_050) for i in range(n)]
    for clue in made:
        clue_step(clue=clue, user=people["west_ro"], step="send")
    return made


def test_first_answers_and_feedback_in_time_late_overdue_and_pending(people):
    proc = people["west_proc"]
    today = local_today()
    yesterday = today - datetime.timedelta(days=1)
    in_time, late, overdue, pending, closed_fed, closed_late, closed_overdue = sent_to_west_proc(people, 7)
    for clue in (in_time, late, closed_fed, closed_late, closed_overdue):
        clue_step(clue=clue, user=proc, step="accept")
        clue_step(clue=clue, user=proc, step="answer")
    # Answered today against a due date of yesterday: late.
    Transfer.objects.filter(clue=late).update(first_answer_due=yesterday)
    Transfer.objects.filter(clue__in=[overdue, closed_overdue]).update(first_answer_due=yesterday)
    Transfer.objects.filter(clue=closed_overdue).update(first_answer_at=None)
    for clue in (closed_fed, closed_late, closed_overdue):
        for step in ("investigate", "not_file", "close"):
            clue_step(clue=clue, user=proc, step=step)
    clue_step(clue=closed_fed, user=proc, step="give_feedback")
    Transfer.objects.filter(clue=closed_late).update(feedback_due=yesterday)
    clue_step(clue=closed_late, user=proc, step="give_feedback")
    Transfer.objects.filter(clue=closed_overdue).update(feedback_due=yesterday)

    figures = figures_compute(user=people["west_ro"], period=THIS_YEAR)
    answers, feedback = figures.first_answers, figures.feedback
    # in time: in_time, closed_fed, closed_late; late: late; overdue: overdue, closed_overdue; pending: pending.
    assert (answers.in_time, answers.late, answers.overdue, answers.pending) == (3, 1, 2, 1)
    assert answers.total == Transfer.objects.count() == 7
    # Only the three closed clues have a feedback deadline.
    assert (feedback.in_time, feedback.late, feedback.overdue, feedback.pending) == (1, 1, 1, 0)
    # Judged on another day, what is not done yet becomes overdue.
    later = figures_compute(user=people["west_ro"], period=THIS_YEAR, today=today + datetime.timedelta(days=400))
    assert (later.first_answers.overdue, later.first_answers.pending) == (3, 0)


def test_suggestions_replied_in_time_late_and_overdue(people):
    proc, office = people["west_proc"], people["west_ro"]
    yesterday = local_today() - datetime.timedelta(days=1)
    made = sent_to_west_proc(people, 4)
    for clue in made:
        for step in ("accept", "investigate", "file_case"):
            clue_step(clue=clue, user=proc, step=step)
        clue_step(
            clue=clue,
            user=proc,
            step="issue_suggestion",
            addressee=Agency.objects.get(code="990001-RCO"),
            content="请依法履职",
        )
    replied, replied_late, overdue, pending = (Suggestion.objects.get(clue=clue) for clue in made)
    suggestion_reply(suggestion=replied, user=office, text="已整改")
    Suggestion.objects.filter(pk__in=[replied_late.pk, overdue.pk]).update(reply_due=yesterday)
    suggestion_reply(suggestion=replied_late, user=office, text="已整改，逾期")
    Suggestion.objects.filter(pk=overdue.pk).update(escalated_at=datetime.datetime.now(tz=SHANGHAI))

    figures = figures_compute(user=proc, period=THIS_YEAR)
    replies = figures.suggestion_replies
    assert (replies.in_time, replies.late, replies.overdue, replies.pending) == (1, 1, 1, 1)
    assert (figures.suggestions, figures.suggestions_escalated) == (4, 1)


# The API ----------------------------------------------------------------------------------------


def test_api_answers_the_sections_with_labels(people, clues):
    response = client_for(people["city_proc"]).get("/api/v1/figures/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"from": THIS_YEAR.start.isoformat(), "to": THIS_YEAR.end.isoformat()}
    assert body["totals"]["clues"] == len(clues) and body["totals"]["confidential"] == 1
    sand = next(row for row in body["by_category"] if row["code"] == "illegal_sand_mining")
    assert sand == {"code": "illegal_sand_mining", "label": "非法采砂", "count": 2}
    registered = next(row for row in body["by_status"] if row["code"] == "registered")
    assert registered["label"] == "登记 Registered"
    assert registered["count"] == sum(clue.status == "registered" for clue in clues.values())
    assert set(body["transfers"]) == {"first_answer", "feedback"}
    assert body["transfers"]["first_answer"]["pending"] == 3
    assert set(body["suggestions"]) == {"replies", "escalated"}
    west = client_for(people["west_proc"]).get("/api/v1/figures/").json()
    assert west["totals"]["clues"] == 2


def test_api_filters_by_period(people, clues):
    Clue.objects.filter(pk=clues["east"].pk).update(created_at=datetime.datetime(2024, 3, 5, 12, tzinfo=SHANGHAI))
    client = client_for(people["city_proc"])
    body = client.get("/api/v1/figures/", {"from": "2024-03-01", "to": "2024-03-31"}).json()
    assert body["totals"]["clues"] == 1
    assert body["by_month"] == [{"code": "2024-03", "label": "2024年3月", "count": 1}]
    # Only `from`: to the end of that year; only `to`: from the start of that year.
    assert client.get("/api/v1/figures/", {"from": "2024-01-01"}).json()["period"]["to"] == "2024-12-31"
    assert client.get("/api/v1/figures/", {"to": "2024-06-30"}).json()["period"]["from"] == "2024-01-01"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-07-01", "to": "2026-06-30"}, "to"),
        ({"from": "1999-12-31", "to": "2000-01-31"}, "from"),
    ],
)
@pytest.mark.parametrize("export", [None, "csv", "xlsx"])
def test_bad_periods_are_400_with_a_message_per_field(people, params, field, export):
    query = {**params, **({"format": export} if export else {})}
    response = client_for(people["city_proc"]).get("/api/v1/figures/", query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert list(response.json()) == [field] and response.json()[field]


def test_anonymous_gets_401(world):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/figures/").status_code == 401


def test_csv_export_has_a_bom_and_one_table_per_section(people, clues):
    response = client_for(people["city_proc"]).get("/api/v1/figures/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="figures-' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    titles = [lines[i + 1][0] for i, line in enumerate(lines[:-1]) if line == []]
    assert [lines[0][0], *titles] == [
        "概况 Summary",
        "按类别 By category",
        "按区县 By district",
        "按状态 By status",
        "按来源 By source",
        "按月份 By month",
        "移送答复 Transfers answered",
        "检察建议回复 Suggestion replies",
    ]
    start = lines.index(["按类别 By category"])
    assert lines[start + 1] == ["代码 code", "名称 name", "数量 count"]
    assert ["illegal_sand_mining", "非法采砂", "2"] in lines[start + 2 : start + 2 + len(Category.choices)]
    assert ["线索总数 clues", str(len(clues))] in lines


def test_xlsx_export_has_one_sheet_per_section(people, clues):
    response = client_for(people["city_proc"]).get("/api/v1/figures/", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:2] == ["概况 Summary", "按类别 By category"] and len(workbook.sheetnames) == 8
    by_district = list(workbook["按区县 By district"].iter_rows(values_only=True))
    assert by_district[0] == ("代码 code", "名称 name", "数量 count")
    expected = Counter(clue.district.code if clue.district else None for clue in clues.values())
    assert {code: count for code, _, count in by_district[1:]} == expected
    transfers = list(workbook["移送答复 Transfers answered"].iter_rows(values_only=True))
    assert transfers[1][0] == "首次答复 first answer" and transfers[1][-1] == 3


def test_the_schema_documents_the_exports(people):
    response = client_for(people["city_proc"]).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/figures/"]["get"]
    assert {"from", "to", "format"} <= {parameter["name"] for parameter in operation["parameters"]}
    assert {"application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(
        operation["responses"]["200"]["content"]
    )


# One statement (issue 10) ------------------------------------------------------------------------


def figures_by_the_orm(user, period: Period, today: datetime.date):  # noqa: ANN001, ANN201 - the old answer
    """Return the figures as the ORM computed them before issue 10, one query per section (the reference)."""
    from django.db.models import Count, F, Q
    from django.db.models.functions import TruncDate, TruncMonth

    from clues.figures import LOCAL_TZ, OUTSIDE_DISTRICTS_LABEL, Row, Timeliness

    start, end = period.bounds()
    clues = figures_scope(user).filter(created_at__gte=start, created_at__lt=end)

    def choice_rows(name, choices):  # noqa: ANN001, ANN202
        counts = dict(clues.order_by().values_list(name).annotate(n=Count("pk")))
        return [Row(code, str(label), counts.get(code, 0)) for code, label in choices.choices]

    def timeliness(queryset, done, due):  # noqa: ANN001, ANN202
        is_done, no_due = Q(**{f"{done}__isnull": False}), Q(**{f"{due}__isnull": True})
        return Timeliness(
            **queryset.annotate(done_on=TruncDate(done, tzinfo=LOCAL_TZ)).aggregate(
                in_time=Count("pk", filter=is_done & (no_due | Q(done_on__lte=F(due)))),
                late=Count("pk", filter=is_done & Q(done_on__gt=F(due))),
                overdue=Count("pk", filter=~is_done & Q(**{f"{due}__lt": today})),
                pending=Count("pk", filter=~is_done & (no_due | Q(**{f"{due}__gte": today}))),
            )
        )

    grouped = clues.order_by().values("district__code", "district__name").annotate(n=Count("pk"))
    months = clues.order_by().annotate(month=TruncMonth("created_at", tzinfo=LOCAL_TZ)).values("month")
    month_counts = {item["month"].date(): item["n"] for item in months.annotate(n=Count("pk"))}
    transfers = Transfer.objects.filter(clue__in=clues.values("pk"))
    suggestions = Suggestion.objects.filter(clue__in=clues.values("pk"))
    closed = [Status.CLOSED, Status.FEEDBACK_GIVEN, Status.MERGED]
    return {
        **clues.aggregate(
            clues=Count("pk"),
            confidential=Count("pk", filter=Q(confidential=True)),
            open=Count("pk", filter=~Q(status__in=closed)),
        ),
        "transfers": transfers.count(),
        "suggestions": suggestions.count(),
        "by_category": choice_rows("category", Category),
        "by_district": sorted(
            [Row(g["district__code"], g["district__name"] or OUTSIDE_DISTRICTS_LABEL, g["n"]) for g in grouped],
            key=lambda row: (row.code is None, row.code or ""),
        ),
        "by_status": choice_rows("status", Status),
        "by_source": choice_rows("source", Source),
        "by_month": [Row(f"{m:%Y-%m}", f"{m.year}年{m.month}月", month_counts.get(m, 0)) for m in period.months()],
        "first_answers": timeliness(transfers, "first_answer_at", "first_answer_due"),
        "feedback": timeliness(transfers.filter(feedback_due__isnull=False), "feedback_at", "feedback_due"),
        "suggestion_replies": timeliness(suggestions, "reply_at", "reply_due"),
        "suggestions_escalated": suggestions.filter(escalated_at__isnull=False).count(),
    }


def test_the_one_statement_answers_what_the_queries_per_section_answered(people, clues):
    proc = people["west_proc"]
    yesterday = local_today() - datetime.timedelta(days=1)
    for clue in sent_to_west_proc(people, 3):
        clue_step(clue=clue, user=proc, step="accept")
    Transfer.objects.filter(to_agency__code="990001-PROC").update(first_answer_due=yesterday)
    Clue.objects.filter(pk=clues["west_discharge"].pk).update(
        created_at=datetime.datetime(THIS_YEAR.start.year, 3, 31, 23, 30, tzinfo=SHANGHAI)
    )
    for who in ("west_ro", "east_ro", "west_proc", "city_proc"):
        user = people[who]
        for period in (THIS_YEAR, Period(THIS_YEAR.start, THIS_YEAR.start + datetime.timedelta(days=89))):
            for today in (local_today(), local_today() + datetime.timedelta(days=400)):
                figures = figures_compute(user=user, period=period, today=today)
                expected = figures_by_the_orm(user, period, today)
                assert {name: getattr(figures, name) for name in expected} == expected, (who, period, today)


def test_the_figures_are_one_statement_whatever_the_number_of_clues(people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            figures_compute(user=people["city_proc"], period=THIS_YEAR)
        return [query["sql"] for query in captured.captured_queries if "clues_clue" in query["sql"]]

    few = statements()
    sent_to_west_proc(people, 6)
    many = statements()
    assert len(few) == len(many) == 1


def tally_rows() -> set:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT city_id, day, dim, value, due, n, confidential FROM clues_figuretally")
        return set(cursor.fetchall())


def test_the_tallies_hold_what_the_tables_hold_folded_or_not(people, clues):
    """The triggers' deltas, folded into the tallies, are what counting the tables gives (clues.tallies);
    the municipal procuratorate's figures are the same before and after the fold."""
    from django.conf import settings

    from clues.tallies import tallies_rebuild
    from clues.tasks import fold_figure_tallies

    proc, city_proc = people["west_proc"], people["city_proc"]
    made = sent_to_west_proc(people, 3)
    clue_step(clue=made[0], user=proc, step="accept")
    Transfer.objects.filter(clue=made[1]).update(first_answer_due=local_today() - datetime.timedelta(days=1))
    # A clue moved to another day moves its transfer's parts with it.
    Clue.objects.filter(pk=made[2].pk).update(
        created_at=datetime.datetime(THIS_YEAR.start.year, 2, 3, 10, 0, tzinfo=SHANGHAI), confidential=True
    )
    before = figures_compute(user=city_proc, period=THIS_YEAR)
    expected = figures_by_the_orm(city_proc, THIS_YEAR, before.today)
    assert {name: getattr(before, name) for name in expected} == expected
    assert before.confidential == Clue.objects.filter(confidential=True).count() >= 1
    assert all(type(row.count) is int for row in before.by_category + before.by_district + before.by_month)
    assert settings.CELERY_BEAT_SCHEDULE["clues-fold-figure-tallies"]["task"] == fold_figure_tallies.name
    assert fold_figure_tallies() > 0
    assert fold_figure_tallies() == 0  # nothing left to move
    assert figures_compute(user=city_proc, period=THIS_YEAR) == before
    folded = tally_rows()
    tallies_rebuild()
    assert tally_rows() == folded
    assert figures_compute(user=city_proc, period=THIS_YEAR) == before

    # Moved back to its own day, the clue leaves 3 February with nothing: the fold drops those keys' rows
    # (the tally holds no row counting nothing, as a rebuild from the tables holds none).
    february = datetime.date(THIS_YEAR.start.year, 2, 3)
    assert any(row[1] == february for row in folded)
    Clue.objects.filter(pk=made[2].pk).update(created_at=made[2].created_at)
    assert fold_figure_tallies() > 0
    folded = tally_rows()
    assert not [row for row in folded if row[1] == february or row[5] == 0]
    tallies_rebuild()
    assert tally_rows() == folded
