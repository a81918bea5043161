"""我 Who the signed-in user is, for the patrol app: agencies, roles, what they may do, where they work."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_input import serializers
from rivers.members import abilities, home_district
from rivers.models import Membership

from ..participants import side_of


def display_name(user) -> str:  # noqa: ANN001 - a user
    return user.get_full_name() or user.get_username()


class MyDistrictSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class MyAgencySerializer(serializers.Serializer):
    code = serializers.CharField(source="agency.code")
    name = serializers.CharField(source="agency.name")
    kind = serializers.CharField(source="agency.kind")
    kind_label = serializers.CharField(source="agency.get_kind_display")
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    side = serializers.SerializerMethodField(help_text="joint-patrol side: river | procuratorate | null")
    district = MyDistrictSerializer(source="agency.district")

    def get_side(self, membership) -> str | None:  # noqa: ANN001 - a Membership
        return side_of(membership.agency.kind)


class HomeDistrictSerializer(MyDistrictSerializer):
    bbox = serializers.ListField(child=serializers.FloatField(), help_text="min_lon, min_lat, max_lon, max_lat")


class AbilitiesSerializer(serializers.Serializer):
    start_patrol = serializers.BooleanField()
    record_finding = serializers.BooleanField()
    register_clue = serializers.BooleanField()
    make_clue_from_finding = serializers.BooleanField(help_text="for findings of one of the user's agencies")
    set_focus = serializers.BooleanField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    agencies = MyAgencySerializer(many=True)
    home_district = HomeDistrictSerializer(allow_null=True)
    may = AbilitiesSerializer()


class MeView(APIView):
    """我 The signed-in user: agencies and roles, what they may do, their home district's box."""

    @extend_schema(responses=MeSerializer)
    def get(self, request) -> Response:
        user = request.user
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("agency__district")
            .defer("agency__district__geom")
            .order_by("agency__code", "role")
        )
        home = None
        found = home_district(memberships)
        if found is not None:
            district, box = found
            home = {"code": district.code, "name": district.name, "level": district.level, "bbox": list(box)}
        body = {
            "id": user.pk,
            "username": user.get_username(),
            "name": display_name(user),
            "agencies": memberships,
            "home_district": home,
            "may": abilities(memberships),
        }
        return Response(MeSerializer(body).data)
