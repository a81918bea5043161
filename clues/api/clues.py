"""Clues: registration, reading (only what the user may see), workflow steps, history, duplicates."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from rivers.filters import BboxFilter
from rivers.routing import RoutingError

from ..filters import ClueFilter
from ..models import Clue, Suggestion, Transfer
from ..registration import RegistrationConflict, clue_register, duplicates_nearest, possible_duplicates
from ..serializers import (
    ClueDetailSerializer,
    ClueEventSerializer,
    ClueGeoSerializer,
    ClueRegistrationSerializer,
    ClueSerializer,
    DuplicateSerializer,
    StepSerializer,
    SuggestionReplySerializer,
    SuggestionSerializer,
)
from ..workflow import StepForbidden, StepInvalid, StepRefused, clue_step, suggestion_reply


def conflict(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_409_CONFLICT)


def step_response(call):  # noqa: ANN001, ANN201
    """Turn the workflow's refusals into HTTP answers: 409, 403, 400."""
    try:
        return call()
    except StepRefused as exc:
        return conflict(str(exc))
    except StepForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except StepInvalid as exc:
        raise ValidationError(exc.errors) from exc


class ClueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """线索 Clues, limited to what the user may see (DESIGN §5): others answer 404."""

    serializer_class = ClueSerializer
    filter_backends = [BboxFilter, ClueFilter]

    def get_queryset(self):
        return (
            Clue.objects.visible_to(self.request.user)
            .select_related(
                "district",
                "reach",
                "water_body",
                "routed_to",
                "holder",
                "registering_agency",
                "registered_by",
                "merged_into",
            )
            .prefetch_related(
                "routing_copies",
                Prefetch(
                    "transfers",
                    Transfer.objects.select_related("from_agency", "to_agency", "sent_by").prefetch_related("copies"),
                ),
                "suggestions__addressee",
            )
        )

    def get_serializer_class(self):
        return ClueDetailSerializer if self.action == "retrieve" else ClueSerializer

    @extend_schema(
        request=ClueRegistrationSerializer,
        responses={
            201: ClueDetailSerializer,
            200: OpenApiResponse(ClueDetailSerializer, description="the same client_uuid again: the same clue"),
            409: OpenApiResponse(description="client_uuid already used for a different clue"),
        },
    )
    def create(self, request):
        """登记线索 Register a clue; idempotent by client_uuid (a phone may retry)."""
        form = ClueRegistrationSerializer(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        try:
            registration = clue_register(user=request.user, **form.validated_data)
        except RegistrationConflict as exc:
            return conflict(str(exc))
        except RoutingError as exc:
            raise ValidationError({"location": [str(exc)]}) from exc
        clue = self.get_queryset().get(pk=registration.clue.pk)
        body = ClueDetailSerializer(clue, context=self.get_serializer_context()).data
        duplicates = duplicates_nearest(clue, request.user)
        # The nearest few (DUPLICATES_SHOWN) and how many there are; GET …/duplicates/ lists them all.
        body["possible_duplicates"] = DuplicateSerializer(duplicates.nearest, many=True).data
        body["possible_duplicates_count"] = duplicates.count
        return Response(body, status=status.HTTP_201_CREATED if registration.created else status.HTTP_200_OK)

    @extend_schema(responses=DuplicateSerializer(many=True))
    @action(detail=True)
    def duplicates(self, request, pk=None):
        """可能重复的线索 Open clues of the same category on the same reach, near in space and time."""
        return Response(DuplicateSerializer(possible_duplicates(self.get_object(), request.user), many=True).data)

    @extend_schema(responses=ClueEventSerializer(many=True))
    @action(detail=True)
    def events(self, request, pk=None):
        """办理记录 The clue's append-only history."""
        clue = self.get_object()
        return Response(ClueEventSerializer(clue.events.select_related("actor", "agency"), many=True).data)

    @extend_schema(
        request=StepSerializer,
        responses={200: ClueDetailSerializer, 409: OpenApiResponse(description="not allowed from the current state")},
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step>[a-z_]+)")
    def step(self, request, pk=None, step=None):
        """办理 Take a workflow step (send, accept, answer, investigate, file_case, not_file, issue_suggestion,
        rectified, litigate, record_outcome, close, give_feedback, reverse, transfer_to_unit, merge)."""
        clue = self.get_object()
        form = StepSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        params = dict(form.validated_data)
        if "into" in params:
            into = Clue.objects.visible_to(request.user).filter(code=params["into"]).first()
            if into is None:
                raise ValidationError({"into": ["没有该线索 / no such clue"]})
            params["into"] = into

        def take():
            updated = clue_step(clue=clue, user=request.user, step=step, **params)
            fresh = self.get_queryset().get(pk=updated.pk)
            return Response(ClueDetailSerializer(fresh, context=self.get_serializer_context()).data)

        return step_response(take)

    @extend_schema(responses=ClueGeoSerializer(many=True))
    @action(detail=False)
    def geojson(self, request):
        """线索地图 The visible clues as a GeoJSON FeatureCollection (filters as the list)."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ClueGeoSerializer(page, many=True).data)


class SuggestionViewSet(viewsets.GenericViewSet):
    """诉前检察建议 Suggestions on the clues the user may see."""

    serializer_class = SuggestionSerializer

    def get_queryset(self):
        return Suggestion.objects.filter(clue__in=Clue.objects.visible_to(self.request.user)).select_related(
            "addressee"
        )

    @extend_schema(request=SuggestionReplySerializer, responses=SuggestionSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        """书面回复 The addressee's written reply."""
        suggestion = get_object_or_404(self.get_queryset(), pk=pk)
        form = SuggestionReplySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return step_response(
            lambda: Response(
                SuggestionSerializer(
                    suggestion_reply(suggestion=suggestion, user=request.user, **form.validated_data)
                ).data
            )
        )
