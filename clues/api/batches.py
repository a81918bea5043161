"""Half-yearly batches of transfers (seed 002 §三(二)) and their transfer letters (移送函)."""

from __future__ import annotations

import io

from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.timezone import localdate as local_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from config.api_input import serializers
from rivers.models import Agency
from rivers.serializers import AgencyRefSerializer, DistrictRefSerializer

from ..batches import (
    BatchForbidden,
    BatchInvalid,
    BatchRefused,
    batch_may_send,
    batch_prepare,
    batch_send,
    batches_visible_to,
    half_year,
)
from ..letters import letter_pdf
from ..models import Clue, Transfer, TransferBatch
from ..querysets import clue_seen_by
from .figures import ErrorsAsJSONMixin, PeriodSerializer, period_from


class BatchPreviewQuerySerializer(PeriodSerializer):
    agency = serializers.SlugRelatedField(
        slug_field="code", queryset=Agency.objects.all(), help_text="the sending agency's code"
    )


class BatchSendSerializer(BatchPreviewQuerySerializer):
    from_ = serializers.DateField(source="start", help_text="first day of the period (YYYY-MM-DD)")
    to = serializers.DateField(source="end", help_text="last day of the period (YYYY-MM-DD)")
    clue_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        help_text="the clues to send; all the agency's unsent clues of the period when left out",
    )


class BatchClueSerializer(serializers.ModelSerializer):
    category_label = serializers.CharField(source="get_category_display")
    reach = serializers.SerializerMethodField()
    district = DistrictRefSerializer(allow_null=True)
    routed_to = AgencyRefSerializer()

    class Meta:
        model = Clue
        fields = [
            "id",
            "code",
            "category",
            "category_label",
            "description",
            "confidential",
            "reach",
            "district",
            "routing_reason",
            "routed_to",
            "created_at",
        ]

    def get_reach(self, clue: Clue) -> str | None:
        return clue.feature.name if clue.feature else None


class BatchGroupSerializer(serializers.Serializer):
    recipient = AgencyRefSerializer()
    count = serializers.SerializerMethodField()
    copies = AgencyRefSerializer(many=True)
    clues = BatchClueSerializer(many=True)

    def get_count(self, group) -> int:  # noqa: ANN001 - a BatchGroup
        return len(group.clues)


class BatchPreviewSerializer(serializers.Serializer):
    agency = AgencyRefSerializer()
    period = PeriodSerializer()
    groups = BatchGroupSerializer(many=True)


class TransferBatchSerializer(serializers.ModelSerializer):
    from_agency = AgencyRefSerializer()
    to_agency = AgencyRefSerializer()
    period = serializers.SerializerMethodField()
    clues = serializers.SerializerMethodField()
    letter_url = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = TransferBatch
        fields = [
            "id",
            "number",
            "from_agency",
            "to_agency",
            "period",
            "clues",
            "letter_url",
            "created_by",
            "created_at",
        ]

    def get_period(self, batch: TransferBatch) -> dict[str, str]:
        return {"from": batch.period_start.isoformat(), "to": batch.period_end.isoformat()}

    def get_clues(self, batch: TransferBatch) -> list[str]:
        return sorted(transfer.clue.code for transfer in batch.transfers.all())

    def get_letter_url(self, batch: TransferBatch) -> str | None:
        if not batch.letter:
            return None
        url = reverse("batch-letter", args=[batch.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class BatchSendResultSerializer(serializers.Serializer):
    batches = TransferBatchSerializer(many=True, help_text="one batch per recipient, by recipient code")


class PDFRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; the letter itself is streamed as a file."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data if isinstance(data, bytes) else b""


class TransferBatchViewSet(
    ErrorsAsJSONMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """移送批次 Half-yearly batches sent by or to the user's agencies; others answer 404."""

    serializer_class = TransferBatchSerializer

    def get_queryset(self):
        # A batch lists only the clues the user may see: a confidential one sent in it does not exist
        # for the liaison office that sees the batch (DESIGN §5).
        visible = Transfer.objects.filter(clue__in=Clue.objects.visible_to(self.request.user)).select_related("clue")
        return (
            batches_visible_to(self.request.user)
            .select_related("from_agency", "to_agency", "created_by")
            .prefetch_related(Prefetch("transfers", queryset=visible))
        )

    def get_renderers(self):
        if getattr(self, "action", None) == "letter":
            return [JSONRenderer(), PDFRenderer()]
        return super().get_renderers()

    @extend_schema(
        request=BatchSendSerializer,
        responses={
            201: BatchSendResultSerializer,
            400: OpenApiResponse(description="bad period, unknown clue, or a clue not of this agency and period"),
            403: OpenApiResponse(description="no staff role in the sending agency"),
            409: OpenApiResponse(description="a clue is no longer registered (already sent, accepted, ...)"),
        },
    )
    def create(self, request):
        """批量移送 Send the agency's clues of the period, one batch and one letter per recipient; all or nothing."""
        form = BatchSendSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            batches = batch_send(
                user=request.user,
                agency=data["agency"],
                period_start=data["start"],
                period_end=data["end"],
                clue_ids=data.get("clue_ids"),
            )
        except BatchInvalid as exc:
            raise ValidationError(exc.errors) from exc
        except BatchForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except BatchRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        fresh = self.get_queryset().filter(pk__in=[batch.pk for batch in batches]).order_by("to_agency__code")
        body = {"batches": self.get_serializer(fresh, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[BatchPreviewQuerySerializer],
        responses={
            200: BatchPreviewSerializer,
            403: OpenApiResponse(description="no staff role in the agency"),
        },
    )
    @action(detail=False)
    def preview(self, request):
        """待移送线索 The agency's registered, unsent clues of the period (default: this half-year), by recipient."""
        form = BatchPreviewQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        agency = form.validated_data["agency"]
        period = period_from(form, default=half_year())
        if not batch_may_send(request.user, agency):
            raise PermissionDenied(f"您在{agency.name}无权移送线索 / not allowed to send clues for {agency.code}")
        groups = batch_prepare(user=request.user, agency=agency, period_start=period.start, period_end=period.end)
        body = {"agency": agency, "period": period, "groups": groups}
        return Response(BatchPreviewSerializer(body, context=self.get_serializer_context()).data)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="the transfer letter"),
            404: OpenApiResponse(description="no such batch, or not sent by or to the user's agencies"),
        },
    )
    def letter(self, request, pk=None):
        """移送函 The batch's transfer letter as PDF, for the sending and receiving agencies."""
        batch = self.get_object()
        if not batch.letter:
            raise Http404("移送函尚未生成 / the letter has not been made")
        # Every transfer of the batch, not the prefetched visible ones.
        hidden = Transfer.objects.filter(batch=batch).exclude(clue_seen_by(request.user))
        if hidden.exists():
            # The kept letter names a clue this user may not see: they get a copy without it.
            copy = letter_pdf(batch, today=local_date(batch.created_at), user=request.user)
            return FileResponse(io.BytesIO(copy), content_type="application/pdf", filename=f"{batch.number}.pdf")
        return FileResponse(batch.letter.open("rb"), content_type="application/pdf", filename=f"{batch.number}.pdf")
