"""Set-level reads of clues; who may see what (DESIGN §5) is decided here, for every endpoint."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from rivers.models import Agency
from rivers.querysets import SpatialQuerySet

OVERSIGHT_REASONS = ["cross_district", "outside_districts"]


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
        agencies = Agency.objects.of_user(user).values("pk")
        cities = Agency.objects.municipal_procuratorates_of(user).values("district")
        moved = Transfer.objects.filter(clue=OuterRef("pk")).filter(
            Q(from_agency__in=agencies) | Q(to_agency__in=agencies) | Q(copies__in=agencies)
        )
        addressed = Suggestion.objects.filter(clue=OuterRef("pk"), addressee__in=agencies)
        involved = Q(registering_agency__in=agencies) | Q(holder__in=agencies) | Exists(moved) | Exists(addressed)
        oversight = Q(city__in=cities) & (Q(routing_reason__in=OVERSIGHT_REASONS) | Q(confidential=True))
        # Confidential: the holder's own members only, not those who see its work through a liaison office.
        members_of = Agency.objects.filter(memberships__user=user).values("pk")
        secret_allowed = Q(confidential=False) | Q(holder__in=members_of) | Q(city__in=cities)
        return self.filter((involved | oversight) & secret_allowed)

    def open(self) -> ClueQuerySet:
        return self.exclude(status__in=["closed", "feedback_given", "merged"])
