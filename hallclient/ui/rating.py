"""The customer rates the transaction on the five levels of the national scheme (好差评): five
large bilingual buttons, best first, one tap, an optional comment; for the two lowest the
window asks what went wrong before it records the rating (the hall calls the customer back).
Shown where the customer signs a request (hallclient/ui/customer_screen.py): a second screen
facing the customer when one is attached, full screen; else a dialog the clerk turns toward
the customer.

Both languages are on every button at once: the customer may read either, whatever language
the clerk's window is in.

Only the customer's own choice rates: no button is a default one and none takes the
keyboard's focus, so an Enter (or Space) from the clerk's keyboard records nothing on the
customer's behalf. The keys 5 to 1 (a rating keypad's, or the number row's) are the levels'
scores, as each button shows; they rate while the comment is empty, and are the customer's
words once they write one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent
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
from hallclient.ui.customer_screen import show_to_customer
from hallcore.domain.text import Text
from hallcore.wire import Rating

RATING_LABELS: dict[Rating, Text] = {
    Rating.VERY_SATISFIED: Text("非常满意", "Very satisfied"),
    Rating.SATISFIED: Text("满意", "Satisfied"),
    Rating.BASICALLY_SATISFIED: Text("基本满意", "Basically satisfied"),
    Rating.DISSATISFIED: Text("不满意", "Dissatisfied"),
    Rating.VERY_DISSATISFIED: Text("非常不满意", "Very dissatisfied"),
}
_COLOURS = {Rating.VERY_SATISFIED: palette.OK, Rating.SATISFIED: palette.OK,
            Rating.BASICALLY_SATISFIED: palette.WARNING, Rating.DISSATISFIED: palette.REFUSED,
            Rating.VERY_DISSATISFIED: palette.REFUSED}
# The keys of the levels' scores, on the number row and on a keypad alike.
_KEYS = {Qt.Key.Key_5: Rating.VERY_SATISFIED, Qt.Key.Key_4: Rating.SATISFIED,
         Qt.Key.Key_3: Rating.BASICALLY_SATISFIED, Qt.Key.Key_2: Rating.DISSATISFIED,
         Qt.Key.Key_1: Rating.VERY_DISSATISFIED}
_ASK = Text("请您对本次服务进行评价", "Please rate our service today")
_REASON = Text("意见或建议（可不填）", "Your comment (optional)")
_SKIP = Text("不评价", "No rating")
_ASK_REASON = Text("请告诉我们哪里让您不满意，我们会回访您",
                   "Please tell us what went wrong: we will call you back")
_WHAT_WENT_WRONG = Text("不满意的原因", "What went wrong")
_SUBMIT = Text("提交评价", "Submit")
_BACK = Text("返回重选", "Back")


LEVEL_POINTS = 18  # the five levels' type, large enough to read standing at the counter
LEVEL_PADDING = 8


def _both(text: Text, between: str = "\n") -> str:
    return f"{text.zh}{between}{text.en}"


def _button(text: str, parent: QWidget) -> QPushButton:
    """A button that is never the default: the clerk's Enter does not press it."""
    button = QPushButton(text, parent)
    button.setAutoDefault(False)
    return button


class RatingWindow(QDialog):
    rated = Signal(object, object)  # Rating, reason (str | None)
    moved_to_clerk = Signal()  # the customer's screen went: this window is on the clerk's

    def __init__(self, receipt_no: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_both(_ASK, " / "))
        self._chosen: Rating | None = None  # a bad rating waiting for its reason
        self.question = QLabel(_both(_ASK), self)
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.question.setWordWrap(True)
        self.question.setStyleSheet("font-size: 24pt; font-weight: bold;")
        receipt = QLabel(receipt_no, self)
        receipt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(MAX_REASON)
        self.reason.setStyleSheet("font-size: 14pt; padding: 6px;")
        self.reason.installEventFilter(self)
        self.reason.returnPressed.connect(self._reason_given)
        self.buttons: dict[Rating, QPushButton] = {}
        self._levels = QWidget(self)
        row = QHBoxLayout(self._levels)
        row.setContentsMargins(0, 0, 0, 0)
        level_font = QFont(self.font())
        level_font.setPointSize(LEVEL_POINTS)
        for rating, label in RATING_LABELS.items():
            text = f"{rating.score}  {_both(label)}"
            button = _button(text, self._levels)
            # As wide as its longest line in the style sheet's type: "Very dissatisfied" is.
            wide = max(QFontMetrics(level_font).horizontalAdvance(line)
                       for line in text.splitlines())
            button.setMinimumSize(max(170, wide + 2 * LEVEL_PADDING + 8), 140)
            button.setStyleSheet(f"font-size: {LEVEL_POINTS}pt; color: {palette.PAPER}; "
                                 f"background: {_COLOURS[rating]}; border-radius: 12px; "
                                 f"padding: {LEVEL_PADDING}px;")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, r=rating: self._choose(r))
            self.buttons[rating] = button
            row.addWidget(button)
        self.skip = _button(_both(_SKIP, " / "), self)
        self.skip.clicked.connect(self.reject)
        self.back = _button(_both(_BACK, " / "), self)
        self.back.clicked.connect(self._ask_level)
        self.submit = _button(_both(_SUBMIT, " / "), self)
        self.submit.clicked.connect(self._reason_given)
        for button in (self.back, self.submit):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setStyleSheet("font-size: 16pt; padding: 8px 24px;")
        # Below the reason while it is asked for, where the five levels were.
        self._room = QWidget(self)
        actions = QHBoxLayout()
        actions.addWidget(self.back)
        actions.addStretch(1)
        actions.addWidget(self.submit)
        actions.addWidget(self.skip)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question)
        layout.addWidget(receipt)
        layout.addWidget(self._levels, 1)
        layout.addWidget(self.reason)
        layout.addLayout(actions)
        layout.addWidget(self._room, 1)
        self._ask_level()

    @property
    def asking_reason(self) -> bool:
        return self._chosen is not None

    def _ask_level(self) -> None:
        """The five levels, the optional comment (what was written stays)."""
        self._chosen = None
        self.question.setText(_both(_ASK))
        self.reason.setPlaceholderText(_both(_REASON, " / "))
        self._levels.show()
        self._room.hide()
        self.skip.show()
        self.back.hide()
        self.submit.hide()
        self.reason.setFocus()

    def _ask_reason(self, rating: Rating) -> None:
        self._chosen = rating
        label = RATING_LABELS[rating]
        self.question.setText(f"{_ASK_REASON.zh}（{label.zh}）\n{_ASK_REASON.en} ({label.en})")
        self.reason.setPlaceholderText(_both(_WHAT_WENT_WRONG, " / "))
        self._levels.hide()
        self._room.show()
        self.skip.hide()
        self.back.show()
        self.submit.show()
        self.reason.setFocus()

    def _choose(self, rating: Rating) -> None:
        if rating.is_bad and not self.reason.text().strip():
            self._ask_reason(rating)
        else:
            self._rate(rating)

    def _reason_given(self) -> None:
        if self._chosen is not None:  # Enter in the comment before a level is chosen: nothing
            self._rate(self._chosen)

    def _rate(self, rating: Rating) -> None:
        self.rated.emit(rating, self.reason.text().strip() or None)
        self.accept()

    def _level_key(self, event: QKeyEvent) -> Rating | None:
        """The level a key press chooses: a score's key, with no modifier but the keypad's,
        while the five levels are shown and the comment is empty."""
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if (self._chosen is not None or self.reason.text()
                or modifiers != Qt.KeyboardModifier.NoModifier):
            return None
        return _KEYS.get(Qt.Key(event.key()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The comment has the keyboard: a score's key rates before it would be typed in.
        if watched is self.reason and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            rating = self._level_key(event)
            if rating is not None:
                self._choose(rating)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._chosen is not None and event.key() == Qt.Key.Key_Escape:
            self._ask_level()  # back to the five levels: a mistaken tap is put right
            return
        rating = self._level_key(event)
        if rating is not None:
            self._choose(rating)
            return
        super().keyPressEvent(event)

    def show_to_customer(self) -> None:
        """Where the customer's screen is (hallclient/ui/customer_screen.py), and back on the
        clerk's should it be unplugged."""
        watch = show_to_customer(self)
        if watch is not None:
            watch.lost.connect(self.moved_to_clerk)
