"""Findings: created from a phone (idempotent), read by those who may, turned into clues."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from clues.evidence import findings_visible_to, may_see_originals
from clues.registration import FindingWithoutLocation, RegistrationConflict, clue_from_finding
from clues.serializers import ClueDetailSerializer, LocationField
from config.api_input import serializers
from rivers.categories import Category
from rivers.members import acting_agency
from rivers.models import Agency
from rivers.routing import RoutingError, route, routing_warnings
from rivers.serializers import AgencyRefSerializer, RoutingSerializer

from ..findings import FindingConflict, finding_create
from ..models import Finding, Patrol
from ..serializers import PhotoSerializer


class FindingInSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField(max_length=5000)
    location = LocationField(required=False, allow_null=True, help_text="omit when the phone has no fix yet")
    found_at = serializers.DateTimeField(required=False)
    patrol = serializers.PrimaryKeyRelatedField(queryset=Patrol.objects.all(), required=False, allow_null=True)
    agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all(), required=False)

    def validate(self, attrs):
        user = self.context["request"].user
        attrs["agency"] = acting_agency(user, attrs.get("agency"))
        if attrs["agency"] is None:
            raise serializers.ValidationError({"agency": "请指定您所在的单位 / name your agency"})
        patrol = attrs.get("patrol")
        if patrol is not None and not patrol.participants.filter(user=user).exists():
            raise serializers.ValidationError({"patrol": "您不是该巡查的人员 / you are not on this patrol"})
        return attrs


class FindingSerializer(serializers.ModelSerializer):
    location = LocationField(source="geom", allow_null=True)
    agency = AgencyRefSerializer()
    reported_by = serializers.CharField(source="reported_by.get_username")
    photos = serializers.SerializerMethodField()
    clue = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id", "client_uuid", "patrol", "category", "description", "location", "found_at", "agency",
            "reported_by", "photos", "clue", "created_at",
        ]  # fmt: skip

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, finding) -> list[dict]:
        originals = may_see_originals(self.context["request"].user, finding)
        return PhotoSerializer(finding.photos.all(), many=True, context={"originals": originals}).data

    def get_clue(self, finding) -> int | None:
        clue = getattr(finding, "clue", None)
        return clue.pk if clue is not None else None


class MakeClueSerializer(serializers.Serializer):
    confidential = serializers.BooleanField(default=False)
    agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all(), required=False)


class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """巡查发现 Findings the user may see."""

    serializer_class = FindingSerializer

    def get_queryset(self):
        return (
            findings_visible_to(self.request.user)
            .select_related("agency", "reported_by", "clue")
            .prefetch_related("photos")
        )

    @extend_schema(request=FindingInSerializer, responses={201: FindingSerializer, 200: FindingSerializer, 409: None})
    def create(self, request):
        """记录发现 Record a finding (idempotent by client_uuid); photos follow one by one."""
        form = FindingInSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            finding, created = finding_create(
                user=request.user, agency=data["agency"], client_uuid=data["client_uuid"],
                category=data["category"], description=data["description"], location=data.get("location"),
                found_at=data.get("found_at"), patrol=data.get("patrol"),
            )  # fmt: skip
        except FindingConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = FindingSerializer(self.get_queryset().get(pk=finding.pk), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(responses=RoutingSerializer)
    @action(detail=True)
    def routing(self, request, pk=None):
        """移送预览 Who the clue made from this finding will go to, before it is made."""
        finding = self.get_object()
        if finding.geom is None:
            raise ValidationError({"location": "巡查发现还没有位置 / the finding has no location yet"})
        try:
            routing = route(finding.geom, near_boundary=True)
            warnings = routing_warnings(routing)
            return Response(RoutingSerializer(routing, context={"warnings": warnings}).data)
        except RoutingError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)

    @extend_schema(
        request=MakeClueSerializer,
        responses={201: ClueDetailSerializer, 200: OpenApiResponse(ClueDetailSerializer, description="already made")},
    )
    @action(detail=True, methods=["post"])
    def clue(self, request, pk=None):
        """转为线索 Turn the finding into a clue (source patrol), keeping the link and its photos."""
        from clues.models import Clue

        finding = self.get_object()
        form = MakeClueSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        agency = form.validated_data.get("agency")
        if agency is not None and not agency.memberships.filter(user=request.user).exists():
            raise PermissionDenied("您不是该单位成员 / you are not a member of this agency")
        if agency is None and not finding.agency.memberships.filter(user=request.user).exists():
            raise PermissionDenied("只有发现单位的成员可以转为线索 / only the finding's agency may make it a clue")
        try:
            registration = clue_from_finding(
                user=request.user, finding=finding, agency=agency, confidential=form.validated_data["confidential"]
            )
        except FindingWithoutLocation as exc:
            raise ValidationError({"location": str(exc)}) from exc
        except RegistrationConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except RoutingError as exc:
            raise ValidationError({"location": str(exc)}) from exc
        clue = Clue.objects.visible_to(request.user).filter(pk=registration.clue.pk).first()
        if clue is None:  # made earlier by someone else, and not for this user's eyes
            return Response({"detail": "已转为线索 / already a clue"}, status=status.HTTP_409_CONFLICT)
        body = ClueDetailSerializer(clue, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if registration.created else status.HTTP_200_OK)
