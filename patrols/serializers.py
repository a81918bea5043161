"""Serializers shared by the patrol and clue APIs."""

from django.urls import reverse
from rest_framework_gis.fields import GeometryField

from config.api_input import serializers

from .models import Photo, PhotoStatus


class PhotoSerializer(serializers.ModelSerializer):
    location = GeometryField(source="geom", read_only=True, allow_null=True)
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id", "client_id", "finding", "status", "error", "sha256", "content_type", "size_bytes",
            "width", "height", "taken_at", "location", "uploaded_at", "processed_at", "urls",
        ]  # fmt: skip
        read_only_fields = fields

    def get_urls(self, photo: Photo) -> dict[str, str | None]:
        """Links to the copies: display and thumbnail once processed; the original to those allowed."""
        ready = photo.status == PhotoStatus.DONE
        originals = self.context.get("originals", False)
        return {
            "display": reverse("photo-display", args=[photo.pk]) if ready else None,
            "thumbnail": reverse("photo-thumbnail", args=[photo.pk]) if ready else None,
            "original": reverse("photo-original", args=[photo.pk]) if originals else None,
        }
