"""巡查路线 Planned patrol routes as GeoJSON."""

from __future__ import annotations

from rest_framework import viewsets

from config.api_input import serializers
from rivers.filters import BboxFilter, DistrictFilter

from ..models import PatrolRoute


class PatrolRouteSerializer(serializers.GeoFeatureModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = PatrolRoute
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "district"]


class PatrolRouteViewSet(viewsets.ReadOnlyModelViewSet):
    """巡查路线 Planned routes; `?district=` (a district's or a city's) and `?bbox=` filter."""

    queryset = PatrolRoute.objects.select_related("district")
    serializer_class = PatrolRouteSerializer
    filter_backends = [BboxFilter, DistrictFilter]
    lookup_field = "code"
