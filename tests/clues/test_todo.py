"""What is due from a user (待办, /api/v1/todo/): the inbox's counts and items (issue 9 §5).

The world is tests/clues/conftest.py's: 甲区's river office (west_ro) sends a clue to 甲区's
procuratorate (west_proc); west_liaison works in 甲区's liaison office, which acts for every agency of
甲区 (the same people the deadline sweep tells, clues.notifications.responsible_users).
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clues.models import Notification
from clues.todo import todo_for
from patrols.plans import local_today
from tests.clues.conftest import client_for
from tests.clues.test_notifications import sent, steps, with_suggestion

DAY = datetime.timedelta(days=1)


def test_a_received_clue_awaits_its_first_answer_from_the_procuratorate(people):
    clue = sent(people)
    due = clue.transfers.get().first_answer_due
    todo = todo_for(people["west_proc"], today=due - 2 * DAY)
    assert (todo.total, todo.overdue, todo.due_soon) == (1, 0, 1)
    [item] = todo.items
    assert (item.kind, item.clue, item.clue_code, item.due, item.state) == (
        "first_answer",
        clue.pk,
        clue.code,
        due,
        "due_soon",
    )
    assert todo_for(people["west_proc"], today=due + DAY).items[0].state == "overdue"
    assert todo_for(people["west_proc"], today=due - 10 * DAY).items[0].state == "pending"
    # The liaison office acts for its district's agencies; the sender and another district do not.
    assert [i.clue for i in todo_for(people["west_liaison"], today=due).items if i.clue] == [clue.pk]
    for name in ("west_ro", "east_proc", "city_proc"):
        assert todo_for(people[name], today=due).total == 0, name
    # Answered: nothing is due any more.
    steps(clue, people["west_proc"], "accept", "answer")
    assert todo_for(people["west_proc"], today=due).total == 0


def test_a_suggestion_awaits_its_reply_from_the_addressee(people):
    clue = with_suggestion(people)
    suggestion = clue.suggestions.get()
    todo = todo_for(people["west_ro"], today=suggestion.reply_due + DAY)
    [item] = [i for i in todo.items if i.kind == "suggestion_reply"]
    assert (item.suggestion, item.clue, item.state) == (suggestion.pk, clue.pk, "overdue")
    assert todo.overdue >= 1


def test_a_hidden_clue_is_in_no_item_and_no_count(people):
    clue = sent(people, confidential=True)
    due = clue.transfers.get().first_answer_due
    # Confidential: the holder (west_proc) sees it, the liaison office of the district does not.
    assert todo_for(people["west_proc"], today=due).total == 1
    liaison = todo_for(people["west_liaison"], today=due)
    assert not [i for i in liaison.items if i.clue]
    assert liaison.total == len([i for i in liaison.items if i.district])  # only the year's plans


def test_a_liaison_officer_is_due_the_years_plans_in_q1(people):
    today = local_today()
    todo = todo_for(people["west_liaison"], today=today)
    plans = {i.kind: i for i in todo.items if i.district}
    assert set(plans) == {"work_plan", "focus_plan"}
    assert plans["work_plan"].district == "990001" and plans["work_plan"].due.year == today.year
    assert not [i for i in todo_for(people["west_proc"], today=today).items if i.district]


def test_the_endpoint_answers_counts_and_items_in_a_fixed_number_of_queries(people):
    clues = [sent(people) for _ in range(3)]
    api = client_for(people["west_proc"])
    Notification.objects.create(
        user=people["west_proc"], key="k1", clue=clues[0], kind="first_answer_due_soon", message="m"
    )

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/todo/")
        assert response.status_code == 200
        return len(queries)

    few = count_queries()
    for _ in range(5):
        clue = sent(people)
        with_suggestion(people)
    body = api.get("/api/v1/todo/").json()
    assert body["unread"] == 1 and body["total"] == len(body["items"]) == 3 + 5
    assert {item["kind"] for item in body["items"]} == {"first_answer"}  # suggestions went to the river office
    assert count_queries() == few
    assert clue.pk in {item["clue"] for item in body["items"]}


def test_the_item_list_is_capped_but_the_counts_are_not(people):
    for _ in range(4):
        sent(people)
    todo = todo_for(people["west_proc"], shown=2)
    assert (todo.total, len(todo.items)) == (4, 2)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_inbox_is_read_only_and_for_signed_in_users(people, client, method):
    assert client.get("/api/v1/todo/").status_code in (401, 403)
    assert getattr(client_for(people["west_proc"]), method)("/api/v1/todo/").status_code == 405


def test_a_notification_names_the_suggestion_it_is_about(people):
    clue = with_suggestion(people)
    suggestion = clue.suggestions.get()
    Notification.objects.create(
        user=people["west_ro"],
        key=f"suggestion_reply:suggestion:{suggestion.pk}:overdue:2026-01-01",
        clue=clue,
        kind="suggestion_reply_overdue",
        message="m",
    )
    [row] = client_for(people["west_ro"]).get("/api/v1/notifications/").json()["results"]
    assert (row["clue"], row["suggestion"]) == (clue.pk, suggestion.pk)
