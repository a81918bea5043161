"""Clues: registration, reading (only what the user may see), workflow steps, history, duplicates."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import FloatField, Func, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response

from config.api_input import serializers
from rivers.filters import BboxFilter
from rivers.models import District
from rivers.routing import RoutingError

from ..filters import ClueFilter
from ..history import HistoryTampered, history_verify
from ..models import Clue, Suggestion, Transfer
from ..querysets import tests_each_clue
from ..registration import (
    RegistrationConflict,
    clue_register,
    duplicates_nearest,
    possible_duplicates,
    possible_duplicates_at,
    registered_as_read,
)
from ..serializers import (
    ClueDetailSerializer,
    ClueEventSerializer,
    ClueGeoSerializer,
    ClueRegistrationSerializer,
    ClueSerializer,
    DuplicateSerializer,
    HistoryVerificationSerializer,
    PossibleDuplicatesQuerySerializer,
    StepFormsSerializer,
    StepSerializer,
    SuggestionReplySerializer,
    SuggestionSerializer,
    step_param_type,
)
from ..workflow import (
    StepForbidden,
    StepInvalid,
    StepRefused,
    clue_step,
    clues_passed_on_by,
    step_choices,
    step_recipient,
    steps_available,
    suggestion_reply,
    suggestions_to_answer,
)


def conflict(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_409_CONFLICT)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class StepResultSerializer(ClueDetailSerializer):
    """The clue after a step, as the user sees it now, with the step taken."""

    step = serializers.SerializerMethodField()
    visible = serializers.SerializerMethodField(help_text="true: the user still sees the clue")

    class Meta(ClueDetailSerializer.Meta):
        fields = [*ClueDetailSerializer.Meta.fields, "step", "visible"]

    def get_step(self, clue) -> str:  # noqa: ANN001
        return self.context["step"]

    def get_visible(self, clue) -> bool:  # noqa: ANN001
        return True


class StepHiddenOutcomeSerializer(serializers.Serializer):
    """A step that took the clue out of the user's sight: what happened, nothing of the clue's content."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    step = serializers.CharField()
    status = serializers.CharField()
    visible = serializers.BooleanField(help_text="false: the step took the clue out of the user's sight")
    detail = serializers.CharField()


def step_response(call):  # noqa: ANN001, ANN201
    """Turn the workflow's refusals into HTTP answers: 409, 403, 400."""
    try:
        return call()
    except (StepRefused, HistoryTampered) as exc:
        return conflict(str(exc))
    except StepForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except StepInvalid as exc:
        raise ValidationError(exc.errors) from exc


class StX(Func):
    function, output_field = "ST_X", FloatField()


class StY(Func):
    function, output_field = "ST_Y", FloatField()


def with_summary_related(clues):  # noqa: ANN001, ANN201 - a clue queryset
    """`clues` with what a listed clue names (clues.serializers.clue_summary): its agencies, reach and
    district, in a fixed number of statements."""
    return (
        clues.select_related(
            "district",
            "reach",
            "water_body",
            "routed_to",
            "holder",
            "registering_agency",
            "registered_by",
            "merged_into",
        )
        # No boundary or line is shown with a clue: reading them cost a GEOS parse of every district's
        # boundary (hundreds of vertices) for each clue of a page (issue 10: the clue list).
        .defer("district__geom", "reach__geom", "water_body__geom", "merged_into__geom")
        .prefetch_related(
            # The routing's reach and its districts, read once per page (not once per clue), names only.
            Prefetch("reach__districts", District.objects.only("code", "name")),
            Prefetch("water_body__districts", District.objects.only("code", "name")),
            "routing_copies",
        )
    )


def with_related(clues):  # noqa: ANN001, ANN201 - a clue queryset
    """`clues` with what a clue's whole answer names: with_summary_related() and its transfers and
    suggestions, in a fixed number of statements."""
    return with_summary_related(clues).prefetch_related(
        Prefetch(
            "transfers",
            Transfer.objects.select_related("from_agency", "to_agency", "sent_by").prefetch_related("copies"),
        ),
        "suggestions__addressee",
    )


class ClueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """线索 Clues, limited to what the user may see (DESIGN §5): others answer 404."""

    serializer_class = ClueSerializer
    filter_backends = [BboxFilter, ClueFilter]

    def get_queryset(self):
        return with_related(Clue.objects.visible_to(self.request.user))

    def get_serializer_class(self):
        return ClueDetailSerializer if self.action == "retrieve" else ClueSerializer

    def list(self, request, *args, **kwargs):
        """线索列表 The visible clues, filtered, sorted and paged (the review map's list)."""
        return super().list(request, *args, **kwargs)

    def paginate_queryset(self, queryset):
        """The page's clues are chosen by the rule, the filters and the order alone (one table, counted in
        the same statement), then read with what they name by primary key: in one statement, the rule's
        subplans sat among nine joins whose planning alone cost more than running them (issue 10). The
        points come as numbers: a GEOS geometry per clue cost a quarter of a 100-clue page's time."""
        if self.paginator is None:
            return None
        queryset = queryset.prefetch_related(None)
        ids = self.paginator.paginate_keys(queryset, self.request, count_apart=tests_each_clue(queryset))
        if ids is None:
            return None
        # (a listed clue shows no transfer or suggestion: reading them was a third of a page's time)
        page = with_summary_related(Clue.objects.filter(pk__in=ids))
        page = page.defer("geom").annotate(lon=StX("geom"), lat=StY("geom"))
        found = {clue.pk: clue for clue in page}
        return [found[pk] for pk in ids if pk in found]  # one deleted meanwhile is left out

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
        # A new clue is shown from what registering it made; a retry's clue is read as the user now sees it.
        clue = registered_as_read(registration) or self.get_queryset().get(pk=registration.clue.pk)
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
        duplicates = possible_duplicates(self.get_object(), request.user)
        return Response(DuplicateSerializer(duplicates.nearest, many=True).data)

    @extend_schema(parameters=[PossibleDuplicatesQuerySerializer], responses=DuplicateSerializer(many=True))
    @action(detail=False, url_path="possible-duplicates")
    def possible_duplicates(self, request):
        """登记前查重 The nearest open clues a clue of this category registered at this point now would duplicate."""
        form = PossibleDuplicatesQuerySerializer(data=request.query_params)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        point = Point(data["lon"], data["lat"], srid=4326)
        try:
            duplicates = possible_duplicates_at(
                user=request.user, location=point, category=data["category"], limit=settings.DUPLICATES_SHOWN
            )
        except RoutingError as exc:
            raise ValidationError({"location": [str(exc)]}) from exc
        return Response(DuplicateSerializer(duplicates.nearest, many=True).data)

    @extend_schema(responses=StepFormsSerializer)
    @action(detail=True, url_path="steps")
    def step_forms(self, request, pk=None):
        """可办理的操作 The steps the user may take now, each with the parameters its form needs."""
        clue = self.get_object()
        forms = []
        for step in steps_available(clue, request.user):
            choices = step_choices(clue, step)
            params = [
                {
                    "name": name,
                    "type": step_param_type(name),
                    "required": name in step.required,
                    "choices": list(choices[name]) if name in choices else None,
                }
                for name in step.params
            ]
            forms.append(
                {
                    "name": step.name,
                    "label": step.label,
                    "to_status": step.to_state,
                    "recipient": step_recipient(clue, step),
                    "params": params,
                }
            )
        replies = [suggestion.pk for suggestion in suggestions_to_answer(clue, request.user)]
        return Response(StepFormsSerializer({"steps": forms, "replies": replies}).data)

    @extend_schema(responses=HistoryVerificationSerializer)
    @action(detail=True)
    def verification(self, request, pk=None):
        """记录核验 Whether the clue's history holds: every event signed, linked to the one before, anchored."""
        clue = self.get_object()
        breaks = list(history_verify(Clue.objects.filter(pk=clue.pk)))
        body = {
            "intact": not breaks,
            "events": clue.history_count,
            "breaks": [{"seq": b.seq, "kind": b.kind, "problem": b.problem} for b in breaks],
        }
        return Response(HistoryVerificationSerializer(body).data)

    @extend_schema(responses=ClueEventSerializer(many=True))
    @action(detail=True)
    def events(self, request, pk=None):
        """办理记录 The clue's append-only history."""
        clue = self.get_object()
        return Response(ClueEventSerializer(clue.events.select_related("actor", "agency"), many=True).data)

    @extend_schema(
        request=StepSerializer,
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="StepOutcome",
                    serializers=[StepResultSerializer, StepHiddenOutcomeSerializer],
                    resource_type_field_name=None,
                ),
                description=(
                    "the step was taken: the clue as the user now sees it, with `step` and `visible: true`; "
                    "or, when the step took the clue out of the user's sight (a confidential clue sent on), "
                    "only `id`, `code`, `step`, `status`, `visible: false` and `detail`"
                ),
            ),
            409: OpenApiResponse(description="not allowed from the current state, or someone else acted first"),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step>[a-z_]+)")
    def step(self, request, pk=None, step=None):
        """办理 Take a workflow step (send, accept, answer, investigate, file_case, not_file, issue_suggestion,
        rectified, litigate, record_outcome, close, give_feedback, reverse, transfer_to_unit, merge)."""
        clue = self._step_target(pk)
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
            return Response(self._step_outcome(updated, step))

        return step_response(take)

    def _step_target(self, pk) -> Clue:  # noqa: ANN001
        """Return the clue a step is asked on; a clue the user's own agency moved out of their sight
        (a confidential clue sent on by a colleague a moment earlier) is a lost race, not a 404."""
        if not (str(pk).isdigit() and int(pk) < 2**63):
            raise Http404
        clue = Clue.objects.visible_to(self.request.user).select_related("holder").filter(pk=pk).first()
        if clue is not None:
            return clue
        moved = get_object_or_404(clues_passed_on_by(self.request.user), pk=pk)
        raise Conflict(
            f"线索{moved.code}已由本单位移送，您已无权查看 / clue {moved.code} was passed on by your agency "
            "and is no longer visible to you"
        )

    def _step_outcome(self, updated: Clue, step: str) -> dict:
        """Return the answer to a step: the clue as the user sees it now, or only what they know."""
        fresh = self.get_queryset().filter(pk=updated.pk).first()
        if fresh is None:
            # The step itself took the clue out of the user's sight: it happened, so 200, but say no more
            # than the user already knows (which clue, what they did, where it stands).
            outcome = {
                "id": updated.pk,
                "code": updated.code,
                "step": step,
                "status": updated.status,
                "visible": False,
                "detail": "已办理；该线索涉密，您已无权查看 / done; the clue is confidential, no longer visible to you",
            }
            return StepHiddenOutcomeSerializer(outcome).data
        return StepResultSerializer(fresh, context={**self.get_serializer_context(), "step": step}).data

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
