"""Set-level reads of patrols."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from rivers.models import Agency, District
from rivers.querysets import SpatialQuerySet


class PatrolQuerySet(SpatialQuerySet):
    def visible_to(self, user) -> PatrolQuerySet:  # noqa: ANN001 - a user
        """Return the patrols of the user's agencies (and, for city-level agencies, of the city's districts)."""
        from .models import PatrolParticipant

        if not user.is_authenticated:
            return self.none()
        agencies = Agency.objects.of_user(user)
        took_part = PatrolParticipant.objects.filter(patrol=OuterRef("pk"), agency__in=agencies.values("pk"))
        own_districts = agencies.values("district")
        city_districts = District.objects.filter(parent__in=agencies.filter(district__level="city").values("district"))
        return self.filter(
            Q(started_by=user)
            | Exists(took_part)
            | Q(district__in=own_districts)
            | Q(district__in=city_districts.values("pk"))
        )
