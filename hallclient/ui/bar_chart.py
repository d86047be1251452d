"""A horizontal bar chart of rates (0–100%): a bar per group with its value written at the end,
green where it meets the target and red where it falls short, and the target as a line. A bar
short of the target says so in words beside its value too: the colour alone is lost on a
clerk who cannot tell red from green, and on a grey printout."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hallclient.reports import NO_FIGURE, percent
from hallclient.ui import palette

_TEXT = QColor(palette.TEXT)
_FAINT = QColor(palette.MUTED)
_GRID = QColor(palette.GRID)
_PAPER = QColor(palette.PAPER)
_MAX_PITCH, _MIN_PITCH = 30.0, 16.0  # room per bar, in logical pixels
_PAD = 8.0


class BarChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = ""
        self.bars: list[tuple[str, float | None]] = []
        self.target = 0.0
        self.target_label = ""
        self.values: list[str] = []  # written at the end of each bar
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_bars(self, title: str, bars: list[tuple[str, float | None]], target: float,
                  target_label: str, short_label: str) -> None:
        """`bars`: (group, rate or None) from top to bottom; `target`: a rate; `short_label`:
        the words beside the value of a bar short of it."""
        self.title, self.bars = title, bars
        self.target, self.target_label = target, target_label
        self.values = [percent(rate) if rate is None or rate >= target
                       else f"{percent(rate)} {short_label}" for _, rate in bars]
        self.updateGeometry()
        self.update()

    def _height(self, pitch: float) -> int:
        line = QFontMetricsF(self.font()).height()
        return round(2 * line + 2 * _PAD + max(len(self.bars), 1) * pitch + line)

    def sizeHint(self) -> QSize:
        return QSize(420, self._height(_MAX_PITCH))

    def minimumSizeHint(self) -> QSize:
        return QSize(260, self._height(_MIN_PITCH))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self._paint(painter, QRectF(self.rect()))
        painter.end()

    def png(self, width: int = 760, scale: float = 2.0) -> bytes:
        """The chart at `width` logical pixels and its natural height, for a document."""
        size = QSize(width, self._height(_MAX_PITCH))
        image = QImage(size * scale, QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(scale)
        painter = QPainter(image)
        self._paint(painter, QRectF(0, 0, size.width(), size.height()))
        painter.end()
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # (a stub error)
        return bytes(buffer.data().data())

    def _paint(self, painter: QPainter, area: QRectF) -> None:
        painter.fillRect(area, _PAPER)
        metrics = QFontMetricsF(self.font())
        line = metrics.height()
        title_font = QFont(self.font())
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(_TEXT)
        painter.drawText(QRectF(_PAD, _PAD, area.width() - 2 * _PAD, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        painter.setFont(self.font())
        if not self.bars:
            painter.setPen(_FAINT)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, NO_FIGURE)
            return
        top = _PAD + 2 * line + _PAD  # the title, then the target's label above the bars
        bottom = area.height() - _PAD - line  # the scale below
        pitch = min(_MAX_PITCH, (bottom - top) / len(self.bars))
        label_width = min(max(metrics.horizontalAdvance(name) for name, _ in self.bars),
                          area.width() * 0.35)
        left = _PAD + label_width + _PAD
        value_width = max(metrics.horizontalAdvance(text) for text in ["100.0%", *self.values])
        width = max(area.width() - left - value_width - 2 * _PAD, 1.0)
        rows_end = top + pitch * len(self.bars)
        self._scale(painter, left, width, top, rows_end)
        ends = []
        for n, (name, rate) in enumerate(self.bars):
            y = top + n * pitch
            painter.setPen(_TEXT)
            painter.drawText(QRectF(_PAD, y, label_width, pitch),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(name, Qt.TextElideMode.ElideRight, label_width))
            end = left
            if rate is not None:
                end = left + width * min(max(rate, 0.0), 1.0)
                painter.fillRect(QRectF(left, y + pitch * 0.18, end - left, pitch * 0.64),
                                 QColor(palette.OK if rate >= self.target
                                        else palette.REFUSED))
            ends.append((end, y, rate))
        self._target_line(painter, left + width * self.target, top, rows_end, line)
        # The values last, on white: the target line passes behind them, never through them.
        for (end, y, rate), text in zip(ends, self.values, strict=True):
            box = QRectF(end + 3, y + (pitch - line) / 2, metrics.horizontalAdvance(text) + 4,
                         line)
            painter.fillRect(box, _PAPER)
            painter.setPen(_TEXT if rate is not None else _FAINT)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _scale(self, painter: QPainter, left: float, width: float, top: float,
               rows_end: float) -> None:
        """Faint lines at every 25% and their figures under the bars."""
        metrics = QFontMetricsF(painter.font())
        for quarter in range(5):
            x = left + width * quarter / 4
            painter.setPen(QPen(_GRID if quarter else _FAINT, 1))
            painter.drawLine(round(x), round(top), round(x), round(rows_end))
            label = f"{quarter * 25}%"
            painter.setPen(_FAINT)
            painter.drawText(QRectF(x - 30, rows_end + 2, 60, metrics.height()),
                             Qt.AlignmentFlag.AlignCenter, label)

    def _target_line(self, painter: QPainter, x: float, top: float, rows_end: float,
                     line: float) -> None:
        pen = QPen(_TEXT, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(round(x), round(top - 2), round(x), round(rows_end))
        width = QFontMetricsF(painter.font()).horizontalAdvance(self.target_label) + 4
        painter.drawText(QRectF(x - width / 2, top - line - 2, width, line),
                         Qt.AlignmentFlag.AlignCenter, self.target_label)
