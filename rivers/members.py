"""Users' roles in agencies (DESIGN §5)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from .models import Agency, Membership


def member_add(
    *, username: str, agency: Agency, role: str, password: str | None = None
) -> tuple[Membership, bool]:
    """Create the user if needed and give them `role` in `agency`; return (membership, created)."""
    user_model = get_user_model()
    with transaction.atomic():
        user, user_created = user_model.objects.get_or_create(username=username)
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        elif user_created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        # The unique constraint is the guard against a concurrent duplicate, not a prior lookup.
        try:
            with transaction.atomic():
                return Membership.objects.create(user=user, agency=agency, role=role), True
        except IntegrityError:
            return Membership.objects.get(user=user, agency=agency, role=role), False
