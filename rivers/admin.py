"""The network in the Django admin, on Leaflet maps. Saving a geometry recomputes what derives from it.

What decides who sees what (an agency's kind and district, a district's level and parent,
memberships, users' rights) is changed here only by a system administrator and recorded
(rivers.access); GIS administrators see those fields read-only.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from leaflet.admin import LeafletGeoAdmin

from .access import access_change_record, guarded_fields, guarded_values, is_system_admin
from .chiefs import chief_assign
from .crossing import network_near, network_recompute_around, reaches_recompute, water_bodies_recompute
from .models import AccessAction, AccessChange, Agency, ChiefAssignment, District, Membership, Reach, River, WaterBody


class ReadOnlyAdminMixin:
    """View only: no adding, changing or deleting (a superuser included)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessRecordedAdmin(admin.ModelAdmin):
    """Guarded fields (rivers.access) are read-only but to system administrators, and every add,
    change of a guarded field and delete is recorded as an AccessChange in the same transaction."""

    # Whether only a system administrator may add, change or delete rows at all (memberships, users).
    system_admin_only = False
    # What others with the model's permissions may still do (e.g. a GIS administrator adds a town).
    open_actions: tuple[str, ...] = ()

    def _allowed(self, request, action: str) -> bool:
        return is_system_admin(request.user) or (not self.system_admin_only and action in self.open_actions)

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and self._allowed(request, AccessAction.ADD)

    def has_change_permission(self, request, obj=None):
        allowed = is_system_admin(request.user) or not self.system_admin_only
        return super().has_change_permission(request, obj) and allowed

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._allowed(request, AccessAction.DELETE)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not is_system_admin(request.user):
            fields += [name for name in guarded_fields(self.model) if name not in fields]
        return fields

    def save_model(self, request, obj, form, change):
        # Read before saving: many-to-many fields (a user's groups) change later, in save_related.
        request._access_before = guarded_values(self.model.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        action = AccessAction.CHANGE if change else AccessAction.ADD
        access_change_record(
            actor=request.user,
            obj=form.instance,
            action=action,
            before=getattr(request, "_access_before", None),
            by_anyone=self._allowed(request, action),
        )

    def _record_delete(self, request, obj) -> None:
        access_change_record(
            actor=request.user,
            obj=obj,
            action=AccessAction.DELETE,
            before=guarded_values(obj),
            by_anyone=self._allowed(request, AccessAction.DELETE),
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._record_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._record_delete(request, obj)
            super().delete_queryset(request, queryset)


@admin.register(District)
class DistrictAdmin(AccessRecordedAdmin, LeafletGeoAdmin):
    # A new district has no agency yet, and one with agencies cannot be deleted (PROTECT): adding
    # and removing areas stays the GIS administrators' work; level and parent are guarded.
    open_actions = (AccessAction.ADD, AccessAction.DELETE)
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        moved = "geom" in form.changed_data or "level" in form.changed_data
        with transaction.atomic():
            # What lay near the old boundary, as the loaders look before they change a district.
            before = network_near([obj.pk]) if change and moved else ((), ())
            super().save_model(request, obj, form, change)
            if moved:
                network_recompute_around([obj.pk], also=before)


@admin.register(Agency)
class AgencyAdmin(AccessRecordedAdmin):
    """GIS administrators may rename an agency; its kind and district, and adding or removing
    agencies (which could make a second municipal procuratorate), are for system administrators."""

    list_display = ["code", "name", "kind", "district"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["district"]


@admin.register(Membership)
class MembershipAdmin(AccessRecordedAdmin):
    system_admin_only = True

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


# Users' rights in the admin (superuser, staff, groups, permissions) decide what they may change here,
# the groups' permissions too: the same rule as memberships.
admin.site.unregister(get_user_model())
admin.site.unregister(Group)


@admin.register(get_user_model())
class AccountAdmin(AccessRecordedAdmin, UserAdmin):
    system_admin_only = True


@admin.register(Group)
class RightsGroupAdmin(AccessRecordedAdmin, GroupAdmin):
    system_admin_only = True


@admin.register(AccessChange)
class AccessChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of who changed who sees what; read-only, for system administrators."""

    list_display = ["at", "actor", "action", "subject", "object_repr", "before", "after"]
    list_filter = ["action", "subject"]
    search_fields = ["object_repr", "object_id", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    readonly_fields = ["at", "actor", "action", "subject", "object_id", "object_repr", "before", "after"]

    def has_view_permission(self, request, obj=None):
        return is_system_admin(request.user)
