"""Patrols: start, send track points (batches, idempotent), finish, GPX in and out, coverage."""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework_gis.fields import GeometryField

from config.api_input import serializers
from config.api_input.parsers import BoundedJSONParser
from gis_data.gpx import Fix, GpxError, gpx_read, gpx_write
from rivers.filters import DistrictFilter, district_by_code
from rivers.members import acting_agency
from rivers.models import Agency, District
from rivers.serializers import AgencyRefSerializer, DistrictRefSerializer

from ..models import Patrol, PatrolCoverage, PatrolKind, PatrolParticipant, PatrolRoute, PatrolStatus
from ..participants import colleagues_of, side_of
from ..plans import local_today
from ..tracks import PatrolRefused, patrol_finish, patrol_fixes, patrol_import_gpx, patrol_start, track_points_add


class ParticipantInSerializer(serializers.Serializer):
    username = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), source="user"
    )
    agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all())


class PatrolStartSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=PatrolKind.choices)
    district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.all())
    route = serializers.SlugRelatedField(slug_field="code", queryset=PatrolRoute.objects.all(), required=False)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    started_at = serializers.DateTimeField(required=False)
    participants = ParticipantInSerializer(many=True, required=False)
    agency = serializers.SlugRelatedField(
        slug_field="code", queryset=Agency.objects.all(), required=False, help_text="the starting user's agency"
    )


class FixSerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    recorded_at = serializers.DateTimeField(help_text="the phone's time of the fix")
    accuracy_m = serializers.FloatField(required=False, allow_null=True, min_value=0)

    def validate(self, attrs):
        if not (math.isfinite(attrs["lon"]) and math.isfinite(attrs["lat"])):
            raise serializers.ValidationError("坐标须为有限数值 / coordinates must be finite")
        if attrs.get("accuracy_m") is not None and not math.isfinite(attrs["accuracy_m"]):
            raise serializers.ValidationError("精度须为有限数值 / accuracy_m must be finite")
        return attrs


class TrackBatchSerializer(serializers.Serializer):
    batch_id = serializers.CharField(max_length=64)
    points = FixSerializer(many=True, allow_empty=False)

    def to_internal_value(self, data):
        # Checked before a single point is parsed; read per request so that the setting is the limit.
        limit = settings.TRACK_MAX_POINTS_PER_BATCH
        points = data.get("points") if isinstance(data, dict) else None
        if isinstance(points, list) and len(points) > limit:
            message = f"每批最多 {limit} 个轨迹点 / at most {limit} points per batch (TRACK_MAX_POINTS_PER_BATCH)"
            raise serializers.ValidationError({"points": [message]})
        return super().to_internal_value(data)


class FinishSerializer(serializers.Serializer):
    ended_at = serializers.DateTimeField(required=False)


class ParticipantSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.get_username")
    agency = AgencyRefSerializer()

    class Meta:
        model = PatrolParticipant
        fields = ["username", "agency"]


class CoverageSerializer(serializers.ModelSerializer):
    reach = serializers.CharField(source="reach.code")
    reach_name = serializers.CharField(source="reach.name")

    class Meta:
        model = PatrolCoverage
        fields = ["reach", "reach_name", "covered_m", "fraction"]


class PatrolSerializer(serializers.ModelSerializer):
    district = DistrictRefSerializer()
    route = serializers.SlugRelatedField(slug_field="code", read_only=True)
    participants = ParticipantSerializer(many=True)
    coverage = CoverageSerializer(many=True)
    track = GeometryField(source="track_display", allow_null=True, help_text="simplified for display")
    started_by = serializers.CharField(source="started_by.get_username")
    validity = serializers.SerializerMethodField(help_text="the minimums a patrol must reach to count (is_valid)")

    class Meta:
        model = Patrol
        fields = [
            "id", "client_uuid", "kind", "status", "title", "district", "route", "participants", "started_by",
            "started_at", "ended_at", "length_m", "duration_s", "is_valid", "validity", "coverage_done_at",
            "coverage", "track",
        ]  # fmt: skip

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"min_duration_s": {"type": "integer"}, "min_length_m": {"type": "number"}},
        }
    )
    def get_validity(self, patrol) -> dict:  # noqa: ANN001 - a Patrol
        return {"min_duration_s": settings.PATROL_MIN_DURATION_S, "min_length_m": settings.PATROL_MIN_LENGTH_M}


class PatrolTrackSerializer(serializers.GeoFeatureModelSerializer):
    """A finished patrol on the map: its simplified track and a few facts."""

    district = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Patrol
        geo_field = "track_display"
        fields = [
            "id", "kind", "title", "district", "started_at", "ended_at", "length_m", "duration_s", "is_valid",
        ]  # fmt: skip


class TracksQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100, help_text="default: this year")
    mine = serializers.BooleanField(
        required=False, default=True, help_text="true: patrols I started or took part in; false: all I may see"
    )


class ColleagueAgencySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class ColleagueSerializer(serializers.Serializer):
    """Someone who can be taken on a patrol: start it with their username and agency code."""

    id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    name = serializers.SerializerMethodField()
    me = serializers.SerializerMethodField()
    agency = ColleagueAgencySerializer()
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    side = serializers.SerializerMethodField(help_text="joint-patrol side: river | procuratorate | null")

    def get_name(self, membership) -> str:  # noqa: ANN001 - a Membership
        return membership.user.get_full_name() or membership.user.username

    def get_me(self, membership) -> bool:  # noqa: ANN001 - a Membership
        return membership.user_id == self.context["user"].pk

    def get_side(self, membership) -> str | None:  # noqa: ANN001 - a Membership
        return side_of(membership.agency.kind)


def refused(exc: PatrolRefused, *, field: str | None = None) -> ValidationError:
    """Return the 400 of a refusal; `field` names the one input every message is about (a file)."""
    if field is not None:
        return ValidationError({field: "; ".join(exc.errors.values())})
    return ValidationError({name: [message] for name, message in exc.errors.items()})


class PatrolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """巡查 Patrols of the user's agencies."""

    serializer_class = PatrolSerializer

    def get_queryset(self):
        return (
            Patrol.objects.visible_to(self.request.user)
            .defer("track")  # the full line (up to TRACK_MAX_POINTS_PER_PATROL points) is not shown
            .select_related("district", "route", "started_by")
            .prefetch_related("participants__user", "participants__agency", "coverage__reach")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("district", str, required=False, description="only this district's agencies"),
        ],
        responses=ColleagueSerializer(many=True),
    )
    @action(detail=False, pagination_class=None)
    def colleagues(self, request):
        """可选巡查人员 The people of my agencies and of the partner side (a joint patrol needs both)."""
        code = request.query_params.get("district")
        district = district_by_code(code) if code else None
        memberships = colleagues_of(request.user, district=district)
        return Response(ColleagueSerializer(memberships, many=True, context={"user": request.user}).data)

    @extend_schema(
        parameters=[TracksQuerySerializer],
        responses=PatrolTrackSerializer(many=True),
    )
    @action(detail=False, filter_backends=[DistrictFilter])
    def tracks(self, request):
        """巡查轨迹 Finished patrols of a year with their simplified tracks, as GeoJSON (mine by default)."""
        form = TracksQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        year = form.validated_data.get("year") or local_today().year
        patrols = (
            Patrol.objects.visible_to(request.user)
            .started_in_year(year)
            .filter(status=PatrolStatus.FINISHED, track_display__isnull=False)
            .defer("track")
            .select_related("district")
            .order_by("-started_at", "pk")
        )
        if form.validated_data["mine"]:
            patrols = patrols.participated_by(request.user)
        patrols = self.filter_queryset(patrols)
        page = self.paginate_queryset(patrols)
        return self.get_paginated_response(PatrolTrackSerializer(page, many=True).data)

    def _participant_or_403(self, patrol: Patrol) -> None:
        if not patrol.participants.filter(user=self.request.user).exists():
            raise PermissionDenied("只有巡查人员可以记录轨迹 / only the patrol's participants may do this")

    @extend_schema(
        request=PatrolStartSerializer,
        responses={201: PatrolSerializer, 200: OpenApiResponse(PatrolSerializer, description="the same client_uuid")},
    )
    def create(self, request):
        """开始巡查 Start a patrol (idempotent by client_uuid). A joint patrol needs both sides."""
        form = PatrolStartSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = request.user
        agency = acting_agency(user, data.get("agency"))
        if agency is None:
            raise ValidationError({"agency": "请指定您所在的单位 / name your agency (one you are a member of)"})
        people = [(p["user"], p["agency"]) for p in data.get("participants", [])]
        if all(person != user for person, _ in people):
            people.insert(0, (user, agency))
        try:
            patrol, created = patrol_start(
                user=user, client_uuid=data["client_uuid"], kind=data["kind"], district=data["district"],
                participants=people, route=data.get("route"), title=data["title"], started_at=data.get("started_at"),
            )  # fmt: skip
        except PatrolRefused as exc:
            raise refused(exc) from exc
        body = PatrolSerializer(self.get_queryset().get(pk=patrol.pk)).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=TrackBatchSerializer, responses={201: dict, 200: dict})
    @action(detail=True, methods=["post"])
    def points(self, request, pk=None):
        """上传轨迹点 Send a batch of GPS fixes; the same batch_id again changes nothing."""
        patrol = self.get_object()
        self._participant_or_403(patrol)
        form = TrackBatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        fixes = [Fix(p["lon"], p["lat"], p["recorded_at"], p.get("accuracy_m")) for p in form.validated_data["points"]]
        try:
            batch, created = track_points_add(patrol=patrol, batch_id=form.validated_data["batch_id"], fixes=fixes)
        except PatrolRefused as exc:
            raise refused(exc) from exc
        body = {"batch_id": batch.batch_id, "points": batch.point_count, "created": created}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=FinishSerializer, responses=PatrolSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        """结束巡查 Finish: the track is built and the covered reaches computed in the background."""
        patrol = self.get_object()
        self._participant_or_403(patrol)
        form = FinishSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            patrol_finish(patrol=patrol, ended_at=form.validated_data.get("ended_at"))
        except PatrolRefused as exc:
            raise refused(exc) from exc
        return Response(PatrolSerializer(self.get_queryset().get(pk=patrol.pk)).data)

    @extend_schema(
        methods=["GET"], responses={(200, "application/gpx+xml"): OpenApiResponse(description="the track as GPX")}
    )
    @extend_schema(
        methods=["POST"],
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses=PatrolSerializer,
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser, BoundedJSONParser])
    def gpx(self, request, pk=None):
        """GPX: GET exports the patrol's track; POST imports a track recorded elsewhere."""
        patrol = self.get_object()
        if request.method == "GET":
            content = gpx_write(patrol.title or f"巡查 {patrol.started_at:%Y-%m-%d}", patrol_fixes(patrol))
            response = HttpResponse(content, content_type="application/gpx+xml")
            response["Content-Disposition"] = f'attachment; filename="patrol-{patrol.pk}.gpx"'
            return response
        self._participant_or_403(patrol)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "须上传 GPX 文件 / upload a GPX file"})
        if upload.size > settings.TRACK_MAX_GPX_BYTES:
            limit_mb = settings.TRACK_MAX_GPX_BYTES / 1024 / 1024
            message = f"文件超过 {limit_mb:.0f} MB 的上限 / file over the {limit_mb:.0f} MB limit (TRACK_MAX_GPX_BYTES)"
            raise ValidationError({"file": message})
        data = upload.read()
        try:
            fixes = gpx_read(data, max_points=settings.TRACK_MAX_POINTS_PER_GPX)
        except GpxError as exc:
            raise ValidationError({"file": str(exc)}) from exc
        batch_id = "gpx-" + hashlib.sha256(data).hexdigest()[:40]
        try:
            patrol_import_gpx(patrol=patrol, fixes=fixes, batch_id=batch_id)
        except PatrolRefused as exc:
            raise refused(exc, field="file") from exc
        return Response(PatrolSerializer(self.get_queryset().get(pk=patrol.pk)).data)
