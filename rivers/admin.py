"""The network in the Django admin, on Leaflet maps. Saving a geometry recomputes what derives from it."""

from django.contrib import admin
from django.db import transaction
from leaflet.admin import LeafletGeoAdmin

from .chiefs import chief_assign
from .crossing import network_recompute_around, reaches_recompute, water_bodies_recompute
from .models import Agency, ChiefAssignment, District, Membership, Reach, River, WaterBody


@admin.register(District)
class DistrictAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if "geom" in form.changed_data or "level" in form.changed_data:
                network_recompute_around([obj.pk])


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "district"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["district"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role"]
    list_filter = ["role", "agency__kind"]
    search_fields = ["user__username", "agency__code", "agency__name"]
    autocomplete_fields = ["user", "agency"]


@admin.register(River)
class RiverAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class ChiefHistoryInline(admin.TabularInline):
    """A reach's chiefs, past and present; history is read here and changed through new assignments."""

    model = ChiefAssignment
    fields = ["person_name", "role", "level", "start_date", "end_date"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reach)
class ReachAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "river", "level", "length_m", "is_cross_district"]
    list_filter = ["level", "is_cross_district", "river"]
    search_fields = ["code", "name", "river__name"]
    readonly_fields = ["length_m", "is_cross_district", "district_list"]
    autocomplete_fields = ["river"]
    inlines = [ChiefHistoryInline]

    @admin.display(description="所在区县 districts")
    def district_list(self, obj):
        return "、".join(
            f"{s.district.name} {s.length_m:.0f} m" for s in obj.district_shares.select_related("district")
        )

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            reaches_recompute([obj.pk])


@admin.register(WaterBody)
class WaterBodyAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "kind", "area_m2", "is_cross_district"]
    list_filter = ["kind", "is_cross_district"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2", "is_cross_district"]
    inlines = [ChiefHistoryInline]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            water_bodies_recompute([obj.pk])


@admin.register(ChiefAssignment)
class ChiefAssignmentAdmin(admin.ModelAdmin):
    """A new assignment closes the serving one; an existing one can only be given its end date."""

    list_display = ["person_name", "role", "level", "reach", "water_body", "start_date", "end_date"]
    list_filter = ["role", "level"]
    search_fields = ["person_name", "reach__name", "water_body__name"]
    autocomplete_fields = ["reach", "water_body", "user"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["reach", "water_body", "person_name", "user", "role", "level", "start_date"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        assignment, _ = chief_assign(
            reach=obj.reach,
            water_body=obj.water_body,
            person_name=obj.person_name,
            user=obj.user,
            role=obj.role,
            level=obj.level,
            start_date=obj.start_date,
            end_date=obj.end_date,
        )
        obj.pk = assignment.pk
