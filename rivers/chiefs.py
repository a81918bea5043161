"""Chief assignments: a change of chief is a new row; the old one is closed, never overwritten."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import ChiefAssignment, ChiefRole, Reach, WaterBody


@transaction.atomic
def chief_assign(
    *,
    person_name: str,
    level: str,
    start_date: datetime.date,
    reach: Reach | None = None,
    water_body: WaterBody | None = None,
    role: str = ChiefRole.CHIEF,
    end_date: datetime.date | None = None,
    user: AbstractBaseUser | None = None,
) -> tuple[ChiefAssignment, bool]:
    """Make `person_name` the chief (or eco-prosecutor) from `start_date`, closing the one serving.

    Idempotent: assigning the person already serving, or the same person, role and start date
    again, returns the existing row. Returns (assignment, created).
    """
    target = {"reach": reach} if reach is not None else {"water_body": water_body}
    serving = ChiefAssignment.objects.filter(**target, role=role, end_date__isnull=True).first()
    if serving is not None and serving.person_name == person_name and end_date is None:
        return serving, False
    existing = ChiefAssignment.objects.filter(
        **target, role=role, person_name=person_name, start_date=start_date
    ).first()
    if existing is not None:
        if end_date != existing.end_date and end_date is not None:
            existing.end_date = end_date
            existing.save(update_fields=["end_date"])
        return existing, False
    if end_date is None:
        serving = ChiefAssignment.objects.select_for_update().filter(**target, role=role, end_date__isnull=True)
        for old in serving:
            if old.start_date >= start_date:
                raise ValueError(f"{old.person_name} serves from {old.start_date}; a new chief must start after that")
            old.end_date = start_date - datetime.timedelta(days=1)
            old.save(update_fields=["end_date"])
    assignment = ChiefAssignment.objects.create(
        **target,
        person_name=person_name,
        role=role,
        level=level,
        start_date=start_date,
        end_date=end_date,
        user=user,
    )
    return assignment, True
