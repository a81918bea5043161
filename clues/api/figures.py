"""Figures for the joint meeting (联席会议): the same counts as JSON, CSV or XLSX (`?format=`)."""

from __future__ import annotations

import csv
import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from openpyxl import Workbook
from openpyxl.styles import Font
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from config.api_input import serializers

from ..figures import PeriodInvalid, Table, current_year, figures_compute, figures_tables, period_make

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PeriodSerializer(serializers.Serializer):
    """A period of days in Asia/Shanghai, both ends included: `from` and `to` (YYYY-MM-DD)."""

    # `from` is a Python keyword: the field is declared as from_ and renamed in get_fields.
    from_ = serializers.DateField(source="start", required=False, help_text="first day (YYYY-MM-DD), included")
    to = serializers.DateField(source="end", required=False, help_text="last day (YYYY-MM-DD), included")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


def period_from(form: PeriodSerializer, *, default):  # noqa: ANN001, ANN201 - a Period
    """Return the period a validated form asks for, or raise the 400 naming the field at fault."""
    try:
        return period_make(form.validated_data.get("start"), form.validated_data.get("end"), default=default)
    except PeriodInvalid as exc:
        raise ValidationError(exc.errors) from exc


class CountRowSerializer(serializers.Serializer):
    code = serializers.CharField(allow_null=True, help_text="category, district, status, source code or YYYY-MM")
    label = serializers.CharField(help_text="中文名称 label")
    count = serializers.IntegerField()


class TimelinessSerializer(serializers.Serializer):
    in_time = serializers.IntegerField(help_text="done by the due date 按期")
    late = serializers.IntegerField(help_text="done after the due date 逾期办理")
    overdue = serializers.IntegerField(help_text="not done, past the due date 逾期未办")
    pending = serializers.IntegerField(help_text="not done, not yet due 未到期")
    total = serializers.IntegerField()


class TotalsSerializer(serializers.Serializer):
    clues = serializers.IntegerField(help_text="clues registered in the period 线索总数")
    confidential = serializers.IntegerField(help_text="of which confidential 涉密 (counted, never listed)")
    open = serializers.IntegerField(help_text="not closed 未办结")
    transfers = serializers.IntegerField(help_text="transfers of those clues 移送次数")
    suggestions = serializers.IntegerField(help_text="suggestions on those clues 诉前检察建议")


class TransferTimelinessSerializer(serializers.Serializer):
    first_answer = TimelinessSerializer(source="first_answers", help_text="首次答复 vs first_answer_due")
    feedback = TimelinessSerializer(help_text="办结后反馈 vs feedback_due (closed clues only)")


class SuggestionTimelinessSerializer(serializers.Serializer):
    replies = TimelinessSerializer(source="suggestion_replies", help_text="书面回复 vs reply_due")
    escalated = serializers.IntegerField(source="suggestions_escalated", help_text="催办 escalated")


class FiguresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    as_of = serializers.DateField(source="today", help_text="the day overdue is judged on")
    totals = TotalsSerializer(source="*")
    by_category = CountRowSerializer(many=True)
    by_district = CountRowSerializer(many=True, help_text="code null: clues in no district 区外")
    by_status = CountRowSerializer(many=True)
    by_source = CountRowSerializer(many=True)
    by_month = CountRowSerializer(many=True)
    transfers = TransferTimelinessSerializer(source="*")
    suggestions = SuggestionTimelinessSerializer(source="*")


class FiguresCSVRenderer(BaseRenderer):
    """The figures' tables one after another, each under its title; UTF-8 with a BOM for Excel."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: list[Table], accepted_media_type=None, renderer_context=None) -> bytes:
        text = io.StringIO()
        writer = csv.writer(text)
        for table in data:
            writer.writerow([table.title])
            writer.writerow(table.headers)
            writer.writerows(table.rows)
            writer.writerow([])
        # Excel in China reads a CSV without a BOM as GBK and garbles UTF-8.
        return ("\ufeff" + text.getvalue()).encode("utf-8")


class FiguresXLSXRenderer(BaseRenderer):
    """The figures' tables as an Excel workbook, one sheet per table."""

    media_type = XLSX_MEDIA_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: list[Table], accepted_media_type=None, renderer_context=None) -> bytes:
        workbook = Workbook()
        workbook.remove(workbook.active)
        for table in data:
            sheet = workbook.create_sheet(title=table.title[:31])
            sheet.append(table.headers)
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in table.rows:
                sheet.append(row)
            for column, header in zip(sheet.columns, table.headers, strict=False):
                sheet.column_dimensions[column[0].column_letter].width = max(12, len(header) + 4)
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()


EXPORT_FORMATS = {FiguresCSVRenderer.format, FiguresXLSXRenderer.format}


class ErrorsAsJSONMixin:
    """Answer errors in JSON even when a file format (CSV, XLSX, PDF) was asked for."""

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and renderer is not None and not isinstance(renderer, JSONRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class FiguresView(ErrorsAsJSONMixin, APIView):
    """联席会议统计 Figures for the joint meeting, over the clues the user may count."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, FiguresCSVRenderer, FiguresXLSXRenderer]

    @extend_schema(
        parameters=[
            PeriodSerializer,
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv", "xlsx"],
                description="json (default); csv: UTF-8 with BOM, one table per section; xlsx: one sheet per section",
            ),
        ],
        responses={
            (200, "application/json"): FiguresSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the sections as CSV tables"),
            (200, XLSX_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="one sheet per section"),
            (400, "application/json"): OpenApiResponse(description="a bad date or a period ending before it starts"),
        },
    )
    def get(self, request):
        """Counts of the clues registered in the period (default: this year) by category, district,
        status, source and month; transfers and suggestions answered in time, late or not at all.

        A municipal procuratorate counts every clue of its city; others count the clues they may see.
        """
        form = PeriodSerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        period = period_from(form, default=current_year())
        figures = figures_compute(user=request.user, period=period)
        if request.accepted_renderer.format in EXPORT_FORMATS:
            filename = f"figures-{period.start}-{period.end}.{request.accepted_renderer.format}"
            return Response(
                figures_tables(figures), headers={"Content-Disposition": f'attachment; filename="{filename}"'}
            )
        return Response(FiguresSerializer(figures).data)
