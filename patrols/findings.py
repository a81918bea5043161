"""Findings (巡查发现): what a patrol found, created idempotently from a phone that may retry."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone

from rivers.models import Agency

from .models import Finding, Patrol


class FindingConflict(Exception):
    """The client_uuid was used for something else; the message reveals nothing of it."""


def _digest(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def finding_create(
    *,
    user,  # noqa: ANN001 - a user
    agency: Agency,
    client_uuid: uuid.UUID,
    category: str,
    description: str,
    location: Point | None = None,
    found_at: datetime.datetime | None = None,
    patrol: Patrol | None = None,
) -> tuple[Finding, bool]:
    """Create a finding; the same client_uuid with the same content returns it. Return (finding, created)."""
    digest = _digest(
        category=category,
        description=description,
        location=[round(location.x, 7), round(location.y, 7)] if location else None,
        patrol=patrol.pk if patrol else None,
    )
    try:
        with transaction.atomic():
            finding = Finding.objects.create(
                client_uuid=client_uuid,
                request_digest=digest,
                patrol=patrol,
                reported_by=user,
                agency=agency,
                category=category,
                description=description,
                geom=location,
                found_at=found_at or timezone.now(),
            )
            return finding, True
    except IntegrityError:
        existing = Finding.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        if existing.reported_by_id != user.pk or existing.request_digest != digest:
            raise FindingConflict("client_uuid 已被使用 / client_uuid already used for another finding") from None
        return existing, False
