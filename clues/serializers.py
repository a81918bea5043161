"""How clues look in the API, and what a registration must contain (DESIGN §6)."""

from __future__ import annotations

import math

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework.relations import PKOnlyObject

from config.api_input import serializers
from gis_data.coords import geojson_crs_srid, point_to_wgs84
from patrols.serializers import PhotoSerializer
from rivers.members import acting_agency
from rivers.models import Agency
from rivers.serializers import AgencyRefSerializer, DistrictRefSerializer

from .deadlines import clue_deadlines
from .evidence import may_see_originals
from .models import Category, Clue, ClueEvent, Source, Suggestion, Transfer
from .registration import DUPLICATE_FIELDS

POINT_SCHEMA = {
    "type": "object",
    "description": "GeoJSON Point, WGS84 lon/lat unless a `crs` names another supported EPSG code",
    "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3},
        "crs": {
            "type": "object",
            "nullable": True,
            "description": "GeoJSON 2008 named crs, e.g. EPSG:4490, EPSG:4545 or EPSG:3857; transformed to WGS84",
            "properties": {
                "type": {"type": "string", "enum": ["name"]},
                "properties": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
            },
            "required": ["type", "properties"],
        },
    },
    "required": ["type", "coordinates"],
    "example": {"type": "Point", "coordinates": [106.651, 29.028]},
}


@extend_schema_field(POINT_SCHEMA)
class LocationField(serializers.Field):
    """A GeoJSON Point stored in WGS84 lon/lat; anything else (NaN, out of range, other types) is refused.

    A `crs` member naming a supported EPSG code (API_GEOJSON_SRIDS: CGCS2000 4490, its Gauss-Krüger
    zone 4545, Web Mercator 3857) is transformed to WGS84 and the result checked like any lon/lat;
    another crs is refused, never read as lon/lat.
    """

    default_error_messages = {
        "invalid": '须为 GeoJSON Point：{{"type": "Point", "coordinates": [经度, 纬度]}} / must be a GeoJSON Point',
        "range": "坐标超出范围：经度 -180~180，纬度 -90~90 / coordinates out of range (lon -180..180, lat -90..90)",
    }

    def to_internal_value(self, data):
        from django.contrib.gis.geos import Point

        if not isinstance(data, dict) or data.get("type") != "Point":
            self.fail("invalid")
        coordinates = data.get("coordinates")
        if (
            not isinstance(coordinates, list | tuple)
            or len(coordinates) not in (2, 3)
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates)
        ):
            self.fail("invalid")
        try:
            srid = geojson_crs_srid(data.get("crs"), settings.API_GEOJSON_SRIDS)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="crs") from exc
        try:
            x, y = float(coordinates[0]), float(coordinates[1])
        except OverflowError:  # an integer of hundreds of digits
            self.fail("range")
        if not (math.isfinite(x) and math.isfinite(y)):
            self.fail("range")
        try:
            lon, lat = point_to_wgs84(x, y, srid)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code="range") from exc
        if not (math.isfinite(lon) and math.isfinite(lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            self.fail("range")
        return Point(lon, lat, srid=4326)

    def to_representation(self, value):
        return {"type": "Point", "coordinates": [value.x, value.y]}


@extend_schema_field(POINT_SCHEMA)
class ClueLocationField(serializers.Field):
    """A clue's point as GeoJSON, from the `lon` and `lat` a page of clues reads as numbers
    (ClueViewSet.paginate_queryset), else from its geometry."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, clue):
        return clue_point(clue)


def clue_point(clue) -> dict:  # noqa: ANN001 - a Clue
    """Return a clue's point as GeoJSON (ClueLocationField)."""
    if "lon" in clue.__dict__:
        return {"type": "Point", "coordinates": [clue.lon, clue.lat]}
    return LocationField().to_representation(clue.geom)


class SourceField(serializers.ChoiceField):
    """A clue's source; the spellings other systems use for the 12345 hotline are understood too."""

    ALIASES = {"12345": Source.HOTLINE, "hotline_12345": Source.HOTLINE, "patrol_finding": Source.PATROL}

    def to_internal_value(self, data):
        return super().to_internal_value(self.ALIASES.get(data, data) if isinstance(data, str) else data)


class ClueRegistrationSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField()
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField(max_length=5000)
    location = LocationField()
    source = SourceField(choices=Source.choices)
    confidential = serializers.BooleanField(default=False)
    agency = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Agency.objects.all(),
        required=False,
        help_text="registering agency code; needed only when the user belongs to several",
    )

    def validate(self, attrs):
        agency = acting_agency(self.context["request"].user, attrs.get("agency"))
        if agency is None:
            raise serializers.ValidationError(
                {"agency": "请指定您所在的登记单位 / name the registering agency, one you are a member of"}
            )
        attrs["agency"] = agency
        return attrs


class RoutedFeatureSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    is_cross_district = serializers.BooleanField()
    districts = serializers.SerializerMethodField()

    def get_districts(self, feature) -> list[str]:
        return feature_district_codes(feature)


def feature_district_codes(feature) -> list[str]:  # noqa: ANN001 - a reach or a water body
    """Return the codes of the districts a reach or water body lies in, by code."""
    if "districts" in getattr(feature, "_prefetched_objects_cache", {}):  # a page's or a registration's, known
        return sorted(district.code for district in feature.districts.all())
    return list(feature.districts.order_by("code").values_list("code", flat=True))


class ClueRoutingSerializer(serializers.Serializer):
    """The routing a clue got at registration, in the shape of GET /api/v1/routing/."""

    district = DistrictRefSerializer(allow_null=True)
    reach = serializers.SerializerMethodField()
    procuratorate = AgencyRefSerializer(source="routed_to")
    reason = serializers.CharField(source="routing_reason")
    copies = serializers.SerializerMethodField()

    def get_reach(self, clue) -> dict | None:
        return RoutedFeatureSerializer(clue.feature).data if clue.feature else None

    def get_copies(self, clue) -> list[str]:
        return sorted(agency.code for agency in clue.routing_copies.all())


class TransferSerializer(serializers.ModelSerializer):
    from_agency = AgencyRefSerializer()
    to_agency = AgencyRefSerializer()
    copies = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    sent_by = serializers.CharField(source="sent_by.get_username")

    class Meta:
        model = Transfer
        fields = [
            "id",
            "from_agency",
            "to_agency",
            "copies",
            "reason",
            "override_reason",
            "sent_by",
            "sent_at",
            "accepted_at",
            "first_answer_due",
            "first_answer_at",
            "feedback_due",
            "feedback_at",
            "batch",
        ]


class SuggestionSerializer(serializers.ModelSerializer):
    addressee = AgencyRefSerializer()

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "number",
            "addressee",
            "content",
            "urgent",
            "pre_notified_at",
            "issued_at",
            "reply_due",
            "reply_at",
            "reply_text",
            "escalated_at",
        ]


class ClueEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.get_username")
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ClueEvent
        fields = ["seq", "action", "actor", "agency", "from_status", "to_status", "note", "data", "created_at", "hash"]


class ClueSerializer(serializers.ModelSerializer):
    location = ClueLocationField()
    routing = ClueRoutingSerializer(source="*")
    district = DistrictRefSerializer(allow_null=True)
    holder = AgencyRefSerializer()
    registering_agency = AgencyRefSerializer()
    registered_by = serializers.CharField(source="registered_by.get_username")
    merged_into = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_label = serializers.CharField(source="get_category_display")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = Clue
        fields = [
            "id",
            "code",
            "client_uuid",
            "status",
            "status_label",
            "category",
            "category_label",
            "source",
            "description",
            "location",
            "confidential",
            "district",
            "routing",
            "holder",
            "registering_agency",
            "registered_by",
            "merged_into",
            "case_number",
            "outcome_note",
            "judgement",
            "restoration_done_on",
            "created_at",
            "updated_at",
            "closed_at",
        ]

    def to_representation(self, clue):
        """The fields above written out by hand (clue_summary), then a subclass's own through DRF: DRF's
        field-by-field machinery cost half a millisecond a clue, most of a 100-clue page (issue 10).
        tests/clues/test_serializers.py holds the two to DRF's own answer."""
        data = clue_summary(clue)
        for field in self._readable_fields:
            if field.field_name in data:
                continue
            attribute = field.get_attribute(clue)
            # as DRF's Serializer.to_representation: a related field may give only a primary key
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            data[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        return data


_datetime = serializers.DateTimeField().to_representation
_date = serializers.DateField().to_representation


def _ref(row) -> dict | None:  # noqa: ANN001 - an agency or a district
    return None if row is None else {"code": row.code, "name": row.name}


def clue_summary(clue: Clue) -> dict:
    """Return what ClueSerializer's fields give for `clue`, in their order, without DRF's machinery."""
    feature = clue.feature
    return {
        "id": clue.pk,
        "code": clue.code,
        "client_uuid": str(clue.client_uuid),
        "status": clue.status,
        "status_label": str(clue.get_status_display()),
        "category": clue.category,
        "category_label": str(clue.get_category_display()),
        "source": clue.source,
        "description": clue.description,
        "location": clue_point(clue),
        "confidential": clue.confidential,
        "district": _ref(clue.district),
        "routing": {
            "district": _ref(clue.district),
            "reach": None
            if feature is None
            else {
                "code": feature.code,
                "name": feature.name,
                "is_cross_district": feature.is_cross_district,
                "districts": feature_district_codes(feature),
            },
            "procuratorate": _ref(clue.routed_to),
            "reason": clue.routing_reason,
            "copies": sorted(agency.code for agency in clue.routing_copies.all()),
        },
        "holder": _ref(clue.holder),
        "registering_agency": _ref(clue.registering_agency),
        "registered_by": clue.registered_by.get_username(),
        "merged_into": None if clue.merged_into_id is None else clue.merged_into.code,
        "case_number": clue.case_number,
        "outcome_note": clue.outcome_note,
        "judgement": clue.judgement,
        "restoration_done_on": None if clue.restoration_done_on is None else _date(clue.restoration_done_on),
        "created_at": _datetime(clue.created_at),
        "updated_at": _datetime(clue.updated_at),
        "closed_at": None if clue.closed_at is None else _datetime(clue.closed_at),
    }


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="first_answer, feedback (a transfer's) or suggestion_reply (clues.models.DeadlineRule)"
    )
    due = serializers.DateField(help_text="the last day allowed")
    done_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(
        choices=["in_time", "late", "overdue", "due_soon", "pending"],
        help_text="done in time or late; not done and overdue, due soon (DUE_SOON policy) or pending",
    )
    owed_by = AgencyRefSerializer(help_text="the agency that must meet it")
    transfer = serializers.IntegerField(allow_null=True)
    suggestion = serializers.IntegerField(allow_null=True)


class ClueDetailSerializer(ClueSerializer):
    transfers = TransferSerializer(many=True)
    suggestions = SuggestionSerializer(many=True)
    photos = serializers.SerializerMethodField(help_text="the photos of the finding the clue was made from")
    steps = serializers.SerializerMethodField(help_text="the steps the requesting user may take now")
    deadlines = serializers.SerializerMethodField(help_text="the transfers' and suggestions' deadlines, by due date")
    names = serializers.SerializerMethodField(
        help_text="名称 the name of every agency and district the clue names by code (copies, the reach's districts)"
    )

    class Meta(ClueSerializer.Meta):
        fields = [
            *ClueSerializer.Meta.fields,
            *("finding", "transfers", "suggestions", "photos", "steps", "deadlines", "names"),
        ]

    def get_names(self, clue) -> dict[str, str]:
        named = [clue.holder, clue.registering_agency, clue.routed_to, *clue.routing_copies.all()]
        for transfer in clue.transfers.all():
            named += [transfer.from_agency, transfer.to_agency, *transfer.copies.all()]
        named += [suggestion.addressee for suggestion in clue.suggestions.all()]
        names = {agency.code: agency.name for agency in named}
        if clue.district is not None:
            names[clue.district.code] = clue.district.name
        feature = clue.feature
        if feature is not None and "districts" in getattr(feature, "_prefetched_objects_cache", {}):
            names.update((district.code, district.name) for district in feature.districts.all())  # a registration's
        elif feature is not None:
            names.update(feature.districts.values_list("code", "name"))
        return names

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, clue) -> list[dict]:
        return DeadlineSerializer(clue_deadlines(clue), many=True).data

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, clue) -> list[dict]:
        if clue.finding_id is None:
            return []
        originals = may_see_originals(self.context["request"].user, clue.finding)
        return PhotoSerializer(clue.finding.photos.all(), many=True, context={"originals": originals}).data

    def get_steps(self, clue) -> list[str]:
        from .workflow import steps_available

        return [step.name for step in steps_available(clue, self.context["request"].user)]


class DuplicateSerializer(serializers.ModelSerializer):
    distance_m = serializers.FloatField(read_only=True, required=False)

    class Meta:
        model = Clue
        fields = [*DUPLICATE_FIELDS, "distance_m"]


class StepSerializer(serializers.Serializer):
    """Parameters of a workflow step; each step reads the ones it needs."""

    note = serializers.CharField(required=False, allow_blank=True, default="")
    to = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all(), required=False)
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")
    case_number = serializers.CharField(required=False, allow_blank=True, default="")
    addressee = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all(), required=False)
    content = serializers.CharField(required=False, allow_blank=True, default="")
    urgent = serializers.BooleanField(required=False, default=False)
    number = serializers.CharField(required=False, allow_blank=True, default="")
    pre_notify = serializers.BooleanField(required=False, default=False)
    judgement = serializers.CharField(required=False, allow_blank=True, default="")
    restoration_done_on = serializers.DateField(required=False, allow_null=True, default=None)
    outcome_note = serializers.CharField(required=False, allow_blank=True, default="")
    into = serializers.CharField(required=False, help_text="code of the clue to merge into")


STEP_PARAM_TYPES = {
    serializers.BooleanField: "boolean",
    serializers.DateField: "date",
    serializers.SlugRelatedField: "agency",
}
# Free text a form shows as a multi-line box; `into` names a clue by its code.
LONG_TEXT_PARAMS = ("override_reason", "content", "judgement", "outcome_note")


def step_param_type(name: str) -> str:
    """Return the kind of input a step parameter takes: text, long_text, boolean, date, agency or clue."""
    if name == "into":
        return "clue"
    if name in LONG_TEXT_PARAMS:
        return "long_text"
    field = StepSerializer().fields[name]
    return next((kind for cls, kind in STEP_PARAM_TYPES.items() if isinstance(field, cls)), "text")


class StepParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["text", "long_text", "boolean", "date", "agency", "clue"])
    required = serializers.BooleanField()
    choices = AgencyRefSerializer(many=True, allow_null=True, help_text="for an agency: the agencies offered")


class StepFormSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="POST /api/v1/clues/{id}/steps/{name}/")
    label = serializers.CharField()
    to_status = serializers.CharField(allow_null=True, help_text="the state it leads to; null: the state stays")
    recipient = AgencyRefSerializer(allow_null=True, help_text="where send and reverse send the clue by default")
    params = StepParamSerializer(many=True, help_text="besides `note`, which every step takes")


class StepFormsSerializer(serializers.Serializer):
    steps = StepFormSerializer(many=True, help_text="the steps the user may take now, in workflow order")
    replies = serializers.ListField(
        child=serializers.IntegerField(), help_text="suggestions awaiting a written reply the user may give"
    )


class SuggestionReplySerializer(serializers.Serializer):
    text = serializers.CharField()


class PossibleDuplicatesQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180, help_text="WGS84 longitude")
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="WGS84 latitude")
    category = serializers.ChoiceField(choices=Category.choices)


class HistoryBreakSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    kind = serializers.CharField(help_text="altered, broken_link, removed_tail, rehashed, empty or unanchored")
    problem = serializers.CharField()


class HistoryVerificationSerializer(serializers.Serializer):
    intact = serializers.BooleanField(help_text="true: every event is signed, linked and anchored")
    events = serializers.IntegerField(help_text="how many events the clue's anchor counts")
    breaks = HistoryBreakSerializer(many=True)


class ClueGeoSerializer(serializers.GeoFeatureModelSerializer):
    """A clue as a GeoJSON feature for the review map."""

    class Meta:
        model = Clue
        geo_field = "geom"
        fields = ["id", "code", "status", "category", "source", "confidential", "routing_reason", "created_at"]
