"""The demo's work in progress (`make run`, `manage.py load_demo`): clues in the states the desk shows,
this year's patrol focus and work points, so that a newcomer's first look at /clues/ and /liaison/ is
not an empty map.

Everything goes through the domain functions the API calls (registration, workflow steps, plans), as
the demo users: the history, the deadlines and the routing are the product's own. Each clue has a fixed
client UUID; a clue already there is left as it is, so loading the demo again changes nothing.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiLineString, Point
from django.utils import timezone

from clues.models import Clue
from clues.registration import clue_register
from clues.workflow import clue_step
from patrols.models import FocusPlan, WorkPlan
from patrols.plans import focus_set, work_plan_set
from rivers.members import acting_agency
from rivers.models import Agency, AgencyKind, District, Reach, WaterBody
from rivers.network import agency_upsert

NAMESPACE = uuid.UUID("6f1d2c3e-5b7a-4e21-9c0d-500110000000")
DISTRICT = "500110"  # 綦江区
WATER_BUREAU = ("500110-WATER", "綦江区水利局")  # the addressee of the demo's suggestions (河长制责任单位)


@dataclass(frozen=True)
class DemoClue:
    key: str
    by: str  # the demo user registering it
    feature: str  # a reach or water body code of the Qijiang bundle
    along: float  # where on it, 0..1 of its length
    category: str
    source: str
    description: str
    confidential: bool = False
    # (demo user, step, parameters), taken in order after registering
    steps: tuple[tuple[str, str, dict], ...] = field(default=())


SEND = ("qj_river_office", "send", {})
ACCEPT = ("qj_prosecutor", "accept", {})
INVESTIGATE = ("qj_prosecutor", "investigate", {})


def _suggestion(number: str, content: str, *, urgent: bool = False) -> tuple[str, str, dict]:
    return (
        "qj_prosecutor",
        "issue_suggestion",
        {"addressee": WATER_BUREAU[0], "content": content, "number": number, "urgent": urgent, "pre_notify": True},
    )


CLUES = [
    DemoClue(
        "outfall", "qj_patrol", "R500110-005", 0.32, "illegal_discharge", "patrol",
        "綦江城区段右岸雨污混接排口，巡查时有灰黑色污水直排入河，有异味。",
    ),
    DemoClue(
        "rubbish", "qj_river_office", "R500110-009", 0.55, "river_cleanliness", "hotline",
        "12345热线转来：通惠河城区段岸边堆放建筑垃圾，雨天冲入河道。", steps=(SEND,),
    ),
    DemoClue(
        "rubbish-again", "qj_river_office", "R500110-009", 0.552, "river_cleanliness", "petition",
        "群众来信：通惠河岸边建筑垃圾仍未清运（与12345热线反映的可能为同一问题）。",
    ),
    DemoClue(
        "sand", "qj_river_office", "R500110-002", 0.6, "illegal_sand_mining", "river_office",
        "赶水段夜间有采砂船在禁采区作业，岸边有新堆砂石。",
        steps=(
            SEND, ACCEPT, ("qj_prosecutor", "answer", {"note": "已受理，正在调查核实。"}), INVESTIGATE,
            ("qj_prosecutor", "file_case", {"case_number": "渝綦检公益立〔2026〕12号"}),
            _suggestion("渝綦检行公建〔2026〕8号", "请依法查处禁采区非法采砂行为，恢复河道原状，并书面回复整改情况。"),
        ),
    ),
    DemoClue(
        "fishing", "qj_river_office", "R500110-006", 0.5, "illegal_fishing", "petition",
        "三江—广兴段（跨区）有人使用电鱼器具捕捞，群众多次反映。",
        steps=(SEND, ("cq_prosecutor", "accept", {})),
    ),
    DemoClue(
        "sheds", "qj_prosecutor", "R500110-007", 0.4, "encroachment", "procuratorate",
        "蒲河万盛—关坝段岸线内搭建养殖棚，疑似侵占水域。",
        steps=(
            ACCEPT, INVESTIGATE, ("qj_prosecutor", "not_file", {"note": "经核实棚舍在管理范围线外，不立案。"}),
            ("qj_prosecutor", "close", {"note": "已告知河长办持续关注。"}),
        ),
    ),
    DemoClue(
        "cages", "qj_river_office", "R500110-010", 0.3, "illegal_aquaculture", "river_office",
        "藻渡河赶水段网箱养殖，投饵导致水体富营养化。",
        steps=(
            SEND, ACCEPT, INVESTIGATE,
            ("qj_prosecutor", "file_case", {"case_number": "渝綦检公益立〔2026〕9号"}),
            _suggestion("渝綦检行公建〔2026〕5号", "请依法清理藻渡河赶水段违规网箱养殖设施。"),
            ("qj_prosecutor", "rectified", {"note": "网箱已全部拆除。"}),
            ("qj_prosecutor", "record_outcome", {"outcome_note": "网箱已拆除，水质复测达标。"}),
            ("qj_prosecutor", "close", {}),
            ("qj_prosecutor", "give_feedback", {"note": "已向河长办反馈办理结果。"}),
        ),
    ),
    DemoClue(
        "mine", "qj_river_office", "R500110-003", 0.5, "illegal_mining", "hotline",
        "东溪段河岸疑似非法采矿，举报人要求对其身份保密。", confidential=True, steps=(SEND,),
    ),
    DemoClue(
        "nets", "qj_patrol", "W500110-001", 0.0, "obstruction", "patrol",
        "丁山湖水库库尾设置拦网，影响行洪。",
    ),
]  # fmt: skip

FOCUS = [
    ("illegal_sand_mining", "綦江干流禁采区夜间巡查"),
    ("illegal_discharge", "城区段排口"),
    ("illegal_fishing", "禁渔期电鱼"),
    ("encroachment", ""),
]
WORK_POINTS = (
    "一、每季度至少开展一次河长办与检察院联合巡河。\n"
    "二、跨区河段线索及时报送市检察院。\n"
    "三、诉前检察建议回复情况纳入河长制考核。"
)


def _point_on(code: str, along: float) -> Point:
    """A point `along` the reach `code` (its longest part), or a water body's point on its surface."""
    reach = Reach.objects.filter(code=code).only("geom").first()
    if reach is None:
        return WaterBody.objects.only("geom").get(code=code).geom.point_on_surface
    line = reach.geom
    if isinstance(line, MultiLineString):
        line = max(line, key=lambda part: part.length)
    point = line.interpolate_normalized(along)
    return Point(point.x, point.y, srid=reach.geom.srid)


def _value(name: str, value):  # noqa: ANN001, ANN202 - a step parameter, as the domain takes it
    if name in ("addressee", "to"):
        return Agency.objects.get(code=value)
    if name == "restoration_done_on":
        return datetime.date.fromisoformat(value)
    return value


def demo_activity() -> list[str]:
    """Create what is missing of the demo's clues and plans; return a line for each thing created."""
    names = {demo.by for demo in CLUES} | {step[0] for demo in CLUES for step in demo.steps} | {"qj_liaison"}
    users = {user.username: user for user in get_user_model().objects.filter(username__in=names)}
    district = District.objects.get(code=DISTRICT)
    agency_upsert(code=WATER_BUREAU[0], name=WATER_BUREAU[1], kind=AgencyKind.RESPONSIBLE_UNIT, district=district)
    created = []
    for demo in CLUES:
        client_uuid = uuid.uuid5(NAMESPACE, demo.key)
        if Clue.objects.filter(client_uuid=client_uuid).exists():
            continue
        user = users[demo.by]
        clue = clue_register(
            user=user,
            agency=acting_agency(user),
            client_uuid=client_uuid,
            category=demo.category,
            description=demo.description,
            location=_point_on(demo.feature, demo.along),
            source=demo.source,
            confidential=demo.confidential,
        ).clue
        for username, step, params in demo.steps:
            params = {name: _value(name, value) for name, value in params.items()}
            clue = clue_step(clue=clue, user=users[username], step=step, **params)
        created.append(f"线索 clue {clue.code}: {clue.get_status_display()}")
    year = timezone.localdate().year
    liaison = users["qj_liaison"]
    if not FocusPlan.objects.filter(district=district, year=year).exists():
        focus_set(user=liaison, district=district, year=year, items=FOCUS, chief_order="綦江区总河长令〔2026〕1号")
        created.append(f"{year} 年度巡查重点 patrol focus")
    if not WorkPlan.objects.filter(district=district, year=year).exists():
        work_plan_set(user=liaison, district=district, year=year, content=WORK_POINTS)
        created.append(f"{year} 年度工作要点 work points")
    return created
