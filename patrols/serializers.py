"""Serializers shared by the patrol and clue APIs."""

from rest_framework import serializers


class PhotoRefSerializer(serializers.Serializer):
    """A photo as listed with its finding or clue: links to the copies the viewer may fetch."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    taken_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField()
    thumbnail = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField()
    original = serializers.SerializerMethodField()

    def get_thumbnail(self, photo) -> str:
        return f"/api/v1/photos/{photo.pk}/thumbnail/"

    def get_display(self, photo) -> str:
        return f"/api/v1/photos/{photo.pk}/display/"

    def get_original(self, photo) -> str:
        return f"/api/v1/photos/{photo.pk}/original/"
