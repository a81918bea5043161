"""公示牌 Boards of reaches and water bodies: one, or all of a district's for the phone's offline cache."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_input import serializers
from rivers.filters import district_by_code
from rivers.models import Reach, WaterBody
from rivers.serializers import DistrictRefSerializer

from ..boards import boards_with_last_patrol


class OfficeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class BoardPersonSerializer(serializers.Serializer):
    """A person on the board: name, level and office only (DESIGN §5)."""

    name = serializers.CharField()
    level = serializers.CharField()
    level_label = serializers.CharField()
    office = OfficeSerializer(allow_null=True, help_text="derived: the river office or procuratorate served")


class RiverRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class BoardSerializer(serializers.Serializer):
    """The 公示牌 of a reach or water body (patrols.boards)."""

    kind = serializers.CharField(help_text="reach | water_body")
    code = serializers.CharField(source="feature.code")
    name = serializers.CharField(source="feature.name")
    river = serializers.SerializerMethodField()
    water_body_kind = serializers.SerializerMethodField(help_text="a water body's kind; null for a reach")
    level = serializers.CharField(source="feature.level", help_text="chief level 河长级别")
    level_label = serializers.CharField(source="feature.get_level_display")
    is_cross_district = serializers.BooleanField(source="feature.is_cross_district")
    districts = DistrictRefSerializer(many=True)
    chiefs = BoardPersonSerializer(many=True, help_text="河长 serving today")
    eco_prosecutors = BoardPersonSerializer(many=True, help_text="生态检察官 serving today")
    last_patrol_date = serializers.DateField(allow_null=True, help_text="local date of the latest finished patrol")

    def get_river(self, board) -> dict | None:  # noqa: ANN001 - a Board
        river = getattr(board.feature, "river", None)
        return None if river is None else {"code": river.code, "name": river.name}

    def get_water_body_kind(self, board) -> str | None:  # noqa: ANN001 - a Board
        return board.feature.kind if isinstance(board.feature, WaterBody) else None


class DistrictBoardsSerializer(serializers.Serializer):
    district = DistrictRefSerializer()
    reaches = BoardSerializer(many=True)
    water_bodies = BoardSerializer(many=True)


class ReachBoardView(APIView):
    """公示牌 The board of a reach."""

    @extend_schema(responses=BoardSerializer)
    def get(self, request, code: str) -> Response:
        reach = get_object_or_404(Reach.objects.select_related("river"), code=code)
        return Response(BoardSerializer(boards_with_last_patrol([reach])[0]).data)


class WaterBodyBoardView(APIView):
    """公示牌 The board of a water body."""

    @extend_schema(responses=BoardSerializer)
    def get(self, request, code: str) -> Response:
        water_body = get_object_or_404(WaterBody, code=code)
        return Response(BoardSerializer(boards_with_last_patrol([water_body])[0]).data)


class DistrictBoardsView(APIView):
    """公示牌 Every board of a district's reaches and water bodies (those lying in it or crossing it)."""

    @extend_schema(
        parameters=[OpenApiParameter("district", str, required=True, description="区县或市代码 district or city code")],
        responses=DistrictBoardsSerializer,
    )
    def get(self, request) -> Response:
        code = request.query_params.get("district")
        if not code:
            raise ValidationError({"district": ["须指定区县代码 / give a district code (?district=)"]})
        area = district_by_code(code)
        reaches = list(Reach.objects.in_district(area).select_related("river").order_by("code"))
        water_bodies = list(WaterBody.objects.in_district(area).order_by("code"))
        body = {
            "district": area,
            "reaches": boards_with_last_patrol(reaches),
            "water_bodies": boards_with_last_patrol(water_bodies),
        }
        return Response(DistrictBoardsSerializer(body).data)
