"""API of the river network: GeoJSON layers and clue routing."""

from django.contrib.gis.geos import Point
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from .categories import Category
from .filters import BboxFilter, DistrictFilter
from .models import District, Reach, WaterBody
from .routing import RoutingError, route, routing_warnings
from .serializers import (
    CategorySerializer,
    DistrictSerializer,
    LonLatSerializer,
    ReachSerializer,
    RoutingSerializer,
    WaterBodySerializer,
)


class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    """行政区划 Districts as GeoJSON; `?bbox=` and `?level=` filter."""

    queryset = District.objects.select_related("parent")
    serializer_class = DistrictSerializer
    filter_backends = [BboxFilter]
    lookup_field = "code"

    def get_queryset(self):
        queryset = super().get_queryset()
        level = self.request.query_params.get("level")
        return queryset.filter(level=level) if level else queryset


class ReachViewSet(viewsets.ReadOnlyModelViewSet):
    """河段 Reaches as GeoJSON, with their districts and cross-district flag; `?bbox=` and `?district=` filter."""

    queryset = Reach.objects.select_related("river").prefetch_related("districts")
    serializer_class = ReachSerializer
    filter_backends = [BboxFilter, DistrictFilter]
    lookup_field = "code"


class WaterBodyViewSet(viewsets.ReadOnlyModelViewSet):
    """水库湖泊 Water bodies as GeoJSON; `?bbox=` and `?district=` filter."""

    queryset = WaterBody.objects.prefetch_related("districts")
    serializer_class = WaterBodySerializer
    filter_backends = [BboxFilter, DistrictFilter]
    lookup_field = "code"


class RoutingView(APIView):
    """Who receives a clue found at a point (DESIGN §4 routing rules)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", float, required=True, description="WGS84 longitude"),
            OpenApiParameter("lat", float, required=True, description="WGS84 latitude"),
        ],
        responses=RoutingSerializer,
    )
    def get(self, request):
        position = LonLatSerializer(data=request.query_params)
        position.is_valid(raise_exception=True)
        point = Point(position.validated_data["lon"], position.validated_data["lat"], srid=4326)
        try:
            routing = route(point, near_boundary=True)
        except RoutingError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        warnings = routing_warnings(routing)
        return Response(RoutingSerializer(routing, context={"warnings": warnings}).data)


class CategoriesView(APIView):
    """问题类别 The categories of findings and clues (DESIGN §4): fixed codes with their labels."""

    pagination_class = None

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request):
        categories = [{"code": code, "label": label} for code, label in Category.choices]
        return Response(CategorySerializer(categories, many=True).data)
