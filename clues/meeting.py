"""The joint-meeting pack (联席会议材料, seed 000 §二(四)): the figures, the overdue list, the year's joint
patrols and a map of the districts and clues, as one PDF, and the same tables as an XLSX workbook.

Everything in it is read for one user: the figures as clues.figures counts them, the deadlines and the
map's clues through `Clue.objects.visible_to(user)` (DESIGN §5), the districts and patrols as
patrols.compliance shows them to that user. Chinese text uses the CID font of the transfer letters.
"""

from __future__ import annotations

import datetime
import io
import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import PermissionDenied
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Circle, Drawing, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from patrols.compliance import Compliance, compliance_for
from rivers.models import District

from .figures import Figures, Period, Row, figures_compute, figures_tables, local_today
from .figures import Table as FiguresTable
from .letters import _font, _styles, chinese_date
from .models import Clue, Status
from .overdue import DueList, deadlines_due

# The map draws at most this many clues (the newest); the figures count them all.
MAP_CLUES_MAX = 3_000
# Districts are simplified for drawing only, in degrees (~200 m at 29°N): the page is 17 cm wide.
MAP_SIMPLIFY_DEG = 0.002
CLOSED_STATES = (Status.CLOSED, Status.FEEDBACK_GIVEN, Status.MERGED)
OK, BAD, NEUTRAL = colors.HexColor("#1e8449"), colors.HexColor("#b03a2e"), colors.HexColor("#5d6d7e")


@dataclass(frozen=True)
class MapDistrict:
    code: str
    name: str
    rings: list[list[tuple[float, float]]]  # exterior rings, lon/lat
    compliant: bool | None  # joint patrol done this year; None: not in the user's compliance


@dataclass(frozen=True)
class MeetingPack:
    period: Period
    today: datetime.date
    figures: Figures
    due: DueList
    compliance: Compliance | None  # None: the user belongs to no agency
    districts: list[MapDistrict] = field(default_factory=list)
    clues: list[tuple[float, float, bool]] = field(default_factory=list)  # lon, lat, open


def _rings(geom) -> list[list[tuple[float, float]]]:  # noqa: ANN001 - a GEOS (Multi)Polygon
    polygons = [geom] if geom.geom_type == "Polygon" else list(geom)
    return [list(polygon.exterior_ring.coords) for polygon in polygons if not polygon.empty]


def pack_make(*, user, period: Period, today: datetime.date | None = None) -> MeetingPack:  # noqa: ANN001 - a user
    """Return what the joint-meeting pack of `period` shows `user`, read in a fixed number of queries."""
    today = today or local_today()
    figures = figures_compute(user=user, period=period, today=today)
    due = deadlines_due(user=user, today=today)
    try:
        compliance = compliance_for(user=user, year=period.end.year, today=today)
    except PermissionDenied:
        compliance = None
    joint = {row.district.pk: row.joint_compliant for row in compliance.districts} if compliance else {}
    districts = [
        MapDistrict(
            district.code,
            district.name,
            _rings(district.geom.simplify(MAP_SIMPLIFY_DEG, preserve_topology=True)),
            joint.get(district.pk),
        )
        for district in District.objects.filter(pk__in=list(joint)).order_by("code")
    ]
    start, end = period.bounds()
    visible = (
        Clue.objects.visible_to(user)
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by("-created_at")
        .values_list("geom", "status")[:MAP_CLUES_MAX]
    )
    clues = [(geom.x, geom.y, status not in CLOSED_STATES) for geom, status in visible]
    return MeetingPack(period, today, figures, due, compliance, districts, clues)


# --- tables (the XLSX, and the PDF's tables) ------------------------------------------------------

DUE_HEADERS = [
    "事项 item",
    "状态 state",
    "期限 due",
    "逾期天数 days late",
    "线索 clue",
    "区县 district",
    "承办 who acts",
    "对方 towards",
]
JOINT_HEADERS = [
    "区县代码 code",
    "区县 district",
    "联合巡查 joint patrols",
    "应开展 required",
    "达标 compliant",
    "河段 reaches",
    "按频次达标 on frequency",
    "从未巡查 never patrolled",
]


def _due_rows(due: DueList) -> list[list]:
    return [
        [
            item.label + (f"（{item.clues_waiting}条）" if item.kind == "transfer_interval" else ""),
            item.state_label,
            item.due.isoformat(),
            item.days_late,
            item.clue.code,
            item.clue.district.name if item.clue.district else "区外",
            item.agency.name,
            item.counterpart.name if item.counterpart else "",
        ]
        for item in due.items
    ]


def _joint_rows(compliance: Compliance | None) -> list[list]:
    if compliance is None:
        return []
    return [
        [
            row.district.code,
            row.district.name,
            row.joint_patrols,
            row.joint_patrols_required,
            "是" if row.joint_compliant else "否",
            row.reaches_total,
            row.reaches_compliant,
            len(row.reaches_never_patrolled),
        ]
        for row in compliance.districts
    ]


def pack_tables(pack: MeetingPack) -> list[FiguresTable]:
    """Return the pack as tables: the figures' sections, the deadlines, the year's joint patrols."""
    return [
        *figures_tables(pack.figures),
        FiguresTable("deadlines", "逾期与临期 Overdue and due soon", DUE_HEADERS, _due_rows(pack.due)),
        FiguresTable(
            "joint_patrols",
            f"{pack.period.end.year}年联合巡查 Joint patrols",
            JOINT_HEADERS,
            _joint_rows(pack.compliance),
        ),
    ]


# --- the PDF ---------------------------------------------------------------------------------------


def _table(rows: list[list], widths: list[float], styles: dict, *, header: bool = True) -> Table:
    cell = styles["cell"]
    table = Table(
        [[Paragraph(escape(str(value)), cell) for value in row] for row in rows],
        colWidths=widths,
        repeatRows=int(header),
    )
    style = [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    table.setStyle(TableStyle(style))
    return table


def _count_table(title: str, rows: list[Row], styles: dict) -> list:
    shown = [[row.label, row.count] for row in rows if row.count]
    body = [["名称", "数量"], *shown] if shown else [["名称", "数量"], ["（无）", 0]]
    return [Paragraph(title, styles["heading"]), _table(body, [60 * mm, 25 * mm], styles)]


def _bars(rows: list[Row], *, horizontal: bool, width: float, height: float) -> Drawing:
    """A bar chart of `rows` (their labels along the axis), in the pack's font."""
    font = _font()
    drawing = Drawing(width, height)
    chart = HorizontalBarChart() if horizontal else VerticalBarChart()
    chart.x, chart.y = (70 * mm, 8 * mm) if horizontal else (12 * mm, 16 * mm)
    chart.width = width - chart.x - 6 * mm
    chart.height = height - chart.y - 4 * mm
    chart.data = [[row.count for row in rows] or [0]]
    chart.categoryAxis.categoryNames = [row.label for row in rows] or [""]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    if not horizontal:
        chart.categoryAxis.labels.angle = 45
        chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max([row.count for row in rows] or [0])
    chart.valueAxis.valueMax = max(1, top)
    chart.valueAxis.valueStep = max(1, math.ceil(top / 5))
    chart.bars[0].fillColor = colors.HexColor("#0b4f8a")
    drawing.add(chart)
    return drawing


def _map(pack: MeetingPack, width: float, height: float) -> Drawing:
    """The districts (green: joint patrol done this year, red: not) and the clues (red: open)."""
    drawing = Drawing(width, height)
    drawing.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#f4f6f7"), strokeColor=colors.grey))
    points = [xy for d in pack.districts for ring in d.rings for xy in ring] + [(x, y) for x, y, _ in pack.clues]
    if not points:
        drawing.add(String(width / 2, height / 2, "（无数据）", fontName=_font(), fontSize=10, textAnchor="middle"))
        return drawing
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    # Equirectangular at the map's mean latitude: a degree of longitude is cos(lat) of a degree of latitude.
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x, span_y = max((max(lons) - min(lons)) * shrink, 1e-6), max(max(lats) - min(lats), 1e-6)
    pad = 6 * mm
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad - 8 * mm) / span_y)
    left = (width - span_x * scale) / 2
    bottom = 8 * mm + (height - 8 * mm - span_y * scale) / 2

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return left + (lon - min(lons)) * shrink * scale, bottom + (lat - min(lats)) * scale

    for district in pack.districts:
        fill = {True: "#d5f5e3", False: "#fadbd8", None: "#eaeded"}[district.compliant]
        for ring in district.rings:
            drawing.add(
                Polygon(
                    [c for lon, lat in ring for c in xy(lon, lat)],
                    fillColor=colors.HexColor(fill),
                    strokeColor=NEUTRAL,
                    strokeWidth=0.6,
                )
            )
    for district in pack.districts:
        ring = max(district.rings, key=len)
        cx, cy = xy(sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
        drawing.add(String(cx, cy, district.name, fontName=_font(), fontSize=8, textAnchor="middle"))
    for lon, lat, is_open in pack.clues:
        x, y = xy(lon, lat)
        drawing.add(Circle(x, y, 2.6, fillColor=BAD if is_open else OK, strokeColor=colors.white, strokeWidth=0.4))
    legend = [("#d5f5e3", "已开展联合巡查的区县"), ("#fadbd8", "未开展联合巡查的区县")]
    x = 4 * mm
    for fill, text in legend:
        drawing.add(Rect(x, 3 * mm, 4 * mm, 3 * mm, fillColor=colors.HexColor(fill), strokeColor=NEUTRAL))
        drawing.add(String(x + 5 * mm, 3.4 * mm, text, fontName=_font(), fontSize=7))
        x += 38 * mm
    for fill, text in ((BAD, "未办结线索"), (OK, "已办结线索")):
        drawing.add(Circle(x + 1.5 * mm, 4.5 * mm, 1.6, fillColor=fill, strokeColor=colors.white))
        drawing.add(String(x + 4 * mm, 3.4 * mm, text, fontName=_font(), fontSize=7))
        x += 24 * mm
    return drawing


def _timeliness_rows(figures: Figures) -> list[list]:
    rows = [["事项", "按期", "逾期办理", "逾期未办", "未到期", "合计"]]
    for label, t in (
        ("首次答复", figures.first_answers),
        ("办结反馈", figures.feedback),
        ("检察建议书面回复", figures.suggestion_replies),
    ):
        rows.append([label, t.in_time, t.late, t.overdue, t.pending, t.total])
    return rows


def pack_pdf(pack: MeetingPack, *, author: str = "") -> bytes:
    """Return the joint-meeting pack as PDF bytes."""
    styles = dict(_styles())
    styles["heading"] = styles["body"].clone("heading", fontSize=14, leading=22, spaceBefore=8, spaceAfter=4)
    f, period = pack.figures, pack.period
    page_width = A4[0] - 40 * mm
    categories = [row for row in f.by_category if row.count] or f.by_category[:1]
    summary = [
        ["项目", "数值"],
        ["统计期间", f"{chinese_date(period.start)}至{chinese_date(period.end)}"],
        ["线索总数", f.clues],
        ["其中涉密", f.confidential],
        ["未办结", f.open],
        ["移送次数", f.transfers],
        ["诉前检察建议", f.suggestions],
        ["建议已催办", f.suggestions_escalated],
        ["逾期事项", len(pack.due.overdue)],
        ["临期事项", len(pack.due.due_soon)],
    ]
    story = [
        Paragraph("河长+检察长联席会议材料", styles["title"]),
        Paragraph(
            f"统计期间：{chinese_date(period.start)}至{chinese_date(period.end)}　统计日：{chinese_date(pack.today)}",
            styles["number"],
        ),
        Spacer(1, 4 * mm),
        Paragraph("一、概况", styles["heading"]),
        _table(summary, [60 * mm, 60 * mm], styles),
        Paragraph("二、区县与线索分布图", styles["heading"]),
        _map(pack, page_width, 110 * mm),
        PageBreak(),
        Paragraph("三、按类别统计", styles["heading"]),
        _bars(categories, horizontal=True, width=page_width, height=min(90, 16 + 9 * len(categories)) * mm),
        *_count_table("按类别 By category", f.by_category, styles)[1:],
        Paragraph("四、按月份统计", styles["heading"]),
        _bars(f.by_month, horizontal=False, width=page_width, height=60 * mm),
        *_count_table("按区县", f.by_district, styles),
        *_count_table("按状态", f.by_status, styles),
        *_count_table("按来源", f.by_source, styles),
        Paragraph("五、移送答复与检察建议回复（按期与逾期）", styles["heading"]),
        _table(_timeliness_rows(f), [45 * mm] + [24 * mm] * 5, styles),
        Paragraph("六、逾期与临期事项", styles["heading"]),
    ]
    due_rows = _due_rows(pack.due)
    if due_rows:
        story.append(
            _table(
                [["事项", "状态", "期限", "逾期天数", "线索", "区县", "承办单位", "对方"], *due_rows],
                [20 * mm, 12 * mm, 20 * mm, 14 * mm, 30 * mm, 16 * mm, 29 * mm, 29 * mm],
                styles,
            )
        )
    else:
        story.append(Paragraph("无逾期或临期事项。", styles["body"]))
    story.append(Paragraph(f"七、{period.end.year}年联合巡查", styles["heading"]))
    joint_rows = _joint_rows(pack.compliance)
    if joint_rows:
        required = settings.JOINT_PATROLS_PER_YEAR
        story += [
            Paragraph(f"每个区县每年应至少开展{required}次联合巡查。", styles["body"]),
            _table(
                [["代码", "区县", "联合巡查", "应开展", "达标", "河段数", "按频次达标", "从未巡查"], *joint_rows],
                [18 * mm, 24 * mm, 20 * mm, 18 * mm, 14 * mm, 18 * mm, 28 * mm, 24 * mm],
                styles,
            ),
        ]
    else:
        story.append(Paragraph("（无可查看的区县）", styles["body"]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"联席会议材料 {period.start}—{period.end}",
        author=author,
    )
    document.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()


def _page_number(canvas, doc) -> None:  # noqa: ANN001 - reportlab's canvas and document
    canvas.saveState()
    canvas.setFont(_font(), 9)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"第 {doc.page} 页")
    canvas.restoreState()
