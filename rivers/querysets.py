"""Set-level reads over the river network; every spatial filter lives here."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.gis.db import models
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSGeometry, Point, Polygon
from django.db.models import BooleanField, FloatField, Func, Q, Subquery, Value

Bbox = Sequence[float]  # (min_lon, min_lat, max_lon, max_lat)


class IndexedDistance(Func):
    """`a <-> b`: the distance the GiST index can order by (in degrees, so only for ranking)."""

    arg_joiner = " <-> "
    template = "(%(expressions)s)"
    output_field = FloatField()


class MetresBetween(Func):
    """Distance in metres on the spheroid between two 4326 geometries (ST_Distance on geography)."""

    function = "ST_Distance"
    arg_joiner = "::geography, "
    template = "%(function)s(%(expressions)s::geography)"
    output_field = FloatField()


class WithinMetres(Func):
    """ST_DWithin on geography: true where two 4326 geometries are within `metres` on the spheroid."""

    output_field = BooleanField()

    def __init__(self, geom, other, metres: float):
        super().__init__(geom, other, Value(float(metres)))

    def as_sql(self, compiler, connection, **extra_context):
        parts = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (geom_sql, geom_params), (other_sql, other_params), (metres_sql, metres_params) = parts
        sql = f"ST_DWithin(({geom_sql})::geography, ({other_sql})::geography, {metres_sql})"
        return sql, (*geom_params, *other_params, *metres_params)


def geometry_value(geom: GEOSGeometry) -> Value:
    return Value(geom, output_field=GeometryField(srid=geom.srid or 4326))


class SpatialQuerySet(models.QuerySet):
    def in_bbox(self, bbox: Bbox) -> SpatialQuerySet:
        """Return the rows whose geometry intersects the lon/lat box (min_lon, min_lat, max_lon, max_lat)."""
        box = Polygon.from_bbox(tuple(bbox))
        box.srid = 4326
        return self.filter(geom__intersects=box)

    def within_metres(self, geom: GEOSGeometry, *, metres: float) -> SpatialQuerySet:
        """Return the rows within `metres` of `geom`, measured on the ground."""
        return self.filter(WithinMetres("geom", geometry_value(geom), metres))

    def nearest(self, point: Point, *, within_m: float, candidates: int = 8) -> SpatialQuerySet:
        """Return the rows within `within_m` metres of `point`, nearest on the ground first.

        The index orders candidates by `<->` (degrees, so east-west and north-south distances are not
        comparable away from the equator); the few it yields are re-ranked by true distance in metres,
        annotated as `distance_m`.
        """
        point_value = geometry_value(point)
        # The candidates come from this queryset, filters included: the nearest city must not be
        # crowded out of the candidates by nearer districts or towns.
        by_index = self.order_by(IndexedDistance("geom", point_value)).values("pk")[:candidates]
        return (
            self.model._default_manager.filter(pk__in=Subquery(by_index))
            .annotate(distance_m=MetresBetween("geom", point_value))
            .filter(distance_m__lte=within_m)
            .order_by("distance_m", "pk")
        )


class DistrictQuerySet(SpatialQuerySet):
    def districts(self) -> DistrictQuerySet:
        return self.filter(level="district")

    def cities(self) -> DistrictQuerySet:
        return self.filter(level="city")

    def containing(self, point: Point) -> DistrictQuerySet:
        """Return the areas that contain `point` (a point on a border belongs to both sides)."""
        return self.filter(geom__intersects=point)


class AgencyQuerySet(models.QuerySet):
    def procuratorates(self) -> AgencyQuerySet:
        return self.filter(kind="procuratorate")

    def river_offices(self) -> AgencyQuerySet:
        return self.filter(kind="river_office")

    def serving(self, district) -> AgencyQuerySet:  # noqa: ANN001 - a District
        return self.filter(district=district)

    def of_user(self, user) -> AgencyQuerySet:  # noqa: ANN001 - a user
        """Return the agencies whose work `user` sees: their own, and for a liaison office the
        procuratorate and river office it links (seed 002 §二: the liaison office sits between them)."""
        if not user.is_authenticated:
            return self.none()
        own = Q(memberships__user=user)
        linked = Q(
            kind__in=["procuratorate", "river_office"],
            district__agencies__kind="liaison_office",
            district__agencies__memberships__user=user,
        )
        return self.filter(pk__in=self.model.objects.filter(own | linked).values("pk"))

    def municipal_procuratorates_of(self, user) -> AgencyQuerySet:  # noqa: ANN001 - a user
        """Return the city-level procuratorates `user` works in (市检察院)."""
        return self.filter(kind="procuratorate", district__level="city", memberships__user=user).distinct()


class AreaQuerySet(SpatialQuerySet):
    """Rows that lie in districts: reaches, water bodies, routes."""

    # The lookups, relative to the row, naming the districts it lies in (set by each queryset).
    district_lookups: tuple[str, ...] = ("districts",)

    def in_district(self, area) -> AreaQuerySet:  # noqa: ANN001 - a District
        """Return the rows lying in `area` (or, for a city, in its districts) or crossing its outline.

        Cross-district reaches are in each district holding enough of them (rivers.crossing); one that
        only crosses the outline is kept too, so that a phone caching its district misses nothing on it.
        """
        from .models import District

        held = Q()
        for lookup in self.district_lookups:
            held |= Q(**{lookup: area}) | Q(**{f"{lookup}__parent": area})
        outline = Subquery(District.objects.filter(pk=area.pk).values("geom")[:1])
        # Two subqueries, each with its own index (the districts' link, the GiST on geom); one OR over
        # the joined rows would scan every row.
        rows = self.model._default_manager
        return self.filter(
            Q(pk__in=rows.filter(held).values("pk")) | Q(pk__in=rows.filter(geom__intersects=outline).values("pk"))
        )


class ReachQuerySet(AreaQuerySet):
    pass


class WaterBodyQuerySet(AreaQuerySet):
    pass
