"""What is due soon and what is overdue, as the liaison dashboard and the joint-meeting pack list it.

The same deadlines as the sweep (clues.notifications): a received clue's first answer (seed 000 §二(三)),
the feedback after closing (seed 002 §三(二)), a suggestion's written reply, and a river office's
half-yearly transfer (seed 002 §三(二)). The sweep tells the people who must act; this lists, for one
user, every such deadline on the clues that user may see (`Clue.objects.visible_to`): a confidential
clue the user may not see is not listed, counted or used to date a periodic transfer (DESIGN §5).

A deadline is due soon from the DUE_SOON window before its date and overdue from the day after it.
The list is read in a fixed number of queries, whatever its length.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, OuterRef, Subquery
from django.utils import timezone

from rivers.models import Agency, AgencyKind, District

from .deadlines import DEFAULT_POLICIES, add_months, due_soon_until
from .models import Clue, DeadlinePolicy, DeadlineRule, Status, Suggestion, TimeUnit, Transfer
from .workflow import OPEN_STATES

DUE_SOON, OVERDUE = "due_soon", "overdue"
# Seed 002 §三(二): the river office sends its registered clues to the procuratorate every half year.
BATCHING_KINDS = (AgencyKind.RIVER_OFFICE,)

KIND_LABELS = {
    "first_answer": "首次答复",
    "feedback": "办结反馈",
    "suggestion_reply": "检察建议回复",
    "transfer_interval": "定期移送",
}
STATE_LABELS = {DUE_SOON: "临期", OVERDUE: "逾期"}


@dataclass(frozen=True)
class DueItem:
    """One deadline: what (`kind`), on which clue, who must act (`agency`) towards whom (`counterpart`)."""

    kind: str  # first_answer | feedback | suggestion_reply | transfer_interval
    state: str  # due_soon | overdue
    due: datetime.date
    days_late: int  # days past the due date (0 while due soon)
    clue: Clue  # for a periodic transfer: the oldest clue waiting
    agency: Agency
    counterpart: Agency | None
    clues_waiting: int = 1  # a periodic transfer: how many clues the user sees waiting

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class DueList:
    today: datetime.date
    soon_until: datetime.date
    items: list[DueItem]

    @property
    def overdue(self) -> list[DueItem]:
        return [item for item in self.items if item.state == OVERDUE]

    @property
    def due_soon(self) -> list[DueItem]:
        return [item for item in self.items if item.state == DUE_SOON]


def _state(due: datetime.date, today: datetime.date) -> str:
    return OVERDUE if due < today else DUE_SOON


def _item(kind: str, due: datetime.date, today: datetime.date, clue: Clue, agency, counterpart, waiting=1) -> DueItem:  # noqa: ANN001
    return DueItem(kind, _state(due, today), due, max(0, (today - due).days), clue, agency, counterpart, waiting)


def _clue_columns(prefix: str) -> list[str]:
    # The fields a list shows of a clue; its point and description stay in the database.
    return [f"{prefix}{name}" for name in ("geom", "description", "request_digest", "history_anchor")]


def deadlines_due(*, user, today: datetime.date | None = None, district: District | None = None) -> DueList:  # noqa: ANN001
    """Return the deadlines due soon or overdue on `today` on the clues `user` may see (in `district`)."""
    today = today or timezone.localdate()
    soon_until = due_soon_until(today)
    visible = Clue.objects.visible_to(user)
    if district is not None:
        visible = visible.filter(district=district)
    visible_pks = visible.values("pk")
    items: list[DueItem] = []

    # Only the transfer that brought the clue to its holder can be answered, and only while it is open.
    latest = Subquery(Transfer.objects.filter(clue=OuterRef("clue")).order_by("-sent_at", "-pk").values("pk")[:1])
    first_answers = (
        Transfer.objects.filter(first_answer_at__isnull=True, first_answer_due__lte=soon_until)
        .filter(clue__in=visible_pks, clue__status__in=OPEN_STATES, pk=latest)
        .select_related("clue__district", "from_agency", "to_agency")
        .defer(*_clue_columns("clue__"), "clue__district__geom")
    )
    for transfer in first_answers:
        items.append(
            _item(
                "first_answer",
                transfer.first_answer_due,
                today,
                transfer.clue,
                transfer.to_agency,
                transfer.from_agency,
            )
        )
    feedback = (
        Transfer.objects.filter(feedback_at__isnull=True, feedback_due__lte=soon_until, clue__in=visible_pks)
        .select_related("clue__district", "from_agency", "to_agency")
        .defer(*_clue_columns("clue__"), "clue__district__geom")
    )
    for transfer in feedback:
        items.append(
            _item("feedback", transfer.feedback_due, today, transfer.clue, transfer.to_agency, transfer.from_agency)
        )
    suggestions = (
        Suggestion.objects.filter(reply_at__isnull=True, reply_due__lte=soon_until, clue__in=visible_pks)
        .select_related("clue__district", "clue__holder", "addressee")
        .defer(*_clue_columns("clue__"), "clue__district__geom")
    )
    for suggestion in suggestions:
        items.append(
            _item(
                "suggestion_reply",
                suggestion.reply_due,
                today,
                suggestion.clue,
                suggestion.addressee,
                suggestion.clue.holder,
            )
        )
    items.extend(_periodic_transfers(visible, today, soon_until))
    items.sort(key=lambda item: (item.due, item.kind, item.clue.code))
    return DueList(today=today, soon_until=soon_until, items=items)


def _periodic_transfers(visible, today: datetime.date, soon_until: datetime.date) -> list[DueItem]:  # noqa: ANN001 - a ClueQuerySet
    """Seed 002 §三(二): a river office holding unsent clues sends them within TRANSFER_INTERVAL of its
    last transfer to a procuratorate, or of the oldest waiting clue's registration if that is later.

    Dated from the clues the user sees, as the sweep tells each user (clues.notifications._audiences).
    """
    pending = (
        visible.filter(
            status=Status.REGISTERED, registering_agency__kind__in=BATCHING_KINDS, holder=F("registering_agency")
        )
        .exclude(routed_to=F("registering_agency"))
        .order_by()
    )
    waiting = {
        row["registering_agency"]: row
        for row in pending.values("registering_agency").annotate(oldest=Min("created_at"), n=Count("pk"))
    }
    if not waiting:
        return []
    last_sent = dict(
        Transfer.objects.filter(from_agency__in=list(waiting), to_agency__kind=AgencyKind.PROCURATORATE)
        .order_by()
        .values("from_agency")
        .annotate(last=Max("sent_at"))
        .values_list("from_agency", "last")
    )
    interval = _interval_deadline()
    due_of = {}
    for agency_pk, row in waiting.items():
        start = timezone.localdate(row["oldest"])
        if agency_pk in last_sent:
            start = max(start, timezone.localdate(last_sent[agency_pk]))
        due = interval(start)
        if due <= soon_until:
            due_of[agency_pk] = due
    if not due_of:
        return []
    oldest_of = {}
    for clue in (
        pending.filter(registering_agency__in=list(due_of))
        .select_related("district", "registering_agency", "routed_to")
        .defer(*_clue_columns(""), "district__geom")
        .order_by("registering_agency_id", "created_at", "pk")
        .distinct("registering_agency_id")
    ):
        oldest_of[clue.registering_agency_id] = clue
    return [
        _item(
            "transfer_interval",
            due,
            today,
            oldest_of[pk],
            oldest_of[pk].registering_agency,
            oldest_of[pk].routed_to,
            waiting[pk]["n"],
        )
        for pk, due in due_of.items()
    ]


def _interval_deadline():  # noqa: ANN202 - a function of a date
    """Return clues.deadlines.deadline for TRANSFER_INTERVAL with its policies read once, not per office."""
    rule = DeadlineRule.TRANSFER_INTERVAL
    policies = list(DeadlinePolicy.objects.filter(rule=rule).order_by("-effective_from"))

    def due(start: datetime.date) -> datetime.date:
        policy = next((p for p in policies if p.effective_from <= start), None)
        amount, unit = (policy.amount, policy.unit) if policy else DEFAULT_POLICIES[rule]
        return add_months(start, amount) if unit == TimeUnit.MONTHS else start + datetime.timedelta(days=amount)

    return due
