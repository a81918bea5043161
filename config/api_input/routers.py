"""The API's router: a row looked up by primary key takes digits only, anything else is 404."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter


class NumericIdRouter(DefaultRouter):
    """DefaultRouter whose `{pk}` matches digits only: `/suggestions/abc/reply/` is 404, not a 500.

    A viewset looked up by another field (a code) or declaring its own `lookup_value_regex` keeps it.
    """

    NUMERIC_ID = "[0-9]+"

    def get_lookup_regex(self, viewset, lookup_prefix=""):  # noqa: ANN001, ANN201
        by_id = getattr(viewset, "lookup_field", "pk") in ("pk", "id")
        if not by_id or hasattr(viewset, "lookup_value_regex"):
            return super().get_lookup_regex(viewset, lookup_prefix)
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or viewset.lookup_field
        return self._base_pattern.format(
            lookup_prefix=lookup_prefix, lookup_url_kwarg=lookup_url_kwarg, lookup_value=self.NUMERIC_ID
        )
