"""The year's plan (seed 002): the annual patrol focus (年度巡查重点, §三(三)) and the work points
(年度工作要点, §二(三)), both set by the district's liaison office (派驻检察联络室).

Each change is a new revision of the (district, year) plan; earlier revisions are kept as history.
The unique constraint on (district, year, revision) is the guard when two officers save at once:
the loser of the race takes the next number.

Due dates are settings (month-day, in the plan's year):
- WORK_PLAN_DUE, default 03-31: "每年第一季度提出年度工作要点建议" (seed 002 §二(三)).
- FOCUS_PLAN_DUE, default 03-31: the focus follows the year's chief river order (总河长令), which is
  issued early in the year, and steers the year's patrols; the patrol season is planned by the end of
  Q1, so the focus is due with the work points. A locality whose order comes later moves the date.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from rivers.categories import Category
from rivers.models import AgencyKind, District, Membership, Role

from .models import FocusItem, FocusPlan, WorkPlan

# Plans are dated as the agencies date them; the deployment's TIME_ZONE may differ.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# The mechanism dates from 2021; the bounds keep a mistyped year out (HTTP 400).
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
# How many times a save tries when other officers take the revision numbers first: each round one of
# them succeeds, so this many officers saving at the same instant all succeed.
REVISION_ATTEMPTS = 10

FOCUS_REVISION_CONSTRAINT = "focus_plan_revision_unique"
WORK_PLAN_REVISION_CONSTRAINT = "work_plan_revision_unique"


class PlanInvalid(Exception):
    """The plan cannot be saved (HTTP 400); `errors` maps field to message."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def local_today() -> datetime.date:
    return timezone.localdate(timezone=LOCAL_TZ)


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment, LOCAL_TZ).date()


def due_date(setting_name: str, year: int) -> datetime.date:
    """Return the due date a month-day setting ("MM-DD") names in `year`."""
    value = getattr(settings, setting_name)
    try:
        month, day = (int(part) for part in str(value).split("-"))
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting_name} must be a month and day as MM-DD, not {value!r}") from exc


def work_plan_due(year: int) -> datetime.date:
    return due_date("WORK_PLAN_DUE", year)


def focus_plan_due(year: int) -> datetime.date:
    return due_date("FOCUS_PLAN_DUE", year)


def is_liaison_of(user, district: District) -> bool:  # noqa: ANN001 - a user
    """Return whether `user` is a liaison officer of `district`'s liaison office (派驻检察联络室)."""
    if not user.is_authenticated:
        return False
    return Membership.objects.filter(
        user=user, role=Role.LIAISON, agency__kind=AgencyKind.LIAISON_OFFICE, agency__district=district
    ).exists()


def _require_liaison(user, district: District) -> None:  # noqa: ANN001 - a user
    if not is_liaison_of(user, district):
        raise PermissionDenied(
            f"只有{district.name}派驻检察联络室的联络员可以制定年度计划 / "
            f"only liaison officers of {district.code}'s liaison office may set the year's plan"
        )


def _check_year(year: int) -> dict:
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return {
            "year": f"年度须在{EARLIEST_YEAR}至{LATEST_YEAR}之间 / must lie between {EARLIEST_YEAR} and {LATEST_YEAR}"
        }
    return {}


def _is_revision_race(exc: IntegrityError, constraint: str) -> bool:
    """Return whether `exc` is the revision constraint refusing a number another save just took."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


def _next_revision(model: type[FocusPlan] | type[WorkPlan], district: District, year: int) -> int:
    latest = model.objects.filter(district=district, year=year).aggregate(latest=Max("revision"))["latest"]
    return (latest or 0) + 1


def _save_revision(constraint: str, create):  # noqa: ANN001, ANN202 - a callable and what it returns
    """Call `create()` (which takes the next revision number) again when another save took that number."""
    for attempt in range(REVISION_ATTEMPTS):
        try:
            # A savepoint per attempt: a refused insert leaves the outer transaction usable.
            with transaction.atomic():
                return create()
        except IntegrityError as exc:
            if not _is_revision_race(exc, constraint) or attempt == REVISION_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@transaction.atomic
def focus_set(
    *,
    user,  # noqa: ANN001 - a user
    district: District,
    year: int,
    items: Iterable[tuple[str, str]],
    chief_order: str = "",
    note: str = "",
) -> FocusPlan:
    """Save a new revision of `district`'s patrol focus for `year`: (category, note) items."""
    _require_liaison(user, district)
    items = [(category, item_note or "") for category, item_note in items]
    errors = _check_year(year)
    if not items:
        errors["items"] = "至少需要一项巡查重点 / at least one focus item is needed"
    unknown = [category for category, _ in items if category not in Category.values]
    if unknown:
        errors["items"] = f"未知的类别 / unknown categories: {', '.join(map(str, unknown))}"
    categories = [category for category, _ in items]
    repeated = sorted({category for category in categories if categories.count(category) > 1})
    if repeated and "items" not in errors:
        errors["items"] = f"类别重复 / categories listed twice: {', '.join(repeated)}"
    if len(chief_order) > FocusPlan._meta.get_field("chief_order").max_length:
        errors["chief_order"] = "过长 / too long"
    if errors:
        raise PlanInvalid(errors)

    def create() -> FocusPlan:
        plan = FocusPlan.objects.create(
            district=district,
            year=year,
            revision=_next_revision(FocusPlan, district, year),
            chief_order=chief_order,
            note=note,
            created_by=user,
        )
        FocusItem.objects.bulk_create(
            [FocusItem(plan=plan, category=category, note=item_note) for category, item_note in items]
        )
        return plan

    return _save_revision(FOCUS_REVISION_CONSTRAINT, create)


@transaction.atomic
def work_plan_set(*, user, district: District, year: int, content: str) -> WorkPlan:  # noqa: ANN001 - a user
    """Save a new revision of `district`'s work points (年度工作要点) for `year`."""
    _require_liaison(user, district)
    errors = _check_year(year)
    if not content.strip():
        errors["content"] = "工作要点不能为空 / the work points may not be empty"
    if errors:
        raise PlanInvalid(errors)

    def create() -> WorkPlan:
        return WorkPlan.objects.create(
            district=district,
            year=year,
            revision=_next_revision(WorkPlan, district, year),
            content=content,
            created_by=user,
        )

    return _save_revision(WORK_PLAN_REVISION_CONSTRAINT, create)


@dataclass(frozen=True)
class PlanStatus:
    """Where one plan of a year stands: its revisions (newest first) and its due date.

    `missing`: no revision yet. `overdue`: missing after the due day. `late`: first set after it.
    """

    due: datetime.date
    history: list = field(default_factory=list)  # FocusPlan or WorkPlan rows, newest first
    today: datetime.date | None = None

    @property
    def current(self):  # noqa: ANN201 - FocusPlan | WorkPlan | None
        return self.history[0] if self.history else None

    @property
    def missing(self) -> bool:
        return not self.history

    @property
    def overdue(self) -> bool:
        return self.missing and self.today is not None and self.today > self.due

    @property
    def first_set_on(self) -> datetime.date | None:
        return local_date(self.history[-1].created_at) if self.history else None

    @property
    def late(self) -> bool:
        return self.first_set_on is not None and self.first_set_on > self.due


@dataclass(frozen=True)
class PlansStatus:
    district: District
    year: int
    today: datetime.date
    focus: PlanStatus
    work_plan: PlanStatus


def plans_status(district: District, year: int, today: datetime.date | None = None) -> PlansStatus:
    """Return `district`'s focus and work points for `year`: current revision, history, missing, overdue."""
    return plans_status_many([district], year, today)[district.pk]


def plans_status_many(districts: Iterable[District], year: int, today: datetime.date | None = None) -> dict:
    """Return {district pk: PlansStatus} for `districts` and `year`, in a few queries."""
    today = today or local_today()
    districts = list(districts)
    focus: dict[int, list] = {district.pk: [] for district in districts}
    work: dict[int, list] = {district.pk: [] for district in districts}
    items = Prefetch("items", FocusItem.objects.order_by("pk"))
    for plan in (
        FocusPlan.objects.filter(district__in=districts, year=year)
        .select_related("created_by")
        .prefetch_related(items)
        .order_by("district", "-revision")
    ):
        focus[plan.district_id].append(plan)
    for plan in (
        WorkPlan.objects.filter(district__in=districts, year=year)
        .select_related("created_by")
        .order_by("district", "-revision")
    ):
        work[plan.district_id].append(plan)
    return {
        district.pk: PlansStatus(
            district=district,
            year=year,
            today=today,
            focus=PlanStatus(due=focus_plan_due(year), history=focus[district.pk], today=today),
            work_plan=PlanStatus(due=work_plan_due(year), history=work[district.pk], today=today),
        )
        for district in districts
    }
