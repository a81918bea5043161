"""The governed river network: districts, agencies, rivers, reaches, water bodies and their chiefs."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Q

from .querysets import AgencyQuerySet, DistrictQuerySet, ReachQuerySet, WaterBodyQuerySet


class DistrictLevel(models.TextChoices):
    CITY = "city", "市 City"
    DISTRICT = "district", "区县 District"
    TOWN = "town", "乡镇街道 Town"


class ChiefLevel(models.TextChoices):
    CITY = "city", "市级 City"
    DISTRICT = "district", "区级 District"
    TOWN = "town", "镇级 Town"
    VILLAGE = "village", "村级 Village"


def valid_geom(model_name: str) -> models.CheckConstraint:
    """Return the constraint that keeps invalid geometries out of a table."""
    return models.CheckConstraint(condition=Q(geom__isvalid=True), name=f"{model_name}_geom_valid")


class District(models.Model):
    """An administrative area (行政区划): a city, a district or a town."""

    code = models.CharField("代码 code", max_length=20, unique=True, help_text="GB/T 2260, e.g. 500110")
    name = models.CharField("名称 name", max_length=100)
    level = models.CharField("级别 level", max_length=10, choices=DistrictLevel.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级 parent"
    )
    geom = models.MultiPolygonField("边界 boundary", srid=4326)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        verbose_name = "行政区划 district"
        verbose_name_plural = "行政区划 districts"
        ordering = ["code"]
        constraints = [valid_geom("district")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AgencyKind(models.TextChoices):
    PROCURATORATE = "procuratorate", "检察院 Procuratorate"
    RIVER_OFFICE = "river_office", "河长办 River chief office"
    LIAISON_OFFICE = "liaison_office", "派驻检察联络室 Liaison office"
    RESPONSIBLE_UNIT = "responsible_unit", "河长制责任单位 Responsible unit"
    POLICE = "police", "公安 Police"
    ECOLOGY_BUREAU = "ecology_bureau", "生态环境局 Ecology bureau"


class Agency(models.Model):
    """An organisation taking part in the mechanism; it serves the area of its district."""

    code = models.CharField("代码 code", max_length=40, unique=True)
    name = models.CharField("名称 name", max_length=200)
    kind = models.CharField("类型 kind", max_length=20, choices=AgencyKind.choices)
    district = models.ForeignKey(District, models.PROTECT, related_name="agencies", verbose_name="辖区 district")

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = "单位 agency"
        verbose_name_plural = "单位 agencies"
        ordering = ["code"]
        indexes = [models.Index(fields=["district", "kind"], name="agency_district_kind")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    PATROL = "patrol", "巡查队员 Patrol member"
    CHIEF = "chief", "河长 River chief"
    RIVER_OFFICE = "river_office", "河长办工作人员 River-office staff"
    PROSECUTOR = "prosecutor", "检察官 Prosecutor"
    LIAISON = "liaison", "联络员 Liaison officer"
    GIS_ADMIN = "gis_admin", "GIS管理员 GIS administrator"


class Membership(models.Model):
    """A user's role in one agency; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships", verbose_name="用户 user"
    )
    agency = models.ForeignKey(Agency, models.CASCADE, related_name="memberships", verbose_name="单位 agency")
    role = models.CharField("角色 role", max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = "成员 membership"
        verbose_name_plural = "成员 memberships"
        constraints = [models.UniqueConstraint(fields=["user", "agency", "role"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.agency} · {self.get_role_display()}"


class River(models.Model):
    """A river as a whole; the governed units are its reaches."""

    code = models.CharField("代码 code", max_length=40, unique=True)
    name = models.CharField("名称 name", max_length=100)

    class Meta:
        verbose_name = "河流 river"
        verbose_name_plural = "河流 rivers"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Reach(models.Model):
    """A reach (河段) with its own chief; `length_m`, `districts` and `is_cross_district` are derived."""

    river = models.ForeignKey(River, models.PROTECT, related_name="reaches", verbose_name="河流 river")
    code = models.CharField("代码 code", max_length=40, unique=True)
    name = models.CharField("名称 name", max_length=200)
    level = models.CharField("河长级别 chief level", max_length=10, choices=ChiefLevel.choices)
    geom = models.MultiLineStringField("河道 course", srid=4326)
    # Derived by rivers.crossing.network_recompute whenever this reach or a district changes.
    length_m = models.FloatField("长度(米) length (m)", default=0, editable=False)
    districts = models.ManyToManyField(
        District, through="ReachDistrict", related_name="reaches", verbose_name="所在区县 districts"
    )
    is_cross_district = models.BooleanField("跨区划 cross-district", default=False, editable=False)

    objects = ReachQuerySet.as_manager()

    class Meta:
        verbose_name = "河段 reach"
        verbose_name_plural = "河段 reaches"
        ordering = ["code"]
        constraints = [valid_geom("reach")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ReachDistrict(models.Model):
    """How much of a reach a district holds, by the rule of rivers.crossing (boundary zone counted)."""

    reach = models.ForeignKey(Reach, models.CASCADE, related_name="district_shares")
    district = models.ForeignKey(District, models.CASCADE, related_name="reach_shares")
    length_m = models.FloatField("所占长度(米) length held (m)")

    class Meta:
        verbose_name = "河段所在区县 reach share"
        constraints = [models.UniqueConstraint(fields=["reach", "district"], name="reach_district_unique")]


class WaterBodyKind(models.TextChoices):
    RESERVOIR = "reservoir", "水库 Reservoir"
    LAKE = "lake", "湖泊 Lake"
    POND = "pond", "山坪塘 Pond"


class WaterBody(models.Model):
    """A reservoir or lake; routed like a reach, its shoreline standing for the course."""

    code = models.CharField("代码 code", max_length=40, unique=True)
    name = models.CharField("名称 name", max_length=200)
    kind = models.CharField("类型 kind", max_length=10, choices=WaterBodyKind.choices)
    level = models.CharField("河长级别 chief level", max_length=10, choices=ChiefLevel.choices, blank=True, default="")
    geom = models.MultiPolygonField("水面 outline", srid=4326)
    area_m2 = models.FloatField("面积(平方米) area (m²)", default=0, editable=False)
    districts = models.ManyToManyField(
        District, through="WaterBodyDistrict", related_name="water_bodies", verbose_name="所在区县 districts"
    )
    is_cross_district = models.BooleanField("跨区划 cross-district", default=False, editable=False)

    objects = WaterBodyQuerySet.as_manager()

    class Meta:
        verbose_name = "水库湖泊 water body"
        verbose_name_plural = "水库湖泊 water bodies"
        ordering = ["code"]
        constraints = [valid_geom("waterbody")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class WaterBodyDistrict(models.Model):
    """How much of a water body's shoreline a district holds (same rule as reaches)."""

    water_body = models.ForeignKey(WaterBody, models.CASCADE, related_name="district_shares")
    district = models.ForeignKey(District, models.CASCADE, related_name="water_body_shares")
    length_m = models.FloatField("所占岸线(米) shoreline held (m)")

    class Meta:
        verbose_name = "水体所在区县 water-body share"
        constraints = [models.UniqueConstraint(fields=["water_body", "district"], name="waterbody_district_unique")]


class ChiefRole(models.TextChoices):
    CHIEF = "chief", "河长 River chief"
    ECO_PROSECUTOR = "eco_prosecutor", "生态检察官 Eco-prosecutor"


class ChiefAssignment(models.Model):
    """Who is chief or eco-prosecutor of a reach or water body, from when to when.

    A change of chief is a new row (rivers.chiefs.chief_assign closes the old one): history is kept.
    """

    reach = models.ForeignKey(
        Reach, models.CASCADE, null=True, blank=True, related_name="chiefs", verbose_name="河段 reach"
    )
    water_body = models.ForeignKey(
        WaterBody, models.CASCADE, null=True, blank=True, related_name="chiefs", verbose_name="水体 water body"
    )
    person_name = models.CharField("姓名 name", max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name="账号 user")
    role = models.CharField("职责 role", max_length=20, choices=ChiefRole.choices, default=ChiefRole.CHIEF)
    level = models.CharField("级别 level", max_length=10, choices=ChiefLevel.choices)
    start_date = models.DateField("起始 from")
    end_date = models.DateField("终止 until", null=True, blank=True)

    class Meta:
        verbose_name = "河长任命 chief assignment"
        verbose_name_plural = "河长任命 chief assignments"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reach__isnull=False, water_body__isnull=True)
                | Q(reach__isnull=True, water_body__isnull=False),
                name="chief_reach_xor_water_body",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="chief_dates_ordered",
            ),
            # One serving person per role on a reach (eco-prosecutors included); the past is kept.
            models.UniqueConstraint(
                fields=["reach", "role"], condition=Q(end_date__isnull=True), name="chief_one_current_per_reach"
            ),
            models.UniqueConstraint(
                fields=["water_body", "role"],
                condition=Q(end_date__isnull=True),
                name="chief_one_current_per_water_body",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} · {self.get_role_display()}"

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "终止日期早于起始日期 / ends before it starts"})

    def validate_constraints(self, exclude=None) -> None:
        # A new assignment replaces the serving one (rivers.chiefs.chief_assign closes it as it saves),
        # so "one serving chief" cannot be judged before saving; the database still enforces it.
        if self._state.adding:
            exclude = {*(exclude or ()), "end_date"}
        super().validate_constraints(exclude=exclude)


class AccessAction(models.TextChoices):
    ADD = "add", "新增 added"
    CHANGE = "change", "修改 changed"
    DELETE = "delete", "删除 deleted"


class AccessChange(models.Model):
    """One change to who sees what (rivers.access): an agency's kind or district, a district's level or
    parent, a membership, a user's rights. Append-only: the database refuses UPDATE and DELETE."""

    at = models.DateTimeField("时间 when", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+", verbose_name="操作人 who"
    )
    action = models.CharField("操作 action", max_length=10, choices=AccessAction.choices)
    subject = models.CharField("对象类型 model", max_length=100, help_text="e.g. rivers.agency")
    object_id = models.CharField("对象 id", max_length=40)
    object_repr = models.CharField("对象 object", max_length=200)
    before = models.JSONField("修改前 before", default=dict, blank=True)
    after = models.JSONField("修改后 after", default=dict, blank=True)

    class Meta:
        verbose_name = "权限变更记录 access change"
        verbose_name_plural = "权限变更记录 access changes"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["subject", "object_id"], name="accesschange_object")]
        permissions = [
            (
                "manage_access",
                "系统管理员：管理单位类型与辖区、成员和账号 System administrator: agencies' kind and district, "
                "memberships, accounts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()} {self.object_repr}"
