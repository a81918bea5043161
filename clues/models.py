"""Clues (线索) for public-interest litigation, their transfers, suggestions and history."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q

from rivers.categories import Category
from rivers.models import Agency, District, Reach, WaterBody

from .querysets import ClueQuerySet


class Source(models.TextChoices):
    """Where a clue came from (seed 004 §二(二): 12345 hotline and petitions among them)."""

    PATROL = "patrol", "巡查发现 Patrol finding"
    RIVER_OFFICE = "river_office", "河长办 River office"
    PROCURATORATE = "procuratorate", "检察院 Procuratorate"
    HOTLINE = "hotline", "12345热线 12345 hotline"
    PETITION = "petition", "信访 Petition"
    MEDIA = "media", "媒体 Media"
    OTHER = "other", "其他 Other"


class Status(models.TextChoices):
    """The states of DESIGN §4's workflow; clues.workflow says which step leads where."""

    REGISTERED = "registered", "登记 Registered"
    TRANSFERRED = "transferred", "已移送 Transferred"
    ACCEPTED = "accepted", "已受理 Accepted"
    INVESTIGATING = "investigating", "调查核实 Investigating"
    CASE_FILED = "case_filed", "立案 Case filed"
    NOT_FILED = "not_filed", "不立案 Not filed"
    SUGGESTION_ISSUED = "suggestion_issued", "诉前检察建议 Suggestion issued"
    RECTIFIED = "rectified", "已整改 Rectified"
    LITIGATION = "litigation", "提起诉讼 Litigation"
    CLOSED = "closed", "办结 Closed"
    FEEDBACK_GIVEN = "feedback_given", "已反馈 Feedback given"
    MERGED = "merged", "已合并 Merged"


class RoutingReason(models.TextChoices):
    DISTRICT = "district", "属地 District"
    CROSS_DISTRICT = "cross_district", "跨区划 Cross-district"
    OUTSIDE_DISTRICTS = "outside_districts", "区外 Outside districts"


class Clue(models.Model):
    """A clue (线索): where, what, who holds it now, and where routing sends it."""

    code = models.CharField("编号 code", max_length=40, unique=True)
    client_uuid = models.UUIDField("客户端编号 client id", unique=True)
    # The request body of the registration, hashed: the same client_uuid with another body is refused.
    request_digest = models.CharField(max_length=64, editable=False)
    source = models.CharField("来源 source", max_length=20, choices=Source.choices)
    category = models.CharField("类别 category", max_length=30, choices=Category.choices)
    description = models.TextField("描述 description")
    geom = models.PointField("位置 location", srid=4326)
    status = models.CharField("状态 status", max_length=20, choices=Status.choices, default=Status.REGISTERED)
    confidential = models.BooleanField("涉密 confidential", default=False)

    # Where it lies, as routing found it at registration (kept even if the network changes later).
    reach = models.ForeignKey(
        Reach, models.PROTECT, null=True, blank=True, related_name="clues", verbose_name="河段 reach"
    )
    water_body = models.ForeignKey(
        WaterBody, models.PROTECT, null=True, blank=True, related_name="clues", verbose_name="水体 water body"
    )
    snap_distance_m = models.FloatField("距河段(米) distance to reach (m)", null=True, blank=True)
    district = models.ForeignKey(
        District, models.PROTECT, null=True, blank=True, related_name="clues", verbose_name="区县 district"
    )
    city = models.ForeignKey(
        District, models.PROTECT, null=True, blank=True, related_name="city_clues", verbose_name="市 city"
    )
    routing_reason = models.CharField("移送依据 routing reason", max_length=20, choices=RoutingReason.choices)
    routed_to = models.ForeignKey(
        Agency, models.PROTECT, related_name="routed_clues", verbose_name="应移送至 routed to"
    )
    routing_copies = models.ManyToManyField(
        Agency, blank=True, related_name="routed_copy_clues", verbose_name="应抄送 routing copies"
    )

    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="registered_clues", verbose_name="登记人 registered by"
    )
    registering_agency = models.ForeignKey(
        Agency, models.PROTECT, related_name="registered_clues", verbose_name="登记单位 registering agency"
    )
    holder = models.ForeignKey(Agency, models.PROTECT, related_name="held_clues", verbose_name="承办单位 holder")
    # A clue made from a patrol finding keeps the link, and with it the finding's photos (not copies).
    finding = models.OneToOneField(
        "patrols.Finding", models.PROTECT, null=True, blank=True, related_name="clue", verbose_name="巡查发现 finding"
    )
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="duplicates", verbose_name="合并至 merged into"
    )

    # Outcomes (seed 003 §三: filing, prosecution, judgement are the case information to share).
    case_number = models.CharField("案号 case number", max_length=100, blank=True)
    outcome_note = models.TextField("处理结果 outcome", blank=True)
    judgement = models.TextField("裁判结果 judgement", blank=True)
    restoration_done_on = models.DateField("生态修复完成 restoration done", null=True, blank=True)

    created_at = models.DateTimeField("登记时间 registered at", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间 updated at", auto_now=True)
    closed_at = models.DateTimeField("办结时间 closed at", null=True, blank=True)

    # The anchor of the clue's history (clues.history): how many events it has, and a keyed signature
    # of that count and the last event's hash. Written only by clues.history.event_record, with each
    # event, under this row's lock; verify_history finds a removed tail or an emptied history by it.
    history_count = models.PositiveIntegerField("记录数 events", default=0, editable=False)
    history_anchor = models.CharField("记录签名 history anchor", max_length=64, blank=True, editable=False)

    objects = ClueQuerySet.as_manager()

    class Meta:
        verbose_name = "线索 clue"
        verbose_name_plural = "线索 clues"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="clue_geom_valid"),
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="clue_not_merged_into_itself"),
        ]
        indexes = [
            # The duplicate search and the figures filter on these.
            models.Index(fields=["reach", "category", "created_at"], name="clue_reach_category_time"),
            models.Index(fields=["status"], name="clue_status"),
            # The review map's list, newest first: the page's 20 rows read in index order, not sorted.
            models.Index(fields=["created_at"], name="clue_created_at"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def feature(self) -> Reach | WaterBody | None:
        return self.reach or self.water_body


class ClueCounter(models.Model):
    """The last sequence number given in a code prefix and year (500110-2026-0042)."""

    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="clue_counter_unique")]


class TransferReason(models.TextChoices):
    DISTRICT = "district", "属地 District"
    CROSS_DISTRICT = "cross_district", "跨区划报送市检察院 Cross-district"
    OUTSIDE_DISTRICTS = "outside_districts", "区外 Outside districts"
    REVERSE = "reverse", "反向移送河长办 Reverse"
    MANUAL = "manual", "指定移送 Manual"


class TransferBatch(models.Model):
    """A half-yearly batch of transfers with its transfer letter (移送函, seed 002 §三(二))."""

    number = models.CharField("函号 letter number", max_length=60, unique=True)
    from_agency = models.ForeignKey(Agency, models.PROTECT, related_name="+", verbose_name="移送单位 from")
    to_agency = models.ForeignKey(Agency, models.PROTECT, related_name="+", verbose_name="接收单位 to")
    period_start = models.DateField("起 from")
    period_end = models.DateField("止 until")
    letter = models.FileField("移送函 letter", upload_to="letters/%Y/", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "移送批次 transfer batch"
        verbose_name_plural = "移送批次 transfer batches"
        ordering = ["-created_at"]


class Transfer(models.Model):
    """One move of a clue from an agency to another, with its copies (抄送) and deadlines."""

    clue = models.ForeignKey(Clue, models.PROTECT, related_name="transfers")
    from_agency = models.ForeignKey(Agency, models.PROTECT, related_name="transfers_out", verbose_name="移送单位 from")
    to_agency = models.ForeignKey(Agency, models.PROTECT, related_name="transfers_in", verbose_name="接收单位 to")
    copies = models.ManyToManyField(Agency, blank=True, related_name="transfer_copies", verbose_name="抄送 copies")
    reason = models.CharField("依据 reason", max_length=20, choices=TransferReason.choices)
    override_reason = models.TextField("改变接收单位的理由 why the routed recipient was overridden", blank=True)
    batch = models.ForeignKey(TransferBatch, models.PROTECT, null=True, blank=True, related_name="transfers")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    sent_at = models.DateTimeField("移送时间 sent at")
    accepted_at = models.DateTimeField("受理时间 accepted at", null=True, blank=True)
    # Deadlines are computed from the policy in force when they start and then kept (clues.deadlines).
    first_answer_due = models.DateField("首次答复期限 first answer due", null=True, blank=True)
    first_answer_at = models.DateTimeField("首次答复 first answered at", null=True, blank=True)
    feedback_due = models.DateField("反馈期限 feedback due", null=True, blank=True)
    feedback_at = models.DateTimeField("反馈时间 feedback given at", null=True, blank=True)

    class Meta:
        verbose_name = "移送 transfer"
        verbose_name_plural = "移送 transfers"
        ordering = ["sent_at"]
        indexes = [
            # Used by the overdue sweep.
            models.Index(
                fields=["first_answer_due"], name="transfer_first_answer_due", condition=Q(first_answer_at__isnull=True)
            ),
            models.Index(fields=["feedback_due"], name="transfer_feedback_due", condition=Q(feedback_at__isnull=True)),
        ]


class Suggestion(models.Model):
    """A pre-litigation procuratorial suggestion (诉前检察建议) and the written reply to it."""

    clue = models.ForeignKey(Clue, models.PROTECT, related_name="suggestions")
    number = models.CharField("文号 number", max_length=100, blank=True)
    addressee = models.ForeignKey(
        Agency, models.PROTECT, related_name="suggestions_received", verbose_name="被建议单位 addressee"
    )
    content = models.TextField("建议内容 content")
    urgent = models.BooleanField("紧急 urgent", default=False)
    pre_notified_at = models.DateTimeField("提前通报河长办 pre-notified river office at", null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    issued_at = models.DateTimeField("发出时间 issued at")
    reply_due = models.DateField("回复期限 reply due")
    reply_at = models.DateTimeField("回复时间 replied at", null=True, blank=True)
    reply_text = models.TextField("书面回复 written reply", blank=True)
    escalated_at = models.DateTimeField("催办/移交 escalated at", null=True, blank=True)

    class Meta:
        verbose_name = "诉前检察建议 suggestion"
        verbose_name_plural = "诉前检察建议 suggestions"
        ordering = ["issued_at"]
        indexes = [models.Index(fields=["reply_due"], name="suggestion_reply_due", condition=Q(reply_at__isnull=True))]


class ClueEvent(models.Model):
    """One thing done to a clue. Append-only: the database refuses UPDATE, DELETE (migration 0002)
    and TRUNCATE (0005).

    Each event carries the hash of the clue's previous event and is signed with a key kept out of
    the database; the clue row anchors the last one (clues.history, `manage.py verify_history`).
    """

    clue = models.ForeignKey(Clue, models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField("序号 sequence")
    action = models.CharField("操作 action", max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name="操作人 actor")
    agency = models.ForeignKey(Agency, models.PROTECT, null=True, related_name="+", verbose_name="单位 agency")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField("说明 note", blank=True)
    data = models.JSONField("前后变化 before/after", default=dict)
    created_at = models.DateTimeField("时间 at")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # How `hash` is made: 1, SHA-256 (events written before migration 0005); 2, HMAC-SHA256 with the key.
    version = models.PositiveSmallIntegerField("签名版本 hash version", default=2, editable=False)

    class Meta:
        verbose_name = "线索记录 clue event"
        verbose_name_plural = "线索记录 clue events"
        ordering = ["clue", "seq"]
        constraints = [models.UniqueConstraint(fields=["clue", "seq"], name="clue_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.clue_id} #{self.seq} {self.action}"


class TimeUnit(models.TextChoices):
    DAYS = "days", "日 days"
    MONTHS = "months", "月 months"


class DeadlineRule(models.TextChoices):
    """The deadlines of DESIGN §4, each a policy of the locality's agreement."""

    FIRST_ANSWER = "first_answer", "受理后首次答复 first answer on a received clue (000: 1 month)"
    FEEDBACK = "feedback", "办结后反馈 feedback after closing (002: 10 days)"
    SUGGESTION_REPLY = "suggestion_reply", "检察建议书面回复 reply to a suggestion (2 months)"
    SUGGESTION_REPLY_URGENT = "suggestion_reply_urgent", "紧急检察建议回复 urgent reply (15 days)"
    TRANSFER_INTERVAL = "transfer_interval", "定期移送 periodic transfer (002: half a year)"
    DUE_SOON = "due_soon", "临期提醒 warn this long before a deadline"


class DeadlinePolicy(models.Model):
    """One rule's length from a date on; a change is a new row, so old deadlines keep their length."""

    rule = models.CharField("规则 rule", max_length=30, choices=DeadlineRule.choices)
    amount = models.PositiveIntegerField("时长 amount")
    unit = models.CharField("单位 unit", max_length=10, choices=TimeUnit.choices)
    effective_from = models.DateField("生效日期 effective from")
    note = models.CharField("依据 basis", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "时限规则 deadline policy"
        verbose_name_plural = "时限规则 deadline policies"
        ordering = ["rule", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["rule", "effective_from"], name="deadline_policy_unique")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.amount} {self.unit} (from {self.effective_from})"


class Notification(models.Model):
    """An in-app notice to a user (due soon, overdue); `key` makes sending it twice impossible."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200)
    clue = models.ForeignKey(Clue, models.CASCADE, null=True, blank=True, related_name="notifications")
    kind = models.CharField("类型 kind", max_length=40)
    message = models.TextField("内容 message")
    due = models.DateField("期限 due", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "通知 notification"
        verbose_name_plural = "通知 notifications"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once")]


class FigurePart(models.Model):
    """What the clues of a city registered on `day` add to one section of the figures (clues.tallies.KEY
    and its counts): summed in FigureTally, appended to FigureDelta."""

    city_id = models.BigIntegerField()
    day = models.DateField()
    dim = models.CharField(max_length=20)
    value = models.CharField(max_length=40)
    due = models.DateField(null=True)
    n = models.BigIntegerField()
    confidential = models.BigIntegerField()

    class Meta:
        abstract = True


class FigureTally(FigurePart):
    """The figures' parts summed, one row per key (clues.tallies)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["city_id", "day", "dim", "value", "due"], name="figure_tally_key", nulls_distinct=False
            )
        ]


class FigureDelta(FigurePart):
    """A change to the figures' tallies not yet folded into FigureTally (clues.tallies)."""

    class Meta:
        indexes = [models.Index(fields=["city_id", "day"], name="figure_delta_city_day")]
