"""Set-level reads of patrols."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Q

from rivers.models import Agency, District
from rivers.querysets import AreaQuerySet, SpatialQuerySet


class PatrolQuerySet(SpatialQuerySet):
    def in_district(self, area) -> PatrolQuerySet:  # noqa: ANN001 - a District
        """Return the patrols of `area`, or of its districts for a city."""
        return self.filter(Q(district=area) | Q(district__parent=area))

    def started_in_year(self, year: int) -> PatrolQuerySet:
        """Return the patrols started in `year`, counted in the agencies' time zone (patrols.plans)."""
        from .plans import LOCAL_TZ

        start = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
        return self.filter(started_at__gte=start, started_at__lt=start.replace(year=year + 1))

    def participated_by(self, user) -> PatrolQuerySet:  # noqa: ANN001 - a user
        """Return the patrols `user` started or took part in."""
        from .models import PatrolParticipant

        took_part = PatrolParticipant.objects.filter(patrol=OuterRef("pk"), user=user)
        return self.filter(Q(started_by=user) | Exists(took_part))

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


class PatrolRouteQuerySet(AreaQuerySet):
    district_lookups = ("district",)
