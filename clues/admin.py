"""Clues in the admin, to read: clues change only through the workflow, and their history never.

Every page that shows clue content (clues, their events, transfers, suggestions, notifications,
findings and their photos) lists only what `Clue.objects.visible_to` lets the signed-in user see, as
the API does, superusers included (DESIGN §5): a system administrator manages configuration,
agencies and accounts, not clue content. Any other row does not exist here either.

Deadline policies are the one thing edited here, and only by adding a row: a rule changes from a
date on, and the rows before it stay as the record of what applied when (clues.deadlines).
"""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from leaflet.admin import LeafletAdminWidget, LeafletGeoAdmin

from patrols.models import Finding, Photo
from rivers.admin import ReadOnlyAdminMixin

from .deadlines import policy_check, policy_in_force
from .models import Clue, ClueEvent, DeadlinePolicy, Notification, Suggestion, Transfer


class VisibleCluesMixin:
    """List only the rows whose clue the user may see (`clue_path` leads from a row to its clue;
    "" for clues themselves); rows about no clue stay when `clue_optional`."""

    clue_path = "clue"
    clue_optional = False

    def get_queryset(self, request):
        visible = Clue.objects.visible_to(request.user).values("pk")
        rule = Q(pk__in=visible) if not self.clue_path else Q(**{f"{self.clue_path}__in": visible})
        if self.clue_optional:
            rule |= Q(**{f"{self.clue_path}__isnull": True})
        return super().get_queryset(request).filter(rule)


class ClueEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The clue's history in order; the database refuses to change it anyway (migration 0002)."""

    model = ClueEvent
    fields = ["seq", "created_at", "action", "actor", "agency", "from_status", "to_status", "note"]
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0


class ReadOnlyMapWidget(LeafletAdminWidget):
    """The Leaflet admin map without drawing tools: shows a geometry, edits nothing."""

    template_name = "leaflet/admin/widget.html"
    geom_type = "POINT"
    modifiable = False


@admin.register(Clue)
class ClueAdmin(VisibleCluesMixin, ReadOnlyAdminMixin, LeafletGeoAdmin):
    clue_path = ""

    list_display = ["code", "status", "category", "holder", "district", "confidential", "created_at"]
    list_filter = ["status", "category", "source", "confidential", "routing_reason", "holder__kind", "district"]
    search_fields = ["code", "description"]
    date_hierarchy = "created_at"
    list_select_related = ["holder", "district"]
    inlines = [ClueEventInline]
    fieldsets = [
        (None, {"fields": ["code", "status", "category", "source", "confidential", "description", "location"]}),
        (
            "位置与移送 Place and routing",
            {
                "fields": [
                    "district",
                    "city",
                    "reach",
                    "water_body",
                    "snap_distance_m",
                    "routing_reason",
                    "routed_to",
                    "routing_copies",
                ]
            },
        ),
        (
            "承办 Handling",
            {
                "fields": [
                    "registering_agency",
                    "registered_by",
                    "holder",
                    "merged_into",
                    "case_number",
                    "outcome_note",
                    "judgement",
                    "restoration_done_on",
                    "created_at",
                    "updated_at",
                    "closed_at",
                    "client_uuid",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Every field of every fieldset: a view-only page renders them all as text anyway, and the
        # point, which would show as WKT, is shown on a map instead.
        return [name for _, options in self.fieldsets for name in options["fields"]]

    @admin.display(description="位置 location")
    def location(self, obj):
        return ReadOnlyMapWidget().render("geom", obj.geom, attrs={"id": "id_geom"})

    @property
    def media(self):
        # The map above is no form field, so the page would not load Leaflet for it by itself.
        return super().media + ReadOnlyMapWidget().media


@admin.register(Transfer)
class TransferAdmin(VisibleCluesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "clue",
        "from_agency",
        "to_agency",
        "reason",
        "sent_at",
        "first_answer_due",
        "first_answer_at",
        "feedback_due",
        "feedback_at",
    ]
    list_filter = ["reason", "to_agency__kind"]
    search_fields = ["clue__code", "from_agency__name", "to_agency__name"]
    list_select_related = ["clue", "from_agency", "to_agency"]
    date_hierarchy = "sent_at"


@admin.register(Suggestion)
class SuggestionAdmin(VisibleCluesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["clue", "number", "addressee", "urgent", "issued_at", "reply_due", "reply_at", "escalated_at"]
    list_filter = ["urgent"]
    search_fields = ["clue__code", "number", "addressee__name"]
    list_select_related = ["clue", "addressee"]
    date_hierarchy = "issued_at"


class DeadlinePolicyForm(forms.ModelForm):
    class Meta:
        model = DeadlinePolicy
        fields = ["rule", "amount", "unit", "effective_from", "note"]

    def clean(self):
        data = super().clean()
        if {"rule", "amount", "effective_from"} <= data.keys():
            policy_check(rule=data["rule"], amount=data["amount"], effective_from=data["effective_from"])
        return data


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    """A rule changes by adding a row from a date on (today or later); rows are never edited or removed,
    so the policy's history stays true and deadlines already computed keep their dates."""

    form = DeadlinePolicyForm
    list_display = ["rule", "amount", "unit", "effective_from", "in_force", "note", "created_by", "created_at"]
    list_filter = ["rule"]
    readonly_fields = ["created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="今日生效 in force today", boolean=True)
    def in_force(self, obj):
        return policy_in_force(obj.rule, timezone.localdate()).pk == obj.pk

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Notification)
class NotificationAdmin(VisibleCluesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    clue_optional = True

    list_display = ["user", "kind", "clue", "due", "created_at", "emailed_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "clue__code", "key"]
    list_select_related = ["user", "clue"]
    date_hierarchy = "created_at"


@admin.register(ClueEvent)
class ClueEventAdmin(VisibleCluesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only: the database refuses UPDATE and DELETE on this table (migration 0002)."""

    list_display = ["clue", "seq", "action", "actor", "agency", "from_status", "to_status", "created_at"]
    list_filter = ["action"]
    search_fields = ["clue__code", "note"]
    list_select_related = ["clue", "actor", "agency"]
    date_hierarchy = "created_at"


class PhotoInline(admin.TabularInline):
    model = Photo
    fields = ["client_id", "status", "sha256", "width", "height", "taken_at", "attempts"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Finding)
class FindingAdmin(VisibleCluesMixin, ReadOnlyAdminMixin, LeafletGeoAdmin):
    """Findings from phones, with their photos (evidence): read-only; one that became a clue is
    listed only to those who may see the clue."""

    clue_optional = True
    list_display = ["found_at", "category", "agency", "reported_by", "patrol"]
    list_filter = ["category"]
    search_fields = ["description"]
    inlines = [PhotoInline]
