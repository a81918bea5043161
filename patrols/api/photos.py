"""Photos of findings: upload one by one (idempotent by client_id), then fetch the copies the user may see."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from clues.evidence import findings_visible_to, may_add_photos, may_see_originals, photos_visible_to
from config.api_input import serializers

from ..models import PhotoStatus
from ..photos import KIND_BY_CONTENT_TYPE, PhotoConflict, PhotoRejected, photo_upload, too_large_message
from ..serializers import PhotoSerializer


class PhotoUploadSerializer(serializers.Serializer):
    client_id = serializers.UUIDField(help_text="the phone's id of this photo: a retry sends the same")
    file = serializers.FileField(help_text="JPEG, PNG, WebP or HEIC; checked by content, not by name")


class PhotoSizeCap(FileUploadHandler):
    """Stop receiving a file past PHOTO_MAX_BYTES, before the rest is spooled to memory or disk."""

    exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.PHOTO_MAX_BYTES:
            self.exceeded = True
            raise SkipFile()  # the other handlers' partial files are closed and removed
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


class FindingPhotosView(APIView):
    """照片 Photos of a finding: list them, or upload one."""

    parser_classes = [MultiPartParser, FormParser]

    def initialize_request(self, request, *args, **kwargs):
        self.size_cap = PhotoSizeCap(request)
        request.upload_handlers.insert(0, self.size_cap)
        return super().initialize_request(request, *args, **kwargs)

    def visible_finding(self, finding_id: int):  # noqa: ANN201
        return get_object_or_404(findings_visible_to(self.request.user).select_related("agency"), pk=finding_id)

    @extend_schema(responses=PhotoSerializer(many=True))
    def get(self, request, finding_id: int) -> Response:
        """The finding's photos, in upload order."""
        finding = self.visible_finding(finding_id)
        context = {"originals": may_see_originals(request.user, finding)}
        return Response(PhotoSerializer(finding.photos.order_by("uploaded_at", "pk"), many=True, context=context).data)

    @extend_schema(
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoSerializer,
            200: OpenApiResponse(PhotoSerializer, description="the same client_id and file again: the same photo"),
            400: OpenApiResponse(description="not an accepted image, too large, truncated, data after the image"),
            409: OpenApiResponse(description="the client_id was used for another file"),
        },
    )
    def post(self, request, finding_id: int) -> Response:
        """上传照片 Upload a photo of the finding; its reporter and its agency's members may."""
        finding = self.visible_finding(finding_id)
        if not may_add_photos(request.user, finding):
            raise PermissionDenied(
                "只有发现人和发现单位的成员可以上传照片 / only the reporter and the finding's agency may add photos"
            )
        form = PhotoUploadSerializer(data=request.data)
        if self.size_cap.exceeded:
            raise ValidationError({"file": [too_large_message()]})
        form.is_valid(raise_exception=True)
        try:
            photo, created = photo_upload(
                finding=finding,
                user=request.user,
                client_id=form.validated_data["client_id"],
                upload=form.validated_data["file"],
            )
        except PhotoRejected as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        except PhotoConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        context = {"originals": may_see_originals(request.user, finding)}
        return Response(PhotoSerializer(photo, context=context).data, status=201 if created else 200)


class PhotoFileView(APIView):
    """One stored file of a photo, for those who may see it (404 otherwise; originals 403)."""

    variant = "display"  # display | thumbnail | original

    def perform_content_negotiation(self, request, force=False):
        # An <img> or a download may accept only image types; errors still answer in JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY),
            403: OpenApiResponse(description="originals only to those allowed to see evidence"),
            404: OpenApiResponse(description="no such photo, not visible, or not processed yet"),
        }
    )
    def get(self, request, pk: int) -> FileResponse:
        photo = get_object_or_404(photos_visible_to(request.user).select_related("finding"), pk=pk)
        if self.variant == "original":
            if not may_see_originals(request.user, photo.finding):
                raise PermissionDenied("原图仅限有权查看证据的人员 / originals are for those allowed to see evidence")
            content_type = photo.content_type
        else:
            content_type = "image/jpeg"
        fieldfile = getattr(photo, self.variant)
        if not fieldfile:
            raise NotFound(
                "照片处理失败 / processing the photo failed"
                if photo.status == PhotoStatus.FAILED
                else "照片尚未处理完 / the photo is not processed yet"
            )
        response = FileResponse(fieldfile.storage.open(fieldfile.name, "rb"), content_type=content_type)
        response["X-Content-Type-Options"] = "nosniff"
        if self.variant == "original":
            # Evidence: a download, not a page, and kept out of shared caches and the browser's disk.
            extension = KIND_BY_CONTENT_TYPE.get(photo.content_type)
            filename = f"finding-{photo.finding_id}-photo-{photo.pk}{extension.extension if extension else ''}"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            response["ETag"] = f'"{photo.sha256}"'
            patch_cache_control(response, private=True, no_store=True)
        else:
            patch_cache_control(response, private=True, max_age=3600)
        return response
