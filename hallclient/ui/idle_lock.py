"""The counter PC stands in a public room: after some idle minutes the window hides what it
shows and asks the clerk's password again (checked locally, so it works offline too).

`IdleWatch` sees the key presses and mouse actions of the application; `LockDialog` covers the
window until the password is right, or the clerk logs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.ui.i18n import follow_language
from hallclient.ui.password_prompt import PasswordPrompt

IDLE_LOCK_MINUTES = 5.0
RESTING_MS = 2_000  # after an input, how long IdleWatch looks away (see there)

_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin,
})


class IdleWatch(QObject):
    """Emits `idle` once the application has had no input for `minutes`.

    It sees input through an event filter of the whole application, which runs Python for
    every event of every object, each time waiting for Python's lock while a worker holds it
    (printing, the sync): the window stalled for it (bench/ui_stalls.py). So after an input it
    takes its filter away for `resting_ms`: a clerk at work costs it an event a rest, and what
    that input starts (a search, a request, its receipt printed) runs without it. An input
    during a rest, unseen, counts as made at the rest's end: the lock comes `minutes` after
    the last input, at most a rest later, never sooner."""

    idle = Signal()

    def __init__(self, minutes: float = IDLE_LOCK_MINUTES, *,
                 clock: Callable[[], float] = time.monotonic, resting_ms: int = RESTING_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.limit = minutes * 60
        self._clock = clock
        self._last_input = clock()
        self._fired = False
        app = QApplication.instance()
        assert app is not None
        self._app = app
        self._rest = QTimer(self, singleShot=True, interval=resting_ms)
        self._rest.timeout.connect(self._watch)
        app.installEventFilter(self)
        self._timer = QTimer(self, interval=5_000)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS:
            self._input()
            self._app.removeEventFilter(self)
            self._rest.start()
        return False

    def _watch(self) -> None:
        self._input()  # any made during the rest
        self._app.installEventFilter(self)

    def _input(self) -> None:
        self._last_input = self._clock()
        self._fired = False

    def check(self) -> None:
        if not self._fired and self._clock() - self._last_input >= self.limit:
            self._fired = True
            self.idle.emit()


# (password) -> None when it is the clerk's, or raises: with the reason in both languages
# (a `reason` Text) to have it said; anything else is said in a fixed sentence
# (hallclient/ui/password_prompt.py)
CheckPassword = Callable[[str], None]


class LockDialog(QDialog):
    """Covers the counter window; only the clerk's password, or logging out, takes it away."""

    unlocked = Signal()
    logged_out = Signal()

    def __init__(self, clerk: str, check_password: CheckPassword,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clerk = clerk
        self._check = check_password
        self.setModal(True)
        self.title = QLabel(self)
        self.title.setStyleSheet("font-size: 16pt; font-weight: bold;")
        self.title.setWordWrap(True)  # a long name, or the other language's words
        self.unlock_button = QPushButton(self)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.unlock)
        self.password = PasswordPrompt(self.unlock_button, self)
        self.password.returnPressed.connect(self.unlock)
        self.message = self.password.message
        self.logout_button = QPushButton(self)
        self.logout_button.clicked.connect(self._log_out)
        buttons = QHBoxLayout()
        buttons.addWidget(self.logout_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.password)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.setMinimumWidth(420)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("HallClient is locked"))
        self.title.setText(self.tr("Locked: {clerk}, type your password").format(
            clerk=self.clerk))
        self.unlock_button.setText(self.tr("Unlock"))
        self.logout_button.setText(self.tr("Log out"))

    def unlock(self) -> None:
        self.password.check(self._check, on_passed=lambda _none: self._unlocked())

    def _unlocked(self) -> None:
        self.unlocked.emit()
        self.accept()

    def _log_out(self) -> None:
        self.logged_out.emit()
        self.accept()

    def reject(self) -> None:
        """Escape does not unlock."""
