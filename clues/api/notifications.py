"""A user's notifications (due soon, overdue): listed unread first, marked read one by one or all at once."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_input import serializers

from ..models import Notification
from ..querysets import clue_seen_by
from ..todo import TODO_SHOWN, TodoKind, TodoState, todo_for


def visible_notifications(user):  # noqa: ANN001, ANN201 - a user; a queryset
    """Return `user`'s notifications, less those about a clue they can no longer see (sent on, made
    confidential): such a notification goes with the clue (DESIGN §5)."""
    return Notification.objects.filter(user_id=user.pk).filter(Q(clue__isnull=True) | clue_seen_by(user))


class NotificationSerializer(serializers.ModelSerializer):
    clue_code = serializers.CharField(source="clue.code", read_only=True, default=None)
    read = serializers.SerializerMethodField()
    suggestion = serializers.SerializerMethodField(help_text="the suggestion it is about, if any")

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "due", "clue", "clue_code", "suggestion", "created_at", "read", "read_at"]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    def get_suggestion(self, notification: Notification) -> int | None:
        # The sweep's key names its item: "<rule>:suggestion:<pk>:<state>:<date>" (clues.notifications).
        parts = notification.key.split(":")
        if len(parts) > 2 and parts[1] == "suggestion" and parts[2].isdigit():
            return int(parts[2])
        return None


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """通知 The signed-in user's notifications, unread first; anyone else's answer 404."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        return (
            visible_notifications(self.request.user)
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


class TodoItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TodoKind.choices)
    due = serializers.DateField()
    state = serializers.ChoiceField(choices=TodoState.choices)
    agency = serializers.CharField(help_text="the agency that must act")
    clue = serializers.IntegerField(allow_null=True)
    clue_code = serializers.CharField(allow_null=True)
    suggestion = serializers.IntegerField(allow_null=True)
    district = serializers.CharField(allow_null=True, help_text="a plan's district code")


class TodoSerializer(serializers.Serializer):
    today = serializers.DateField()
    unread = serializers.IntegerField(help_text="unread notifications")
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    total = serializers.IntegerField(help_text="everything due from the user, listed or not")
    items = TodoItemSerializer(many=True, help_text=f"the {TODO_SHOWN} most urgent, earliest due first")


class TodoView(APIView):
    """待办 What is due from the signed-in user, and how many notifications are unread (the pages' inbox)."""

    @extend_schema(responses=TodoSerializer)
    def get(self, request):
        todo = todo_for(request.user)
        unread = visible_notifications(request.user).filter(read_at__isnull=True).count()
        return Response(TodoSerializer({**todo.__dict__, "unread": unread}).data)
