"""Patrol planning and records: the year's focus and work points, routes, patrols with their GPS
tracks and coverage, and findings with photos."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

from rivers.categories import Category
from rivers.models import Agency, District, Reach
from rivers.querysets import SpatialQuerySet

from .querysets import PatrolQuerySet, PatrolRouteQuerySet


def valid_geom(name: str, field: str = "geom") -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__isvalid": True}), name=name)


class PatrolRoute(models.Model):
    """A planned patrol route (巡查路线) over reaches."""

    code = models.CharField("代码 code", max_length=40, unique=True)
    name = models.CharField("名称 name", max_length=200)
    district = models.ForeignKey(
        District, models.PROTECT, null=True, blank=True, related_name="patrol_routes", verbose_name="区县 district"
    )
    geom = models.LineStringField("路线 route", srid=4326)

    objects = PatrolRouteQuerySet.as_manager()

    class Meta:
        verbose_name = "巡查路线 patrol route"
        verbose_name_plural = "巡查路线 patrol routes"
        ordering = ["code"]
        constraints = [valid_geom("patrolroute_geom_valid")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class FocusPlan(models.Model):
    """One revision of a district's annual patrol focus (年度巡查重点, seed 002 §三(三)), set by the
    liaison office after the chief river order (总河长令). A change is a new revision: history is kept."""

    district = models.ForeignKey(District, models.PROTECT, related_name="focus_plans", verbose_name="区县 district")
    year = models.PositiveSmallIntegerField("年度 year")
    revision = models.PositiveSmallIntegerField("版本 revision")
    chief_order = models.CharField("依据总河长令 chief river order", max_length=200, blank=True)
    note = models.TextField("说明 note", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "年度巡查重点 annual patrol focus"
        verbose_name_plural = "年度巡查重点 annual patrol focus"
        ordering = ["district", "-year", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "revision"], name="focus_plan_revision_unique")
        ]


class FocusItem(models.Model):
    plan = models.ForeignKey(FocusPlan, models.CASCADE, related_name="items")
    category = models.CharField("重点 focus", max_length=30, choices=Category.choices)
    note = models.CharField("说明 note", max_length=500, blank=True)

    class Meta:
        verbose_name = "巡查重点事项 focus item"
        constraints = [models.UniqueConstraint(fields=["plan", "category"], name="focus_item_unique")]


class WorkPlan(models.Model):
    """One revision of the year's work points (年度工作要点), proposed by the liaison office in Q1
    (seed 002 §二(三): 每年第一季度提出年度工作要点建议)."""

    district = models.ForeignKey(District, models.PROTECT, related_name="work_plans", verbose_name="区县 district")
    year = models.PositiveSmallIntegerField("年度 year")
    revision = models.PositiveSmallIntegerField("版本 revision")
    content = models.TextField("工作要点 work points")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "年度工作要点 work plan"
        verbose_name_plural = "年度工作要点 work plans"
        ordering = ["district", "-year", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "revision"], name="work_plan_revision_unique")
        ]


class PatrolKind(models.TextChoices):
    ROUTINE = "routine", "日常巡查 Routine"
    JOINT = "joint", "联合巡查 Joint"
    SPECIAL = "special", "专项巡查 Special"


class PatrolStatus(models.TextChoices):
    ACTIVE = "active", "巡查中 Under way"
    FINISHED = "finished", "已结束 Finished"


class Patrol(models.Model):
    """A patrol: who walked, when, the GPS track it recorded and the reaches it covered."""

    client_uuid = models.UUIDField("客户端编号 client id", unique=True)
    kind = models.CharField("类型 kind", max_length=10, choices=PatrolKind.choices)
    status = models.CharField("状态 status", max_length=10, choices=PatrolStatus.choices, default=PatrolStatus.ACTIVE)
    district = models.ForeignKey(District, models.PROTECT, related_name="patrols", verbose_name="区县 district")
    route = models.ForeignKey(
        PatrolRoute, models.PROTECT, null=True, blank=True, related_name="patrols", verbose_name="路线 route"
    )
    title = models.CharField("标题 title", max_length=200, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    started_at = models.DateTimeField("开始 started at")
    ended_at = models.DateTimeField("结束 ended at", null=True, blank=True)
    # Built when the patrol finishes (patrols.tracks.patrol_finish) from the points that passed the filter.
    track = models.LineStringField("轨迹 track", srid=4326, null=True, blank=True)
    track_display = models.LineStringField("显示轨迹 simplified track", srid=4326, null=True, blank=True)
    length_m = models.FloatField("里程(米) length (m)", default=0)
    duration_s = models.PositiveIntegerField("时长(秒) duration (s)", default=0)
    is_valid = models.BooleanField("有效巡查 counts as a patrol", default=False)
    coverage_done_at = models.DateTimeField("覆盖计算 coverage computed at", null=True, blank=True)

    objects = PatrolQuerySet.as_manager()

    class Meta:
        verbose_name = "巡查 patrol"
        verbose_name_plural = "巡查 patrols"
        ordering = ["-started_at"]
        constraints = [
            valid_geom("patrol_track_valid", "track"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="patrol_times_ordered",
            ),
        ]
        indexes = [models.Index(fields=["district", "kind", "started_at"], name="patrol_district_kind_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d}"


class PatrolParticipant(models.Model):
    """Who took part, for which agency (a joint patrol needs both sides, seed 002 §三(三))."""

    patrol = models.ForeignKey(Patrol, models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="patrol_participations")
    agency = models.ForeignKey(Agency, models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "巡查人员 participant"
        constraints = [models.UniqueConstraint(fields=["patrol", "user"], name="patrol_participant_unique")]


class TrackBatch(models.Model):
    """One upload of track points from a phone; the phone's batch id makes a retry harmless."""

    patrol = models.ForeignKey(Patrol, models.CASCADE, related_name="batches")
    batch_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)
    point_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patrol", "batch_id"], name="track_batch_unique")]


class TrackPoint(models.Model):
    """A GPS fix as the phone recorded it. Every point is kept; `kept` says whether the track uses it."""

    # No index of its own: track_point_once (patrol, recorded_at) serves every lookup by patrol, and a
    # second index slows the insert of a long track.
    patrol = models.ForeignKey(Patrol, models.CASCADE, related_name="points", db_index=False)
    # No spatial index either: points are only ever read by patrol and time; the searched geometry is
    # the patrol's track. A GiST index here was two thirds of the time of storing a 200,000-point GPX.
    geom = models.PointField(srid=4326, spatial_index=False)
    recorded_at = models.DateTimeField("设备时间 device time")
    accuracy_m = models.FloatField("精度(米) accuracy (m)", null=True, blank=True)
    kept = models.BooleanField("用于轨迹 used in the track", default=True)
    dropped_because = models.CharField(max_length=20, blank=True)  # "time" | "accuracy" | "speed"

    class Meta:
        ordering = ["patrol", "recorded_at"]
        constraints = [
            # The same fix sent twice (a retried or overlapping batch) is one point.
            models.UniqueConstraint(fields=["patrol", "recorded_at"], name="track_point_once"),
            valid_geom("trackpoint_geom_valid"),
        ]


class PatrolCoverage(models.Model):
    """How much of a reach a patrol covered: length of the reach within COVERAGE_DISTANCE_M of the track."""

    patrol = models.ForeignKey(Patrol, models.CASCADE, related_name="coverage")
    reach = models.ForeignKey(Reach, models.CASCADE, related_name="patrol_coverage")
    covered_m = models.FloatField("覆盖长度(米) covered (m)")
    fraction = models.FloatField("覆盖比例 fraction")

    class Meta:
        verbose_name = "巡查覆盖 coverage"
        constraints = [models.UniqueConstraint(fields=["patrol", "reach"], name="patrol_coverage_unique")]


class Finding(models.Model):
    """Something a patrol (or anyone on the bank) found: where, what, when, with photos."""

    client_uuid = models.UUIDField("客户端编号 client id", unique=True)
    request_digest = models.CharField(max_length=64, editable=False)
    patrol = models.ForeignKey(
        Patrol, models.PROTECT, null=True, blank=True, related_name="findings", verbose_name="巡查 patrol"
    )
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="findings")
    agency = models.ForeignKey(Agency, models.PROTECT, related_name="findings", verbose_name="单位 agency")
    category = models.CharField("类别 category", max_length=30, choices=Category.choices)
    description = models.TextField("描述 description")
    # The phone's position; when it gave none, a photo's EXIF position fills it in.
    geom = models.PointField("位置 location", srid=4326, null=True, blank=True)
    found_at = models.DateTimeField("发现时间 found at")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SpatialQuerySet.as_manager()

    class Meta:
        verbose_name = "巡查发现 finding"
        verbose_name_plural = "巡查发现 findings"
        ordering = ["-found_at"]
        constraints = [valid_geom("finding_geom_valid")]


class PhotoStatus(models.TextChoices):
    PENDING = "pending", "待处理 Pending"
    DONE = "done", "已处理 Processed"
    FAILED = "failed", "处理失败 Failed"


class Photo(models.Model):
    """A photo of a finding. The original is evidence: stored untouched, with its SHA-256."""

    finding = models.ForeignKey(Finding, models.PROTECT, related_name="photos")
    client_id = models.UUIDField("客户端编号 client id", unique=True)
    original = models.FileField("原图 original", upload_to="photos/original/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # Made by patrols.photos.photo_process (a Celery task): upright, metadata stripped.
    display = models.ImageField("显示图 display copy", upload_to="photos/display/%Y/%m/", blank=True)
    thumbnail = models.ImageField("缩略图 thumbnail", upload_to="photos/thumb/%Y/%m/", blank=True)
    taken_at = models.DateTimeField("拍摄时间 (EXIF) taken at", null=True, blank=True)
    geom = models.PointField("拍摄位置 (EXIF) position", srid=4326, null=True, blank=True)
    status = models.CharField(max_length=10, choices=PhotoStatus.choices, default=PhotoStatus.PENDING)
    # Processing runs started; a photo that kills its worker every time is given up after PHOTO_MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "照片 photo"
        verbose_name_plural = "照片 photos"
        ordering = ["uploaded_at"]
        indexes = [models.Index(fields=["status", "uploaded_at"], name="photo_status_time")]
        constraints = [valid_geom("photo_geom_valid")]
