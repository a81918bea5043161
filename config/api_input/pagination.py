"""Pagination of every list: `?limit=` is clamped to API_MAX_PAGE_SIZE and `?offset=` cannot overflow SQL."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Window
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

    def paginate_keys(self, queryset, request, *, count_apart: bool = False) -> list | None:  # noqa: ANN001 - a QuerySet, a DRF request
        """Return the primary keys of the page of `queryset` and count all of its rows, in one statement (a
        window over the rows the filters leave): where choosing the rows is the cost (the visibility rule),
        counting them apart did it twice. None when the request asks for no pagination.

        `count_apart`: count in a statement of its own, where testing each row is the cost and most rows
        are kept. With the window, PostgreSQL plans as if the LIMIT stopped the scan early and walks the
        order's index over every row (a municipal procuratorate's clues: 3 s); counted apart, the count
        scans the table and the page stops after its rows.
        """
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        if queryset.query.distinct or count_apart:  # a window counts the rows before DISTINCT removes any
            self.count = self.get_count(queryset)
            keys = list(queryset.values_list("pk", flat=True)[self.offset : self.offset + self.limit])
            self.display_page_controls = self.count > self.limit and self.template is not None
            return keys
        rows = list(
            queryset.annotate(total_rows=Window(Count("pk"))).values_list("pk", "total_rows")[
                self.offset : self.offset + self.limit
            ]
        )
        # past the last row the window counted nothing: count apart
        self.count = rows[0][1] if rows else self.get_count(queryset)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return [pk for pk, _ in rows]
