from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from .models import PatrolRoute


@admin.register(PatrolRoute)
class PatrolRouteAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "district"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["district"]
