"""The deadline sweep (DESIGN §4): what is due soon or overdue is told, once, to those who must act.

The world is tests/clues/conftest.py's: a clue on INSIDE (甲区) registered by 甲区's river office
(west_ro) is routed to 甲区's procuratorate (west_proc); west_liaison works in 甲区's liaison office.
The sweep takes `today`, so each test moves the day instead of the clock.
"""

import datetime
import io
import json

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from clues.deadlines import add_months
from clues.models import Clue, Notification, Transfer
from clues.notifications import deadlines_sweep
from clues.tasks import sweep_deadlines
from clues.workflow import clue_step
from rivers.models import Agency
from tests.clues.conftest import client_for, register

DAY = datetime.timedelta(days=1)
NOBODY_ELSE = {"west_patrol", "east_ro", "east_proc", "city_proc", "city_ro"}


@pytest.fixture
def staff(people):
    """The people of conftest, each with an e-mail address."""
    for name, user in people.items():
        if hasattr(user, "email"):
            user.email = f"{name}@example.com"
            user.save(update_fields=["email"])
    return people


def sent(people, **fields) -> Clue:
    """Return a clue registered by 甲区's river office and sent to 甲区's procuratorate."""
    clue = register(people["west_ro"], "990001-RCO", 4_000, 1_050, **fields)
    return clue_step(clue=clue, user=people["west_ro"], step="send")


def steps(clue: Clue, user, *names: str, **params) -> Clue:
    for name in names:
        clue = clue_step(clue=clue, user=user, step=name, **params)
    return clue


def with_suggestion(people, *, urgent: bool = True, **fields) -> Clue:
    """Return a clue on which 甲区's procuratorate issued a suggestion to 甲区's river office."""
    west_proc = people["west_proc"]
    clue = steps(sent(people, **fields), west_proc, "accept", "answer", "investigate", "file_case")
    return clue_step(
        clue=clue,
        user=west_proc,
        step="issue_suggestion",
        addressee=Agency.objects.get(code="990001-RCO"),
        content="责令清理河道采砂设施",
        number="甲检行公建〔2026〕3号",
        urgent=urgent,
    )


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def mailed_to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_nothing_is_told_before_the_warning_window(staff):
    transfer = sent(staff).transfers.get()
    report = deadlines_sweep(today=transfer.first_answer_due - 4 * DAY)  # the window is 3 days
    assert (report.notified, dict(report.found)) == (0, {})
    assert Notification.objects.count() == 0


def test_first_answer_due_soon_then_overdue_tells_the_receiving_procuratorate(staff, mailoutbox):
    clue = sent(staff)
    due = clue.transfers.get().first_answer_due

    report = deadlines_sweep(today=due - 3 * DAY)
    assert dict(report.found) == {"first_answer_due_soon": 1}
    assert told("first_answer_due_soon") == {"west_proc", "west_liaison"}
    assert mailed_to() == ["west_liaison@example.com", "west_proc@example.com"]
    message = mailoutbox[0]
    assert clue.code in message.subject and "临期" in message.subject
    assert clue.code in message.body and due.isoformat() in message.body
    assert message.body.index("首次答复") < message.body.index("first answer")  # Chinese first

    deadlines_sweep(today=due)  # the last day allowed: still due soon, nothing new
    assert len(mailoutbox) == 2

    report = deadlines_sweep(today=due + DAY)
    assert dict(report.found) == {"first_answer_overdue": 1}
    assert told("first_answer_overdue") == {"west_proc", "west_liaison"}
    assert len(mailoutbox) == 4
    assert not set(Notification.objects.values_list("user__username", flat=True)) & (NOBODY_ELSE | {"west_ro"})
    notification = Notification.objects.get(user=staff["west_proc"], kind="first_answer_overdue")
    assert (notification.clue, notification.due, notification.emailed_at is not None) == (clue, due, True)


def test_an_answered_transfer_and_a_closed_clue_need_no_first_answer(staff):
    answered = steps(sent(staff), staff["west_proc"], "accept", "answer")
    closed = steps(sent(staff), staff["west_proc"], "accept", "investigate", "not_file", "close")
    due = answered.transfers.get().first_answer_due
    report = deadlines_sweep(today=due + DAY)
    assert "first_answer_overdue" not in report.found
    assert not Notification.objects.filter(clue__in=[answered, closed], kind__startswith="first_answer").exists()


def test_only_the_transfer_that_brought_the_clue_awaits_a_first_answer(staff):
    # The procuratorate sends the clue back to the river office (反向移送): the river office must answer.
    clue = steps(sent(staff), staff["west_proc"], "accept", "reverse")
    back = clue.transfers.get(to_agency__code="990001-RCO")
    deadlines_sweep(today=back.first_answer_due + DAY)
    assert told("first_answer_overdue") == {"west_ro", "west_liaison"}
    assert set(Notification.objects.values_list("key", flat=True)) == {
        f"first_answer:transfer:{back.pk}:overdue:{back.first_answer_due}"
    }


def test_feedback_after_closing_tells_the_holder_until_it_reports(staff, mailoutbox):
    clue = steps(sent(staff), staff["west_proc"], "accept", "answer", "investigate", "not_file", "close")
    due = clue.transfers.get().feedback_due

    report = deadlines_sweep(today=due - DAY)
    assert dict(report.found) == {"feedback_due_soon": 1}
    assert told("feedback_due_soon") == {"west_proc", "west_liaison"}
    report = deadlines_sweep(today=due + DAY)
    assert dict(report.found) == {"feedback_overdue": 1}
    assert told("feedback_overdue") == {"west_proc", "west_liaison"}
    assert all("甲区河长办公室" in m.body for m in mailoutbox)  # names the side waiting for it

    steps(clue, staff["west_proc"], "give_feedback")
    report = deadlines_sweep(today=due + 5 * DAY)
    assert (dict(report.found), report.notified) == ({}, 0)


def test_an_overdue_suggestion_is_escalated_once_and_its_procuratorate_told(staff, mailoutbox):
    clue = with_suggestion(staff, urgent=True)
    suggestion = clue.suggestions.get()
    due = suggestion.reply_due
    assert due == timezone.localdate() + 15 * DAY

    report = deadlines_sweep(today=due - DAY)
    assert (dict(report.found), report.escalated) == ({"suggestion_reply_due_soon": 1}, 0)
    assert told("suggestion_reply_due_soon") == {"west_ro", "west_liaison"}  # the addressee must reply

    report = deadlines_sweep(today=due + DAY)
    assert dict(report.found) == {"suggestion_reply_overdue": 1, "suggestion_escalated": 1}
    assert report.escalated == 1
    suggestion.refresh_from_db()
    escalated_at = suggestion.escalated_at
    assert escalated_at is not None
    assert told("suggestion_reply_overdue") == {"west_ro", "west_liaison"}
    assert told("suggestion_escalated") == {"west_proc", "west_liaison"}  # the issuing procuratorate
    escalation = Notification.objects.get(user=staff["west_proc"], kind="suggestion_escalated")
    assert "纪检监察" in escalation.message and "甲检行公建〔2026〕3号" in escalation.message
    emails = len(mailoutbox)

    report = deadlines_sweep(today=due + 2 * DAY)
    assert (report.escalated, report.notified, report.emailed) == (0, 0, 0)
    suggestion.refresh_from_db()
    assert suggestion.escalated_at == escalated_at
    assert len(mailoutbox) == emails


def test_a_replied_suggestion_is_left_alone(staff):
    from clues.workflow import suggestion_reply

    suggestion = with_suggestion(staff).suggestions.get()
    suggestion_reply(suggestion=suggestion, user=staff["west_ro"], text="已清理")
    report = deadlines_sweep(today=suggestion.reply_due + DAY)
    assert (dict(report.found), report.escalated) == ({}, 0)


def test_a_confidential_clue_is_told_only_to_those_who_may_see_it(staff, mailoutbox):
    # DESIGN §5: a confidential clue exists only for its holder's own members (here the procuratorate)
    # and the municipal procuratorate: not for the liaison office, nor for the suggestion's addressee.
    clue = with_suggestion(staff, confidential=True)
    for name in ["west_ro", "west_liaison"]:
        assert not Clue.objects.visible_to(staff[name]).filter(pk=clue.pk).exists()
    plain = sent(staff)  # a first answer on another confidential clue, for the liaison office's part
    secret = sent(staff, confidential=True)

    deadlines_sweep(today=clue.suggestions.get().reply_due + DAY)
    deadlines_sweep(today=plain.transfers.get().first_answer_due + DAY)
    assert told("suggestion_reply_overdue") == set()  # the addressee cannot see the clue
    assert told("suggestion_escalated") == {"west_proc"}  # the procuratorate knows, and may 催办
    told_of_secret = set(Notification.objects.filter(clue=secret).values_list("user__username", flat=True))
    assert told_of_secret == {"west_proc"}
    assert Notification.objects.filter(clue=plain, user=staff["west_liaison"]).exists()
    for message in mail.outbox:
        if message.to != ["west_proc@example.com"]:
            assert clue.code not in message.body + message.subject
            assert secret.code not in message.body + message.subject


def test_running_the_sweep_twice_tells_nobody_twice(staff, mailoutbox):
    first = sent(staff)
    with_suggestion(staff, urgent=True)
    today = first.transfers.get().first_answer_due + DAY  # a month on: both overdue
    report = deadlines_sweep(today=today)
    assert report.notified == Notification.objects.count() > 0
    assert report.emailed == len(mailoutbox) == report.notified
    before = sorted(Notification.objects.values_list("user_id", "key"))

    again = deadlines_sweep(today=today)
    assert (again.notified, again.emailed, again.escalated) == (0, 0, 0)
    assert dict(again.found) == dict(report.found)  # still overdue, but already told
    assert sorted(Notification.objects.values_list("user_id", "key")) == before
    assert len(mailoutbox) == report.emailed


def test_a_user_without_an_address_is_told_in_the_app_only(staff, mailoutbox):
    staff["west_liaison"].email = ""
    staff["west_liaison"].save(update_fields=["email"])
    due = sent(staff).transfers.get().first_answer_due
    report = deadlines_sweep(today=due + DAY)
    assert told("first_answer_overdue") == {"west_proc", "west_liaison"}
    assert (report.notified, report.emailed) == (2, 1)
    assert mailed_to() == ["west_proc@example.com"]
    assert Notification.objects.get(user=staff["west_liaison"]).emailed_at is None


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise OSError("mail server down")


@override_settings(EMAIL_BACKEND="tests.clues.test_notifications.RefusingBackend")
def test_a_failing_mail_server_does_not_lose_the_in_app_notifications(staff):
    due = sent(staff).transfers.get().first_answer_due
    report = deadlines_sweep(today=due + DAY)
    assert (report.notified, report.emailed, report.email_failures) == (2, 0, 2)
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 2


def test_the_half_yearly_transfer_reminds_the_river_office(staff):
    today = timezone.localdate()
    pending = register(staff["west_ro"], "990001-RCO", 4_000, 1_050)  # registered, not sent
    due = add_months(today, 6)  # never sent anything: half a year from the clue's registration

    assert deadlines_sweep(today=due - 4 * DAY).notified == 0
    report = deadlines_sweep(today=due - DAY)
    assert dict(report.found) == {"transfer_interval_due_soon": 1}
    assert told("transfer_interval_due_soon") == {"west_ro", "west_liaison"}
    notice = Notification.objects.get(user=staff["west_ro"])
    assert pending.code in notice.message and due.isoformat() in notice.message

    # Eight months waiting: overdue.
    Clue.objects.filter(pk=pending.pk).update(created_at=timezone.now() - datetime.timedelta(days=240))
    report = deadlines_sweep(today=today)
    assert dict(report.found) == {"transfer_interval_overdue": 1}
    assert told("transfer_interval_overdue") == {"west_ro", "west_liaison"}


def test_a_transfer_restarts_the_half_year_and_its_new_deadline_is_told_again(staff):
    today = timezone.localdate()
    pending = register(staff["west_ro"], "990001-RCO", 4_000, 1_050)
    Clue.objects.filter(pk=pending.pk).update(created_at=timezone.now() - datetime.timedelta(days=240))
    deadlines_sweep(today=today)
    assert told("transfer_interval_overdue") == {"west_ro", "west_liaison"}

    # A month ago the office sent another clue: the next batch is due half a year after that.
    other = sent(staff)
    a_month_ago = timezone.now() - datetime.timedelta(days=30)
    Transfer.objects.filter(clue=other).update(sent_at=a_month_ago)
    new_due = add_months(timezone.localdate(a_month_ago), 6)
    assert deadlines_sweep(today=today).notified == 0
    report = deadlines_sweep(today=new_due - DAY)
    assert report.found["transfer_interval_due_soon"] == 1
    assert told("transfer_interval_due_soon") == {"west_ro", "west_liaison"}
    assert Notification.objects.filter(user=staff["west_ro"], kind__startswith="transfer_interval").count() == 2


def test_the_half_yearly_reminder_names_no_confidential_clue_to_those_who_may_not_see_it(staff):
    secret = register(staff["west_ro"], "990001-RCO", 4_000, 1_050, confidential=True)
    due = add_months(timezone.localdate(), 6)
    deadlines_sweep(today=due - DAY)
    assert told("transfer_interval_due_soon") == {"west_ro"}  # the liaison office may not see it

    plain = register(staff["west_ro"], "990001-RCO", 4_100, 1_050)
    Clue.objects.filter(pk=secret.pk).update(created_at=timezone.now() - datetime.timedelta(days=240))
    deadlines_sweep(today=timezone.localdate())
    # Only the confidential clue is overdue: the office that holds it is told of both of its clues;
    # the liaison office, for which the clue does not exist, of nothing (the plain one is not due).
    assert told("transfer_interval_overdue") == {"west_ro"}
    notice = Notification.objects.get(kind="transfer_interval_overdue")
    assert notice.clue == secret and " 2 " in notice.message
    assert not Notification.objects.filter(user=staff["west_liaison"]).exists()

    # Once the plain clue is overdue too, the liaison office is told of it alone.
    Clue.objects.filter(pk=plain.pk).update(created_at=timezone.now() - datetime.timedelta(days=200))
    deadlines_sweep(today=timezone.localdate())
    liaison = Notification.objects.get(user=staff["west_liaison"], kind="transfer_interval_overdue")
    assert liaison.clue == plain
    assert secret.code not in liaison.message and " 1 " in liaison.message


def test_clues_a_procuratorate_registers_are_not_batched(staff):
    register(staff["west_proc"], "990001-PROC", 4_000, 1_050, source="procuratorate")  # routed to itself
    register(staff["west_proc"], "990001-PROC", 7_000, 5_020, source="procuratorate")  # cross-district
    report = deadlines_sweep(today=add_months(timezone.localdate(), 7))
    assert "transfer_interval_overdue" not in report.found
    assert Notification.objects.count() == 0


def test_the_celery_task_gives_what_the_sweep_gives(staff, mailoutbox):
    sent(staff)
    with_suggestion(staff)
    today = add_months(timezone.localdate(), 3)  # every deadline above overdue
    with transaction.atomic():
        expected = deadlines_sweep(today=today).as_dict()
        transaction.set_rollback(True)
    mailoutbox.clear()
    assert Notification.objects.count() == 0

    result = sweep_deadlines.apply(kwargs={"today": today.isoformat()}).get()
    assert result == expected
    assert result["notified"] == Notification.objects.count() == len(mailoutbox) > 0
    assert result["escalated"] == 1
    json.dumps(result)  # a result the broker can carry
    again = sweep_deadlines.apply(kwargs={"today": today.isoformat()}).get()
    assert (again["notified"], again["emailed"], again["escalated"]) == (0, 0, 0)


def test_beat_runs_the_sweep(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["clues-sweep-deadlines"]
    assert entry["task"] == sweep_deadlines.name
    app.loader.import_default_modules()
    assert app.tasks[sweep_deadlines.name].acks_late


def test_the_management_command_runs_the_sweep_once(staff):
    due = sent(staff).transfers.get().first_answer_due
    out = io.StringIO()
    call_command("sweep_deadlines", "--date", (due + DAY).isoformat(), stdout=out)
    assert json.loads(out.getvalue())["found"] == {"first_answer_overdue": 1}
    with pytest.raises(CommandError):
        call_command("sweep_deadlines", "--date", "2026-02-30")


# The notifications API ------------------------------------------------------------------------------


def test_a_user_lists_their_own_notifications_unread_first(staff):
    west_proc = staff["west_proc"]
    due = sent(staff).transfers.get().first_answer_due
    deadlines_sweep(today=due - DAY)
    deadlines_sweep(today=due + DAY)
    soon = Notification.objects.get(user=west_proc, kind="first_answer_due_soon")
    Notification.objects.filter(pk=soon.pk).update(read_at=timezone.now())

    client = client_for(west_proc)
    listing = client.get("/api/v1/notifications/")
    assert listing.status_code == 200
    results = listing.json()["results"]
    assert [(n["kind"], n["read"]) for n in results] == [
        ("first_answer_overdue", False),
        ("first_answer_due_soon", True),
    ]
    assert results[0]["clue_code"] and results[0]["due"] == due.isoformat()
    assert client_for(staff["east_proc"]).get("/api/v1/notifications/").json()["results"] == []


def test_a_user_marks_their_own_notifications_read_and_no_one_elses(staff):
    due = sent(staff).transfers.get().first_answer_due
    deadlines_sweep(today=due + DAY)
    mine = Notification.objects.get(user=staff["west_proc"])
    theirs = Notification.objects.get(user=staff["west_liaison"])
    client = client_for(staff["west_proc"])

    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["read"] is True
    theirs.refresh_from_db()
    assert theirs.read_at is None

    deadlines_sweep(today=due + 40 * DAY)  # nothing new
    liaison = client_for(staff["west_liaison"])
    assert liaison.post("/api/v1/notifications/read_all/").json() == {"marked": 1}
    assert liaison.post("/api/v1/notifications/read_all/").json() == {"marked": 0}
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_anonymous_users_get_no_notifications(staff):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/notifications/").status_code == 401


@pytest.mark.parametrize("who", ["city_proc", "west_proc"])
def test_the_inbox_tests_the_rule_on_each_notifications_own_clue(staff, who):
    # Built whole inside the OR, the visible set of a municipal procuratorate (most of its city's clues)
    # was too big to hash and was searched once per notification: 24.6 s for an inbox page among 10^6
    # clues in make bench ("notifications of a municipal procuratorate user"), 11 ms as an EXISTS on the
    # notification's own clue (clues.querysets.clue_seen_by).
    from clues.api.notifications import visible_notifications

    sql = str(visible_notifications(staff[who]).query)
    assert 'EXISTS(SELECT 1 AS "a" FROM "clues_clue" U0 WHERE' in sql
    assert 'U0."id" = ("clues_notification"."clue_id")' in sql
    assert '"clue_id" IN (SELECT' not in sql
