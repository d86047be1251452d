"""The KPI dashboard's plain part: periods, targets, figures as shown, the CSV and PDF exports.

The window (hallclient/ui/dashboard.py) supplies the words in the current language and the
charts as PNG images; everything here is testable without Qt.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from hallclient.receipts.render import embedded_font
from hallcore.domain.business import BUSINESS_TYPES, BusinessKind
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Lang
from hallcore.wire import KpiReport, KpiRow

# The hall's targets, in one place: the charts draw them as reference lines and the headline
# figures are coloured by them. The 2010 one-stop ratio was 82.5% and the information
# completeness 88.62% (docs: ../shared/design/DOMAIN.md); the targets sit above both.
SATISFACTION_TARGET = 0.90
ONE_STOP_TARGET = 0.85
COMPLETENESS_TARGET = 0.95
OVERDUE_TARGET = 0  # "almost no overdue items"
# Every bad rating is called back, and in time ("complaints closed on time: 100%").
CALLBACK_TARGET = 1.0
CALLBACKS_IN_TIME_TARGET = 1.0

NO_FIGURE = "—"  # nothing was counted


class Period(StrEnum):
    """The periods a manager picks; each ends with today (in the hall's time zone)."""

    TODAY = "today"
    LAST_7_DAYS = "last_7_days"
    LAST_30_DAYS = "last_30_days"
    THIS_MONTH = "this_month"


class Grouping(StrEnum):
    """What a report's rows are (KpiReport.by)."""

    BUSINESS_TYPE = "business_type"
    CLERK = "clerk"
    HALL = "hall"


def period_bounds(period: Period, now: datetime) -> tuple[datetime, datetime]:
    """`since` and the exclusive `until` of `period`: whole days in the hall's time zone, up to
    the end of today ("last 7 days" is today and the six days before)."""
    today = now.astimezone(HALL_TZ).date()
    first = {
        Period.TODAY: today,
        Period.LAST_7_DAYS: today - timedelta(days=6),
        Period.LAST_30_DAYS: today - timedelta(days=29),
        Period.THIS_MONTH: today.replace(day=1),
    }[period]
    return (datetime.combine(first, time(), HALL_TZ),
            datetime.combine(today + timedelta(days=1), time(), HALL_TZ))


def report_days(since: datetime, until: datetime) -> tuple[date, date]:
    """The first and the last day a report covers (`until` is exclusive)."""
    return (since.astimezone(HALL_TZ).date(),
            (until.astimezone(HALL_TZ) - timedelta(microseconds=1)).date())


def period_text(since: datetime, until: datetime) -> str:
    """The days a report covers, e.g. "2025-05-01 – 2025-05-07"."""
    first, last = report_days(since, until)
    return f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d} – {last:%Y-%m-%d}"


def percent(rate: float | None) -> str:
    return NO_FIGURE if rate is None else f"{rate * 100:.1f}%"


def minutes(seconds: float | None) -> str:
    return NO_FIGURE if seconds is None else f"{seconds / 60:.1f}"


def group_name(by: str, key: str, lang: Lang) -> str:
    """A group as people know it: a business type by its label, clerks and halls by their id."""
    if by == Grouping.BUSINESS_TYPE:
        try:
            return BUSINESS_TYPES[BusinessKind(key)].label[lang]
        except ValueError:  # a type newer than this client
            return key
    return key


def figures(row: KpiRow) -> list[str]:
    """One row's figures as shown and exported, in the order of the dashboard's columns:
    operations, ratings, satisfaction rate, one-stop ratio, average handling time (minutes),
    work items, overdue, completeness rate."""
    return [str(row.operations), str(row.rated), percent(row.satisfaction_rate),
            percent(row.one_stop_ratio), minutes(row.avg_handling_seconds),
            str(row.work_items), str(row.overdue), percent(row.completeness_rate)]


def rating_figures(row: KpiRow) -> list[str]:
    """One row's ratings (好差评) as shown and exported, in the order of the ratings table's
    columns: the five levels best first with the transactions left unrated for 7 days (counted
    as basically satisfied) beside basically satisfied, the satisfaction rate, the call-backs
    opened and their rate, the call-backs due in the period and the share done in time."""
    return [str(row.very_satisfied), str(row.satisfied), str(row.basically_satisfied),
            str(row.defaulted), str(row.dissatisfied), str(row.very_dissatisfied),
            percent(row.satisfaction_rate), str(row.callbacks_opened),
            percent(row.callback_rate), str(row.callbacks_due),
            percent(row.callbacks_in_time_rate)]


@dataclass(frozen=True)
class KpiSheet:
    """A report as the table shows it: the headings, a row per group, the total last."""

    headings: list[str]
    rows: list[list[str]]

    @classmethod
    def of(cls, report: KpiReport, headings: list[str], total: str, lang: Lang,
           columns: Callable[[KpiRow], list[str]] = figures) -> KpiSheet:
        """`headings`: the group column's, then one per figure of `columns`; `total`: the
        total row's name."""
        rows = [[group_name(report.by, row.key, lang), *columns(row)] for row in report.rows]
        return cls(headings, [*rows, [total, *columns(report.total)]])


def csv_bytes(sheet: KpiSheet) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to read the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.headings)
    writer.writerows(sheet.rows)
    return out.getvalue().encode("utf-8-sig")


_MARGIN = 15 * mm
_WIDTH = A4[0] - 2 * _MARGIN
_CHART_MAX_HEIGHT = 110 * mm  # two charts and the table's start fit the first page


def kpi_pdf(title: str, subtitle: str, sheet: KpiSheet, charts: Sequence[bytes],
            more: Sequence[KpiSheet] = ()) -> bytes:
    """An A4 report: the title, the charts (PNG images), then the table and the `more` tables
    after it (their headings repeated on each page), every glyph in the embedded CJK font."""
    with embedded_font() as font:
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=_MARGIN,
            bottomMargin=_MARGIN, title=title, author="HallClient",
            # The CJK font from the start, or an unused, non-embedded Helvetica lands in it.
            initialFontName=font)
        heading = ParagraphStyle("title", fontName=font, fontSize=16, leading=21)
        small = ParagraphStyle("subtitle", fontName=font, fontSize=10, leading=14,
                               textColor=colors.HexColor("#444444"))
        story = [Paragraph(escape(title), heading), Paragraph(escape(subtitle), small),
                 Spacer(0, 4 * mm)]
        for png in charts:
            story += [_image(png), Spacer(0, 3 * mm)]
        story.append(_table(sheet, font))
        for other in more:
            story += [Spacer(0, 6 * mm), _table(other, font)]
        doc.build(story)
        return buffer.getvalue()


def _image(png: bytes) -> Image:
    width, height = ImageReader(io.BytesIO(png)).getSize()
    scale = min(_WIDTH / width, _CHART_MAX_HEIGHT / height)
    return Image(io.BytesIO(png), width=width * scale, height=height * scale)


def _table(sheet: KpiSheet, font: str) -> Table:
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    header = [Paragraph(escape(text), cell) for text in sheet.headings]
    first = _WIDTH * 0.22
    rest = (_WIDTH - first) / (len(sheet.headings) - 1)
    table = Table([header, *sheet.rows], colWidths=[first] + [rest] * (len(sheet.headings) - 1),
                  repeatRows=1)
    total = len(sheet.rows)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 1), (-1, -1), 8.5),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e8ee")),
        ("BACKGROUND", (0, total), (-1, total), colors.HexColor("#f1f1f1")),
        ("LINEABOVE", (0, total), (-1, total), 0.8, colors.black),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#b0b0b0")),
    ]))
    return table
