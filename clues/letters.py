"""The transfer letter (线索移送函) of a batch, as a PDF.

Chinese text uses reportlab's built-in CID font STSong-Light: PDF readers supply the glyphs, so no
font file ships with the project and none has to be installed on the server.
"""

from __future__ import annotations

import datetime
import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from rivers.models import Agency

from .deadlines import policy_in_force
from .figures import LOCAL_TZ, local_today
from .models import Category, Clue, DeadlineRule, TimeUnit, Transfer, TransferBatch

FONT = "STSong-Light"
DESCRIPTION_CHARS = 60
# Seed 002 is the agreement the product is built around; its §三(二) sets the half-yearly transfer.
BASIS = (
    "根据《“河长+检察长”协作机制工作方案》（綦检会〔2021〕2号）第三部分第（二）项"
    "“区河长办、区检察院原则上应每半年移送一次案件线索”的规定，现将我单位{period}期间登记的"
    "案件线索共{count}条移送你单位，请依法办理，并在办结后{feedback}内向我单位反馈案件办理情况或处理结果。"
)


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=22, leading=30, alignment=TA_CENTER),
        "number": ParagraphStyle("number", parent=body, alignment=TA_CENTER),
        "body": body,
        "indented": ParagraphStyle("indented", parent=body, firstLineIndent=24),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9, leading=12),
    }


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _feedback_period(on: datetime.date) -> str:
    policy = policy_in_force(DeadlineRule.FEEDBACK, on)
    return f"{policy.amount}{'个月' if policy.unit == TimeUnit.MONTHS else '日'}"


def _description(clue) -> str:  # noqa: ANN001 - a Clue
    if clue.confidential:
        # Seed 003 §三: confidential items are marked as such; their content goes by other means.
        return "（涉密线索，内容另行移交）"
    text = " ".join(clue.description.split())
    return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1] + "…"


def _place(clue) -> str:  # noqa: ANN001 - a Clue
    feature = clue.feature
    district = clue.district.name if clue.district else "区外"
    return f"{feature.name}／{district}" if feature else district


def _clue_table(transfers, styles: dict[str, ParagraphStyle]) -> Table:  # noqa: ANN001 - a QuerySet of Transfer
    cell = styles["cell"]
    labels = dict(Category.choices)
    header = ["序号", "线索编号", "类别", "河段／区县", "登记日期", "线索描述"]
    rows = [[Paragraph(text, cell) for text in header]]
    for index, transfer in enumerate(transfers, start=1):
        clue = transfer.clue
        values = [
            str(index),
            clue.code,
            str(labels.get(clue.category, clue.category)),
            _place(clue),
            clue.created_at.astimezone(LOCAL_TZ).date().isoformat(),
            _description(clue),
        ]
        rows.append([Paragraph(escape(value), cell) for value in values])
    table = Table(rows, colWidths=[12 * mm, 34 * mm, 22 * mm, 32 * mm, 22 * mm, 48 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _transfers(batch: TransferBatch, user=None):  # noqa: ANN001, ANN202 - a user; a QuerySet of Transfer
    # Not batch.transfers: a caller may have prefetched only some of them.
    transfers = Transfer.objects.filter(batch=batch).select_related("clue__reach", "clue__water_body", "clue__district")
    if user is not None:
        transfers = transfers.filter(clue__in=Clue.objects.visible_to(user))
    return transfers.order_by("clue__code")


def _page_number(canvas, doc) -> None:  # noqa: ANN001 - reportlab's canvas and document
    canvas.saveState()
    canvas.setFont(_font(), 9)
    canvas.drawCentredString(A4[0] / 2, 12 * mm, f"第 {doc.page} 页")
    canvas.restoreState()


def letter_pdf(batch: TransferBatch, *, today: datetime.date | None = None, user=None) -> bytes:  # noqa: ANN001
    """Return the transfer letter of `batch` as PDF bytes (its transfers must already be linked); for
    `user`, a copy naming only the clues they may see."""
    today = today or local_today()
    styles = _styles()
    transfers = _transfers(batch, user)
    count = transfers.count()
    copies = (
        Agency.objects.filter(transfer_copies__in=transfers.values("pk"))
        .exclude(pk=batch.to_agency_id)
        .distinct()
        .order_by("code")
    )
    period = f"{chinese_date(batch.period_start)}至{chinese_date(batch.period_end)}"
    story = [
        Paragraph("线索移送函", styles["title"]),
        Paragraph(f"函号：{escape(batch.number)}", styles["number"]),
        Spacer(1, 6 * mm),
        Paragraph(
            f"移送单位：{escape(batch.from_agency.name)} → 接收单位：{escape(batch.to_agency.name)}", styles["body"]
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"{escape(batch.to_agency.name)}：", styles["body"]),
        Paragraph(
            BASIS.format(period=period, count=count, feedback=_feedback_period(today)),
            styles["indented"],
        ),
        Spacer(1, 4 * mm),
        _clue_table(transfers, styles),
        Spacer(1, 4 * mm),
        Paragraph(f"以上线索共计{count}条。", styles["indented"]),
    ]
    if copies:
        story.append(Paragraph("抄送：" + "、".join(escape(agency.name) for agency in copies), styles["body"]))
    story += [
        Spacer(1, 12 * mm),
        Paragraph(escape(batch.from_agency.name), styles["right"]),
        Paragraph(chinese_date(today), styles["right"]),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"线索移送函 {batch.number}",
        author=batch.from_agency.name,
    )
    document.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()
