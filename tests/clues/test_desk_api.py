"""What the desk's clue page reads besides the clue (issue 9): the step forms, the deadlines, the
history's verification, and the possible duplicates of a clue not registered yet.

The world is tests.clues.conftest's: 甲区 990001 (0–10 km east), 乙区 990002 (10–20 km east); INSIDE
runs 2→8 km east at 1 km north in 甲区, CROSS 5→15 km east at 5 km north through both.
"""

import datetime
import inspect

from django.db.models import F
from django.utils import timezone

from clues.models import Clue, Suggestion, Transfer
from clues.serializers import StepSerializer
from clues.workflow import STEPS, clue_step
from tests.clues.conftest import client_for, location, register
from tests.clues.test_workflow import drive
from tests.factories import at


def forms_of(user, clue: Clue) -> dict:
    response = client_for(user).get(f"/api/v1/clues/{clue.pk}/steps/")
    assert response.status_code == 200, response.content
    return response.json()


def test_step_forms_follow_the_state_and_the_role(people):
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    forms = forms_of(people["west_ro"], clue)
    send = next(step for step in forms["steps"] if step["name"] == "send")
    assert [s["name"] for s in forms["steps"]] == ["send", "merge"]
    # Send goes where routing said, or elsewhere with a written reason: the form offers the city's procuratorates.
    assert send["recipient"] == {"code": "990001-PROC", "name": clue.routed_to.name}
    to, reason = send["params"]
    assert (to["name"], to["type"], to["required"]) == ("to", "agency", False)
    assert {"990001-PROC", "990002-PROC", "990000-PROC"} <= {a["code"] for a in to["choices"]}
    assert (reason["name"], reason["type"]) == ("override_reason", "long_text")
    # A patrol member of the same office sees the clue but takes no step on it.
    assert forms_of(people["west_patrol"], clue)["steps"] == []

    clue = drive(people, "investigating", clue)
    names = [s["name"] for s in forms_of(people["west_proc"], clue)["steps"]]
    assert {"file_case", "not_file", "reverse", "answer"} <= set(names)
    file_case = next(s for s in forms_of(people["west_proc"], clue)["steps"] if s["name"] == "file_case")
    assert [(p["name"], p["type"]) for p in file_case["params"]] == [("case_number", "text")]
    reverse = next(s for s in forms_of(people["west_proc"], clue)["steps"] if s["name"] == "reverse")
    assert reverse["recipient"]["code"] == "990001-RCO"

    clue = clue_step(clue=clue, user=people["west_proc"], step="file_case", case_number="甲检〔2026〕1号")
    suggest = next(s for s in forms_of(people["west_proc"], clue)["steps"] if s["name"] == "issue_suggestion")
    params = {p["name"]: p for p in suggest["params"]}
    assert list(params) == ["addressee", "content", "urgent", "number", "pre_notify"]
    assert params["addressee"]["required"] and params["content"]["required"]
    assert params["urgent"]["type"] == "boolean"
    # The addressees are the administrative organs of the clue's area, not procuratorates.
    assert {"990001-WATER", "990001-RCO"} <= {a["code"] for a in params["addressee"]["choices"]}
    assert not any(a["code"].endswith("-PROC") for a in params["addressee"]["choices"])


def test_the_detail_names_the_agencies_and_districts_it_gives_by_code(people):
    clue = register(people["west_ro"], "990001-RCO", 8_000, 5_000)  # on CROSS, in 甲区
    clue = clue_step(clue=clue, user=people["west_ro"], step="send")
    detail = client_for(people["city_proc"]).get(f"/api/v1/clues/{clue.pk}/").json()
    assert detail["routing"]["reason"] == "cross_district"
    codes = {*detail["routing"]["copies"], *detail["routing"]["reach"]["districts"], detail["holder"]["code"]}
    assert codes == {"990001-PROC", "990002-PROC", "990001", "990002", "990000-PROC"}
    assert codes <= detail["names"].keys()
    assert detail["names"]["990002"] == "乙区"


def test_replies_are_offered_to_the_addressee_only(people):
    clue = drive(people, "suggestion_issued")
    suggestion = Suggestion.objects.get(clue=clue)
    suggestion.addressee_id = people["west_ro"].memberships.get().agency_id
    suggestion.save()
    assert forms_of(people["west_ro"], clue)["replies"] == [suggestion.pk]
    assert forms_of(people["west_proc"], clue)["replies"] == []
    client_for(people["west_ro"]).post(f"/api/v1/suggestions/{suggestion.pk}/reply/", {"text": "已整改"}, format="json")
    assert forms_of(people["west_ro"], clue)["replies"] == []


def test_deadlines_say_where_they_stand(people):
    clue = drive(people, "accepted")
    transfer = Transfer.objects.get(clue=clue)
    detail = client_for(people["west_proc"]).get(f"/api/v1/clues/{clue.pk}/").json()
    [first_answer] = detail["deadlines"]
    assert (first_answer["kind"], first_answer["state"]) == ("first_answer", "pending")
    assert first_answer["due"] == transfer.first_answer_due.isoformat()
    assert first_answer["owed_by"]["code"] == "990001-PROC"

    today = timezone.localdate()
    Transfer.objects.filter(pk=transfer.pk).update(first_answer_due=today - datetime.timedelta(days=1))
    detail = client_for(people["west_proc"]).get(f"/api/v1/clues/{clue.pk}/").json()
    assert detail["deadlines"][0]["state"] == "overdue"
    Transfer.objects.filter(pk=transfer.pk).update(first_answer_due=today + datetime.timedelta(days=1))
    assert client_for(people["west_proc"]).get(f"/api/v1/clues/{clue.pk}/").json()["deadlines"][0]["state"] == (
        "due_soon"  # within the DUE_SOON policy's 3 days
    )
    client_for(people["west_proc"]).post(f"/api/v1/clues/{clue.pk}/steps/answer/", {}, format="json")
    detail = client_for(people["west_proc"]).get(f"/api/v1/clues/{clue.pk}/").json()
    assert detail["deadlines"][0]["state"] == "in_time"


def test_verification_reports_an_intact_history_and_a_removed_tail(people):
    clue = drive(people, "accepted")
    body = client_for(people["west_proc"]).get(f"/api/v1/clues/{clue.pk}/verification/").json()
    assert body == {"intact": True, "events": 3, "breaks": []}
    # The anchor counts an event that is not there (as after a removed last event).
    Clue.objects.filter(pk=clue.pk).update(history_count=F("history_count") + 1)
    body = client_for(people["west_proc"]).get(f"/api/v1/clues/{clue.pk}/verification/").json()
    assert body["intact"] is False
    assert [b["kind"] for b in body["breaks"]] == ["removed_tail"]


def test_possible_duplicates_before_registering(people):
    existing = register(people["west_ro"], "990001-RCO", 4_000, 1_050)
    lon, lat = at(4_030, 1_050)  # 30 m east of it, on INSIDE
    url = "/api/v1/clues/possible-duplicates/"
    found = client_for(people["west_ro"]).get(url, {"lon": lon, "lat": lat, "category": existing.category})
    assert found.status_code == 200
    assert [(d["code"], round(d["distance_m"])) for d in found.json()] == [(existing.code, 30)]
    other = client_for(people["west_ro"]).get(url, {"lon": lon, "lat": lat, "category": "illegal_fishing"})
    assert other.json() == []
    # Someone who may not see it is told of nothing.
    assert client_for(people["east_ro"]).get(url, {"lon": lon, "lat": lat, "category": existing.category}).json() == []
    bad = client_for(people["west_ro"]).get(url, {"lon": 500, "lat": lat, "category": "nonsense"})
    assert bad.status_code == 400 and set(bad.json()) == {"lon", "category"}


def test_registering_from_the_desk_is_idempotent(people):
    body = {
        "client_uuid": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed",
        "category": "illegal_sand_mining",
        "description": "12345热线：夜间采砂",
        "location": location(4_000, 1_050),
        "source": "hotline",
    }
    first = client_for(people["west_ro"]).post("/api/v1/clues/", body, format="json")
    again = client_for(people["west_ro"]).post("/api/v1/clues/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Clue.objects.filter(client_uuid=body["client_uuid"]).count() == 1


def test_every_step_declares_parameters_it_reads():
    """The forms come from Step.params: each one is a field of the step API and an argument of the step."""
    fields = set(StepSerializer().fields)
    for step in STEPS.values():
        parameters = inspect.signature(step.perform).parameters.values()
        arguments = {p.name for p in parameters if p.kind == inspect.Parameter.KEYWORD_ONLY}
        assert set(step.params) <= fields, step.name
        assert set(step.required) <= set(step.params), step.name
        assert arguments <= set(step.params), (step.name, arguments - set(step.params))
