"""Query-string filters of the clue list and map."""

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from .models import Category, Source, Status

PARAMETERS = {
    "status": "状态 status code (comma-separated)",
    "category": "类别 category code (comma-separated)",
    "source": "来源 source code (comma-separated)",
    "district": "区县代码 district code",
    "reach": "河段代码 reach code",
    "q": "编号或描述包含 code or description contains",
}


def choices_param(request, name: str, allowed: list[str]) -> list[str] | None:
    text = request.query_params.get(name)
    if not text:
        return None
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError({name: f"未知取值 / unknown value(s): {', '.join(unknown)}"})
    return values


class ClueFilter(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        for name, choices in (("status", Status), ("category", Category), ("source", Source)):
            values = choices_param(request, name, choices.values)
            if values:
                queryset = queryset.filter(**{f"{name}__in": values})
        if district := request.query_params.get("district"):
            queryset = queryset.filter(district__code=district)
        if reach := request.query_params.get("reach"):
            queryset = queryset.filter(Q(reach__code=reach) | Q(water_body__code=reach))
        if text := request.query_params.get("q"):
            queryset = queryset.filter(Q(code__icontains=text) | Q(description__icontains=text))
        return queryset

    def get_schema_operation_parameters(self, view):
        return [
            {"name": name, "required": False, "in": "query", "description": text, "schema": {"type": "string"}}
            for name, text in PARAMETERS.items()
        ]
