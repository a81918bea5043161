"""Users' roles in agencies (DESIGN §5)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.db.models import Extent
from django.db import IntegrityError, transaction

from .access import access_change_record
from .models import AccessAction, Agency, AgencyKind, District, Membership, Role

# GIS administrators keep the layers in the admin site: these apps' models are theirs to edit.
GIS_ADMIN_GROUP = "GIS管理员 GIS administrators"
GIS_ADMIN_MODELS = {
    "rivers": ["district", "river", "reach", "waterbody", "chiefassignment", "agency"],
    "patrols": ["patrolroute"],
}


def gis_admin_group() -> Group:
    """Return the group of GIS administrators, with the permissions to edit every network layer."""
    group, _ = Group.objects.get_or_create(name=GIS_ADMIN_GROUP)
    for app_label, models in GIS_ADMIN_MODELS.items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, content_type__model__in=models)
        )
    return group


def member_add(*, username: str, agency: Agency, role: str, password: str | None = None) -> tuple[Membership, bool]:
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
        if role == Role.GIS_ADMIN:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            user.groups.add(gis_admin_group())
        # The unique constraint is the guard against a concurrent duplicate, not a prior lookup.
        try:
            with transaction.atomic():
                membership = Membership.objects.create(user=user, agency=agency, role=role)
        except IntegrityError:
            return Membership.objects.get(user=user, agency=agency, role=role), False
        # Called from the command line (add_member, load_demo), a system administrator's tool: no user named.
        access_change_record(actor=None, obj=membership, action=AccessAction.ADD, by_anyone=True)
        return membership, True


def acting_agency(user, named: Agency | None = None) -> Agency | None:  # noqa: ANN001 - a user
    """Return the agency a user acts for: the one named if they are a member of it, else their only
    one; None when they named one they are not in, or belong to several (or none) and named none."""
    # One statement either way, raw: the ORM's compiling cost more than the query on every registration.
    found = list(Agency.objects.raw(ACTING_AGENCY_SQL, [user.pk, named.pk if named is not None else None]))
    if named is not None:
        return found[0] if found else None
    return found[0] if len(found) == 1 else None


# The user's agencies (the one named, when one is), by code as Agency's ordering; two tell "several".
# A subquery, not a join, needs no DISTINCT.
ACTING_AGENCY_SQL = """
SELECT * FROM rivers_agency
WHERE id IN (SELECT agency_id FROM rivers_membership WHERE user_id = %s) AND id = COALESCE(%s, id)
ORDER BY code LIMIT 2
"""


def abilities(memberships) -> dict[str, bool]:  # noqa: ANN001 - a user's Membership rows
    """Say what a user with these memberships may do, as the server decides it (for the app's buttons).

    Starting a patrol, recording a finding and registering a clue need an agency to act for
    (acting_agency): any membership. A finding becomes a clue for the members of its agency
    (patrols.api.findings). Setting the year's focus is for liaison officers of a liaison office
    (patrols.plans.is_liaison_of, per district).
    """
    memberships = list(memberships)
    return {
        "start_patrol": bool(memberships),
        "record_finding": bool(memberships),
        "register_clue": bool(memberships),
        "make_clue_from_finding": bool(memberships),
        "set_focus": any(m.role == Role.LIAISON and m.agency.kind == AgencyKind.LIAISON_OFFICE for m in memberships),
    }


def home_district(memberships) -> tuple[District, tuple[float, float, float, float]] | None:  # noqa: ANN001
    """Return the district of the first of a user's memberships (as ordered) and its lon/lat box, or None.

    The phone opens its map there and caches that district's layers for offline use.
    """
    memberships = list(memberships)
    if not memberships:
        return None
    district = memberships[0].agency.district
    box = District.objects.filter(pk=district.pk).aggregate(box=Extent("geom"))["box"]
    return district, box
