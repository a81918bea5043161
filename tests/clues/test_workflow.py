"""The clue workflow (DESIGN §4): transfers both ways, each state's steps, deadlines set, races."""

import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clues.deadlines import add_months
from clues.models import Clue, Status, Transfer
from clues.workflow import StepForbidden, StepRefused, clue_step
from rivers.models import Agency
from tests.clues.conftest import client_for, register

# The path a district clue takes to each state, as (user key, step, params); river office first.
PATH = {
    Status.TRANSFERRED: [("west_ro", "send", {})],
    Status.ACCEPTED: [("west_proc", "accept", {})],
    Status.INVESTIGATING: [("west_proc", "investigate", {})],
    Status.CASE_FILED: [("west_proc", "file_case", {"case_number": "甲检公益〔2026〕7号"})],
    Status.SUGGESTION_ISSUED: [
        ("west_proc", "issue_suggestion", {"addressee": "990001-WATER", "content": "依法查处非法采砂", "urgent": False})
    ],
    Status.RECTIFIED: [("west_proc", "rectified", {})],
    Status.CLOSED: [("west_proc", "close", {})],
    Status.FEEDBACK_GIVEN: [("west_proc", "give_feedback", {})],
}
ORDER = list(PATH)


def params_for(values: dict) -> dict:
    return {k: Agency.objects.get(code=v) if k in ("addressee", "to") else v for k, v in values.items()}


def drive(people, to_state: str, clue: Clue | None = None) -> Clue:
    """Return a new district clue (in 甲区, on INSIDE) brought to `to_state` by the usual path."""
    clue = clue or register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    special = {
        Status.NOT_FILED: ORDER[: ORDER.index(Status.INVESTIGATING) + 1] + ["not_filed"],
        Status.LITIGATION: ORDER[: ORDER.index(Status.CASE_FILED) + 1] + ["litigation"],
    }
    states = special.get(to_state, ORDER[: ORDER.index(to_state) + 1] if to_state in ORDER else [])
    for state in states:
        if state == "not_filed":
            clue = clue_step(clue=clue, user=people["west_proc"], step="not_file", note="证据不足")
        elif state == "litigation":
            clue = clue_step(clue=clue, user=people["west_proc"], step="litigate")
        else:
            for user_key, step, values in PATH[state]:
                clue = clue_step(clue=clue, user=people[user_key], step=step, **params_for(values))
    assert clue.status == to_state
    return clue


# What DESIGN §4 allows from each state (the prosecutor acting on a procuratorate-held clue; the
# river office on a registered one). Steps not listed must be refused with 409.
ALLOWED = {
    Status.REGISTERED: {"send", "merge"},
    Status.TRANSFERRED: {"accept", "merge"},
    Status.ACCEPTED: {"answer", "investigate", "reverse", "merge"},
    Status.INVESTIGATING: {"answer", "file_case", "not_file", "reverse", "merge"},
    Status.CASE_FILED: {"answer", "issue_suggestion", "litigate"},
    Status.NOT_FILED: {"answer", "close", "reverse"},
    Status.SUGGESTION_ISSUED: {"answer", "rectified", "litigate"},
    Status.RECTIFIED: {"answer", "record_outcome", "close"},
    Status.LITIGATION: {"answer", "record_outcome", "close"},
    Status.CLOSED: {"record_outcome", "give_feedback"},
    Status.FEEDBACK_GIVEN: {"record_outcome"},
}
EVERY_STEP = [
    "send", "accept", "answer", "investigate", "file_case", "not_file", "issue_suggestion", "rectified",
    "litigate", "record_outcome", "close", "give_feedback", "reverse", "transfer_to_unit", "merge",
]  # fmt: skip
STEP_PARAMS = {
    "issue_suggestion": {"addressee": "990001-WATER", "content": "请依法履职"},
    "record_outcome": {"judgement": "判决被告恢复河道原状"},
    "transfer_to_unit": {"to": "990001-WATER"},
}


@pytest.mark.parametrize("state", list(ALLOWED))
def test_each_state_allows_its_steps_and_refuses_the_others(people, state):
    target = register(people["west_ro"], "990001-RCO", 4_100, 1_000)
    for step in EVERY_STEP:
        clue = drive(people, state)
        actor = people["west_ro"] if clue.holder.kind == "river_office" else people["west_proc"]
        params = params_for(STEP_PARAMS.get(step, {}))
        if step == "merge":
            params["into"] = target
        if step in ALLOWED[state]:
            after = clue_step(clue=clue, user=actor, step=step, **params)
            assert after.events.order_by("-seq").first().action == step
        else:
            with pytest.raises(StepRefused):
                clue_step(clue=clue, user=actor, step=step, **params)
            assert Clue.objects.get(pk=clue.pk).status == state


def test_a_district_clue_from_registration_to_feedback(people):
    clue = drive(people, Status.FEEDBACK_GIVEN)
    transfer = clue.transfers.get()
    assert (transfer.from_agency.code, transfer.to_agency.code, transfer.reason) == (
        "990001-RCO",
        "990001-PROC",
        "district",
    )
    # Seed 000: a first answer within a month of receipt; seed 002: feedback within 10 days of closing.
    assert transfer.first_answer_due == add_months(transfer.sent_at.astimezone().date(), 1)
    assert (transfer.feedback_due - clue.closed_at.astimezone().date()).days == 10
    assert transfer.feedback_at is not None and transfer.accepted_at is not None
    suggestion = clue.suggestions.get()
    assert suggestion.reply_due == add_months(suggestion.issued_at.astimezone().date(), 2)
    actions = list(clue.events.order_by("seq").values_list("action", flat=True))
    assert actions == [
        "register", "send", "accept", "investigate", "file_case", "issue_suggestion", "rectified", "close",
        "give_feedback",
    ]  # fmt: skip


def test_urgent_suggestion_reply_is_due_in_15_days_and_the_addressee_replies(people, member):
    clue = drive(people, Status.CASE_FILED)
    clue = clue_step(
        clue=clue, user=people["west_proc"], step="issue_suggestion", addressee=Agency.objects.get(code="990001-RCO"),
        content="立即清除河道障碍", urgent=True, pre_notify=True,
    )  # fmt: skip
    suggestion = clue.suggestions.get()
    assert (suggestion.reply_due - suggestion.issued_at.astimezone().date()).days == 15
    assert suggestion.pre_notified_at is not None
    # The river office answers in writing; nobody else may.
    refused = client_for(people["east_ro"]).post(f"/api/v1/suggestions/{suggestion.pk}/reply/", {"text": "x"})
    assert refused.status_code == 404
    replied = client_for(people["west_ro"]).post(f"/api/v1/suggestions/{suggestion.pk}/reply/", {"text": "已清除"})
    assert replied.status_code == 200 and replied.json()["reply_text"] == "已清除"
    again = client_for(people["west_ro"]).post(f"/api/v1/suggestions/{suggestion.pk}/reply/", {"text": "再次"})
    assert again.status_code == 409


def test_cross_district_send_goes_to_the_city_with_copies(people):
    clue = register(people["west_ro"], "990001-RCO", 7_000, 5_020)
    response = client_for(people["west_ro"]).post(f"/api/v1/clues/{clue.pk}/steps/send/", {}, format="json")
    assert response.status_code == 200
    transfer = response.json()["transfers"][0]
    assert transfer["to_agency"]["code"] == "990000-PROC"
    assert transfer["reason"] == "cross_district"
    assert transfer["copies"] == ["990001-PROC", "990002-PROC"]
    # Copied procuratorates see it; the municipal one holds it.
    for user_key in ("east_proc", "west_proc", "city_proc"):
        assert client_for(people[user_key]).get(f"/api/v1/clues/{clue.pk}/").status_code == 200
    assert "accept" in client_for(people["city_proc"]).get(f"/api/v1/clues/{clue.pk}/").json()["steps"]


def test_overriding_the_recipient_needs_a_written_reason(people):
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    client = client_for(people["west_ro"])
    url = f"/api/v1/clues/{clue.pk}/steps/send/"
    refused = client.post(url, {"to": "990002-PROC"}, format="json")
    assert refused.status_code == 400 and "override_reason" in refused.json()
    assert Clue.objects.get(pk=clue.pk).status == "registered" and not Transfer.objects.exists()
    sent = client.post(url, {"to": "990002-PROC", "override_reason": "涉案企业注册在乙区"}, format="json")
    assert sent.status_code == 200
    transfer = Transfer.objects.get(clue=clue)
    assert (transfer.to_agency.code, transfer.reason, transfer.override_reason) == (
        "990002-PROC", "manual", "涉案企业注册在乙区",
    )  # fmt: skip
    assert clue.events.order_by("-seq").first().data["to"] == "990002-PROC"


def test_reverse_transfer_to_the_river_office_and_on_to_a_responsible_unit(people):
    clue = drive(people, Status.INVESTIGATING)
    response = client_for(people["west_proc"]).post(
        f"/api/v1/clues/{clue.pk}/steps/reverse/", {"note": "需行政机关治理"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "transferred" and body["holder"]["code"] == "990001-RCO"
    assert body["transfers"][-1]["reason"] == "reverse"
    client = client_for(people["west_ro"])
    assert client.post(f"/api/v1/clues/{clue.pk}/steps/accept/", {}, format="json").status_code == 200
    passed = client.post(f"/api/v1/clues/{clue.pk}/steps/transfer_to_unit/", {"to": "990001-WATER"}, format="json")
    assert passed.status_code == 200 and passed.json()["holder"]["code"] == "990001-WATER"


def test_reverse_transfer_of_a_cross_district_clue_goes_to_the_city_river_office(people):
    clue = register(people["west_ro"], "990001-RCO", 7_000, 5_020)
    clue = clue_step(clue=clue, user=people["west_ro"], step="send")
    clue = clue_step(clue=clue, user=people["city_proc"], step="accept")
    clue = clue_step(clue=clue, user=people["city_proc"], step="reverse")
    assert clue.holder.code == "990000-RCO"


def test_investigative_steps_belong_to_prosecutors(people):
    clue = drive(people, Status.ACCEPTED)
    response = client_for(people["west_liaison"]).post(f"/api/v1/clues/{clue.pk}/steps/investigate/", {}, format="json")
    assert response.status_code == 403
    # A patrol member of the registering river office sees the clue but cannot send it.
    fresh = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    assert client_for(people["west_patrol"]).post(f"/api/v1/clues/{fresh.pk}/steps/send/", {}).status_code == 403


def test_a_visible_step_answers_the_clue_and_the_outcome(people):
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    client = client_for(people["west_ro"])
    body = client.post(f"/api/v1/clues/{clue.pk}/steps/send/", {}, format="json").json()
    assert body["visible"] is True and body["step"] == "send" and body["status"] == Status.TRANSFERRED
    assert body["description"] == clue.description and body["transfers"][0]["to_agency"]["code"] == "990001-PROC"


def test_a_late_step_on_a_confidential_clue_the_agency_sent_on_is_409(people):
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050, confidential=True)
    clue_step(clue=clue, user=people["west_ro"], step="send")
    url = f"/api/v1/clues/{clue.pk}/steps/send/"
    # The river office knows the clue (it registered and sent it), yet no longer sees it: a late send is 409.
    late = client_for(people["west_patrol"]).post(url, {}, format="json")
    assert late.status_code == 409 and "no longer visible" in late.json()["detail"]
    assert set(late.json()) == {"detail"}
    # To anyone else it still does not exist, the liaison officer who sees the district's work included.
    for user_key in ("west_liaison", "east_ro", "east_proc"):
        assert client_for(people[user_key]).post(url, {}, format="json").status_code == 404, user_key
    for pk in ("abc", "99999999999999999999"):
        assert client_for(people["west_ro"]).post(f"/api/v1/clues/{pk}/steps/send/", {}).status_code == 404


def test_merging_into_a_merged_clue_is_409(people):
    first, second, third = (register(people["west_ro"], "990001-RCO", 4_000 + n, 1_050) for n in range(3))
    clue_step(clue=second, user=people["west_ro"], step="merge", into=third)
    response = client_for(people["west_ro"]).post(
        f"/api/v1/clues/{first.pk}/steps/merge/", {"into": second.code}, format="json"
    )
    assert response.status_code == 409 and "merged" in response.json()["detail"]
    itself = client_for(people["west_ro"]).post(f"/api/v1/clues/{first.pk}/steps/merge/", {"into": first.code})
    assert itself.status_code == 400


def test_a_step_the_holder_change_took_away_is_409_only_for_who_could_take_it(people):
    # Both read the clue while the river office held it; a colleague then sent it to the procuratorate.
    target = register(people["west_ro"], "990001-RCO", 4_100, 1_050)
    seen = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    clue_step(clue=Clue.objects.get(pk=seen.pk), user=people["west_ro"], step="send")
    # The river office could merge it when it read it: it lost a race.
    with pytest.raises(StepRefused, match="changed meanwhile"):
        clue_step(clue=seen, user=people["west_ro"], step="merge", into=target)
    # A patrol member never could: still 403.
    with pytest.raises(StepForbidden):
        clue_step(clue=seen, user=people["west_patrol"], step="merge", into=target)


def test_unknown_step_is_404_or_400(people):
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    response = client_for(people["west_ro"]).post(f"/api/v1/clues/{clue.pk}/steps/explode/", {})
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_four_conflicting_steps_at_once_give_one_success(people):
    clue = register(people["west_ro"], "990001-RCO", 7_000, 5_020)
    clue = clue_step(clue=clue, user=people["west_ro"], step="send")  # now with 990000-PROC
    clue = clue_step(clue=clue, user=people["city_proc"], step="accept")
    clue = clue_step(clue=clue, user=people["city_proc"], step="investigate")
    token = Token.objects.create(user=people["city_proc"]).key
    # Two prosecutors decide at the same moment, two to file and two not to: one decision stands.
    requests = [
        ("file_case", {"case_number": "渝检公益〔2026〕1号"}),
        ("file_case", {"case_number": "渝检公益〔2026〕2号"}),
        ("not_file", {"note": "不符合立案条件"}),
        ("not_file", {"note": "证据不足"}),
    ]
    barrier = threading.Barrier(len(requests))
    answers: list[int] = []

    def take(step: str, values: dict):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            answers.append(client.post(f"/api/v1/clues/{clue.pk}/steps/{step}/", values, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409, 409, 409]
    decided = Clue.objects.get(pk=clue.pk)
    assert decided.status in ("case_filed", "not_filed")
    # register, send, accept, investigate, and the one decision that won
    assert list(decided.events.order_by("seq").values_list("action", flat=True))[-1] in ("file_case", "not_file")
    assert decided.events.count() == 5
