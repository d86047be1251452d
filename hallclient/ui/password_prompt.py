"""The password field of the login, the lock screen and the supervisor's sign-off, with the
line under it that says why a password was refused.

The check (the server, or a slow local hash) runs off the UI thread with the dialog's button
disabled, so a second Enter does not check twice; a refused password is emptied and the
cursor put back for another try, the reason in the refusal colour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget

from hallclient.ui import palette
from hallclient.ui.background import run_in_background

T = TypeVar("T")


class PasswordPrompt(QLineEdit):
    """The field; `message` is the line its dialog lays out for what the check said."""

    def __init__(self, button: QPushButton, parent: QWidget) -> None:
        super().__init__(parent)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self._button = button  # the dialog's button that starts the check
        self.message = QLabel(parent)
        self.message.setWordWrap(True)

    def check(self, check: Callable[[str], T], on_passed: Callable[[T], None]) -> None:
        """Check the typed password off the UI thread; `on_passed` gets what `check` returned,
        and an exception it raised is said as the refusal. Nothing happens without a password
        or while a check runs."""
        password = self.text()
        if not password or not self._button.isEnabled():
            return
        self._button.setEnabled(False)
        run_in_background(self, lambda: check(password),
                          on_done=lambda result: self._passed(result, on_passed),
                          on_error=self.refuse)

    def _passed(self, result: T, on_passed: Callable[[T], None]) -> None:
        self.clear()
        on_passed(result)

    def refuse(self, reason: Exception | str) -> None:
        self._button.setEnabled(True)
        self.clear()
        self.setFocus()
        self.message.setStyleSheet(palette.text_colour(palette.REFUSED))
        self.message.setText(str(reason))

    def say(self, text: str) -> None:
        """A message that is no refusal (what is going on, what is missing)."""
        self.message.setStyleSheet("")
        self.message.setText(text)
