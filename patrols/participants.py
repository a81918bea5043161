"""Who can be chosen as a patrol's participants: the people of the user's agencies and of the partner side.

A joint patrol (联合巡查, seed 002 §三(三)) needs the river side and the procuratorate side
(patrols.tracks.joint_sides_missing). A river-side agency's partners are the procuratorate-side
agencies of the same district, and the other way round.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from rivers.models import Agency, Membership

from .tracks import PROCURATORATE_SIDE, RIVER_SIDE

RIVER, PROCURATORATE = "river", "procuratorate"


def side_of(kind: str) -> str | None:
    """Return the side of a joint patrol an agency of `kind` stands on: "river", "procuratorate" or None."""
    if kind in RIVER_SIDE:
        return RIVER
    if kind in PROCURATORATE_SIDE:
        return PROCURATORATE
    return None


def colleagues_of(user, *, district=None) -> QuerySet[Membership]:  # noqa: ANN001 - a user; a District
    """Return the memberships of the people `user` may take on a patrol: of their agencies (in
    `district` if given) and of those agencies' partner side in the same district. Two queries."""
    own = list(Agency.objects.filter(memberships__user=user).distinct())
    if district is not None:
        own = [agency for agency in own if agency.district_id == district.pk]
    if not own:
        return Membership.objects.none()
    chosen = Q(agency__in=[agency.pk for agency in own])
    for agency in own:
        side = side_of(agency.kind)
        if side is not None:
            partner_kinds = PROCURATORATE_SIDE if side == RIVER else RIVER_SIDE
            chosen |= Q(agency__district_id=agency.district_id, agency__kind__in=partner_kinds)
    return (
        Membership.objects.filter(chosen, user__is_active=True)
        .select_related("user", "agency")
        .order_by("agency__code", "user__username", "role")
    )
