"""A user's notifications (due soon, overdue): listed unread first, marked read one by one or all at once."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api_input import serializers

from ..models import Clue, Notification


class NotificationSerializer(serializers.ModelSerializer):
    clue_code = serializers.CharField(source="clue.code", read_only=True, default=None)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "due", "clue", "clue_code", "created_at", "read", "read_at"]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """通知 The signed-in user's notifications, unread first; anyone else's answer 404."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        # A notification about a clue the user can no longer see (sent on, made confidential) goes
        # with the clue (DESIGN §5).
        visible = Q(clue__isnull=True) | Q(clue__in=Clue.objects.visible_to(self.request.user))
        return (
            Notification.objects.filter(user_id=self.request.user.pk)
            .filter(visible)
            .select_related("clue")
            .alias(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
            .order_by("-unread", "-created_at", "-pk")
        )

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read (again: no change)."""
        notification = self.get_object()
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"])
    def read_all(self, request):
        """Mark every unread notification of the user read; answer how many were."""
        marked = self.get_queryset().filter(read_at__isnull=True).update(read_at=timezone.now())
        return Response({"marked": marked})
