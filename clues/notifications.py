"""Deadline reminders (DESIGN §4): find what is due soon or overdue and tell the people who must act.

The sweep runs every hour (clues.tasks, CELERY_BEAT_SCHEDULE) and may run any number of times. A
notification's key names the item, whether it is due soon or overdue, and the deadline's date; the
unique (user, key) constraint lets each be created once, and only notifications created by this run
are e-mailed. A deadline that moves to a new date (a new transfer, say) is a new key and notifies again.

Who is told: the staff (chief, river-office staff, prosecutor, liaison) of the agency that must act,
and the liaison office of its district, which watches the deadlines of the mechanism (seed 002 §二(三)).
A notification about a clue goes only to users who may see the clue (DESIGN §5).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from rivers.models import Agency, AgencyKind, Membership

from .deadlines import deadline, due_soon_until
from .models import Clue, ClueEvent, DeadlineRule, Notification, Status, Suggestion, Transfer
from .workflow import OPEN_STATES, STAFF

logger = logging.getLogger(__name__)

DUE_SOON, OVERDUE = "due_soon", "overdue"
# Seed 002 §三(二): the river office sends its clues to the procuratorate at least every half year. A
# procuratorate's own clues are routed to itself (or at once to the city) and are not batched.
BATCHING_KINDS = (AgencyKind.RIVER_OFFICE,)
SUBJECT_PREFIX = "【河长+检察长】"


@dataclass(frozen=True)
class Finding:
    """One deadline someone must act on: which agency, by when, and what to tell its people."""

    key: str  # the item, due_soon | overdue, and the deadline's date: unique per deadline and state
    kind: str  # e.g. first_answer_overdue (Notification.kind)
    agency: Agency
    due: datetime.date
    clue: Clue | None
    message: str  # Chinese first, then English; names the clue and the date
    subject: str
    # Who is told, when only some of the agency's responsible users may be (None: all of them).
    users: tuple | None = None


@dataclass
class SweepReport:
    """What one sweep found and did."""

    today: datetime.date
    found: Counter = field(default_factory=Counter)  # findings by kind
    escalated: int = 0  # suggestions marked escalated by this run
    notified: int = 0  # notifications created by this run
    emailed: int = 0
    email_failures: int = 0

    def as_dict(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "found": dict(sorted(self.found.items())),
            "escalated": self.escalated,
            "notified": self.notified,
            "emailed": self.emailed,
            "email_failures": self.email_failures,
        }


def deadlines_sweep(*, today: datetime.date | None = None) -> SweepReport:
    """Notify the responsible users of every deadline due soon or overdue on `today`; mark overdue
    suggestions escalated. Running it again notifies nobody twice.

    Not one transaction: each notification commits as it is created, so that an e-mail is only ever
    sent for a row that exists, and a failing mail server does not undo the in-app notifications.
    """
    today = today or timezone.localdate()
    report = SweepReport(today=today)
    soon_until = due_soon_until(today)
    report.escalated = suggestions_escalate(today=today)
    findings = [
        *_first_answers(today, soon_until),
        *_feedback(today, soon_until),
        *_suggestion_replies(today, soon_until),
        *_periodic_transfers(today, soon_until),
    ]
    report.found.update(finding.kind for finding in findings)
    created = _notify(findings)
    report.notified = len(created)
    _email(created, report)
    logger.info("deadline sweep %s", report.as_dict())
    return report


def _state(due: datetime.date, today: datetime.date) -> str:
    # The due date is the last day allowed: a deadline is overdue from the day after.
    return OVERDUE if due < today else DUE_SOON


def _latest_transfer() -> Subquery:
    return Subquery(Transfer.objects.filter(clue=OuterRef("clue")).order_by("-sent_at", "-pk").values("pk")[:1])


def _first_answers(today: datetime.date, soon_until: datetime.date) -> Iterator[Finding]:
    """Seed 000 §二(三): the receiving agency tells the sender how it handles the clue (a month by default).

    Only the transfer that brought the clue to its holder counts, and only while the clue is open: a
    clue that moved on or was closed can no longer be answered (clues.workflow answers the incoming
    transfer), and the feedback rule takes over after closing.
    """
    transfers = (
        Transfer.objects.filter(first_answer_at__isnull=True, first_answer_due__lte=soon_until)
        .filter(clue__status__in=OPEN_STATES, pk=_latest_transfer())
        .select_related("clue", "from_agency", "to_agency")
        .order_by("first_answer_due", "pk")
    )
    for transfer in transfers:
        due, code = transfer.first_answer_due, transfer.clue.code
        state = _state(due, today)
        to, sender = transfer.to_agency.name, transfer.from_agency.name
        if state == DUE_SOON:
            message = (
                f"线索 {code} 的首次答复期限为 {due}：{to}应向{sender}反馈办理情况。\n"
                f"The first answer on clue {code} is due on {due}: {to} must tell {sender} how it is handling it."
            )
        else:
            message = (
                f"线索 {code} 的首次答复已逾期（期限 {due}）：{to}尚未向{sender}反馈办理情况。\n"
                f"The first answer on clue {code} is overdue (due {due}): {to} has not told {sender} how it is "
                f"handling it."
            )
        yield _finding(
            "first_answer", state, f"transfer:{transfer.pk}", transfer.to_agency, due, transfer.clue, message
        )


def _feedback(today: datetime.date, soon_until: datetime.date) -> Iterator[Finding]:
    """Seed 002 §三(二): within 10 days of closing, the holder reports the outcome to the sender."""
    transfers = (
        Transfer.objects.filter(feedback_at__isnull=True, feedback_due__lte=soon_until)
        .select_related("clue", "from_agency", "to_agency")
        .order_by("feedback_due", "pk")
    )
    for transfer in transfers:
        due, code = transfer.feedback_due, transfer.clue.code
        state = _state(due, today)
        holder, sender = transfer.to_agency.name, transfer.from_agency.name
        if state == DUE_SOON:
            message = (
                f"线索 {code} 已办结，{holder}应于 {due} 前向移送方{sender}反馈办理情况或处理结果。\n"
                f"Clue {code} is closed: {holder} must report the outcome to {sender} by {due}."
            )
        else:
            message = (
                f"线索 {code} 办结后的反馈已逾期（期限 {due}）：{holder}尚未向移送方{sender}反馈。\n"
                f"Feedback on closed clue {code} is overdue (due {due}): {holder} has not reported to {sender}."
            )
        yield _finding("feedback", state, f"transfer:{transfer.pk}", transfer.to_agency, due, transfer.clue, message)


def suggestions_escalate(*, today: datetime.date) -> int:
    """Mark escalated (催办) every suggestion whose reply is overdue on `today`; return how many were marked.

    Seed 000 §二(四): 经催办仍不回复的，可按程序移交纪检监察机关处理. One conditional UPDATE: a
    suggestion is marked once, whichever of two concurrent sweeps gets there first.
    """
    return Suggestion.objects.filter(reply_at__isnull=True, reply_due__lt=today, escalated_at__isnull=True).update(
        escalated_at=timezone.now()
    )


def _suggestion_replies(today: datetime.date, soon_until: datetime.date) -> Iterator[Finding]:
    """The addressee replies in writing within 2 months (15 days when urgent); when it is late, the
    procuratorate that issued the suggestion is told as well."""
    suggestions = list(
        Suggestion.objects.filter(reply_at__isnull=True, reply_due__lte=soon_until)
        .select_related("clue__holder", "addressee")
        .order_by("reply_due", "pk")
    )
    issuers = _issuing_agencies(suggestion for suggestion in suggestions if suggestion.reply_due < today)
    for suggestion in suggestions:
        due, code, addressee = suggestion.reply_due, suggestion.clue.code, suggestion.addressee.name
        number = f"（{suggestion.number}）" if suggestion.number else ""
        number_en = f" {suggestion.number}" if suggestion.number else ""
        state = _state(due, today)
        item = f"suggestion:{suggestion.pk}"
        if state == DUE_SOON:
            message = (
                f"{addressee}应于 {due} 前书面回复针对线索 {code} 的诉前检察建议{number}。\n"
                f"{addressee} must reply in writing to the pre-litigation suggestion{number_en} on clue {code} "
                f"by {due}."
            )
            yield _finding("suggestion_reply", state, item, suggestion.addressee, due, suggestion.clue, message)
            continue
        message = (
            f"{addressee}未在期限（{due}）内书面回复针对线索 {code} 的诉前检察建议{number}，已逾期。\n"
            f"{addressee} has not replied in writing to the pre-litigation suggestion{number_en} on clue {code}, "
            f"due {due}."
        )
        yield _finding("suggestion_reply", state, item, suggestion.addressee, due, suggestion.clue, message)
        issuer = issuers.get(suggestion.pk) or suggestion.clue.holder
        message = (
            f"{addressee}逾期未书面回复针对线索 {code} 的诉前检察建议{number}（期限 {due}），已标记催办；"
            f"经催办仍不回复的，可按程序移交纪检监察机关处理。\n"
            f"{addressee} has not replied to the suggestion{number_en} on clue {code} (due {due}): it is marked "
            f"escalated; if no reply follows, the matter may be referred to the discipline inspection and "
            f"supervision authority."
        )
        yield _finding("suggestion", "escalated", item, issuer, due, suggestion.clue, message)


def _issuing_agencies(suggestions: Iterable[Suggestion]) -> dict[int, Agency]:
    """Return, by suggestion, the procuratorate that issued it, as its clue's history records it."""
    pks = [suggestion.pk for suggestion in suggestions]
    if not pks:
        return {}
    events = ClueEvent.objects.filter(action="issue_suggestion", data__suggestion__in=pks).select_related("agency")
    return {event.data["suggestion"]: event.agency for event in events if event.agency is not None}


def _periodic_transfers(today: datetime.date, soon_until: datetime.date) -> Iterator[Finding]:
    """Seed 002 §三(二): 原则上应每半年移送一次案件线索.

    A river office holding registered clues it has not sent must send them within TRANSFER_INTERVAL of
    its last transfer to a procuratorate, or of the oldest such clue's registration if that is later
    (an office that sent nothing for a year and registers a clue today has half a year for it).
    """
    pending = (
        Clue.objects.filter(
            status=Status.REGISTERED, registering_agency__kind__in=BATCHING_KINDS, holder=F("registering_agency")
        )
        .exclude(routed_to=F("registering_agency"))
        .order_by()
    )
    oldest_of = dict(
        pending.values("registering_agency")
        .annotate(oldest=Min("created_at"))
        .values_list("registering_agency", "oldest")
    )
    if not oldest_of:
        return
    last_sent = dict(
        Transfer.objects.filter(from_agency__in=list(oldest_of), to_agency__kind=AgencyKind.PROCURATORATE)
        .order_by()
        .values("from_agency")
        .annotate(last=Max("sent_at"))
        .values_list("from_agency", "last")
    )
    for agency in Agency.objects.filter(pk__in=list(oldest_of)).order_by("code"):
        start = timezone.localdate(oldest_of[agency.pk])
        if agency.pk in last_sent:
            start = max(start, timezone.localdate(last_sent[agency.pk]))
        if deadline(DeadlineRule.TRANSFER_INTERVAL, start) > soon_until:
            continue  # not due for anyone: whatever clues a user sees are no older than these
        # Each user is told of the clues they may see, and only of those: the due date, the count and
        # the oldest clue come from them, so a confidential clue never shows, not even as a number
        # or as a deadline it alone made overdue (DESIGN §5).
        for users, waiting in _audiences(agency, pending.filter(registering_agency=agency)):
            oldest = min(waiting, key=lambda clue: (clue.created_at, clue.pk))
            start = timezone.localdate(oldest.created_at)
            if agency.pk in last_sent:
                start = max(start, timezone.localdate(last_sent[agency.pk]))
            due = deadline(DeadlineRule.TRANSFER_INTERVAL, start)
            if due > soon_until:
                continue
            count, code = len(waiting), oldest.code
            state = _state(due, today)
            if state == DUE_SOON:
                message = (
                    f"{agency.name}有 {count} 条线索尚未移送检察院（最早的是 {code}），定期移送期限为 {due}。\n"
                    f"{agency.name} has {count} clue(s) not yet sent to the procuratorate (the oldest is {code}): "
                    f"the periodic transfer is due on {due}."
                )
            else:
                message = (
                    f"{agency.name}的定期移送已逾期（期限 {due}）：{count} 条线索尚未移送检察院（最早的是 {code}）。\n"
                    f"The periodic transfer of {agency.name} is overdue (due {due}): {count} clue(s) not yet sent "
                    f"to the procuratorate (the oldest is {code})."
                )
            finding = _finding("transfer_interval", state, f"agency:{agency.pk}", agency, due, oldest, message)
            yield dataclasses.replace(finding, users=users)


def _audiences(agency: Agency, pending) -> list[tuple[tuple, list[Clue]]]:  # noqa: ANN001 - a ClueQuerySet
    """Group the users responsible for `agency` by the pending clues each may see; skip those who see none."""
    groups: dict[frozenset[int], list] = defaultdict(list)
    clues = {}
    for user in responsible_users(agency):
        visible = list(pending.filter(pk__in=Clue.objects.visible_to(user).values("pk")))
        clues.update((clue.pk, clue) for clue in visible)
        if visible:
            groups[frozenset(clue.pk for clue in visible)].append(user)
    return [(tuple(users), [clues[pk] for pk in pks]) for pks, users in groups.items()]


SUBJECTS = {
    "first_answer": "首次答复 first answer",
    "feedback": "办结反馈 feedback",
    "suggestion_reply": "检察建议回复 suggestion reply",
    "suggestion": "检察建议催办 suggestion escalated",
    "transfer_interval": "定期移送 periodic transfer",
}
STATES = {DUE_SOON: "临期 due soon", OVERDUE: "逾期 overdue", "escalated": "逾期 overdue"}


def _finding(
    rule: str, state: str, item: str, agency: Agency, due: datetime.date, clue: Clue | None, message: str
) -> Finding:
    about = clue.code if clue is not None else agency.name
    return Finding(
        key=f"{rule}:{item}:{state}:{due.isoformat()}",
        kind=f"{rule}_{state}",
        agency=agency,
        due=due,
        clue=clue,
        message=message,
        subject=f"{SUBJECT_PREFIX}{STATES[state]} · {SUBJECTS[rule]} · {about}",
    )


def responsible_users(agency: Agency):  # noqa: ANN201 - a queryset of users
    """Return the active users who act for `agency`: its staff, and the liaison office of its district."""
    memberships = Membership.objects.filter(role__in=STAFF, user__is_active=True).filter(
        Q(agency=agency) | Q(agency__kind=AgencyKind.LIAISON_OFFICE, agency__district_id=agency.district_id)
    )
    return get_user_model().objects.filter(pk__in=memberships.values("user")).order_by("pk")


def _notify(findings: list[Finding]) -> list[tuple[Notification, Finding]]:
    """Create each finding's notification for each of its users who may see its clue; return the new ones."""
    users_of: dict[int, list] = {}
    wanted = []
    for finding in findings:
        if finding.users is not None:
            wanted.extend((user, finding) for user in finding.users)
            continue
        if finding.agency.pk not in users_of:
            users_of[finding.agency.pk] = list(responsible_users(finding.agency))
        wanted.extend((user, finding) for user in users_of[finding.agency.pk])

    # DESIGN §5: a clue the user may not see (a confidential one, above all) does not exist for them.
    users = {user.pk: user for user, _ in wanted}
    clues_of: dict[int, set[int]] = defaultdict(set)
    for user, finding in wanted:
        if finding.clue is not None:
            clues_of[user.pk].add(finding.clue.pk)
    visible = {
        pk: set(Clue.objects.visible_to(users[pk]).filter(pk__in=clue_pks).values_list("pk", flat=True))
        for pk, clue_pks in clues_of.items()
    }
    wanted = [(user, f) for user, f in wanted if f.clue is None or f.clue.pk in visible[user.pk]]

    # Skipping what exists saves a failed insert per reminder per user per hour; the constraint still
    # decides between two sweeps running at once.
    existing = set(
        Notification.objects.filter(
            user_id__in=list(users), key__in={finding.key for _, finding in wanted}
        ).values_list("user_id", "key")
    )
    created = []
    for user, finding in wanted:
        if (user.pk, finding.key) in existing:
            continue
        notification = _notification_create(user, finding)
        if notification is not None:
            created.append((notification, finding))
    return created


def _notification_create(user, finding: Finding) -> Notification | None:  # noqa: ANN001 - a user
    """Insert the notification unless the user has it already (the unique (user, key) constraint)."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user=user,
                key=finding.key,
                clue=finding.clue,
                kind=finding.kind,
                message=finding.message,
                due=finding.due,
            )
    except IntegrityError:
        return None


def _email(created: list[tuple[Notification, Finding]], report: SweepReport) -> None:
    """E-mail each new notification to its user through Django's mail settings; failures are logged."""
    to_send = [(notification, finding) for notification, finding in created if notification.user.email]
    if not to_send:
        return
    connection = mail.get_connection()
    try:
        connection.open()
    except OSError:  # smtplib's errors are OSErrors
        logger.exception("could not reach the mail server; %d notification(s) not e-mailed", len(to_send))
        report.email_failures = len(to_send)
        return
    sent = []
    try:
        for notification, finding in to_send:
            message = mail.EmailMessage(
                subject=finding.subject, body=finding.message, to=[notification.user.email], connection=connection
            )
            try:
                message.send()
            except OSError:  # one refused address must not stop the others
                logger.exception("could not e-mail notification %s to user %s", notification.pk, notification.user_id)
                report.email_failures += 1
            else:
                sent.append(notification.pk)
    finally:
        connection.close()
    Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    report.emailed = len(sent)
