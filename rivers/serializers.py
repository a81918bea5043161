from drf_spectacular.utils import extend_schema_field

from config.api_input import serializers

from .models import Agency, District, Reach, WaterBody


class DistrictRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["code", "name"]


class AgencyRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["code", "name"]


class DistrictSerializer(serializers.GeoFeatureModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = District
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "level", "parent"]


class ReachSerializer(serializers.GeoFeatureModelSerializer):
    river = serializers.CharField(source="river.name", read_only=True)
    districts = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Reach
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "river", "level", "length_m", "districts", "is_cross_district"]


class WaterBodySerializer(serializers.GeoFeatureModelSerializer):
    districts = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = WaterBody
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "kind", "level", "area_m2", "districts", "is_cross_district"]


class LonLatSerializer(serializers.Serializer):
    """A WGS84 position; NaN and infinities are refused, not just out-of-range numbers."""

    lon = serializers.FloatField(min_value=-180, max_value=180, allow_null=False)
    lat = serializers.FloatField(min_value=-90, max_value=90, allow_null=False)

    def validate(self, attrs):
        for name in ("lon", "lat"):
            value = attrs[name]
            if value != value or value in (float("inf"), float("-inf")):
                raise serializers.ValidationError({name: "必须是有限数值 / must be a finite number"})
        return attrs


class RoutedReachSerializer(serializers.Serializer):
    """A reach or water body as the routing answer shows it (DESIGN §6)."""

    code = serializers.CharField()
    name = serializers.CharField()
    is_cross_district = serializers.BooleanField()
    districts = serializers.SerializerMethodField()

    def get_districts(self, feature) -> list[str]:
        return [d.code for d in self.context["reach_districts"]]


class RoutingWarningSerializer(serializers.Serializer):
    """Something to check before sending a clue from this point (rivers.routing.routing_warnings)."""

    code = serializers.ChoiceField(choices=["near_boundary", "no_reach"])
    message = serializers.CharField(help_text="中文 / English")
    district = DistrictRefSerializer(required=False, help_text="near_boundary: the other district")
    buffer_m = serializers.FloatField(required=False, help_text="near_boundary: BOUNDARY_BUFFER_M")
    distance_m = serializers.FloatField(required=False, help_text="near_boundary: metres to that district")
    snap_tolerance_m = serializers.FloatField(required=False, help_text="no_reach: SNAP_TOLERANCE_M")


class RoutingSerializer(serializers.Serializer):
    """The answer of GET /api/v1/routing/: the fixed interface (DESIGN §6), then what the preview adds.

    `warnings` come from the context (computed by rivers.routing.routing_warnings); without them, [].
    """

    district = DistrictRefSerializer(allow_null=True)
    reach = serializers.SerializerMethodField()
    procuratorate = AgencyRefSerializer()
    reason = serializers.ChoiceField(choices=["district", "cross_district", "outside_districts"])
    copies = serializers.SerializerMethodField()
    reach_distance_m = serializers.SerializerMethodField(help_text="metres to the snapped reach; null when none")
    warnings = serializers.SerializerMethodField()

    def get_reach(self, routing) -> dict | None:
        if routing.reach is None:
            return None
        return RoutedReachSerializer(routing.reach, context={"reach_districts": routing.reach_districts}).data

    def get_copies(self, routing) -> list[str]:
        return [agency.code for agency in routing.copies]

    def get_reach_distance_m(self, routing) -> float | None:
        return None if routing.reach_distance_m is None else round(routing.reach_distance_m, 1)

    @extend_schema_field(RoutingWarningSerializer(many=True))
    def get_warnings(self, routing) -> list[dict]:
        return self.context.get("warnings", [])


def routing_data(routing, warnings: list[dict]) -> dict:  # noqa: ANN001 - a rivers.routing.Routing
    """Return what RoutingSerializer(routing, context={"warnings": warnings}).data gives, built directly.

    The routing answer is on every clue form's hot path (issue 10): DRF's fields cost 0.3-0.4 ms of CPU
    for these few values. RoutingSerializer still documents the answer (the schema); a test holds the
    two equal.
    """
    reach = routing.reach
    return {
        "district": _ref(routing.district),
        "reach": None
        if reach is None
        else {
            "code": str(reach.code),
            "name": str(reach.name),
            "is_cross_district": bool(reach.is_cross_district),
            "districts": [district.code for district in routing.reach_districts],
        },
        "procuratorate": _ref(routing.procuratorate),
        "reason": routing.reason,
        "copies": [agency.code for agency in routing.copies],
        "reach_distance_m": None if routing.reach_distance_m is None else round(routing.reach_distance_m, 1),
        "warnings": warnings,
    }


def _ref(area) -> dict | None:  # noqa: ANN001 - a District or an Agency
    return None if area is None else {"code": str(area.code), "name": str(area.name)}


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(help_text="中文 label")
