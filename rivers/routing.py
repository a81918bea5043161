"""Who receives a clue found at a point (DESIGN §4, seed 002 §三(二)).

1. Snap the point to the nearest reach or water body within SNAP_TOLERANCE_M, nearest in metres.
2. Its district is the district-level area containing the point.
3. A cross-district reach goes to the municipal procuratorate (the procuratorate of the districts'
   parent city), copied to the procuratorate of every district the reach lies in — seed 002:
   "涉跨区划河流管辖的公益诉讼案件线索，应及时将线索和有关材料报送市检察院".
4. A point in no district goes to the municipal procuratorate of the city containing it, else of
   the nearest city.
5. Anything else goes to the procuratorate of its district.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point

from .models import Agency, District, DistrictLevel, Reach, WaterBody
from .querysets import MetresBetween, geometry_value


class RoutingError(Exception):
    """No agency can receive a clue at this point (the network has no city or no procuratorate)."""


class Reason:
    DISTRICT = "district"
    CROSS_DISTRICT = "cross_district"
    OUTSIDE_DISTRICTS = "outside_districts"


@dataclass(frozen=True)
class Routing:
    reason: str
    procuratorate: Agency
    district: District | None = None
    reach: Reach | WaterBody | None = None
    reach_distance_m: float | None = None
    reach_districts: list[District] = field(default_factory=list)
    copies: list[Agency] = field(default_factory=list)


def snap(point: Point) -> tuple[Reach | WaterBody | None, float | None]:
    """Return the reach or water body nearest to `point` within the snap tolerance, and its distance."""
    tolerance_m = settings.SNAP_TOLERANCE_M
    found = [
        candidate
        for queryset in (Reach.objects.all(), WaterBody.objects.all())
        for candidate in queryset.nearest(point, within_m=tolerance_m)[:1]
    ]
    if not found:
        return None, None
    nearest = min(found, key=lambda item: item.distance_m)
    return nearest, nearest.distance_m


def city_of(district: District) -> District | None:
    """Return the city-level area above `district` (itself if it is a city).

    The parent chain decides; data without parents falls back to the city that contains the district.
    """
    area: District | None = district
    while area is not None and area.level != DistrictLevel.CITY:
        area = area.parent
    if area is None:
        area = District.objects.cities().containing(district.geom.point_on_surface).order_by("code").first()
    return area


def procuratorate_of(area: District) -> Agency:
    agency = Agency.objects.procuratorates().serving(area).order_by("code").first()
    if agency is None:
        raise RoutingError(f"没有检察院负责 {area} / no procuratorate serves {area}")
    return agency


def route(point: Point) -> Routing:
    """Return who receives a clue at `point` (lon/lat, SRID 4326), and why."""
    feature, distance_m = snap(point)
    district = District.objects.districts().containing(point).order_by("code").first()
    feature_districts = list(feature.districts.order_by("code")) if feature is not None else []

    if feature is not None and feature.is_cross_district:
        # The city above the district holding the point, else above the district holding most.
        anchor = district if district in feature_districts else _largest_share(feature)
        city = city_of(anchor) if anchor is not None else None
        if city is None:
            raise RoutingError(f"{anchor} 没有上级市 / has no parent city")
        return Routing(
            reason=Reason.CROSS_DISTRICT,
            procuratorate=procuratorate_of(city),
            district=district,
            reach=feature,
            reach_distance_m=distance_m,
            reach_districts=feature_districts,
            copies=[procuratorate_of(d) for d in feature_districts],
        )

    if district is None:
        city = District.objects.cities().containing(point).order_by("code").first()
        if city is None:
            city = District.objects.cities().nearest(point, within_m=float("inf")).first()
        if city is None:
            raise RoutingError("没有任何市级行政区 / the network has no city")
        reason, receiver = Reason.OUTSIDE_DISTRICTS, procuratorate_of(city)
    else:
        reason, receiver = Reason.DISTRICT, procuratorate_of(district)
    return Routing(
        reason=reason,
        procuratorate=receiver,
        district=district,
        reach=feature,
        reach_distance_m=distance_m,
        reach_districts=feature_districts,
    )


def _largest_share(feature: Reach | WaterBody) -> District | None:
    share = feature.district_shares.select_related("district").order_by("-length_m").first()
    return share.district if share is not None else None


class WarningCode:
    NEAR_BOUNDARY = "near_boundary"
    NO_REACH = "no_reach"


def routing_warnings(point: Point, routing: Routing) -> list[dict]:
    """Return what the person sending a clue from `point` should check before sending it.

    `near_boundary`: the point lies within BOUNDARY_BUFFER_M (the buffer that makes a boundary river
    cross-district, rivers.crossing) of a district other than the one containing it: a few metres of
    GPS error would route it elsewhere. `no_reach`: no reach or water body within SNAP_TOLERANCE_M.
    """
    warnings = []
    buffer_m = settings.BOUNDARY_BUFFER_M
    # A box around the point lets the GiST index pick the candidates before distances on the ground
    # are measured: its half-width in degrees is at least the buffer wherever a degree of longitude is
    # 40 km or more (below 69°, as rivers.crossing assumes).
    margin = buffer_m / 40_000
    around = (point.x - margin, point.y - margin, point.x + margin, point.y + margin)
    near = District.objects.districts().in_bbox(around).within_metres(point, metres=buffer_m)
    if routing.district is not None:
        near = near.exclude(pk=routing.district.pk)
    near = near.annotate(distance_m=MetresBetween("geom", geometry_value(point))).order_by("distance_m", "code")
    for other in near:
        warnings.append(
            {
                "code": WarningCode.NEAR_BOUNDARY,
                "message": f"距{other.name}边界不足 {buffer_m:g} 米，请核实所在区县 / "
                f"within {buffer_m:g} m of the boundary of {other.name}: check the district",
                "district": {"code": other.code, "name": other.name},
                "buffer_m": buffer_m,
                "distance_m": round(other.distance_m, 1),
            }
        )
    if routing.reach is None:
        tolerance_m = settings.SNAP_TOLERANCE_M
        warnings.append(
            {
                "code": WarningCode.NO_REACH,
                "message": f"{tolerance_m:g} 米内没有河段或水体 / no reach or water body within {tolerance_m:g} m",
                "snap_tolerance_m": tolerance_m,
            }
        )
    return warnings
