"""The KPI dashboard: where the hall stands on satisfaction, one-stop settling, handling time,
overdue work, information completeness and the call-backs of bad ratings over a period, by
business type, clerk or hall: the service figures in one table, the ratings on the five levels
of the national scheme (好差评) with their call-backs in another, the customers' waiting and
the requests' handling times by hour of the hall day in a third; exported as CSV (the table
shown) or PDF (all three). The figures come from the server (supervisors only)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hallclient.reports import (
    CALLBACK_TARGET,
    CALLBACKS_IN_TIME_TARGET,
    COMPLETENESS_TARGET,
    NO_FIGURE,
    ONE_STOP_TARGET,
    OVERDUE_TARGET,
    SATISFACTION_TARGET,
    Grouping,
    KpiSheet,
    Period,
    csv_bytes,
    group_name,
    kpi_pdf,
    minutes,
    percent,
    period_bounds,
    period_text,
    rating_figures,
    report_days,
)
from hallclient.sync.api import ServerUnreachable, ServerUntrusted, in_words
from hallclient.ui import palette
from hallclient.ui.background import run_in_background
from hallclient.ui.bar_chart import BarChart
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.deadlines import HALL_TZ
from hallcore.domain.text import Text
from hallcore.wire import KpiReport, KpiRow

log = logging.getLogger(__name__)

# (since, until exclusive, grouping) -> the report; raises as ServerApi does
Fetch = Callable[[datetime, datetime, str], KpiReport]


def _hall_now() -> datetime:
    return datetime.now(HALL_TZ)


def _target(rate: float) -> str:
    return f"{rate:.0%}"


def _met(figure: float | None, target: float, *, at_most: bool = False) -> bool | None:
    """Whether a figure meets its target; None without a figure."""
    if figure is None:
        return None
    return figure <= target if at_most else figure >= target


class _Figure(QFrame):
    """A headline figure: the value large, its name, its target or what it counts, and whether
    it meets the target, in words as well as in its colour (colour alone is lost on a clerk
    who cannot tell red from green, and on a grey printout)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.value = QLabel(NO_FIGURE, self)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 2.6)
        font.setBold(True)
        self.value.setFont(font)
        self.name = QLabel(self)
        bold = QFont(self.font())
        bold.setBold(True)
        self.name.setFont(bold)
        self.note = QLabel(self)
        self.note.setStyleSheet(palette.text_colour(palette.MUTED))
        self.verdict = QLabel(self)
        self.verdict.setFont(bold)
        layout = QVBoxLayout(self)
        for label in (self.value, self.name, self.note, self.verdict):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)

    def show_figure(self, value: str, colour: str, name: str, note: str,
                    verdict: str = "") -> None:
        """`verdict`: whether the figure meets its target, in words; `colour` says the same."""
        self.value.setText(value)
        self.name.setText(name)
        self.note.setText(note)
        self.verdict.setText(verdict)
        for label in (self.value, self.verdict):
            label.setStyleSheet(palette.text_colour(colour))


class KpiDashboard(QDialog):
    """Opens on the last 7 days by business type; `fetch` is called off the UI thread."""

    loaded = Signal(object)  # the KpiReport now shown
    failed = Signal(str)  # what went wrong (fetching or saving), in words
    exported = Signal(str)  # the file written

    def __init__(self, fetch: Fetch, *, hall: Text, now: Callable[[], datetime] = _hall_now,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self.hall = hall
        self._now = now
        self.report: KpiReport | None = None
        self._asked = 0  # the latest request; an older answer arriving late is dropped
        self._exporting = False
        self._build()
        follow_language(self, self.retranslate)
        self.refresh()

    def _build(self) -> None:
        self.period_label = QLabel(self)
        self.period = QComboBox(self)
        for period in Period:
            self.period.addItem("", period)
        self.period.setCurrentIndex(self.period.findData(Period.LAST_7_DAYS))
        self.grouping_label = QLabel(self)
        self.grouping = QComboBox(self)
        for grouping in Grouping:
            self.grouping.addItem("", grouping)
        self.period.currentIndexChanged.connect(self.refresh)
        self.grouping.currentIndexChanged.connect(self.refresh)
        self.refresh_button = QPushButton(self)
        self.refresh_button.clicked.connect(self.refresh)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.refresh)
        self.csv_button = QPushButton(self)
        self.csv_button.clicked.connect(self.export_csv)
        self.pdf_button = QPushButton(self)
        self.pdf_button.clicked.connect(self.export_pdf)
        self.close_button = QPushButton(self)
        self.close_button.clicked.connect(self.reject)
        controls = QHBoxLayout()
        for widget in (self.period_label, self.period, self.grouping_label, self.grouping,
                       self.refresh_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        for widget in (self.csv_button, self.pdf_button, self.close_button):
            controls.addWidget(widget)
        self.caption = QLabel(self)  # what the figures cover
        caption_font = QFont(self.font())
        caption_font.setPointSizeF(caption_font.pointSizeF() * 1.2)
        caption_font.setBold(True)
        self.caption.setFont(caption_font)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        (self.satisfaction, self.one_stop, self.handling, self.overdue, self.completeness,
         self.callbacks, self.callbacks_in_time) = (_Figure(self) for _ in range(7))
        headline = QHBoxLayout()
        for figure in (self.satisfaction, self.one_stop, self.handling, self.overdue,
                       self.completeness, self.callbacks, self.callbacks_in_time):
            headline.addWidget(figure)
        self.satisfaction_chart = BarChart(self)
        self.one_stop_chart = BarChart(self)
        charts = QWidget(self)
        charts_layout = QHBoxLayout(charts)
        charts_layout.setContentsMargins(0, 0, 0, 0)
        charts_layout.addWidget(self.satisfaction_chart)
        charts_layout.addWidget(self.one_stop_chart)
        self.tables = QTabWidget(self)
        self.table, self.ratings_table, self.hours_table = (
            _table(self.tables) for _ in range(3))
        self.tables.addTab(self.table, "")
        self.tables.addTab(self.ratings_table, "")
        self.tables.addTab(self.hours_table, "")
        body = QSplitter(Qt.Orientation.Vertical, self)
        body.addWidget(charts)
        body.addWidget(self.tables)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        about = QHBoxLayout()
        about.addWidget(self.caption)
        about.addWidget(self.status, 1)
        layout.addLayout(about)
        layout.addLayout(headline)
        layout.addWidget(body, 1)
        room = self.screen().availableGeometry()
        self.resize(min(1200, room.width()), min(760, room.height()))

    # --- words -----------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.setWindowTitle(self._title())
        self.period_label.setText(self.tr("Period"))
        for n, text in enumerate((self.tr("Today"), self.tr("Last 7 days"),
                                  self.tr("Last 30 days"), self.tr("This month"))):
            self.period.setItemText(n, text)
        self.grouping_label.setText(self.tr("Group by"))
        for grouping in Grouping:
            self.grouping.setItemText(self.grouping.findData(grouping),
                                      self._grouping_name(grouping))
        self.refresh_button.setText(self.tr("Refresh (F5)"))
        self.csv_button.setText(self.tr("Export CSV…"))
        self.pdf_button.setText(self.tr("Export PDF…"))
        self.close_button.setText(self.tr("Close"))
        self.tables.setTabText(0, self.tr("Service figures"))
        self.tables.setTabText(1, self.tr("Ratings and call-backs"))
        self.tables.setTabText(2, self.tr("Waiting and handling by hour"))
        self._show(self.report)

    def _title(self) -> str:
        return self.tr("Service KPIs: {hall}").format(hall=self.hall[current_language()])

    def _grouping_name(self, grouping: Grouping) -> str:
        return {Grouping.BUSINESS_TYPE: self.tr("Business type"),
                Grouping.CLERK: self.tr("Clerk"), Grouping.HALL: self.tr("Hall")}[grouping]

    def _sheet(self, report: KpiReport) -> KpiSheet:
        """The table as shown, and as exported."""
        headings = [self._grouping_name(Grouping(report.by)), self.tr("Operations"),
                    self.tr("Ratings"), self.tr("Satisfaction rate"), self.tr("One-stop ratio"),
                    self.tr("Avg handling (min)"), self.tr("Items due in period"),
                    self.tr("Overdue"), self.tr("Completeness rate")]
        return KpiSheet.of(report, headings, self.tr("Total"), current_language())

    def _ratings_sheet(self, report: KpiReport) -> KpiSheet:
        """The ratings table as shown, and as exported: `rating_figures`' columns."""
        headings = [self._grouping_name(Grouping(report.by)), self.tr("Very satisfied"),
                    self.tr("Satisfied"), self.tr("Basically satisfied"),
                    self.tr("Unrated for 7 days"), self.tr("Dissatisfied"),
                    self.tr("Very dissatisfied"), self.tr("Satisfaction rate"),
                    self.tr("Call-backs opened"), self.tr("Call-back rate"),
                    self.tr("Call-backs due"), self.tr("Called back in time")]
        return KpiSheet.of(report, headings, self.tr("Total"), current_language(),
                           rating_figures)

    def _hours_sheet(self, report: KpiReport) -> KpiSheet:
        """Waiting and handling times by hour of the hall day (a customer's wait in the hour
        their ticket was issued, each visit once), the hall's whole day last."""
        headings = [self.tr("Hour"), self.tr("Customers who waited"),
                    self.tr("Avg wait (min)"), self.tr("Median wait (min)"),
                    self.tr("90% waited at most (min)"), self.tr("Requests timed"),
                    self.tr("Avg handling (min)")]
        several = len({row.hall for row in report.hours}) > 1
        rows = []
        for row in report.hours:
            hour = self.tr("Whole day") if row.hour is None else (
                f"{row.hour:02d}:00–{row.hour + 1:02d}:00")
            rows.append([f"{row.hall} {hour}" if several else hour, str(row.waits),
                         minutes(row.avg_waiting_seconds), minutes(row.median_waiting_seconds),
                         minutes(row.p90_waiting_seconds), str(row.handled),
                         minutes(row.avg_handling_seconds)])
        return KpiSheet(headings, rows)

    # --- the report ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Ask the server for the chosen period and grouping, off the UI thread."""
        since, until = period_bounds(Period(self.period.currentData()), self._now())
        by = str(self.grouping.currentData())
        self._asked += 1
        asked = self._asked
        self._say(self.tr("Loading…"))
        run_in_background(self, lambda: self._fetch(since, until, by),
                          on_done=lambda report: self._loaded(asked, report),
                          on_error=lambda error: self._not_loaded(asked, error))

    def _loaded(self, asked: int, report: KpiReport) -> None:
        if asked != self._asked:
            return
        self._say("")
        self._show(report)
        self.loaded.emit(report)

    def _not_loaded(self, asked: int, error: Exception) -> None:
        if asked != self._asked:
            return
        self._show(None)  # figures of another period or grouping would mislead
        self._fail(self._reason(error))

    def _reason(self, error: Exception) -> str:
        if isinstance(error, ServerUnreachable) and not isinstance(error, ServerUntrusted):
            return self.tr("The server cannot be reached; the dashboard needs it. "
                           "Try again with Refresh (F5).")
        words = in_words(error)  # e.g. the server's 403: supervisors only
        if words is None:
            log.error("KPI report: %s", type(error).__name__, exc_info=error)
            return self.tr("The figures could not be loaded: an unexpected error, written to "
                           "the log.")
        return words[current_language()]

    def _show(self, report: KpiReport | None) -> None:
        self.report = report
        self._enable_exports()
        self.caption.setVisible(report is not None)
        if report is not None:
            self.caption.setText(f"{self.hall[current_language()]} · "
                                 f"{period_text(report.since, report.until)}")
        self._show_headline(report.total if report else None)
        self._show_charts(report)
        self._show_table(report)

    def _judged(self, met: bool | None) -> tuple[str, str]:
        """A figure's colour and the words that say the same: green and "target met", red and
        "target not met"; grey and nothing without a figure."""
        if met is None:
            return palette.MUTED, ""
        if met:
            return palette.OK, self.tr("Target met")
        return palette.REFUSED, self.tr("Target not met")

    def _show_headline(self, total: KpiRow | None) -> None:
        target = self.tr("target {t}")
        for figure, rate, goal, name in (
                (self.satisfaction, total.satisfaction_rate if total else None,
                 SATISFACTION_TARGET, self.tr("Satisfaction rate")),
                (self.one_stop, total.one_stop_ratio if total else None, ONE_STOP_TARGET,
                 self.tr("One-stop ratio")),
                (self.completeness, total.completeness_rate if total else None,
                 COMPLETENESS_TARGET, self.tr("Completeness rate"))):
            colour, verdict = self._judged(_met(rate, goal))
            figure.show_figure(percent(rate), colour, name, target.format(t=_target(goal)),
                               verdict)
        handling = total.avg_handling_seconds if total else None
        self.handling.show_figure(
            NO_FIGURE if handling is None else self.tr("{m} min").format(m=minutes(handling)),
            palette.MUTED if handling is None else palette.TEXT, self.tr("Average handling time"),
            self.tr("{n} operations").format(n=total.operations) if total else "")
        self.satisfaction.setToolTip(self.tr(
            "Very satisfied, satisfied and basically satisfied, of all ratings. A transaction "
            "left unrated for 7 days counts as basically satisfied: {n} in this period.").format(
            n=total.defaulted if total else 0))
        self._show_callbacks(total, target)
        colour, verdict = self._judged(
            _met(total.overdue if total else None, OVERDUE_TARGET, at_most=True))
        self.overdue.show_figure(
            NO_FIGURE if total is None else str(total.overdue), colour,
            self.tr("Overdue work items"),
            self.tr("of {n} due in the period").format(n=total.work_items) if total else "",
            verdict)
        # The counter's list shows every open item, most of them due after the period: the
        # figure counts by deadline, and says so where a supervisor compares the two.
        self.overdue.setToolTip(self.tr(
            "Work items whose deadline falls in the period: overdue if done after it, or still "
            "open once it has passed. Items due later are not counted here; the counter's list "
            "of the hall's work items shows every open one."))

    def _show_callbacks(self, total: KpiRow | None, target: str) -> None:
        """Every bad rating called back, and in time: each figure against 100%."""
        rate = total.callback_rate if total else None
        colour, verdict = self._judged(_met(rate, CALLBACK_TARGET))
        self.callbacks.show_figure(
            percent(rate), colour, self.tr("Call-back rate"),
            self.tr("{n} opened").format(n=total.callbacks_opened) if total else "", verdict)
        self.callbacks.setToolTip(self.tr(
            "Call-backs opened for the dissatisfied and very dissatisfied ratings of the "
            "period's transactions, of those ratings; target {t}.").format(
            t=_target(CALLBACK_TARGET)))
        in_time = total.callbacks_in_time_rate if total else None
        colour, verdict = self._judged(_met(in_time, CALLBACKS_IN_TIME_TARGET))
        self.callbacks_in_time.show_figure(
            percent(in_time), colour, self.tr("Called back in time"),
            self.tr("of {n} due in the period").format(n=total.callbacks_due) if total else "",
            verdict)
        self.callbacks_in_time.setToolTip(self.tr(
            "Call-backs whose deadline falls in the period, done by their deadline; {t}.")
            .format(t=target.format(t=_target(CALLBACKS_IN_TIME_TARGET))))

    def _show_charts(self, report: KpiReport | None) -> None:
        lang = current_language()
        rows = [] if report is None else [(group_name(report.by, row.key, lang), row)
                                          for row in report.rows]
        target = self.tr("target {t}")
        short = self.tr("below target")
        self.satisfaction_chart.show_bars(
            self.tr("Satisfaction rate"), [(name, row.satisfaction_rate) for name, row in rows],
            SATISFACTION_TARGET, target.format(t=_target(SATISFACTION_TARGET)), short)
        self.one_stop_chart.show_bars(
            self.tr("One-stop ratio"), [(name, row.one_stop_ratio) for name, row in rows],
            ONE_STOP_TARGET, target.format(t=_target(ONE_STOP_TARGET)), short)

    def _show_table(self, report: KpiReport | None) -> None:
        _fill(self.table, None if report is None else self._sheet(report))
        _fill(self.ratings_table, None if report is None else self._ratings_sheet(report),
              headings_in_two_lines=True)
        _fill(self.hours_table, None if report is None else self._hours_sheet(report),
              headings_in_two_lines=True)

    # --- messages --------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.status.setStyleSheet(palette.text_colour(palette.TEXT))
        self.status.setText(text)

    def _fail(self, text: str) -> None:
        self.status.setStyleSheet(palette.text_colour(palette.REFUSED))
        self.status.setText(text)
        self.failed.emit(text)

    # --- export ----------------------------------------------------------------------------

    def _enable_exports(self) -> None:
        ready = self.report is not None and not self._exporting
        self.csv_button.setEnabled(ready)
        self.pdf_button.setEnabled(ready)

    def _shown(self, report: KpiReport) -> tuple[str, KpiSheet]:
        """The table shown, named for its file."""
        if self.tables.currentWidget() is self.ratings_table:
            return "kpi-ratings", self._ratings_sheet(report)
        if self.tables.currentWidget() is self.hours_table:
            return "kpi-hours", self._hours_sheet(report)
        return "kpi", self._sheet(report)

    def _save_path(self, report: KpiReport, caption: str, suffix: str, kind: str) -> str:
        first, last = report_days(report.since, report.until)
        what = self._shown(report)[0] if suffix == "csv" else "kpi"
        name = f"{what}-{first:%Y%m%d}-{last:%Y%m%d}-{report.by}.{suffix}"
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation)
        path, _filter = QFileDialog.getSaveFileName(self, caption, str(Path(folder) / name),
                                                    kind)
        return path

    def export_csv(self) -> None:
        if self.report is None:
            return
        path = self._save_path(self.report, self.tr("Export CSV"), "csv",
                               self.tr("CSV files (*.csv)"))
        if path:  # the table shown
            sheet = self._shown(self.report)[1]
            self._write(path, lambda: csv_bytes(sheet))

    def export_pdf(self) -> None:
        if self.report is None:
            return
        path = self._save_path(self.report, self.tr("Export PDF"), "pdf",
                               self.tr("PDF files (*.pdf)"))
        if not path:
            return
        sheet, ratings = self._sheet(self.report), self._ratings_sheet(self.report)
        hours = self._hours_sheet(self.report)
        title = self._title()
        subtitle = self.tr("Period: {days} · Grouped by: {grouping} · Made: {made}").format(
            days=period_text(self.report.since, self.report.until),
            grouping=self._grouping_name(Grouping(self.report.by)),
            made=f"{self._now().astimezone(HALL_TZ):%Y-%m-%d %H:%M}")
        charts = [self.satisfaction_chart.png(), self.one_stop_chart.png()]  # Qt: the UI thread
        self._write(path, lambda: kpi_pdf(title, subtitle, sheet, charts, more=[ratings, hours]))

    def _write(self, path: str, make: Callable[[], bytes]) -> None:
        """Build the file and write it off the UI thread (a PDF takes a moment, a network drive
        longer)."""
        self._exporting = True
        self._enable_exports()
        self._say(self.tr("Saving {path}…").format(path=path))
        run_in_background(self, lambda: Path(path).write_bytes(make()),
                          on_done=lambda _size: self._written(path),
                          on_error=lambda error: self._not_written(path, error))

    def _written(self, path: str) -> None:
        self._exporting = False
        self._enable_exports()
        self._say(self.tr("Saved {path}").format(path=path))
        self.exported.emit(path)

    def _not_written(self, path: str, error: Exception) -> None:
        self._exporting = False
        self._enable_exports()
        if isinstance(error, OSError) and error.strerror:
            reason = error.strerror  # the folder is missing, the disk full, the file open
        else:  # never the exception's own text: a programmer's words, in English
            log.error("KPI export: %s", type(error).__name__, exc_info=error)
            reason = self.tr("an unexpected error, written to the log")
        self._fail(self.tr("{path} could not be saved: {reason}").format(path=path,
                                                                         reason=reason))


def _table(parent: QWidget) -> QTableWidget:
    table = QTableWidget(parent)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    header.setMinimumSectionSize(60)
    return table


def _two_lines(heading: str) -> str:
    """A heading of several words broken at the space nearest its middle."""
    spaces = [i for i, char in enumerate(heading) if char == " "]
    if not spaces:
        return heading
    middle = min(spaces, key=lambda i: abs(2 * i - len(heading)))
    return f"{heading[:middle]}\n{heading[middle + 1:]}"


def _fill(table: QTableWidget, sheet: KpiSheet | None, *,
          headings_in_two_lines: bool = False) -> None:
    """The sheet's rows in the table, the total last in bold; empty without a sheet. A table
    of many columns gets its headings in two lines, so that they fit the columns."""
    table.clear()
    if sheet is None:
        table.setRowCount(0)
        table.setColumnCount(0)
        return
    table.setColumnCount(len(sheet.headings))
    # The group's name in full (an English business type is long); the figures share the rest.
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.setHorizontalHeaderLabels([_two_lines(h) if headings_in_two_lines else h
                                     for h in sheet.headings])
    table.setRowCount(len(sheet.rows))
    bold = QFont(table.font())
    bold.setBold(True)
    for r, cells in enumerate(sheet.rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if r == len(sheet.rows) - 1:
                item.setFont(bold)
            table.setItem(r, c, item)
