"""Query-string filters of the clue list, the map's tiles and their counts (one set of rules for all)."""

from __future__ import annotations

import datetime

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from patrols.plans import local_today

from .models import Category, Source, Status

PARAMETERS = {
    "status": "状态 status code (comma-separated)",
    "category": "类别 category code (comma-separated)",
    "source": "来源 source code (comma-separated)",
    "district": "区县代码 district code (comma-separated)",
    "reach": "河段代码 reach code",
    "q": "编号或描述包含 code or description contains",
    "from": "登记日期起 registered on or after (YYYY-MM-DD, local day)",
    "to": "登记日期止 registered on or before (YYYY-MM-DD, local day)",
    "overdue": "true: 有逾期未办的期限 a deadline is past and not met (first answer, feedback, suggestion reply)",
    "mine": "true: 本人登记或本单位承办 registered by me or held by one of my agencies",
    "ordering": "排序 one of ORDERINGS, '-' for descending (default -created_at)",
}

# What the list may be sorted by: the parameter's word → the columns (the primary key breaks ties, so
# that paging through a sorted list neither repeats nor skips a clue).
ORDERINGS = {
    "created_at": ["created_at", "pk"],
    "code": ["code"],
    "status": ["status", "created_at", "pk"],
    "category": ["category", "created_at", "pk"],
    "source": ["source", "created_at", "pk"],
    "district": ["district__code", "created_at", "pk"],
}
TRUE = ("true", "1", "yes")


def choices_param(request, name: str, allowed: list[str]) -> list[str] | None:
    text = request.query_params.get(name)
    if not text:
        return None
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError({name: f"未知取值 / unknown value(s): {', '.join(unknown)}"})
    return values


def date_param(request, name: str) -> datetime.date | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ValidationError({name: "日期格式应为 YYYY-MM-DD / expected a date, YYYY-MM-DD"}) from None


def flag_param(request, name: str) -> bool:
    return (request.query_params.get(name) or "").lower() in TRUE


def ordering_param(request) -> list[str] | None:
    text = request.query_params.get("ordering")
    if not text:
        return None
    descending = text.startswith("-")
    columns = ORDERINGS.get(text.removeprefix("-"))
    if columns is None:
        choices = ", ".join(ORDERINGS)
        raise ValidationError({"ordering": f"未知排序 / unknown ordering; one of {choices} (- for descending)"})
    return [f"-{column}" if descending else column for column in columns]


def clues_filter(request, queryset):  # noqa: ANN001, ANN201 - a DRF request and a ClueQuerySet
    """Apply the query string's filters (PARAMETERS but bbox and ordering) to `queryset`."""
    for name, choices in (("status", Status), ("category", Category), ("source", Source)):
        values = choices_param(request, name, choices.values)
        if values:
            queryset = queryset.filter(**{f"{name}__in": values})
    if district := request.query_params.get("district"):
        queryset = queryset.filter(district__code__in=[v.strip() for v in district.split(",") if v.strip()])
    if reach := request.query_params.get("reach"):
        queryset = queryset.filter(Q(reach__code=reach) | Q(water_body__code=reach))
    if text := request.query_params.get("q"):
        queryset = queryset.filter(Q(code__icontains=text) | Q(description__icontains=text))
    start, end = date_param(request, "from"), date_param(request, "to")
    if start and end and start > end:
        raise ValidationError({"to": "结束日期早于开始日期 / `to` is before `from`"})
    queryset = queryset.registered_between(start, end)
    if flag_param(request, "overdue"):
        queryset = queryset.overdue(local_today())
    if flag_param(request, "mine"):
        queryset = queryset.mine(request.user)
    return queryset


class ClueFilter(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        queryset = clues_filter(request, queryset)
        if ordering := ordering_param(request):
            queryset = queryset.order_by(*ordering)
        return queryset

    def get_schema_operation_parameters(self, view):
        return [
            {"name": name, "required": False, "in": "query", "description": text, "schema": {"type": "string"}}
            for name, text in PARAMETERS.items()
        ]
