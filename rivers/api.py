"""API of the river network: GeoJSON layers and clue routing."""

import json

from django.contrib.gis.geos import Point
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from .categories import Category
from .filters import BboxFilter, DistrictFilter
from .geojson import geojson_page
from .models import District, Reach, WaterBody
from .routing import RoutingError, route, routing_warnings
from .serializers import (
    CategorySerializer,
    DistrictSerializer,
    LonLatSerializer,
    ReachSerializer,
    RoutingSerializer,
    WaterBodySerializer,
    routing_data,
)


class JSONText(bytes):
    """A response body PostgreSQL already wrote as JSON (UTF-8): sent as it is, never decoded or encoded."""


class JSONTextRenderer(JSONRenderer):
    """DRF's JSON renderer, passing JSONText through untouched (and rendering anything else as usual)."""

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, JSONText):
            return data
        return super().render(data, accepted_media_type, renderer_context)


class GeoJSONLayerViewSet(viewsets.ReadOnlyModelViewSet):
    """A layer whose list is a FeatureCollection built in SQL (rivers.geojson); the detail stays DRF-gis.

    The list keeps the paginated shape DRF gives (`count`, `next`, `previous`, `results`) and the
    serializer's features; filters and `?limit=`/`?offset=` work as on every list.
    """

    renderer_classes = [JSONTextRenderer, BrowsableAPIRenderer]
    lookup_field = "code"

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        paginator = self.paginator
        # What LimitOffsetPagination.paginate_queryset reads, without running its count and slice.
        paginator.request = request
        paginator.limit = paginator.get_limit(request) or paginator.max_limit
        paginator.offset = paginator.get_offset(request)
        page = geojson_page(queryset, limit=paginator.limit, offset=paginator.offset)
        paginator.count = page.count
        links = json.dumps({"next": paginator.get_next_link(), "previous": paginator.get_previous_link()})
        head = f'{{"count":{page.count},{links[1:-1]},"results":'.encode()
        return Response(JSONText(b"".join((head, page.collection, b"}"))))


class DistrictViewSet(GeoJSONLayerViewSet):
    """行政区划 Districts as GeoJSON; `?bbox=` and `?level=` filter.

    The list is a page of a FeatureCollection (in `results`) by code, coordinates to 6 decimals (WGS84).
    """

    queryset = District.objects.select_related("parent")
    serializer_class = DistrictSerializer
    filter_backends = [BboxFilter]

    def get_queryset(self):
        queryset = super().get_queryset()
        level = self.request.query_params.get("level")
        return queryset.filter(level=level) if level else queryset


class ReachViewSet(GeoJSONLayerViewSet):
    """河段 Reaches as GeoJSON, with their districts and cross-district flag; `?bbox=` and `?district=` filter.

    The list is a page of a FeatureCollection (in `results`) by code, coordinates to 6 decimals (WGS84).
    """

    queryset = Reach.objects.select_related("river").prefetch_related("districts")
    serializer_class = ReachSerializer
    filter_backends = [BboxFilter, DistrictFilter]


class WaterBodyViewSet(GeoJSONLayerViewSet):
    """水库湖泊 Water bodies as GeoJSON; `?bbox=` and `?district=` filter.

    The list is a page of a FeatureCollection (in `results`) by code, coordinates to 6 decimals (WGS84).
    """

    queryset = WaterBody.objects.prefetch_related("districts")
    serializer_class = WaterBodySerializer
    filter_backends = [BboxFilter, DistrictFilter]


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
        return Response(routing_data(routing, warnings))


class CategoriesView(APIView):
    """问题类别 The categories of findings and clues (DESIGN §4): fixed codes with their labels."""

    pagination_class = None

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request):
        categories = [{"code": code, "label": label} for code, label in Category.choices]
        return Response(CategorySerializer(categories, many=True).data)
