"""The joint-meeting pack (联席会议材料) as a PDF or an XLSX, and the deadlines due soon and overdue."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_input import serializers
from patrols.api.plans import DistrictCodeField
from rivers.serializers import AgencyRefSerializer, DistrictRefSerializer

from ..figures import current_year
from ..meeting import pack_make, pack_pdf, pack_tables
from ..overdue import deadlines_due
from .batches import PDFRenderer
from .figures import XLSX_MEDIA_TYPE, ErrorsAsJSONMixin, FiguresXLSXRenderer, PeriodSerializer, period_from


class MeetingPackView(ErrorsAsJSONMixin, APIView):
    """联席会议材料 The joint-meeting pack of a period, for the user."""

    renderer_classes = [PDFRenderer, FiguresXLSXRenderer, JSONRenderer]

    @extend_schema(
        parameters=[
            PeriodSerializer,
            OpenApiParameter("format", str, enum=["pdf", "xlsx"], description="pdf (default) or xlsx"),
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="the figures with charts, a map of the districts and clues, the overdue list, the "
                "year's joint patrols",
            ),
            (200, XLSX_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="the figures' sheets, the deadlines and the joint patrols"
            ),
            (400, "application/json"): OpenApiResponse(description="a bad date or a period ending before it starts"),
        },
    )
    def get(self, request):
        """The pack for the joint meeting (default period: this year), over what the user may see: the
        figures as /figures/ counts them, the deadlines as /deadlines/ lists them, the map's clues through
        the same visibility rule, and the joint patrols of the districts the user's compliance shows."""
        form = PeriodSerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        period = period_from(form, default=current_year())
        pack = pack_make(user=request.user, period=period)
        extension = request.accepted_renderer.format
        if extension == FiguresXLSXRenderer.format:
            body, media_type = FiguresXLSXRenderer().render(pack_tables(pack)), XLSX_MEDIA_TYPE
        else:
            body, media_type = pack_pdf(pack, author=request.user.get_username()), PDFRenderer.media_type
            extension = "pdf"
        response = HttpResponse(body, content_type=media_type)
        response["Content-Disposition"] = f'attachment; filename="meeting-pack-{period.start}-{period.end}.{extension}"'
        return response


class DeadlinesQuerySerializer(serializers.Serializer):
    district = DistrictCodeField(required=False, help_text="区县代码: only the clues of this district")


class ClueRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    district = DistrictRefSerializer(allow_null=True)


class DueItemSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="first_answer 首次答复 | feedback 办结反馈 | suggestion_reply 建议回复 | transfer_interval 定期移送"
    )
    label = serializers.CharField()
    state = serializers.CharField(help_text="due_soon 临期 | overdue 逾期")
    due = serializers.DateField()
    days_late = serializers.IntegerField(help_text="days past the due date (0 while due soon)")
    clue = ClueRefSerializer(help_text="for a periodic transfer: the oldest clue waiting")
    agency = AgencyRefSerializer(help_text="who must act")
    counterpart = AgencyRefSerializer(allow_null=True, help_text="towards whom: the sender, the issuer")
    clues_waiting = serializers.IntegerField(help_text="a periodic transfer: clues waiting that the user sees")


class DueCountsSerializer(serializers.Serializer):
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()


class DueListSerializer(serializers.Serializer):
    as_of = serializers.DateField(source="today")
    due_soon_until = serializers.DateField(source="soon_until", help_text="the last day of the warning window")
    counts = serializers.SerializerMethodField()
    items = DueItemSerializer(many=True, help_text="by due date, the most overdue first")

    @extend_schema_field(DueCountsSerializer)
    def get_counts(self, due) -> dict:  # noqa: ANN001 - a DueList
        return {"overdue": len(due.overdue), "due_soon": len(due.due_soon)}


class DeadlinesView(APIView):
    """临期与逾期 Deadlines due soon and overdue on the clues the user may see."""

    @extend_schema(parameters=[DeadlinesQuerySerializer], responses={200: DueListSerializer})
    def get(self, request):
        """First answers, feedback after closing, suggestion replies and half-yearly transfers due soon
        (within the DUE_SOON window) or overdue, on the clues the user may see; `district` narrows."""
        form = DeadlinesQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        due = deadlines_due(user=request.user, district=form.validated_data.get("district"))
        return Response(DueListSerializer(due).data)
