"""Pagination of every list: `?limit=` is clamped to API_MAX_PAGE_SIZE and `?offset=` cannot overflow SQL."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination

# PostgreSQL's LIMIT and OFFSET are bigints; an offset past the rows is an empty page anyway.
MAX_OFFSET = 2**62


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`?limit=&offset=` as DRF reads them (non-numbers fall back to the defaults), within bounds."""

    @property
    def max_limit(self) -> int:  # read per request, so that a deployment (or a test) can change it
        return settings.API_MAX_PAGE_SIZE

    def get_offset(self, request) -> int:  # noqa: ANN001 - a DRF request
        return min(super().get_offset(request), MAX_OFFSET)
