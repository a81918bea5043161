"""The year's plan (issue 4 §1): the focus and the work points as revisions, who may set them, the Q1
deadline, and the API's answers to bad input.

The world is tests.clues.conftest's: 甲区 990001 and 乙区 990002 in the city 990000, each with its
procuratorate, river office and liaison office; `west_liaison` is the liaison officer of 甲区.
"""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection

from patrols.models import FocusItem, FocusPlan, WorkPlan
from patrols.plans import PlanInvalid, focus_set, plans_status, work_plan_set
from tests.patrols.conftest import client_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2025
FOCUS = [("illegal_sand_mining", "綦河沿线采砂点"), ("illegal_fishing", "禁渔期"), ("flood_safety", "")]


def set_focus(people, items=FOCUS, **extra) -> FocusPlan:
    values = {"chief_order": "区级1号总河长令", "note": "", **extra}
    return focus_set(user=people["west_liaison"], district=people["world"]["west"], year=YEAR, items=items, **values)


@pytest.fixture
def people(people, world):
    """The shared people, with the districts under `world`."""
    return {**people, "world": world}


def test_a_change_is_a_new_revision_and_history_is_kept(people):
    west = people["world"]["west"]
    first = set_focus(people)
    second = set_focus(people, items=[("illegal_sand_mining", "全年"), ("reclamation", "")], note="调整")
    assert (first.revision, second.revision) == (1, 2)
    status = plans_status(west, YEAR, today=datetime.date(YEAR, 2, 1))
    assert status.focus.current == second
    assert [plan.revision for plan in status.focus.history] == [2, 1]
    # Each revision keeps its own items: the first is not rewritten by the second.
    assert [(i.category, i.note) for i in status.focus.history[1].items.all()] == FOCUS
    assert [i.category for i in status.focus.current.items.all()] == ["illegal_sand_mining", "reclamation"]
    # Revisions count per district and year.
    assert focus_set(user=people["west_liaison"], district=west, year=YEAR + 1, items=FOCUS).revision == 1

    plans = [work_plan_set(user=people["west_liaison"], district=west, year=YEAR, content=f"要点 {n}") for n in (1, 2)]
    status = plans_status(west, YEAR, today=datetime.date(YEAR, 2, 1))
    assert [p.revision for p in plans] == [1, 2]
    assert [p.content for p in status.work_plan.history] == ["要点 2", "要点 1"]


@pytest.mark.parametrize(
    ("today", "missing", "overdue"),
    [
        (datetime.date(YEAR, 1, 15), True, False),
        (datetime.date(YEAR, 3, 31), True, False),  # the last day of Q1 is still in time
        (datetime.date(YEAR, 4, 1), True, True),
        (datetime.date(YEAR + 1, 6, 1), True, True),
    ],
)
def test_work_points_are_due_by_the_end_of_the_first_quarter(people, today, missing, overdue):
    status = plans_status(people["world"]["west"], YEAR, today=today)
    assert status.work_plan.due == datetime.date(YEAR, 3, 31)
    assert (status.work_plan.missing, status.work_plan.overdue) == (missing, overdue)
    assert status.work_plan.current is None and status.work_plan.history == []
    # The focus is due on the same day by default (FOCUS_PLAN_DUE).
    assert (status.focus.due, status.focus.overdue) == (datetime.date(YEAR, 3, 31), overdue)


def test_a_plan_set_is_neither_missing_nor_overdue_and_late_when_set_after_q1(people):
    west = people["world"]["west"]
    plan = work_plan_set(user=people["west_liaison"], district=west, year=YEAR, content="一、联合巡查……")
    # 31 March 23:30 in 綦江 is still in time; 1 April 00:30 is not (dates are Asia/Shanghai dates).
    in_time = datetime.datetime(YEAR, 3, 31, 23, 30, tzinfo=SHANGHAI)
    WorkPlan.objects.filter(pk=plan.pk).update(created_at=in_time)
    status = plans_status(west, YEAR, today=datetime.date(YEAR, 6, 1)).work_plan
    assert (status.missing, status.overdue, status.late, status.first_set_on) == (
        False,
        False,
        False,
        datetime.date(YEAR, 3, 31),
    )
    WorkPlan.objects.filter(pk=plan.pk).update(created_at=in_time + datetime.timedelta(hours=1))
    status = plans_status(west, YEAR, today=datetime.date(YEAR, 6, 1)).work_plan
    assert (status.missing, status.overdue, status.late) == (False, False, True)


@pytest.mark.parametrize("who", ["west_proc", "west_ro", "east_proc", "city_proc"])
def test_only_the_districts_liaison_officers_set_the_plan(people, member, who):
    west = people["world"]["west"]
    with pytest.raises(PermissionDenied):
        focus_set(user=people[who], district=west, year=YEAR, items=FOCUS)
    with pytest.raises(PermissionDenied):
        work_plan_set(user=people[who], district=west, year=YEAR, content="要点")
    # A liaison officer of another district, or with another role in the liaison office, may not either.
    others = [member("east_liaison", "990002-LIAISON", "liaison"), member("west_office", "990001-LIAISON", "patrol")]
    for user in others:
        with pytest.raises(PermissionDenied):
            focus_set(user=user, district=west, year=YEAR, items=FOCUS)
    assert not FocusPlan.objects.exists() and not WorkPlan.objects.exists()


@pytest.mark.parametrize(
    ("items", "year", "field"),
    [
        ([("fishing_with_dynamite", "")], YEAR, "items"),
        ([], YEAR, "items"),
        ([("flood_safety", ""), ("flood_safety", "again")], YEAR, "items"),
        (FOCUS, 1999, "year"),
        (FOCUS, 2101, "year"),
    ],
)
def test_bad_focus_is_refused_and_writes_nothing(people, items, year, field):
    with pytest.raises(PlanInvalid) as refused:
        focus_set(user=people["west_liaison"], district=people["world"]["west"], year=year, items=items)
    assert field in refused.value.errors
    assert not FocusPlan.objects.exists() and not FocusItem.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_take_successive_revisions(people):
    west, liaison = people["world"]["west"], people["west_liaison"]
    barrier = threading.Barrier(6)
    revisions: list[int] = []
    errors: list[BaseException] = []

    def save(n: int):
        barrier.wait()
        try:
            revisions.append(focus_set(user=liaison, district=west, year=YEAR, items=FOCUS, note=str(n)).revision)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(revisions) == [1, 2, 3, 4, 5, 6]
    assert FocusItem.objects.count() == 6 * len(FOCUS)


# --- API -------------------------------------------------------------------------------------------


def focus_body(**overrides) -> dict:
    return {
        "district": "990001",
        "year": YEAR,
        "chief_order": "区级1号总河长令",
        "items": [{"category": c, "note": n} for c, n in FOCUS],
        **overrides,
    }


def test_api_posts_revisions_and_reads_current_and_history(people):
    liaison = client_for(people["west_liaison"])
    created = liaison.post("/api/v1/focus/", focus_body(), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["current"]["revision"] == 1
    # District and year may come in the query string.
    body = focus_body(items=[{"category": "reclamation"}])
    del body["district"], body["year"]
    again = liaison.post(f"/api/v1/focus/?district=990001&year={YEAR}", body, format="json")
    assert again.status_code == 201, again.content

    answer = client_for(people["west_proc"]).get(f"/api/v1/focus/?district=990001&year={YEAR}")
    assert answer.status_code == 200
    data = answer.json()
    assert data["district"] == {"code": "990001", "name": "甲区"}
    assert (data["year"], data["due"], data["missing"]) == (YEAR, f"{YEAR}-03-31", False)
    assert data["current"]["revision"] == 2
    assert data["current"]["items"] == [{"category": "reclamation", "label": "围垦", "note": ""}]
    assert [plan["revision"] for plan in data["history"]] == [2, 1]
    assert data["history"][1]["items"][0] == {
        "category": "illegal_sand_mining",
        "label": "非法采砂",
        "note": "綦河沿线采砂点",
    }
    assert data["history"][1]["created_by"] == "west_liaison"

    work = liaison.post("/api/v1/work-plans/", {"district": "990001", "year": YEAR, "content": "一、……"}, format="json")
    assert work.status_code == 201, work.content
    data = client_for(people["city_proc"]).get(f"/api/v1/work-plans/?district=990001&year={YEAR}").json()
    assert (data["missing"], data["overdue"], data["current"]["content"]) == (False, False, "一、……")


def test_api_missing_work_points_are_overdue_after_q1(people):
    data = client_for(people["west_liaison"]).get(f"/api/v1/work-plans/?district=990001&year={YEAR}").json()
    # Today is after 31 March 2025, whenever the tests run.
    assert (data["missing"], data["overdue"], data["current"], data["history"]) == (True, True, None, [])


def test_api_non_liaison_gets_403_and_nothing_is_written(people):
    for who in ("west_proc", "west_ro", "city_proc"):
        client = client_for(people[who])
        assert client.post("/api/v1/focus/", focus_body(), format="json").status_code == 403
        work = {"district": "990001", "year": YEAR, "content": "要点"}
        assert client.post("/api/v1/work-plans/", work, format="json").status_code == 403
    assert not FocusPlan.objects.exists() and not WorkPlan.objects.exists()


def test_api_plans_are_read_only_where_the_user_works(people):
    # 乙区's prosecutor does not see 甲区's plans; someone in no agency sees none.
    assert client_for(people["east_proc"]).get("/api/v1/focus/?district=990001").status_code == 403
    stranger = get_user_model().objects.create(username="stranger")
    assert client_for(stranger).get("/api/v1/work-plans/?district=990001").status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"year": "twenty"}, "year"),
        ({"year": 1999}, "year"),
        ({"year": 2101}, "year"),
        ({"district": "999999"}, "district"),
        ({"items": [{"category": "fishing_with_dynamite"}]}, "items"),
        ({"items": []}, "items"),
        ({"items": [{"category": "flood_safety"}, {"category": "flood_safety"}]}, "items"),
        ({"chief_order": "令" * 201}, "chief_order"),
    ],
)
def test_api_bad_focus_is_400_per_field(people, overrides, field):
    response = client_for(people["west_liaison"]).post("/api/v1/focus/", focus_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not FocusPlan.objects.exists()


@pytest.mark.parametrize(
    ("query", "field"),
    [("district=990001&year=abc", "year"), ("district=990001&year=1999", "year"), ("district=nope", "district")],
)
def test_api_bad_query_is_400_per_field(people, query, field):
    for path in ("/api/v1/focus/", "/api/v1/work-plans/"):
        response = client_for(people["west_liaison"]).get(f"{path}?{query}")
        assert response.status_code == 400 and field in response.json()
    response = client_for(people["west_liaison"]).get("/api/v1/work-plans/")
    assert response.status_code == 400 and "district" in response.json()
    empty = {"district": "990001", "year": YEAR, "content": "   "}
    response = client_for(people["west_liaison"]).post("/api/v1/work-plans/", empty, format="json")
    assert response.status_code == 400 and "content" in response.json()
