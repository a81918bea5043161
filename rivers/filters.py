"""Query-string filters of the network's GeoJSON endpoints."""

from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse `min_lon,min_lat,max_lon,max_lat`, refusing anything that is not a lon/lat box."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise ValidationError({"bbox": "格式应为 min_lon,min_lat,max_lon,max_lat / expected four numbers"})
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ValidationError({"bbox": "超出经纬度范围或最小值大于最大值 / out of lon/lat range or min > max"})
    return values  # type: ignore[return-value]


class BboxFilter(BaseFilterBackend):
    """`?bbox=min_lon,min_lat,max_lon,max_lat` keeps the features that intersect the box."""

    def filter_queryset(self, request, queryset, view):
        text = request.query_params.get("bbox")
        if not text:
            return queryset
        return queryset.in_bbox(parse_bbox(text))

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "bbox",
                "required": False,
                "in": "query",
                "description": "min_lon,min_lat,max_lon,max_lat (WGS84)",
                "schema": {"type": "string", "example": "106.5,28.8,106.9,29.2"},
            }
        ]


class DistrictFilter(BaseFilterBackend):
    """`?district=<code>` keeps what lies in that district, or in that city's districts (in_district)."""

    def filter_queryset(self, request, queryset, view):
        code = request.query_params.get("district")
        if not code:
            return queryset
        return queryset.in_district(district_by_code(code))

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "district",
                "required": False,
                "in": "query",
                "description": "区县或市的代码 a district's or city's code: what lies in it or crosses it",
                "schema": {"type": "string", "example": "500110"},
            }
        ]


def district_by_code(code: str):  # noqa: ANN201 - a District
    """Return the district (or city, or town) of `code`; 400 when there is none."""
    from .models import District

    area = District.objects.filter(code=code).first()
    if area is None:
        raise ValidationError({"district": [f"未知的区划代码 {code} / unknown district code"]})
    return area
