"""Patrols in the admin: routes are edited on a map; records of patrols are read-only (they come from
phones and are evidence), plans change through new revisions in the API. Findings and their photos are
in clues.admin: a finding that became a clue is seen as the clue is."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from rivers.admin import ReadOnlyAdminMixin

from .models import FocusPlan, Patrol, PatrolRoute, WorkPlan


@admin.register(PatrolRoute)
class PatrolRouteAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "district"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["district"]


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyAdminMixin, LeafletGeoAdmin):
    list_display = ["started_at", "kind", "district", "status", "length_m", "duration_s", "is_valid"]
    list_filter = ["kind", "status", "is_valid", "district"]
    date_hierarchy = "started_at"


@admin.register(FocusPlan)
class FocusPlanAdmin(admin.ModelAdmin):
    list_display = ["district", "year", "revision", "chief_order", "created_by", "created_at"]
    list_filter = ["year"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkPlan)
class WorkPlanAdmin(FocusPlanAdmin):
    list_display = ["district", "year", "revision", "created_by", "created_at"]
