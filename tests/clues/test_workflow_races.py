"""Workflow steps racing each other through the API, on real threads against the real database.

Each shape of race is tried TRIALS times on fresh clues. Whatever the order the database lets the
requests through in, every answer is 200 or 409 (a lost race, with its reason): never a 500, a
deadlock, a 403 about a holder the loser never chose, or a 404 for a clue the loser's agency sent.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from clues.history import history_verify
from clues.models import Clue, Status
from clues.workflow import clue_step
from tests.clues.conftest import register

TRIALS = 20
RACERS = 4

pytestmark = pytest.mark.django_db(transaction=True)


class Racers:
    """A pool of threads, each with its own database connection, that post requests at one instant."""

    def __init__(self):
        self.pool = ThreadPoolExecutor(max_workers=RACERS)

    def race(self, requests: list[tuple]) -> list[tuple[int, dict]]:
        """Post each (user, url, body) from its own thread, all released at once; return the answers."""
        start = threading.Barrier(len(requests))
        futures = [self.pool.submit(self._post, start, *request) for request in requests]
        return [future.result(timeout=60) for future in futures]

    @staticmethod
    def _post(start: threading.Barrier, user, url: str, body: dict) -> tuple[int, dict]:
        client = APIClient()
        client.raise_request_exception = False  # a server error is an answer (500), not a test crash
        client.force_authenticate(user)
        start.wait(timeout=30)
        response = client.post(url, body, format="json")
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {}

    def close(self):
        # Every thread closes its own connection: a barrier of the pool's size gives one task to each.
        done = threading.Barrier(RACERS)
        futures = [self.pool.submit(lambda: (done.wait(timeout=30), connection.close())) for _ in range(RACERS)]
        for future in futures:
            future.result(timeout=60)
        self.pool.shutdown()


@pytest.fixture
def racers():
    pool = Racers()
    yield pool
    pool.close()


@pytest.fixture
def staff(people, member):
    """Four river-office members and four prosecutors of 甲区, so that different people race."""
    return {
        "ro": [people["west_ro"]] + [member(f"west_ro_{n}", "990001-RCO", "river_office") for n in (2, 3, 4)],
        "proc": [people["west_proc"]] + [member(f"west_proc_{n}", "990001-PROC", "prosecutor") for n in (2, 3, 4)],
    }


def steps_url(clue: Clue, step: str) -> str:
    return f"/api/v1/clues/{clue.pk}/steps/{step}/"


def district_clue(people, **fields) -> Clue:
    """Register a clue in 甲区 (on INSIDE), routed to 甲区检察院."""
    return register(people["west_ro"], "990001-RCO", 4_000, 1_050, **fields)


def assert_lost_races_only(answers: list[tuple[int, dict]], winners: int) -> None:
    codes = sorted(code for code, _ in answers)
    assert codes == [200] * winners + [409] * (len(answers) - winners), answers
    for code, body in answers:
        if code == 409:
            assert " / " in body["detail"], body  # the reason, in Chinese and English


def assert_history_intact(*clues: Clue) -> None:
    assert list(history_verify(Clue.objects.filter(pk__in=[clue.pk for clue in clues]))) == []


def test_concurrent_sends_give_one_transfer(people, staff, racers):
    for _ in range(TRIALS):
        clue = district_clue(people)
        answers = racers.race([(user, steps_url(clue, "send"), {}) for user in staff["ro"]])
        assert_lost_races_only(answers, winners=1)
        sent = Clue.objects.get(pk=clue.pk)
        assert sent.status == Status.TRANSFERRED and sent.transfers.count() == 1
        assert list(sent.events.values_list("action", flat=True)) == ["register", "send"]
        assert_history_intact(sent)


def test_concurrent_accepts_give_one_acceptance(people, staff, racers):
    for _ in range(TRIALS):
        clue = clue_step(clue=district_clue(people), user=people["west_ro"], step="send")
        answers = racers.race([(user, steps_url(clue, "accept"), {}) for user in staff["proc"]])
        assert_lost_races_only(answers, winners=1)
        accepted = Clue.objects.get(pk=clue.pk)
        assert accepted.status == Status.ACCEPTED
        assert list(accepted.events.values_list("action", flat=True)) == ["register", "send", "accept"]
        assert_history_intact(accepted)


def test_three_merges_into_one_clue_and_its_send_all_happen(people, staff, racers):
    for _ in range(TRIALS):
        target = district_clue(people)
        duplicates = [district_clue(people) for _ in range(3)]
        requests = [
            (user, steps_url(duplicate, "merge"), {"into": target.code})
            for user, duplicate in zip(staff["ro"], duplicates, strict=False)
        ]
        requests.append((staff["ro"][3], steps_url(target, "send"), {}))
        answers = racers.race(requests)
        # Nothing here conflicts: each merge takes its own duplicate, and a sent clue still takes duplicates.
        assert [code for code, _ in answers] == [200] * 4, answers
        target = Clue.objects.get(pk=target.pk)
        assert target.status == Status.TRANSFERRED
        assert sorted(target.events.values_list("action", flat=True)) == ["absorb"] * 3 + ["register", "send"]
        assert set(target.duplicates.values_list("pk", flat=True)) == {duplicate.pk for duplicate in duplicates}
        assert_history_intact(target, *duplicates)


def test_merges_of_two_clues_into_each_other_give_one_merge(people, staff, racers):
    for _ in range(TRIALS):
        first, second = district_clue(people), district_clue(people)
        requests = [
            (staff["ro"][0], steps_url(first, "merge"), {"into": second.code}),
            (staff["ro"][1], steps_url(second, "merge"), {"into": first.code}),
        ]
        answers = racers.race(requests)
        assert_lost_races_only(answers, winners=1)
        first, second = Clue.objects.get(pk=first.pk), Clue.objects.get(pk=second.pk)
        merged, kept = (first, second) if first.status == Status.MERGED else (second, first)
        assert merged.merged_into_id == kept.pk and kept.status == Status.REGISTERED and kept.merged_into_id is None
        assert_history_intact(first, second)


def test_concurrent_sends_of_a_confidential_clue_answer_the_sender_without_the_clue(people, staff, racers):
    for _ in range(TRIALS):
        clue = district_clue(people, confidential=True, description="涉密：某企业夜间偷排")
        answers = racers.race([(user, steps_url(clue, "send"), {}) for user in staff["ro"]])
        assert_lost_races_only(answers, winners=1)
        # The send happened and took the clue out of the senders' sight: 200 with the outcome only.
        (body,) = [body for code, body in answers if code == 200]
        assert body["visible"] is False and body["step"] == "send" and body["status"] == Status.TRANSFERRED
        assert set(body) == {"id", "code", "step", "status", "visible", "detail"}
        sent = Clue.objects.get(pk=clue.pk)
        assert sent.holder.code == "990001-PROC" and sent.transfers.count() == 1
        assert_history_intact(sent)


def test_a_step_that_lost_its_holder_to_a_race_is_409_not_403(people, staff, racers):
    # Prosecutors race on an accepted clue: one sends it back to the river office (反向移送), the other
    # merges it. A merge after the reverse transfer is no longer theirs to take (the river office holds
    # it): that is a lost race, not a step they were never allowed.
    target = clue_step(clue=district_clue(people), user=people["west_ro"], step="send")
    for _ in range(TRIALS):
        clue = clue_step(clue=district_clue(people), user=people["west_ro"], step="send")
        clue = clue_step(clue=clue, user=people["west_proc"], step="accept")
        answers = racers.race(
            [
                (staff["proc"][0], steps_url(clue, "reverse"), {}),
                (staff["proc"][1], steps_url(clue, "merge"), {"into": target.code}),
            ]
        )
        assert_lost_races_only(answers, winners=1)
        assert_history_intact(clue, target)
