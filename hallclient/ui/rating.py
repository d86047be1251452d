"""The customer rates the transaction: three large bilingual buttons, one tap, an optional
reason. On a second screen facing the customer when one is attached, full screen; else a
dialog the clerk turns toward the customer.

Both languages are on every button at once: the customer may read either, whatever language
the clerk's window is in.

Only the customer's own tap rates: no button is a default one and none takes the keyboard's
focus, so an Enter (or Space) from the clerk's keyboard records nothing on the customer's
behalf.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.store.feedback import MAX_REASON
from hallclient.ui import palette
from hallcore.domain.text import Text
from hallcore.wire import Rating

RATING_LABELS: dict[Rating, Text] = {
    Rating.SATISFIED: Text("满意", "Satisfied"),
    Rating.BASICALLY_SATISFIED: Text("基本满意", "Basically satisfied"),
    Rating.DISSATISFIED: Text("不满意", "Dissatisfied"),
}
_COLOURS = {Rating.SATISFIED: palette.OK, Rating.BASICALLY_SATISFIED: palette.WARNING,
            Rating.DISSATISFIED: palette.REFUSED}
_ASK = Text("请您对本次服务进行评价", "Please rate our service today")
_REASON = Text("意见或建议（可不填）", "Your comment (optional)")
_SKIP = Text("不评价", "No rating")


def _both(text: Text) -> str:
    return f"{text.zh}\n{text.en}"


class RatingWindow(QDialog):
    rated = Signal(object, object)  # Rating, reason (str | None)

    def __init__(self, receipt_no: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{_ASK.zh} / {_ASK.en}")
        question = QLabel(_both(_ASK), self)
        question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        question.setStyleSheet("font-size: 24pt; font-weight: bold;")
        receipt = QLabel(receipt_no, self)
        receipt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(MAX_REASON)
        self.reason.setPlaceholderText(f"{_REASON.zh} / {_REASON.en}")
        self.reason.setStyleSheet("font-size: 14pt; padding: 6px;")
        self.buttons: dict[Rating, QPushButton] = {}
        row = QHBoxLayout()
        for rating, label in RATING_LABELS.items():
            button = QPushButton(_both(label), self)
            button.setMinimumSize(220, 140)
            button.setStyleSheet(f"font-size: 22pt; color: {palette.PAPER}; background: "
                                 f"{_COLOURS[rating]}; border-radius: 12px;")
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, r=rating: self._rate(r))
            self.buttons[rating] = button
            row.addWidget(button)
        self.skip = QPushButton(f"{_SKIP.zh} / {_SKIP.en}", self)
        self.skip.setAutoDefault(False)
        self.skip.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addWidget(receipt)
        layout.addLayout(row, 1)
        layout.addWidget(self.reason)
        layout.addWidget(self.skip, alignment=Qt.AlignmentFlag.AlignRight)

    def _rate(self, rating: Rating) -> None:
        self.rated.emit(rating, self.reason.text().strip() or None)
        self.accept()

    def show_to_customer(self) -> None:
        """Full screen on the second screen when there is one, else a dialog on this one."""
        screens = QGuiApplication.screens()
        if len(screens) > 1:
            self.setGeometry(screens[1].geometry())
            self.showFullScreen()
        else:
            self.open()
