"""What is due from a user (待办, issue 9 §5): the deadlines the agencies they act for must meet.

The same people as the deadline sweep's (clues.notifications.responsible_users): a user acts for the
agencies where they hold a staff role, and a liaison officer also for every agency of the liaison
office's district. Each item is about a clue (a first answer, a feedback), a suggestion (its written
reply) or the year's plan (the work points and the focus, due in Q1: liaison officers only). Items
about clues the user may not see are left out, and so are they from the counts (DESIGN §5).

A fixed number of queries whatever the number of items: the counts are aggregates, the items a page.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery

from patrols.plans import local_today, plans_status_many
from rivers.models import Agency, AgencyKind, District, Membership, Role

from .deadlines import due_soon_until
from .models import Clue, Suggestion, Transfer
from .workflow import OPEN_STATES, STAFF

OVERDUE, DUE_SOON, PENDING = "overdue", "due_soon", "pending"


class TodoKind(models.TextChoices):
    FIRST_ANSWER = "first_answer", "首次答复 first answer"
    FEEDBACK = "feedback", "办结反馈 feedback"
    SUGGESTION_REPLY = "suggestion_reply", "检察建议回复 suggestion reply"
    WORK_PLAN = "work_plan", "年度工作要点 work points"
    FOCUS_PLAN = "focus_plan", "年度巡查重点 patrol focus"


class TodoState(models.TextChoices):
    OVERDUE = OVERDUE, "逾期 overdue"
    DUE_SOON = DUE_SOON, "临期 due soon"
    PENDING = PENDING, "未到期 not yet due"


# The inbox lists this many items, the most urgent first; the counts cover them all.
TODO_SHOWN = 50


@dataclass(frozen=True)
class TodoItem:
    """One thing due: what (kind), by when, in which state, and what it is about."""

    kind: str  # first_answer | feedback | suggestion_reply | work_plan | focus_plan
    due: datetime.date
    state: str  # overdue | due_soon | pending
    agency: str  # the name of the agency that must act
    clue: int | None = None
    clue_code: str | None = None
    suggestion: int | None = None
    district: str | None = None  # a plan's district code


@dataclass
class Todo:
    today: datetime.date
    overdue: int = 0
    due_soon: int = 0
    total: int = 0
    items: list[TodoItem] = field(default_factory=list)


def _state(due: datetime.date, today: datetime.date, soon_until: datetime.date) -> str:
    # The due date is the last day allowed (as in the sweep): overdue from the day after.
    if due < today:
        return OVERDUE
    return DUE_SOON if due <= soon_until else PENDING


def acting_agencies(user):  # noqa: ANN001, ANN201 - a user; a queryset of agencies
    """Return the agencies `user` acts for: staff roles, and the liaison office's whole district."""
    staff = Membership.objects.filter(user_id=user.pk, role__in=STAFF)
    liaison_districts = staff.filter(agency__kind=AgencyKind.LIAISON_OFFICE).values("agency__district_id")
    return Agency.objects.filter(Q(pk__in=staff.values("agency_id")) | Q(district_id__in=liaison_districts))


def _counted(queryset, due: str, today: datetime.date, soon_until: datetime.date) -> dict:  # noqa: ANN001
    return queryset.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(**{f"{due}__lt": today})),
        due_soon=Count("pk", filter=Q(**{f"{due}__gte": today, f"{due}__lte": soon_until})),
    )


def todo_for(user, *, today: datetime.date | None = None, shown: int = TODO_SHOWN) -> Todo:  # noqa: ANN001
    """Return what is due from `user`: counts of everything, and the `shown` most urgent items."""
    today = today or local_today()
    soon_until = due_soon_until(today)
    todo = Todo(today=today)
    if not user.is_authenticated:
        return todo
    acting = acting_agencies(user).values("pk")
    visible = Clue.objects.visible_to(user).values("pk")
    # Only the transfer that brought the clue to its holder can be answered (clues.workflow).
    latest = Subquery(Transfer.objects.filter(clue=OuterRef("clue")).order_by("-sent_at", "-pk").values("pk")[:1])
    sources = [
        (
            "first_answer",
            "first_answer_due",
            Transfer.objects.filter(
                to_agency__in=acting,
                first_answer_at__isnull=True,
                first_answer_due__isnull=False,
                clue__status__in=OPEN_STATES,
                clue__in=visible,
            ).filter(pk=latest),
            "to_agency__name",
        ),
        (
            "feedback",
            "feedback_due",
            Transfer.objects.filter(
                to_agency__in=acting, feedback_at__isnull=True, feedback_due__isnull=False, clue__in=visible
            ),
            "to_agency__name",
        ),
        (
            "suggestion_reply",
            "reply_due",
            Suggestion.objects.filter(addressee__in=acting, reply_at__isnull=True, clue__in=visible),
            "addressee__name",
        ),
    ]
    for kind, due, queryset, agency in sources:
        counts = _counted(queryset, due, today, soon_until)
        todo.total += counts["total"]
        todo.overdue += counts["overdue"]
        todo.due_soon += counts["due_soon"]
        rows = queryset.order_by(due, "pk").values("pk", due, "clue_id", "clue__code", agency)[:shown]
        for row in rows:
            todo.items.append(
                TodoItem(
                    kind=kind,
                    due=row[due],
                    state=_state(row[due], today, soon_until),
                    agency=row[agency],
                    clue=row["clue_id"],
                    clue_code=row["clue__code"],
                    suggestion=row["pk"] if kind == "suggestion_reply" else None,
                )
            )
    for item in _plans_due(user, today, soon_until):
        todo.total += 1
        todo.overdue += item.state == OVERDUE
        todo.due_soon += item.state == DUE_SOON
        todo.items.append(item)
    todo.items.sort(key=lambda item: (item.due, item.kind, item.clue or 0, item.suggestion or 0))
    del todo.items[shown:]
    return todo


def _plans_due(user, today: datetime.date, soon_until: datetime.date) -> list[TodoItem]:  # noqa: ANN001
    """The year's plans a liaison officer's districts have not set yet (seed 002 §二(三), §三(三))."""
    offices = Agency.objects.filter(
        kind=AgencyKind.LIAISON_OFFICE, memberships__user_id=user.pk, memberships__role=Role.LIAISON
    )
    districts = District.objects.filter(pk__in=offices.values("district_id")).order_by("code")
    items = []
    names = dict(offices.values_list("district_id", "name"))
    for status in plans_status_many(districts, today.year, today).values():
        for kind, plan in (("work_plan", status.work_plan), ("focus_plan", status.focus)):
            if plan.missing:
                items.append(
                    TodoItem(
                        kind=kind,
                        due=plan.due,
                        state=_state(plan.due, today, soon_until),
                        agency=names.get(status.district.pk, ""),
                        district=status.district.code,
                    )
                )
    return items
