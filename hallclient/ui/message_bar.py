"""The counter's one message area, at the form: what the last step did, with its severity.

A refusal is red with an error icon, a confirmation green with a tick, a warning amber, a
note plain: the icon and the words say it too, colour is never the only signal. A message is
kept as words that can be said again, so a language switch (Ctrl+L) retranslates it; the
window clears it when the clerk changes what it was about.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QWidget

from hallclient.ui import palette
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.text import Text, sentence

# What a message says, in the language current when it is shown: a bilingual Text (a domain
# text, shown as a sentence), or a function that translates (a widget's self.tr(...) again).
Words = Text | Callable[[], str]


class Severity(Enum):
    NOTE = "note"
    DONE = "done"
    WARNING = "warning"
    REFUSED = "refused"


_COLOURS = {Severity.NOTE: palette.TEXT, Severity.DONE: palette.OK,
            Severity.WARNING: palette.WARNING, Severity.REFUSED: palette.REFUSED}
_ICONS = {Severity.NOTE: QStyle.StandardPixmap.SP_MessageBoxInformation,
          Severity.DONE: QStyle.StandardPixmap.SP_DialogApplyButton,
          Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
          Severity.REFUSED: QStyle.StandardPixmap.SP_MessageBoxCritical}


class MessageBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.severity: Severity | None = None
        self._words: Words | None = None
        self.icon = QLabel(self)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        self.hide()
        follow_language(self, self._render)

    def say(self, words: Words, severity: Severity = Severity.NOTE) -> None:
        self._words, self.severity = words, severity
        self._render()

    def clear(self) -> None:
        self._words = self.severity = None
        self._render()

    def text(self) -> str:
        """What the clerk reads now ("" when there is no message)."""
        return self.label.text() if self._words is not None else ""

    def _render(self) -> None:
        words, severity = self._words, self.severity
        if words is None or severity is None:
            self.label.clear()
            self.hide()
            return
        self.label.setText(sentence(words[current_language()]) if isinstance(words, Text)
                           else words())
        colour = _COLOURS[severity]
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.icon.setPixmap(self.style().standardIcon(_ICONS[severity]).pixmap(size, size))
        self.setStyleSheet(f"#messageBar {{ border: 1px solid {colour}; border-radius: 4px; }}"
                           f" #messageBar QLabel {{ color: {colour}; }}")
        self.show()
