"""Deadlines as policy (DESIGN §4): each locality's agreement sets its own lengths.

A length is read from the DeadlinePolicy in force on the day the deadline starts, and the computed
date is stored on the transfer or suggestion: changing the policy later leaves old deadlines alone.
"""

from __future__ import annotations

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import DeadlinePolicy, DeadlineRule, TimeUnit

# The defaults of DESIGN §4, in force until an administrator adds a policy row (migration 0003
# also writes them as rows effective since 2000-01-01, so that the admin shows them).
DEFAULT_POLICIES = {
    # Seed 000 §二(三): 接到线索后一般应当在一个月内向移送部门反馈办理情况.
    DeadlineRule.FIRST_ANSWER: (1, TimeUnit.MONTHS),
    # Seed 002 §三(二): 在办结后十日内向移送方反馈案件办理情况或处理结果.
    DeadlineRule.FEEDBACK: (10, TimeUnit.DAYS),
    # Administrative Procedure Law art. 25: reply within two months, 15 days when urgent.
    DeadlineRule.SUGGESTION_REPLY: (2, TimeUnit.MONTHS),
    DeadlineRule.SUGGESTION_REPLY_URGENT: (15, TimeUnit.DAYS),
    # Seed 002 §三(二): 原则上应每半年移送一次案件线索.
    DeadlineRule.TRANSFER_INTERVAL: (6, TimeUnit.MONTHS),
    DeadlineRule.DUE_SOON: (3, TimeUnit.DAYS),
}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def policy_in_force(rule: str, on: datetime.date) -> DeadlinePolicy:
    """Return the policy of `rule` in force on `on`: the latest row effective by then, else the default."""
    policy = DeadlinePolicy.objects.filter(rule=rule, effective_from__lte=on).order_by("-effective_from").first()
    if policy is None:
        amount, unit = DEFAULT_POLICIES[rule]
        policy = DeadlinePolicy(rule=rule, amount=amount, unit=unit, effective_from=datetime.date.min)
    return policy


def deadline(rule: str, start: datetime.date) -> datetime.date:
    """Return the date by which `rule` must be met, for a period starting on `start`."""
    policy = policy_in_force(rule, start)
    if policy.unit == TimeUnit.MONTHS:
        return add_months(start, policy.amount)
    return start + datetime.timedelta(days=policy.amount)


def due_soon_until(today: datetime.date) -> datetime.date:
    """Return the last day of the warning window that starts on `today` (the DUE_SOON policy)."""
    return deadline(DeadlineRule.DUE_SOON, today)


def policy_check(*, rule: str, amount: int, effective_from: datetime.date, today: datetime.date | None = None) -> None:
    """Raise ValidationError where a new policy row would rewrite the past or make a rule meaningless.

    A policy applies from its date on; one dated before today would claim that deadlines already
    computed were computed under it, so the history of the policy would no longer be true.
    """
    today = today or timezone.localdate()
    errors = {}
    if effective_from < today:
        errors["effective_from"] = (
            f"生效日期不能早于今天（{today}）：已计算的期限不变，新规则只适用于今后 / "
            f"a policy cannot start before today ({today}): it applies to new deadlines only"
        )
    # A warning window of 0 means "no early warning"; every other rule needs a length.
    if amount < 1 and rule != DeadlineRule.DUE_SOON:
        errors["amount"] = "时长须大于0 / the length must be at least 1"
    if errors:
        raise ValidationError(errors)


# The states of one deadline, as the clue's page shows them.
IN_TIME, LATE, OVERDUE, DUE_SOON, PENDING = "in_time", "late", "overdue", "due_soon", "pending"


def deadline_state(
    due: datetime.date, done_at: datetime.datetime | None, *, today: datetime.date, soon_until: datetime.date
) -> str:
    """Return where a deadline stands: met in time or late, or not met yet and overdue, due soon or pending."""
    # The due date is the last day allowed (as the sweep and the figures count it).
    if done_at is not None:
        return IN_TIME if timezone.localdate(done_at) <= due else LATE
    if due < today:
        return OVERDUE
    return DUE_SOON if due <= soon_until else PENDING


def clue_deadlines(clue, *, today: datetime.date | None = None) -> list[dict]:  # noqa: ANN001 - a Clue
    """Return the deadlines of `clue`: each transfer's first answer and feedback, each suggestion's reply.

    Reads the clue's transfers and suggestions as given (prefetched by the API), and the warning window.
    """
    today = today or timezone.localdate()
    rows = []
    for transfer in clue.transfers.all():
        for kind, due, done_at in (
            (DeadlineRule.FIRST_ANSWER, transfer.first_answer_due, transfer.first_answer_at),
            (DeadlineRule.FEEDBACK, transfer.feedback_due, transfer.feedback_at),
        ):
            if due is not None:
                rows.append({"kind": kind, "due": due, "done_at": done_at, "owed_by": transfer.to_agency,
                             "transfer": transfer.pk, "suggestion": None})  # fmt: skip
    for suggestion in clue.suggestions.all():
        rows.append({"kind": DeadlineRule.SUGGESTION_REPLY, "due": suggestion.reply_due, "done_at": suggestion.reply_at,
                     "owed_by": suggestion.addressee, "transfer": None, "suggestion": suggestion.pk})  # fmt: skip
    # The warning window is read only when there is something to warn of (not for a fresh registration).
    soon_until = due_soon_until(today) if any(row["done_at"] is None for row in rows) else today
    for row in rows:
        row["state"] = deadline_state(row["due"], row["done_at"], today=today, soon_until=soon_until)
    return sorted(rows, key=lambda row: row["due"])
