"""Deadlines as policy (DESIGN §4): each locality's agreement sets its own lengths.

A length is read from the DeadlinePolicy in force on the day the deadline starts, and the computed
date is stored on the transfer or suggestion: changing the policy later leaves old deadlines alone.
"""

from __future__ import annotations

import calendar
import datetime

from .models import DeadlinePolicy, TimeUnit

# The defaults (migration 0003 loads them, effective since 2000-01-01; administrators add rows):
# first answer 1 month (seed 000 §二(三)), feedback 10 days after closing (seed 002 §三(二)),
# suggestion reply 2 months, 15 days when urgent (Administrative Procedure Law art. 25), periodic
# transfer every 6 months (seed 002 §三(二)), warn 3 days before a deadline.


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def policy_in_force(rule: str, on: datetime.date) -> DeadlinePolicy:
    policy = DeadlinePolicy.objects.filter(rule=rule, effective_from__lte=on).order_by("-effective_from").first()
    if policy is None:
        raise LookupError(f"no deadline policy for {rule} on {on}")
    return policy


def deadline(rule: str, start: datetime.date) -> datetime.date:
    """Return the date by which `rule` must be met, for a period starting on `start`."""
    policy = policy_in_force(rule, start)
    if policy.unit == TimeUnit.MONTHS:
        return add_months(start, policy.amount)
    return start + datetime.timedelta(days=policy.amount)
