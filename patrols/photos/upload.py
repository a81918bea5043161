"""Keeping an upload: the original stored untouched with its SHA-256, idempotent by the phone's client_id."""

from __future__ import annotations

import uuid

from django.core.files.base import File
from django.db import IntegrityError, transaction

from ..models import Finding, Photo
from .checks import photo_inspect
from .processing import photo_queue_processing


class PhotoConflict(Exception):
    """The client_id was used for another file or finding."""


def photo_upload(*, finding: Finding, user, client_id: uuid.UUID, upload: File) -> tuple[Photo, bool]:  # noqa: ANN001
    """Keep an uploaded photo of `finding`; the same client_id again returns it. Return (photo, created).

    The unique constraint on client_id is the guard: of concurrent retries one inserts and the
    others wait for it, then find its row. The same client_id with another file is a PhotoConflict.
    Nothing is stored when the upload is refused.
    """
    inspection = photo_inspect(upload)
    stored: str | None = None
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    photo = Photo.objects.create(
                        finding=finding,
                        client_id=client_id,
                        sha256=inspection.sha256,
                        content_type=inspection.kind.content_type,
                        size_bytes=inspection.size_bytes,
                        width=inspection.width,
                        height=inspection.height,
                        uploaded_by=user,
                    )
            except IntegrityError:
                existing = Photo.objects.filter(client_id=client_id).first()
                if existing is None:
                    raise
                if existing.finding_id != finding.pk or existing.sha256 != inspection.sha256:
                    raise PhotoConflict(
                        "client_id 已用于另一张照片 / client_id already used for another photo"
                    ) from None
                return existing, False
            # The file name is ours, never the client's; the bytes are copied as they came.
            photo.original.save(f"{client_id}{inspection.kind.extension}", upload, save=False)
            stored = photo.original.name
            photo.save(update_fields=["original"])
            photo_queue_processing(photo.pk)
    except BaseException:
        if stored:
            photo.original.storage.delete(stored)
        raise
    return photo, True
