"""Who may change who sees what, and the record of every such change (DESIGN §5).

Visibility follows from a few facts: an agency's kind and district (the procuratorate of a city is
the municipal procuratorate, which oversees every cross-district clue), a district's level and
parent, users' memberships, and users' rights in the admin. Only a system administrator changes
them: a superuser, or a user holding the permission `rivers.manage_access`. GIS administrators keep
the layers (geometries, names, codes), not these facts. Each change is an AccessChange row: who,
when, the values before and after.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from .models import AccessAction, AccessChange, Agency, District, Membership

MANAGE_ACCESS = "rivers.manage_access"


def guarded_fields(model: type[models.Model]) -> tuple[str, ...]:
    """Return the fields of `model` that decide who sees what (empty for other models)."""
    return {
        Agency: ("kind", "district"),
        District: ("level", "parent"),
        Membership: ("user", "agency", "role"),
        get_user_model(): ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
        Group: ("permissions",),
    }.get(model, ())


class AccessChangeRefused(PermissionDenied):
    """Someone who is not a system administrator tried to change who sees what (HTTP 403)."""


def is_system_admin(user) -> bool:  # noqa: ANN001 - a user
    """Say whether `user` is a system administrator: an active superuser or holder of manage_access."""
    return bool(user.is_active and (user.is_superuser or user.has_perm(MANAGE_ACCESS)))


def _value(obj: models.Model, name: str):  # noqa: ANN202 - a JSON value
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return sorted(str(item) for item in getattr(obj, name).all()) if obj.pk else []
    if field.is_relation:
        related = getattr(obj, name)
        return None if related is None else {"id": related.pk, "name": str(related)}
    return getattr(obj, name)


def guarded_values(obj: models.Model) -> dict:
    """Return the values of the guarded fields of `obj` as they are now (JSON-ready)."""
    return {name: _value(obj, name) for name in guarded_fields(type(obj))}


@transaction.atomic
def access_change_record(
    *,
    actor,  # noqa: ANN001 - a user
    obj: models.Model,
    action: str,
    before: dict | None = None,
    by_anyone: bool = False,
) -> AccessChange | None:
    """Record that `actor` added, changed or deleted `obj`, with the guarded values before and after.

    Call it after saving (or before deleting) in the same transaction: `before` is what
    `guarded_values` said before the change. A change that touches no guarded field is not recorded.
    Refuses (AccessChangeRefused, which rolls the change back) unless `actor` is a system
    administrator or the caller says the change is open to anyone (`by_anyone`: a GIS administrator
    adding a town, say).
    """
    before = before or {}
    after = {} if action == AccessAction.DELETE else guarded_values(obj)
    if action == AccessAction.CHANGE:
        names = [name for name in after if before.get(name) != after[name]]
        if not names:
            return None
        before = {name: before.get(name) for name in names}
        after = {name: after[name] for name in names}
    if not by_anyone and not (actor is not None and is_system_admin(actor)):
        raise AccessChangeRefused(
            "只有系统管理员可以修改单位类型、辖区、成员和账号权限 / only a system administrator may change "
            "an agency's kind or district, a district's level, memberships or accounts' rights"
        )
    return AccessChange.objects.create(
        actor=actor,
        action=action,
        subject=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
    )
