"""The year's plan (focus and work points) and the year's compliance, for the liaison dashboard."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_input import serializers
from config.api_input.pagination import MAX_OFFSET, BoundedLimitOffsetPagination
from rivers.categories import Category
from rivers.models import Agency, District
from rivers.serializers import DistrictRefSerializer

from ..compliance import compliance_districts, compliance_for
from ..models import FocusItem, FocusPlan, WorkPlan
from ..plans import EARLIEST_YEAR, LATEST_YEAR, PlanInvalid, focus_set, local_today, plans_status, work_plan_set

# --- input ---------------------------------------------------------------------------------------

YEAR_ERRORS = {
    "invalid": "年度须为整数 / year must be a whole number",
    "max_string_length": "年度须为整数 / year must be a whole number",
    "min_value": f"年度须在{EARLIEST_YEAR}至{LATEST_YEAR}之间 / must lie between {EARLIEST_YEAR} and {LATEST_YEAR}",
    "max_value": f"年度须在{EARLIEST_YEAR}至{LATEST_YEAR}之间 / must lie between {EARLIEST_YEAR} and {LATEST_YEAR}",
}


class DistrictCodeField(serializers.CharField):
    """A district by its code (GB/T 2260), e.g. 500110."""

    def to_internal_value(self, data) -> District:
        code = super().to_internal_value(data)
        district = District.objects.filter(code=code).first()
        if district is None:
            raise ValidationError(f"未知的区划代码 {code} / unknown district code")
        return district


def year_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=EARLIEST_YEAR, max_value=LATEST_YEAR, error_messages=YEAR_ERRORS, help_text="年度 year", **kwargs
    )


class PlanQuerySerializer(serializers.Serializer):
    district = DistrictCodeField(help_text="区县代码 district code")
    year = year_field(required=False)


class ComplianceQuerySerializer(serializers.Serializer):
    district = DistrictCodeField(required=False, help_text="a district's code, or a city's for all its districts")
    year = year_field(required=False)
    limit = serializers.IntegerField(
        required=False, min_value=1, help_text="districts per page (default COMPLIANCE_PAGE_SIZE)"
    )
    offset = serializers.IntegerField(required=False, min_value=0, help_text="districts to skip, by code")


class FocusItemInSerializer(serializers.Serializer):
    category = serializers.ChoiceField(
        choices=Category.choices, error_messages={"invalid_choice": "未知的类别 {input} / unknown category"}
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FocusInSerializer(PlanQuerySerializer):
    items = FocusItemInSerializer(many=True, allow_empty=False)
    chief_order = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="依据总河长令 the chief river order"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class WorkPlanInSerializer(PlanQuerySerializer):
    content = serializers.CharField(help_text="工作要点 the work points")


# --- output --------------------------------------------------------------------------------------


class FocusItemSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="get_category_display")

    class Meta:
        model = FocusItem
        fields = ["category", "label", "note"]


class FocusPlanSerializer(serializers.ModelSerializer):
    items = FocusItemSerializer(many=True)
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = FocusPlan
        fields = ["revision", "chief_order", "note", "items", "created_by", "created_at"]


class WorkPlanSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = WorkPlan
        fields = ["revision", "content", "created_by", "created_at"]


class PlanStatusSerializer(serializers.Serializer):
    """One plan of a district's year (input: {"status": PlansStatus, "plan": PlanStatus})."""

    district = DistrictRefSerializer(source="status.district")
    year = serializers.IntegerField(source="status.year")
    as_of = serializers.DateField(source="status.today", help_text="the day overdue is judged on")
    due = serializers.DateField(source="plan.due")
    missing = serializers.BooleanField(source="plan.missing", help_text="no revision yet 未制定")
    overdue = serializers.BooleanField(source="plan.overdue", help_text="missing after the due date 逾期未制定")
    first_set_on = serializers.DateField(source="plan.first_set_on", allow_null=True)
    late = serializers.BooleanField(source="plan.late", help_text="first set after the due date 逾期制定")


class FocusStatusSerializer(PlanStatusSerializer):
    current = FocusPlanSerializer(source="plan.current", allow_null=True, help_text="the latest revision")
    history = FocusPlanSerializer(source="plan.history", many=True, help_text="every revision, newest first")


class WorkPlanStatusSerializer(PlanStatusSerializer):
    current = WorkPlanSerializer(source="plan.current", allow_null=True, help_text="the latest revision")
    history = WorkPlanSerializer(source="plan.history", many=True, help_text="every revision, newest first")


class ReachComplianceSerializer(serializers.Serializer):
    """One reach against its frequency; written by hand (the fields below document it), as a district's
    hundred-odd reaches times a page of districts made DRF's field-by-field serialising the endpoint's cost."""

    code = serializers.CharField(source="reach.code")
    name = serializers.CharField(source="reach.name")
    level = serializers.CharField(source="reach.level", help_text="its chief's level")
    frequency_days = serializers.IntegerField(allow_null=True, help_text="days between patrols the policy asks")
    expected = serializers.IntegerField(allow_null=True, help_text="days in the period // frequency_days")
    patrols = serializers.IntegerField(help_text="valid patrols that covered enough of the reach")
    patrol_days = serializers.IntegerField(help_text="distinct days with such a patrol (held against expected)")
    first_patrolled_on = serializers.DateField(allow_null=True)
    last_patrolled_on = serializers.DateField(allow_null=True)
    longest_gap_days = serializers.IntegerField(help_text="longest run of days in the period without a patrol")
    never_patrolled = serializers.BooleanField()
    compliant = serializers.BooleanField(allow_null=True, help_text="null when the policy has no frequency")

    def to_representation(self, row) -> dict:  # noqa: ANN001 - a ReachCompliance
        reach, first, last = row.reach, row.first_patrolled_on, row.last_patrolled_on
        return {
            "code": reach.code,
            "name": reach.name,
            "level": reach.level,
            "frequency_days": row.frequency_days,
            "expected": row.expected,
            "patrols": row.patrols,
            "patrol_days": row.patrol_days,
            "first_patrolled_on": first and first.isoformat(),
            "last_patrolled_on": last and last.isoformat(),
            "longest_gap_days": row.longest_gap_days,
            "never_patrolled": row.never_patrolled,
            "compliant": row.compliant,
        }


class ReachLevelRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()

    def to_representation(self, reach) -> dict:  # noqa: ANN001 - a Reach; by hand, as ReachComplianceSerializer
        return {"code": reach.code, "name": reach.name, "level": reach.level}


class LevelSummarySerializer(serializers.Serializer):
    level = serializers.CharField()
    label = serializers.CharField()
    frequency_days = serializers.IntegerField(allow_null=True)
    reaches = serializers.IntegerField()
    compliant = serializers.IntegerField()
    never_patrolled = serializers.IntegerField()


class JointPatrolsSerializer(serializers.Serializer):
    count = serializers.IntegerField(source="joint_patrols", help_text="valid joint patrols in the period")
    required = serializers.IntegerField(source="joint_patrols_required")
    compliant = serializers.BooleanField(source="joint_compliant")


class PlanFlagsSerializer(serializers.Serializer):
    due = serializers.DateField()
    missing = serializers.BooleanField()
    overdue = serializers.BooleanField()
    late = serializers.BooleanField()
    revision = serializers.IntegerField(source="current.revision", allow_null=True, default=None)


class PlansFlagsSerializer(serializers.Serializer):
    focus = PlanFlagsSerializer()
    work_plan = PlanFlagsSerializer()


class FocusItemCoverageSerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    note = serializers.CharField()
    findings = serializers.IntegerField(help_text="findings of this category in the district in the period")


class FocusCoverageSerializer(serializers.Serializer):
    revision = serializers.IntegerField(source="plan.revision")
    chief_order = serializers.CharField(source="plan.chief_order")
    items = FocusItemCoverageSerializer(many=True)
    without_findings = serializers.ListField(child=serializers.CharField(), help_text="focus categories never found")
    findings_total = serializers.IntegerField(help_text="findings of any category in the district in the period")


class ReachesSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField(source="reaches_total")
    compliant = serializers.IntegerField(source="reaches_compliant")
    below_policy = ReachLevelRefSerializer(source="reaches_below_policy", many=True)
    never_patrolled = ReachLevelRefSerializer(source="reaches_never_patrolled", many=True)
    by_level = LevelSummarySerializer(many=True)
    items = ReachComplianceSerializer(source="reaches", many=True)


class DistrictComplianceSerializer(serializers.Serializer):
    district = DistrictRefSerializer()
    joint_patrols = JointPatrolsSerializer(source="*")
    plans = PlansFlagsSerializer()
    reaches = ReachesSummarySerializer(source="*")
    focus = FocusCoverageSerializer(allow_null=True, help_text="null: no focus set for the year")


class CompliancePeriodSerializer(serializers.Serializer):
    from_ = serializers.DateField(source="start")
    to = serializers.DateField(source="end")
    days = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class CompliancePolicySerializer(serializers.Serializer):
    frequency_days = serializers.DictField(child=serializers.IntegerField(), help_text="by chief level")
    covered_min_fraction = serializers.FloatField(help_text="coverage of a reach that counts as patrolling it")
    joint_patrols_per_year = serializers.IntegerField()


class ComplianceSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    period = CompliancePeriodSerializer(help_text="1 January to today in the current year, else the whole year")
    as_of = serializers.DateField(source="today")
    policy = CompliancePolicySerializer()
    districts_lacking_joint_patrol = DistrictRefSerializer(many=True, help_text="of every district in scope")
    count = serializers.IntegerField(help_text="districts in scope, on every page")
    next = serializers.SerializerMethodField(help_text="the next page of districts; null on the last")
    previous = serializers.SerializerMethodField(help_text="the previous page of districts; null on the first")
    districts = DistrictComplianceSerializer(many=True, help_text="this page's districts, by code")

    def get_next(self, compliance) -> str | None:  # noqa: ANN001
        return self.context["next"]

    def get_previous(self, compliance) -> str | None:  # noqa: ANN001
        return self.context["previous"]


# --- views ---------------------------------------------------------------------------------------


def _form(serializer_class, data):  # noqa: ANN001, ANN202 - a serializer class and its input
    form = serializer_class(data=data)
    form.is_valid(raise_exception=True)
    return form.validated_data


def _body_with_query(request) -> dict:  # noqa: ANN001 - a DRF request
    """Return the posted object, its district and year taken from the query string when it names none."""
    if not isinstance(request.data, Mapping):
        raise ValidationError({"non_field_errors": ["请求体须为对象 / the body must be a JSON object"]})
    data = {key: request.query_params[key] for key in ("district", "year") if key in request.query_params}
    data.update(request.data.items())
    return data


def _require_visible(user, district: District) -> None:  # noqa: ANN001 - a user
    """Refuse (403) unless `user` may read `district`'s plans: a district whose compliance they see, or
    the area of one of their agencies (a city's liaison office may keep plans for the city)."""
    own = Agency.objects.of_user(user).filter(district=district).exists()
    if not own and not compliance_districts(user).filter(pk=district.pk).exists():
        raise PermissionDenied(f"您无权查看{district.name}的年度计划 / not allowed to see {district.code}'s plans")


class PlanView(APIView):
    """Shared by the focus and the work points: GET the year's status, POST a new revision."""

    # Items are a list of objects: only JSON can say that.
    parser_classes = [JSONParser]

    status_serializer: type[PlanStatusSerializer]
    input_serializer: type[PlanQuerySerializer]
    plan_attribute: str

    def save_revision(self, *, user, district: District, year: int, data: dict) -> None:  # noqa: ANN001 - a user
        raise NotImplementedError

    def respond(self, district: District, year: int, code: int = status.HTTP_200_OK) -> Response:
        plans = plans_status(district, year)
        body = {"status": plans, "plan": getattr(plans, self.plan_attribute)}
        return Response(self.status_serializer(body).data, status=code)

    def get(self, request):
        query = _form(PlanQuerySerializer, request.query_params)
        _require_visible(request.user, query["district"])
        return self.respond(query["district"], query.get("year", local_today().year))

    def post(self, request):
        data = _form(self.input_serializer, _body_with_query(request))
        district, year = data.pop("district"), data.pop("year", local_today().year)
        try:
            self.save_revision(user=request.user, district=district, year=year, data=data)
        except PlanInvalid as exc:
            raise ValidationError(exc.errors) from exc
        return self.respond(district, year, status.HTTP_201_CREATED)


PLAN_ERRORS = {
    400: OpenApiResponse(description="a bad year, an unknown district or category: a message per field"),
    403: OpenApiResponse(description="GET: the district is not the user's; POST: not its liaison officer"),
}


class FocusView(PlanView):
    """年度巡查重点 The district's annual patrol focus (seed 002 §三(三)), with every revision."""

    status_serializer = FocusStatusSerializer
    input_serializer = FocusInSerializer
    plan_attribute = "focus"

    @extend_schema(parameters=[PlanQuerySerializer], responses={200: FocusStatusSerializer, **PLAN_ERRORS})
    def get(self, request):
        """The year's focus (default: this year): the current revision, the history, due date, overdue."""
        return super().get(request)

    @extend_schema(request=FocusInSerializer, responses={201: FocusStatusSerializer, **PLAN_ERRORS})
    def post(self, request):
        """Save a new revision of the focus (liaison officers of the district's liaison office only).

        `district` and `year` may come in the body or the query string; the answer is the new status.
        """
        return super().post(request)

    def save_revision(self, *, user, district: District, year: int, data: dict) -> None:  # noqa: ANN001 - a user
        items = [(item["category"], item["note"]) for item in data["items"]]
        focus_set(
            user=user, district=district, year=year, items=items, chief_order=data["chief_order"], note=data["note"]
        )


class WorkPlanView(PlanView):
    """年度工作要点 The district's work points, due by the end of Q1 (seed 002 §二(三)), with every revision."""

    status_serializer = WorkPlanStatusSerializer
    input_serializer = WorkPlanInSerializer
    plan_attribute = "work_plan"

    @extend_schema(parameters=[PlanQuerySerializer], responses={200: WorkPlanStatusSerializer, **PLAN_ERRORS})
    def get(self, request):
        """The year's work points (default: this year): current revision, history, due date, overdue."""
        return super().get(request)

    @extend_schema(request=WorkPlanInSerializer, responses={201: WorkPlanStatusSerializer, **PLAN_ERRORS})
    def post(self, request):
        """Save a new revision of the work points (liaison officers of the district's liaison office only).

        `district` and `year` may come in the body or the query string; the answer is the new status.
        """
        return super().post(request)

    def save_revision(self, *, user, district: District, year: int, data: dict) -> None:  # noqa: ANN001 - a user
        work_plan_set(user=user, district=district, year=year, content=data["content"])


class ComplianceView(APIView):
    """巡查履职情况 The year's patrol compliance of the districts the user may see."""

    @extend_schema(
        parameters=[ComplianceQuerySerializer],
        responses={
            200: ComplianceSerializer,
            400: OpenApiResponse(description="a bad year or an unknown district: a message per field"),
            403: OpenApiResponse(description="the user belongs to no agency"),
        },
    )
    def get(self, request):
        """Joint patrols per district, each reach against its chief level's patrol frequency, reaches
        never patrolled, the focus items met by findings, and whether the year's plans are overdue.

        A district's members see that district, a city-level agency's members every district of the
        city; `district` narrows to one district (or a city's districts). Default year: this year.
        Districts come in pages by code (`limit`, `offset`, default COMPLIANCE_PAGE_SIZE); `count` and
        `districts_lacking_joint_patrol` cover every district in scope.
        """
        query = _form(ComplianceQuerySerializer, request.query_params)
        pages = BoundedLimitOffsetPagination()
        pages.request = request
        pages.limit = min(query.get("limit", settings.COMPLIANCE_PAGE_SIZE), pages.max_limit)
        pages.offset = min(query.get("offset", 0), MAX_OFFSET)
        compliance = compliance_for(
            user=request.user,
            year=query.get("year", local_today().year),
            scope=query.get("district"),
            page=slice(pages.offset, pages.offset + pages.limit),
        )
        pages.count = compliance.count
        links = {"next": pages.get_next_link(), "previous": pages.get_previous_link()}
        return Response(ComplianceSerializer(compliance, context=links).data)
