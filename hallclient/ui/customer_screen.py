"""The customer's screen: before a request that the customer signs is recorded, what is being
done for them (hallclient/counter/customer_view.py) and a pad to sign on with a mouse, a pen
or a finger; after the receipt, the rating (hallclient/ui/rating.py) in the same place.

On a second screen facing the customer when one is attached, full screen; else a dialog the
clerk turns toward the customer. A customer's screen unplugged while it is shown brings the
window back to the clerk's screen (the strokes drawn so far kept) and says so.

The request is shown in the language the receipt will be in (Chinese, or both for a customer
who reads English, Chinese first as on the receipt): what they sign is what the paper then
says. The buttons carry both languages, as the rating's do, whoever reads them.

Only the customer's own hand signs: no button is a default one and none takes the keyboard's
focus, so an Enter from the clerk's keyboard confirms nothing. Escape, like "不签名 / Decline",
records nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QScreen,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hallclient.counter.customer_view import CustomerView
from hallclient.counter.signature import SignatureRefused, Stroke, signature_png
from hallclient.ui import palette
from hallcore.domain.text import Text

_CHECK = Text("请核对以下业务信息，确认无误后在框内签名",
              "Please check what is being done for you, then sign in the box")
_CLEAR = Text("重签", "Clear")
_CONFIRM = Text("确认签名", "Confirm")
_DECLINE = Text("不签名", "Decline")


def _both(text: Text, between: str = " / ") -> str:
    return f"{text.zh}{between}{text.en}"


class ScreenWatch(QObject):
    """Watches the screen a customer's window was put on; `lost` when it is unplugged, after
    the window is back on the clerk's screen. A child of the window: it goes with it."""

    lost = Signal()

    def __init__(self, window: QWidget, screen: QScreen) -> None:
        super().__init__(window)
        self._window, self._screen = window, screen
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.screenRemoved.connect(self.screen_removed)

    def screen_removed(self, screen: QScreen) -> None:
        if screen is not self._screen or not self._window.isVisible():
            return
        window, clerks = self._window, QGuiApplication.primaryScreen()
        window.showNormal()
        room = clerks.availableGeometry()
        window.resize(min(window.width(), room.width()), min(window.height(), room.height()))
        window.move(room.topLeft())
        window.raise_()
        window.activateWindow()
        self.lost.emit()


def show_to_customer(dialog: QDialog) -> ScreenWatch | None:
    """Full screen on the customer's screen when there is one: a screen other than the one the
    clerk's window is on (watched, should it be unplugged); else a dialog on the clerk's."""
    parent = dialog.parentWidget()
    clerks = parent.screen() if parent is not None else QGuiApplication.primaryScreen()
    customers = next((s for s in QGuiApplication.screens() if s is not clerks), None)
    if customers is None:
        dialog.open()
        return None
    # Named, not only placed: two X screens both start at (0, 0), and by its geometry alone
    # the window would open over the clerk's.
    dialog.setScreen(customers)
    dialog.setGeometry(customers.geometry())
    dialog.showFullScreen()
    return ScreenWatch(dialog, customers)


class SignaturePad(QWidget):
    """Where the customer signs: strokes of a mouse, a tablet's pen or a finger, in the pad's
    logical pixels, drawn as they come."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strokes: list[list[tuple[float, float]]] = []
        self._drawing = False
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setMinimumSize(360, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setStyleSheet(f"background: {palette.PAPER};")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)

    def clear(self) -> None:
        self.strokes = []
        self._drawing = False
        self.update()
        self.changed.emit()

    # One path for every device: a stroke begins, goes on, ends.
    def _begin(self, at: QPointF) -> None:
        self._drawing = True
        self.strokes.append([(at.x(), at.y())])
        self.update()

    def _extend(self, at: QPointF) -> None:
        if self._drawing:
            self.strokes[-1].append((at.x(), at.y()))
            self.update()

    def _end(self) -> None:
        if self._drawing:
            self._drawing = False
            self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._extend(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:
        # Taken here, so Qt makes no mouse events of the pen as well.
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QEvent.Type.TabletMove:
            self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
                    QEvent.Type.TouchCancel):
            assert isinstance(event, QTouchEvent)
            points = event.points()
            if kind == QEvent.Type.TouchBegin and points:
                self._begin(points[0].position())
            elif kind == QEvent.Type.TouchUpdate and points:
                self._extend(points[0].position())
            else:
                self._end()
            event.accept()
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(Qt.GlobalColor.gray, 1, Qt.PenStyle.DashLine))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.setPen(QPen(Qt.GlobalColor.black, 3, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        for stroke in self.strokes:
            path = QPainterPath(QPointF(*stroke[0]))
            for point in stroke[1:]:
                path.lineTo(QPointF(*point))
            if len(stroke) == 1:
                painter.drawPoint(QPointF(*stroke[0]))
            else:
                painter.drawPath(path)
        painter.end()


class CustomerScreen(QDialog):
    """The request for the customer to check, and their signature. `signed` with the PNG
    (hallclient/counter/signature.py) when they confirm; `declined` when they do not sign."""

    signed = Signal(bytes)
    declined = Signal()
    moved_to_clerk = Signal()  # the customer's screen went: this window is on the clerk's

    def __init__(self, view: CustomerView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_both(_CHECK))
        self.view = view
        heading = QLabel(_both(_CHECK, "\n"), self)
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading.setWordWrap(True)
        heading.setStyleSheet("font-size: 18pt; font-weight: bold;")
        self.summary = QLabel(view.text(), self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setStyleSheet("font-size: 14pt;")
        self.pad = SignaturePad(self)
        self.pad.changed.connect(self._drawn)
        self.problem = QLabel(self)  # why a signature was not taken, in both languages
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"font-size: 14pt; color: {palette.REFUSED};")
        self.problem.hide()
        self.clear = self._button(_CLEAR, self.pad.clear)
        self.confirm = self._button(_CONFIRM, self._confirm)
        self.decline = self._button(_DECLINE, self.reject)
        actions = QHBoxLayout()
        actions.addWidget(self.decline)
        actions.addStretch(1)
        actions.addWidget(self.clear)
        actions.addWidget(self.confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.pad, 1)
        layout.addWidget(self.problem)
        layout.addLayout(actions)
        self.rejected.connect(self.declined)

    def _button(self, text: Text, action: Callable[[], None]) -> QPushButton:
        """A button the clerk's keyboard cannot press: never a default, never focused."""
        button = QPushButton(_both(text), self)
        button.setAutoDefault(False)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setStyleSheet("font-size: 16pt; padding: 8px 24px;")
        button.clicked.connect(action)
        return button

    @property
    def strokes(self) -> list[Stroke]:
        return list(self.pad.strokes)

    def _drawn(self) -> None:
        self.problem.hide()  # a refusal is about what was there: the customer signs again

    def _confirm(self) -> None:
        try:
            png = signature_png(self.pad.strokes)
        except SignatureRefused as refused:
            self.problem.setText(_both(refused.reason, "\n"))
            self.problem.show()
            return
        self.signed.emit(png)
        self.accept()

    def show_to_customer(self) -> None:
        watch = show_to_customer(self)
        if watch is not None:
            watch.lost.connect(self.moved_to_clerk)
