"""Patrol planning and records. Routes first: they are a map layer loaded with the network."""

from django.contrib.gis.db import models
from django.db.models import Q

from rivers.models import District
from rivers.querysets import SpatialQuerySet


class PatrolRoute(models.Model):
    """A planned patrol route (巡查路线) over reaches."""

    code = models.CharField("代码 code", max_length=40, unique=True)
    name = models.CharField("名称 name", max_length=200)
    district = models.ForeignKey(
        District, models.PROTECT, null=True, blank=True, related_name="patrol_routes", verbose_name="区县 district"
    )
    geom = models.LineStringField("路线 route", srid=4326)

    objects = SpatialQuerySet.as_manager()

    class Meta:
        verbose_name = "巡查路线 patrol route"
        verbose_name_plural = "巡查路线 patrol routes"
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(geom__isvalid=True), name="patrolroute_geom_valid")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
