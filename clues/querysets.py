"""Set-level reads of clues; who may see what (DESIGN §5) is decided here, for every endpoint."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from rivers.models import Agency, DistrictLevel, Membership
from rivers.querysets import SpatialQuerySet

OVERSIGHT_REASONS = ["cross_district", "outside_districts"]


def agencies_of(user) -> tuple[list[int], list[int], list[int]]:  # noqa: ANN001 - a user
    """Return the ids of the agencies whose work `user` sees, of those `user` is a member of, and of the
    cities whose municipal procuratorate `user` works in, read in one query.

    visible_to() once took them as subqueries, repeated six times in one statement: compiling and planning
    it cost more than the rest of a clue's registration (issue 8). The same sets as Agency.objects.of_user()
    and municipal_procuratorates_of().
    """
    rows = (
        Agency.objects.of_user(user)
        .annotate(member=Exists(Membership.objects.filter(agency=OuterRef("pk"), user=user)))
        .values_list("pk", "member", "kind", "district__level", "district_id")
    )
    agencies, members_of, cities = [], [], []
    for pk, member, kind, district_level, district_id in rows:
        agencies.append(pk)
        if member:
            members_of.append(pk)
            if kind == "procuratorate" and district_level == DistrictLevel.CITY:
                cities.append(district_id)
    return agencies, members_of, cities


class ClueQuerySet(SpatialQuerySet):
    def visible_to(self, user) -> ClueQuerySet:  # noqa: ANN001 - a user
        """Return the clues `user` may see; any other clue must look as if it did not exist.

        - an agency sees the clues it registered, holds, sent, received, was copied on or was
          addressed a suggestion about;
        - the municipal procuratorate sees every cross-district and outside-district clue of its city;
        - a confidential clue is seen only by its holder and the municipal procuratorate (seed 003
          §三: "对于需要保密的内容，应当予以特别说明").
        """
        from .models import Suggestion, Transfer

        if not user.is_authenticated:
            return self.none()
        agencies, members_of, cities = agencies_of(user)
        moved = Transfer.objects.filter(clue=OuterRef("pk")).filter(
            Q(from_agency__in=agencies) | Q(to_agency__in=agencies) | Q(copies__in=agencies)
        )
        addressed = Suggestion.objects.filter(clue=OuterRef("pk"), addressee__in=agencies)
        involved = Q(registering_agency__in=agencies) | Q(holder__in=agencies) | Exists(moved) | Exists(addressed)
        oversight = Q(city__in=cities) & (Q(routing_reason__in=OVERSIGHT_REASONS) | Q(confidential=True))
        # Confidential: the holder's own members only (members_of), not those who see its work through a
        # liaison office.
        secret_allowed = Q(confidential=False) | Q(holder__in=members_of) | Q(city__in=cities)
        return self.filter((involved | oversight) & secret_allowed)

    def open(self) -> ClueQuerySet:
        return self.exclude(status__in=["closed", "feedback_given", "merged"])
