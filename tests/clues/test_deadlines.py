"""Deadlines as policy (DESIGN §4): each rule's length, month ends, and a change of policy that applies
to new deadlines only; the admin adds policy rows and changes nothing else."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clues.deadlines import add_months, deadline, due_soon_until, policy_check, policy_in_force
from clues.models import ClueEvent, DeadlinePolicy, DeadlineRule
from clues.workflow import clue_step
from rivers.models import Agency, Membership
from tests.clues.conftest import register

D = datetime.date


@pytest.mark.parametrize(
    "rule, start, due",
    [
        (DeadlineRule.FIRST_ANSWER, D(2026, 3, 10), D(2026, 4, 10)),  # seed 000: one month
        (DeadlineRule.FIRST_ANSWER, D(2026, 1, 31), D(2026, 2, 28)),  # 31 Jan + 1 month: February's end
        (DeadlineRule.FIRST_ANSWER, D(2028, 1, 31), D(2028, 2, 29)),  # ... in a leap year
        (DeadlineRule.FEEDBACK, D(2026, 12, 25), D(2027, 1, 4)),  # seed 002: ten days, over the year's end
        (DeadlineRule.SUGGESTION_REPLY, D(2026, 12, 31), D(2027, 2, 28)),  # two months, clamped
        (DeadlineRule.SUGGESTION_REPLY_URGENT, D(2026, 2, 20), D(2026, 3, 7)),  # 15 days (Feb 2026 has 28)
        (DeadlineRule.TRANSFER_INTERVAL, D(2026, 8, 31), D(2027, 2, 28)),  # seed 002: half a year, clamped
        (DeadlineRule.DUE_SOON, D(2026, 3, 10), D(2026, 3, 13)),  # warned three days ahead
    ],
)
def test_each_rule_follows_its_default_policy(db, rule, start, due):
    assert deadline(rule, start) == due


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2026, 3, 31), 1) == D(2026, 4, 30)
    assert add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)
    assert add_months(D(2026, 11, 15), 14) == D(2028, 1, 15)


def test_due_soon_window_follows_its_policy(db):
    assert due_soon_until(D(2026, 3, 10)) == D(2026, 3, 13)
    DeadlinePolicy.objects.create(rule=DeadlineRule.DUE_SOON, amount=7, unit="days", effective_from=D(2026, 4, 1))
    assert due_soon_until(D(2026, 3, 31)) == D(2026, 4, 3)
    assert due_soon_until(D(2026, 4, 1)) == D(2026, 4, 8)


def test_a_policy_applies_from_its_date_and_the_older_one_before_it(db):
    DeadlinePolicy.objects.create(rule=DeadlineRule.FEEDBACK, amount=7, unit="days", effective_from=D(2026, 7, 1))
    assert deadline(DeadlineRule.FEEDBACK, D(2026, 6, 30)) == D(2026, 7, 10)  # the default 10 days
    assert deadline(DeadlineRule.FEEDBACK, D(2026, 7, 1)) == D(2026, 7, 8)  # the new 7 days
    assert policy_in_force(DeadlineRule.FEEDBACK, D(2026, 6, 30)).effective_from == D(2000, 1, 1)
    # Before any row, and if the rows were lost, the built-in default of DESIGN §4 holds.
    assert deadline(DeadlineRule.FEEDBACK, D(1999, 12, 31)) == D(2000, 1, 10)
    DeadlinePolicy.objects.all().delete()
    assert deadline(DeadlineRule.FIRST_ANSWER, D(2026, 1, 31)) == D(2026, 2, 28)


def test_the_workflow_stores_each_deadline_by_the_policy_in_force(people):
    today = timezone.localdate()
    west_ro, west_proc = people["west_ro"], people["west_proc"]
    clue = clue_step(clue=register(west_ro, "990001-RCO", 4_000, 1_050), user=west_ro, step="send")
    transfer = clue.transfers.get()
    assert transfer.first_answer_due == add_months(today, 1)

    for step in ["accept", "investigate", "file_case"]:
        clue = clue_step(clue=clue, user=west_proc, step=step)
    rco = Agency.objects.get(code="990001-RCO")
    clue = clue_step(clue=clue, user=west_proc, step="issue_suggestion", addressee=rco, content="限期清理", urgent=True)
    assert clue.suggestions.get().reply_due == today + datetime.timedelta(days=15)

    other = clue_step(clue=register(west_ro, "990001-RCO", 4_100, 1_050), user=west_ro, step="send")
    for step in ["accept", "investigate"]:
        other = clue_step(clue=other, user=west_proc, step=step)
    other = clue_step(clue=other, user=west_proc, step="file_case")
    other = clue_step(clue=other, user=west_proc, step="issue_suggestion", addressee=rco, content="依法查处")
    assert other.suggestions.get().reply_due == add_months(today, 2)

    third = clue_step(clue=register(west_ro, "990001-RCO", 4_200, 1_050), user=west_ro, step="send")
    for step in ["accept", "investigate", "not_file", "close"]:
        third = clue_step(clue=third, user=west_proc, step=step)
    assert third.transfers.get().feedback_due == today + datetime.timedelta(days=10)


def test_a_policy_change_applies_to_new_deadlines_and_leaves_stored_ones(people):
    today = timezone.localdate()
    west_ro = people["west_ro"]
    before = clue_step(clue=register(west_ro, "990001-RCO", 4_000, 1_050), user=west_ro, step="send")
    # The locality agrees on 20 days instead of a month, from today.
    DeadlinePolicy.objects.create(
        rule=DeadlineRule.FIRST_ANSWER, amount=20, unit="days", effective_from=today, note="新协议"
    )
    after = clue_step(clue=register(west_ro, "990001-RCO", 4_100, 1_050), user=west_ro, step="send")

    assert before.transfers.get().first_answer_due == add_months(today, 1)
    assert after.transfers.get().first_answer_due == today + datetime.timedelta(days=20)


def test_a_new_policy_cannot_start_in_the_past(db):
    today = D(2026, 5, 20)
    policy_check(rule=DeadlineRule.FEEDBACK, amount=5, effective_from=today, today=today)
    policy_check(rule=DeadlineRule.DUE_SOON, amount=0, effective_from=today, today=today)  # no early warning
    with pytest.raises(ValidationError) as refused:
        policy_check(rule=DeadlineRule.FEEDBACK, amount=5, effective_from=D(2026, 5, 19), today=today)
    assert "effective_from" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        policy_check(rule=DeadlineRule.FEEDBACK, amount=0, effective_from=today, today=today)
    assert "amount" in refused.value.message_dict


# The admin (pytest-django's admin_client: a superuser) ----------------------------------------


def policy_form(effective_from: D, amount: int = 20) -> dict:
    return {"rule": "first_answer", "amount": amount, "unit": "days", "effective_from": effective_from, "note": "新"}


def test_admin_adds_a_policy_row_and_records_who(admin_client):
    today = timezone.localdate()
    assert admin_client.get("/admin/clues/deadlinepolicy/add/").status_code == 200
    response = admin_client.post("/admin/clues/deadlinepolicy/add/", policy_form(today))
    assert response.status_code == 302, response.content.decode()[:3000]
    added = DeadlinePolicy.objects.get(rule="first_answer", effective_from=today)
    assert (added.amount, added.created_by.username) == (20, "admin")
    assert policy_in_force("first_answer", today) == added
    listing = admin_client.get("/admin/clues/deadlinepolicy/")
    assert listing.status_code == 200
    assert "受理后首次答复" in listing.content.decode()


def test_admin_refuses_a_policy_starting_in_the_past_or_twice_on_a_day(admin_client):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = admin_client.post("/admin/clues/deadlinepolicy/add/", policy_form(yesterday))
    assert response.status_code == 200
    assert "不能早于今天" in response.content.decode()
    tomorrow = yesterday + datetime.timedelta(days=2)
    assert admin_client.post("/admin/clues/deadlinepolicy/add/", policy_form(tomorrow)).status_code == 302
    response = admin_client.post("/admin/clues/deadlinepolicy/add/", policy_form(tomorrow, amount=25))
    assert response.status_code == 200  # the unique (rule, effective_from) constraint, as a form error
    assert DeadlinePolicy.objects.filter(rule="first_answer", effective_from__gt=yesterday).count() == 1


def test_admin_neither_changes_nor_deletes_a_policy_row(admin_client):
    policy = DeadlinePolicy.objects.get(rule="first_answer", effective_from=D(2000, 1, 1))
    page = admin_client.get(f"/admin/clues/deadlinepolicy/{policy.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # view only
    changed = {**policy_form(policy.effective_from, amount=99)}
    assert admin_client.post(f"/admin/clues/deadlinepolicy/{policy.pk}/change/", changed).status_code == 403
    assert admin_client.post(f"/admin/clues/deadlinepolicy/{policy.pk}/delete/", {"post": "yes"}).status_code == 403
    policy.refresh_from_db()
    assert policy.amount == 1


def test_admin_shows_a_clue_on_a_map_with_its_history_and_changes_nothing(admin_client, admin_user, people):
    # The admin shows a superuser only the clues their agencies may see (DESIGN §5): this one works
    # in the procuratorate the clue is sent to.
    Membership.objects.create(user=admin_user, agency=Agency.objects.get(code="990001-PROC"), role="prosecutor")
    west_ro = people["west_ro"]
    clue = clue_step(clue=register(west_ro, "990001-RCO", 4_000, 1_050), user=west_ro, step="send")
    page = admin_client.get(f"/admin/clues/clue/{clue.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert clue.code in html
    assert "leaflet" in html.lower() and ".modifiable = false" in html  # the point on a map, not editable
    assert html.index(">register<") < html.index(">send<")  # the history inline, in order
    assert 'name="_save"' not in html
    assert admin_client.get("/admin/clues/clue/").status_code == 200
    assert admin_client.post(f"/admin/clues/clue/{clue.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/clues/clue/add/").status_code == 403
    event = ClueEvent.objects.filter(clue=clue).first()
    assert admin_client.get(f"/admin/clues/clueevent/{event.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/clues/clueevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/clues/clueevent/add/").status_code == 403
    for model in ["transfer", "suggestion", "notification"]:
        assert admin_client.get(f"/admin/clues/{model}/").status_code == 200
        assert admin_client.get(f"/admin/clues/{model}/add/").status_code == 403
    assert admin_client.get(f"/admin/clues/transfer/{clue.transfers.get().pk}/change/").status_code == 200
