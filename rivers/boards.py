"""The 公示牌 (public board) of a reach or water body: what it is, where it lies, who answers for it.

A board shows the river and reach, the chief level, the districts, and the people serving today:
the river chief (河长) and the eco-prosecutor (生态检察官), each with the office they serve for.
People data is limited as DESIGN §5 limits it: name, level and office; never an account, username,
phone number or e-mail.

The data names no office per chief, so it is derived: the river office (for a chief) or the
procuratorate (for an eco-prosecutor) of the city for a city-level person, else of the district
holding most of the reach (rivers.crossing's shares); none when no such agency exists.

Built for many features at once in a fixed number of queries (the app caches a district's boards).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from .models import (
    Agency,
    AgencyKind,
    ChiefAssignment,
    ChiefLevel,
    ChiefRole,
    District,
    DistrictLevel,
    Reach,
    ReachDistrict,
    WaterBody,
    WaterBodyDistrict,
)

OFFICE_KIND = {ChiefRole.CHIEF: AgencyKind.RIVER_OFFICE, ChiefRole.ECO_PROSECUTOR: AgencyKind.PROCURATORATE}


@dataclass(frozen=True)
class BoardPerson:
    name: str
    level: str
    level_label: str
    office: Agency | None


@dataclass
class Board:
    feature: Reach | WaterBody
    districts: list[District] = field(default_factory=list)
    chiefs: list[BoardPerson] = field(default_factory=list)
    eco_prosecutors: list[BoardPerson] = field(default_factory=list)
    last_patrol_date: datetime.date | None = None

    @property
    def kind(self) -> str:
        return "reach" if isinstance(self.feature, Reach) else "water_body"


def boards_build(features: Sequence[Reach | WaterBody], *, today: datetime.date | None = None) -> list[Board]:
    """Return the board of each feature (all reaches or all water bodies), in their order.

    Three queries whatever the number of features: shares, serving people, offices (the reaches'
    rivers come with the features: select_related("river")). `last_patrol_date` is left to patrols.
    """
    if not features:
        return []
    today = today or timezone.localdate()
    is_reach = isinstance(features[0], Reach)
    ids = [feature.pk for feature in features]
    owner = "reach" if is_reach else "water_body"

    share_model = ReachDistrict if is_reach else WaterBodyDistrict
    shares: dict[int, list[District]] = defaultdict(list)
    for share in (
        share_model.objects.filter(**{f"{owner}_id__in": ids})
        .select_related("district__parent")
        .order_by(f"{owner}_id", "-length_m", "district__code")
    ):
        shares[getattr(share, f"{owner}_id")].append(share.district)

    serving = (
        ChiefAssignment.objects.filter(**{f"{owner}_id__in": ids}, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .order_by("start_date", "pk")
    )
    people: dict[int, list[ChiefAssignment]] = defaultdict(list)
    for assignment in serving:
        people[getattr(assignment, f"{owner}_id")].append(assignment)

    # Offices are looked up where they may serve: each feature's main district and the city above it.
    mains = [held[0] for held in shares.values() if held]
    areas = {area.pk for area in [*mains, *map(_city_of, mains)] if area is not None}
    offices: dict[tuple[int, str], Agency] = {}
    for agency in Agency.objects.filter(district_id__in=areas, kind__in=OFFICE_KIND.values()).order_by("-code"):
        offices[(agency.district_id, agency.kind)] = agency  # the first by code wins

    labels = dict(ChiefLevel.choices)
    boards = []
    for feature in features:
        held = shares.get(feature.pk, [])
        main = held[0] if held else None
        board = Board(feature=feature, districts=sorted(held, key=lambda district: district.code))
        for assignment in people.get(feature.pk, []):
            area = _city_of(main) if assignment.level == ChiefLevel.CITY else main
            person = BoardPerson(
                name=assignment.person_name,
                level=assignment.level,
                level_label=labels.get(assignment.level, ""),
                office=offices.get((area.pk, OFFICE_KIND[assignment.role])) if area is not None else None,
            )
            (board.chiefs if assignment.role == ChiefRole.CHIEF else board.eco_prosecutors).append(person)
        boards.append(board)
    return boards


def _city_of(district: District | None) -> District | None:
    """Return the city above `district` by its parent (read with it), or itself if it is a city."""
    if district is None or district.level == DistrictLevel.CITY:
        return district
    parent = district.parent
    return parent if parent is not None and parent.level == DistrictLevel.CITY else None
